import fs from 'node:fs';
import path from 'node:path';
import ignore from 'ignore';
import type { SmclConfig } from '../engine/config.js';
import { InputError } from '../engine/types.js';
import { isDockerfileName } from '../lint/discover.js';
import { lintDockerfile } from '../lint/lint-dockerfiles.js';
import type { LintResult } from '../report/types.js';

/**
 * One Dockerfile to lint, as `docker build` would get it. Paths are relative to the top of the
 * repository, with `/` separators; `context` is `.` for the repository root.
 */
export interface LintTarget {
  dockerfile: string;
  context: string;
  target?: string;
  buildArgs?: Record<string, string>;
}

/** Directories never searched for Dockerfiles (same as `smcl lint <dir>`). */
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.venv', 'venv', '__pycache__']);

/** Files that change how every Dockerfile is linted: a change to one re-lints everything. */
const CONFIG_FILE = /(^|\/)(\.smclrc(\.json|\.ya?ml)?|smcl\.config\.json)$/;

export function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** Repo-relative posix path of `abs`, `.` for the root. */
export function repoRelative(root: string, abs: string): string {
  return toPosix(path.relative(root, path.resolve(root, abs))) || '.';
}

/** Dockerfiles among repo-relative file names, each with its directory as build context. */
export function targetsFromFiles(files: string[]): LintTarget[] {
  return files
    .filter((f) => {
      const parts = f.split('/');
      return isDockerfileName(parts[parts.length - 1]) && !parts.slice(0, -1).some((p) => SKIP_DIRS.has(p));
    })
    .sort()
    .map((f) => ({ dockerfile: f, context: path.posix.dirname(f) }));
}

/** The `images` of the config (absolute paths, resolved from the config file), made repo-relative. */
export function targetsFromConfig(config: SmclConfig, root: string): LintTarget[] | undefined {
  if (!config.images?.length) return undefined;
  return config.images.map((img) => {
    const dockerfile = repoRelative(root, img.dockerfile);
    return { dockerfile, context: img.context ? repoRelative(root, img.context) : path.posix.dirname(dockerfile), target: img.target, buildArgs: img.buildArgs };
  });
}

/** True when `file` lies inside directory `dir` (both repo-relative; `.` contains everything). */
export function isUnder(file: string, dir: string): boolean {
  return dir === '.' || file === dir || file.startsWith(dir + '/');
}

/**
 * The targets a set of changed files concerns: the Dockerfile itself, its `.dockerignore`, or any
 * file in its build context that `.dockerignore` does not exclude (`read` gives the content of a
 * repo-relative file in the tree being linted, undefined when absent). A changed smcl config
 * file concerns every target.
 */
export function affectedTargets(targets: LintTarget[], changed: string[], read: (rel: string) => string | undefined): LintTarget[] {
  if (changed.some((f) => CONFIG_FILE.test(f))) return targets;
  return targets.filter((t) => {
    const own = new Set([t.dockerfile, `${t.dockerfile}.dockerignore`, t.context === '.' ? '.dockerignore' : `${t.context}/.dockerignore`]);
    if (changed.some((f) => own.has(f))) return true;
    const inContext = changed.filter((f) => isUnder(f, t.context));
    if (inContext.length === 0) return false;
    const rules = read(`${t.dockerfile}.dockerignore`) ?? read(t.context === '.' ? '.dockerignore' : `${t.context}/.dockerignore`);
    if (rules === undefined) return true;
    const ig = ignore().add(
      rules
        .split(/\r?\n/)
        .map((l) => l.trim().replace(/^\//, ''))
        .filter((l) => l && !l.startsWith('#')),
    );
    return inContext.some((f) => !ig.ignores(t.context === '.' ? f : f.slice(t.context.length + 1)));
  });
}

export interface TargetLint {
  results: LintResult[];
  /** Dockerfiles that could not be linted (unreadable, unknown target...): one message each. */
  errors: Array<{ file: string; message: string }>;
}

/**
 * Lints targets whose paths are relative to the current directory (the top of the tree being
 * linted), so findings name repo-relative files, as annotations and SARIF want.
 */
export function lintTargets(targets: LintTarget[], config: SmclConfig, buildArgs: Record<string, string> = {}): TargetLint {
  const out: TargetLint = { results: [], errors: [] };
  for (const t of targets) {
    try {
      out.results.push(lintDockerfile(t.dockerfile, { config, context: t.context, target: t.target, buildArgs: { ...t.buildArgs, ...buildArgs } }));
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      out.errors.push({ file: t.dockerfile, message: err.message });
    }
  }
  return out;
}

/** Reads a repo-relative file of the work tree under `root`. */
export function workTreeReader(root: string): (rel: string) => string | undefined {
  return (rel) => {
    try {
      return fs.readFileSync(path.join(root, rel), 'utf8');
    } catch {
      return undefined;
    }
  };
}
