import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { InputError, type RuleMeta, type Severity, type SeveritySetting } from './types.js';
import type { RuleSettings } from './run.js';

/** One image of a monorepo, as `docker build` would be invoked for it. */
export interface ImageEntry {
  dockerfile: string;
  context?: string;
  target?: string;
  buildArgs?: Record<string, string>;
}

export interface SmclConfig extends RuleSettings {
  /** Path of the config file, for messages; undefined when none was found. */
  filepath?: string;
  failOn?: Severity | 'none';
  buildArgs?: Record<string, string>;
  images?: ImageEntry[];
  /** Extra arguments for the container engine (`smcl boot`), e.g. podman flags a host needs. */
  engineArgs?: string[];
  engine?: 'podman' | 'docker';
}

const SEARCH_PLACES = ['package.json', '.smclrc', '.smclrc.json', '.smclrc.yaml', '.smclrc.yml', 'smcl.config.json'];
const TOP_LEVEL_KEYS = new Set(['rules', 'failOn', 'buildArgs', 'images', 'engineArgs', 'engine']);
const SEVERITIES = new Set(['off', 'info', 'warning', 'error']);

/**
 * Finds the config upward from `from` (a file or directory), or loads `explicit`.
 * Validates it against the known rules, so a typo in a rule id is an input error, not a silent no-op.
 */
export function loadConfig(from: string | undefined, explicit: string | undefined, rules: RuleMeta[]): SmclConfig {
  const start = from && from !== '-' ? path.resolve(from) : process.cwd();
  // Most repositories have no smcl config: then skip loading cosmiconfig (~30 ms of every
  // pre-push hook run). Anything cosmiconfig could find makes it run as before.
  if (!explicit && !mayHaveConfig(start)) return {};
  const { cosmiconfigSync } = createRequire(import.meta.url)('cosmiconfig') as typeof import('cosmiconfig');
  const explorer = cosmiconfigSync('smcl', { searchPlaces: SEARCH_PLACES, searchStrategy: 'global', stopDir: path.parse(process.cwd()).root });
  let found: { config: unknown; filepath: string; isEmpty?: boolean } | null;
  try {
    if (explicit) found = explorer.load(explicit);
    else found = explorer.search(start);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { mark?: { line: number } };
    if (e.code === 'ENOENT') throw new InputError(`${explicit}: config file not found`);
    const where = explicit ?? 'config';
    throw new InputError(`${where}: cannot parse config (${firstLine(e.message)})`);
  }
  if (!found || found.isEmpty) return { filepath: found?.filepath };
  return validateConfig(found.config, found.filepath, rules);
}

/**
 * False only when cosmiconfig's search (as configured above) cannot find anything: no search place
 * in `start` or above it (a package.json only counts when it mentions "smcl"), no personal config
 * directory (env-paths' locations on Linux, macOS and Windows), and no cosmiconfig meta config in
 * the working directory (which could add search places).
 */
