import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../engine/types.js';

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.venv', 'venv', '__pycache__']);

/** `Dockerfile`, `Containerfile`, `*.Dockerfile`, `Dockerfile.*` (but not `Dockerfile.dockerignore`). */
export function isDockerfileName(name: string): boolean {
  if (name.endsWith('.dockerignore')) return false;
  return /^(Dockerfile|Containerfile)$/.test(name) || /\.(Dockerfile|Containerfile)$/i.test(name) || /^(Dockerfile|Containerfile)\.[^/]+$/.test(name);
}

/**
 * Expands the user's paths into Dockerfiles: files are taken as given, directories are searched
 * recursively (skipping node_modules, .git and virtualenvs). A directory without any is an input error.
 */
export function findDockerfiles(inputs: string[]): string[] {
  const out: string[] = [];
  for (const input of inputs) {
    if (input === '-') {
      out.push('-');
      continue;
    }
    let st: fs.Stats;
    try {
      st = fs.statSync(input);
    } catch {
      throw new InputError(`${input}: no such file or directory`);
    }
    if (!st.isDirectory()) {
      out.push(input);
      continue;
    }
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const d of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const p = path.join(dir, d.name);
        if (d.isDirectory()) {
          if (!SKIP_DIRS.has(d.name)) walk(p);
        } else if (isDockerfileName(d.name)) found.push(p);
      }
    };
    walk(input);
    if (found.length === 0) throw new InputError(`${input}: no Dockerfile found (looked for Dockerfile, Containerfile, *.Dockerfile, Dockerfile.*)`);
    out.push(...found);
  }
  return out;
}
