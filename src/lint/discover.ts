import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../engine/types.js';

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.venv', 'venv', '__pycache__']);
/** JSON/YAML files that are never endpoint definitions; skipping them saves a parse. */
const NOT_ENDPOINT = /(^|\/)(package(-lock)?\.json|tsconfig[^/]*\.json|\.smclrc[^/]*|smcl\.config\.json|\.pre-commit[^/]*|action\.ya?ml|\.github\/.*)$/;
const MAX_ENDPOINT_FILE_BYTES = 1024 * 1024;

/** `Dockerfile`, `Containerfile`, `*.Dockerfile`, `Dockerfile.*` (but not `Dockerfile.dockerignore`). */
export function isDockerfileName(name: string): boolean {
  if (name.endsWith('.dockerignore')) return false;
  return /^(Dockerfile|Containerfile)$/.test(name) || /\.(Dockerfile|Containerfile)$/i.test(name) || /^(Dockerfile|Containerfile)\.[^/]+$/.test(name);
}

export interface DiscoveredInputs {
  dockerfiles: string[];
  /** JSON/YAML/template files that may hold CreateModel requests, CloudFormation or IAM policies. */
  endpointCandidates: string[];
}

/**
 * Expands the user's paths: files are taken as given (a JSON/YAML file is an endpoint candidate),
 * directories are searched recursively (skipping node_modules, .git and virtualenvs). A directory
 * with neither Dockerfiles nor candidates is an input error.
 */
export function discoverInputs(inputs: string[]): DiscoveredInputs {
  const out: DiscoveredInputs = { dockerfiles: [], endpointCandidates: [] };
  for (const input of inputs) {
    if (input === '-') {
      out.dockerfiles.push('-');
      continue;
    }
    let st: fs.Stats;
    try {
      st = fs.statSync(input);
    } catch {
      throw new InputError(`${input}: no such file or directory`);
    }
    if (!st.isDirectory()) {
      if (/\.(json|ya?ml|template)$/i.test(input) && !isDockerfileName(path.basename(input))) out.endpointCandidates.push(input);
      else out.dockerfiles.push(input);
      continue;
    }
    const before = out.dockerfiles.length + out.endpointCandidates.length;
    const walk = (dir: string): void => {
      for (const d of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const p = path.join(dir, d.name);
        if (d.isDirectory()) {
          if (!SKIP_DIRS.has(d.name)) walk(p);
        } else if (isDockerfileName(d.name)) out.dockerfiles.push(p);
        else if (/\.(json|ya?ml|template)$/i.test(d.name) && !NOT_ENDPOINT.test(p.split(path.sep).join('/'))) {
          try {
            if (fs.statSync(p).size <= MAX_ENDPOINT_FILE_BYTES) out.endpointCandidates.push(p);
          } catch {
            // unreadable: it was not asked for by name, so it is not an input error
          }
        }
      }
    };
    walk(input);
    if (out.dockerfiles.length + out.endpointCandidates.length === before) {
      throw new InputError(`${input}: no Dockerfile found (looked for Dockerfile, Containerfile, *.Dockerfile, Dockerfile.*)`);
    }
  }
  return out;
}

/** Dockerfiles only (the action and hooks lint Dockerfiles; endpoint files come through `smcl lint`). */
export function findDockerfiles(inputs: string[]): string[] {
  const { dockerfiles } = discoverInputs(inputs);
  if (dockerfiles.length === 0) throw new InputError(`${inputs.join(', ')}: no Dockerfile found (looked for Dockerfile, Containerfile, *.Dockerfile, Dockerfile.*)`);
  return dockerfiles;
}