export function mayHaveConfig(start: string): boolean {
  const exists = (p: string): boolean => fs.existsSync(p);
  const mentions = (file: string, word: string): boolean => {
    try {
      return fs.readFileSync(file, 'utf8').includes(`"${word}"`);
    } catch {
      return false;
    }
  };
  let dir = exists(start) && !fs.statSync(start).isDirectory() ? path.dirname(start) : start;
  for (;;) {
    for (const place of SEARCH_PLACES) {
      const file = path.join(dir, place);
      if (place === 'package.json' ? mentions(file, 'smcl') : exists(file)) return true;
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const cwd = process.cwd();
  if (exists(path.join(cwd, '.config')) || exists(path.join(cwd, 'package.yaml')) || mentions(path.join(cwd, 'package.json'), 'cosmiconfig')) return true;
  const home = os.homedir();
  const personal = [
    path.join(process.env.XDG_CONFIG_HOME || path.join(home, '.config'), 'smcl'),
    path.join(home, 'Library', 'Preferences', 'smcl'),
    path.join(process.env.APPDATA || path.join(home, 'AppData', 'Roaming'), 'smcl', 'Config'),
  ];
  return personal.some(exists);
}

export function validateConfig(raw: unknown, filepath: string, rules: RuleMeta[]): SmclConfig {
  const fail = (msg: string): never => {
    throw new InputError(`${filepath}: ${msg}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('config must be an object');
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) if (!TOP_LEVEL_KEYS.has(key)) fail(`unknown key "${key}" (allowed: ${[...TOP_LEVEL_KEYS].join(', ')})`);

  const config: SmclConfig = { filepath, severity: {}, options: {} };
  const known = new Map(rules.map((r) => [r.id, r]));
  if (obj.rules !== undefined) {
    if (typeof obj.rules !== 'object' || obj.rules === null || Array.isArray(obj.rules)) fail('"rules" must be an object of rule-id: severity');
    for (const [id, setting] of Object.entries(obj.rules as Record<string, unknown>)) {
      const meta = known.get(id);
      if (!meta) fail(`unknown rule "${id}" in "rules" (run \`smcl rules\` for the list)`);
      let severity: unknown = setting;
      let options: unknown;
      if (Array.isArray(setting)) [severity, options] = setting;
      else if (typeof setting === 'object' && setting !== null) ({ severity, options } = setting as { severity?: unknown; options?: unknown });
      if (severity !== undefined) {
        if (typeof severity !== 'string' || !SEVERITIES.has(severity)) fail(`rule "${id}": severity must be one of off, info, warning, error (got ${JSON.stringify(severity)})`);
        config.severity![id] = severity as SeveritySetting;
      }
      if (options !== undefined) {
        if (typeof options !== 'object' || options === null || Array.isArray(options)) fail(`rule "${id}": options must be an object`);
        const allowed = Object.keys(meta!.defaultOptions ?? {});
        for (const k of Object.keys(options as object)) {
          if (!allowed.includes(k)) fail(`rule "${id}": unknown option "${k}"${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ' (the rule takes no options)'}`);
          const expected = typeof meta!.defaultOptions![k];
          const got = typeof (options as Record<string, unknown>)[k];
          if (expected !== got) fail(`rule "${id}": option "${k}" must be a ${expected} (got ${got})`);
        }
        config.options![id] = options as Record<string, unknown>;
      }
    }
  }
  if (obj.failOn !== undefined) {
    if (typeof obj.failOn !== 'string' || !['error', 'warning', 'info', 'none'].includes(obj.failOn)) fail(`"failOn" must be error, warning, info or none`);
    config.failOn = obj.failOn as SmclConfig['failOn'];
  }
  if (obj.buildArgs !== undefined) config.buildArgs = stringRecord(obj.buildArgs, '"buildArgs"', fail);
  if (obj.engine !== undefined) {
    if (obj.engine !== 'podman' && obj.engine !== 'docker') fail('"engine" must be podman or docker');
    config.engine = obj.engine as 'podman' | 'docker';
  }
  if (obj.engineArgs !== undefined) {
    if (!Array.isArray(obj.engineArgs) || obj.engineArgs.some((a) => typeof a !== 'string')) fail('"engineArgs" must be an array of strings');
    config.engineArgs = obj.engineArgs as string[];
  }
  if (obj.images !== undefined) {
    if (!Array.isArray(obj.images)) fail('"images" must be an array of { dockerfile, context, target, buildArgs }');
    const base = path.dirname(filepath);
    config.images = (obj.images as unknown[]).map((entry, i) => {
      if (typeof entry !== 'object' || entry === null) return fail(`images[${i}] must be an object`);
      const e = entry as Record<string, unknown>;
      for (const k of Object.keys(e)) if (!['dockerfile', 'context', 'target', 'buildArgs'].includes(k)) fail(`images[${i}]: unknown key "${k}"`);
      if (typeof e.dockerfile !== 'string') fail(`images[${i}].dockerfile must be a path`);
      if (e.context !== undefined && typeof e.context !== 'string') fail(`images[${i}].context must be a path`);
      if (e.target !== undefined && typeof e.target !== 'string') fail(`images[${i}].target must be a stage name`);
      return {
        dockerfile: path.resolve(base, e.dockerfile as string),
        context: e.context ? path.resolve(base, e.context as string) : undefined,
        target: e.target as string | undefined,
        buildArgs: e.buildArgs === undefined ? undefined : stringRecord(e.buildArgs, `images[${i}].buildArgs`, fail),
      };
    });
  }
  return config;
}

function stringRecord(v: unknown, what: string, fail: (m: string) => never): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${what} must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as object)) {
    if (typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean') fail(`${what}.${k} must be a string`);
    out[k] = String(val);
  }
  return out;
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}
