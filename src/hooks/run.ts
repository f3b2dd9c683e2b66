import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SmclConfig } from '../engine/config.js';
import { InputError } from '../engine/types.js';
import type { LintResult } from '../report/types.js';
import { changedBetween, commitExists, filesAt, indexFiles, mergeBase, resolveRef, stagedFiles, tryGit, ZERO_SHA } from './git.js';
import { affectedTargets, isUnder, lintTargets, targetsFromConfig, targetsFromFiles, type LintTarget, type TargetLint } from './targets.js';

/** One line of pre-push input: `<local ref> <local sha> <remote ref> <remote sha>`. */
export interface PushedRef {
  localRef: string;
  localSha: string;
  remoteRef: string;
  remoteSha: string;
}

export function parsePushInput(stdin: string): PushedRef[] {
  return stdin
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [localRef, localSha, remoteRef, remoteSha] = l.split(/\s+/);
      if (!remoteSha) throw new InputError(`pre-push input: expected "<local ref> <local sha> <remote ref> <remote sha>", got "${l}"`);
      return { localRef, localSha, remoteRef, remoteSha };
    });
}

/** What to lint for one pushed ref: the commit, and the files it changes (undefined: lint every Dockerfile). */
export interface PushRange {
  ref: PushedRef;
  commit: string;
  base?: string;
  changed?: string[];
  why: string;
}

/**
 * The range a push sends: from the remote's sha when we have it; for a new branch (remote sha all
 * zeros, or unknown here) from the merge base with the remote's default branch
 * (`refs/remotes/<remote>/HEAD`, else `<remote>/main`, `<remote>/master`); with none of those,
 * every Dockerfile of the pushed commit. Deletions push nothing and are skipped.
 */
export function pushRanges(refs: PushedRef[], remote: string | undefined, root: string): PushRange[] {
  const out: PushRange[] = [];
  for (const ref of refs) {
    if (ZERO_SHA.test(ref.localSha)) continue;
    let base: string | undefined;
    let why: string;
    if (!ZERO_SHA.test(ref.remoteSha) && commitExists(ref.remoteSha, root)) {
      base = ref.remoteSha;
      why = `changes since ${ref.remoteSha.slice(0, 12)} on the remote`;
    } else {
      const candidates = remote ? [`refs/remotes/${remote}/HEAD`, `refs/remotes/${remote}/main`, `refs/remotes/${remote}/master`] : [];
      for (const c of candidates) {
        const sha = resolveRef(c, root);
        const mb = sha ? mergeBase(sha, ref.localSha, root) : undefined;
        if (mb) {
          base = mb;
          why = `new on the remote: changes since the merge base with ${c.replace('refs/remotes/', '')}`;
          break;
        }
      }
      why ??= 'new on the remote and no remote default branch known: every Dockerfile';
    }
    out.push({ ref, commit: ref.localSha, base, changed: base ? changedBetween(base, ref.localSha, root) : undefined, why });
  }
  return out;
}

/** Where the content to lint comes from: a commit (pre-push) or the index (pre-commit). */
export type TreeSource = { commit: string } | 'index';

function sourceFiles(source: TreeSource, root: string): string[] {
  return source === 'index' ? indexFiles(root) : filesAt(source.commit, root);
}

function sourceReader(source: TreeSource, root: string): (rel: string) => string | undefined {
  return (rel) => {
    const r = tryGit(['show', source === 'index' ? `:${rel}` : `${source.commit}:${rel}`], root);
    return r.status === 0 ? r.stdout : undefined;
  };
}

/**
 * Writes the given files as they are in the source into `dest`, without touching the work tree
 * or the real index (a commit is read into a temporary index first).
 */
export function exportFiles(source: TreeSource, files: string[], root: string, dest: string): void {
  const env: NodeJS.ProcessEnv = { ...process.env };
  let tmpIndex: string | undefined;
  if (source !== 'index') {
    tmpIndex = `${dest.replace(/[\\/]+$/, '')}.smcl-index`;
    env.GIT_INDEX_FILE = tmpIndex;
    const rt = spawnSync('git', ['read-tree', source.commit], { cwd: root, env, encoding: 'utf8' });
    if (rt.status !== 0) throw new InputError(`git read-tree ${source.commit}: ${rt.stderr.trim()}`);
  }
  const prefix = dest.endsWith(path.sep) ? dest : dest + path.sep;
  const r = spawnSync('git', ['checkout-index', '--force', '-z', '--stdin', `--prefix=${prefix}`], { cwd: root, env, input: files.join('\0'), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (tmpIndex) fs.rmSync(tmpIndex, { force: true });
  if (r.status !== 0) throw new InputError(`git checkout-index: ${r.stderr.trim().split('\n')[0]}`);
}

export interface TreeLint extends TargetLint {
  targets: LintTarget[];
}

/**
 * Lints the Dockerfiles of a commit or of the index that `changed` concerns (all when undefined):
 * the files of their build contexts are exported to a temporary directory and linted there, so
 * findings name repo-relative paths and the work tree's uncommitted edits do not count.
 */
export function lintTree(root: string, source: TreeSource, changed: string[] | undefined, config: SmclConfig): TreeLint {
  const files = sourceFiles(source, root);
  const candidates = targetsFromConfig(config, root) ?? targetsFromFiles(files);
  const targets = changed ? affectedTargets(candidates, changed, sourceReader(source, root)) : candidates;
  if (targets.length === 0) return { targets, results: [], errors: [] };
  const needed = files.filter((f) => targets.some((t) => f === t.dockerfile || isUnder(f, t.context)));
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'smcl-hook-'));
  const cwd = process.cwd();
  try {
    exportFiles(source, needed, root, dest);
    const present = targets.filter((t) => fs.existsSync(path.join(dest, t.dockerfile)));
    process.chdir(dest);
    const lint = lintTargets(present, config);
    return { targets: present, ...lint };
  } finally {
    process.chdir(cwd);
    fs.rmSync(dest, { recursive: true, force: true });
  }
}

export interface HookLint {
  results: LintResult[];
  errors: Array<{ file: string; message: string }>;
  /** One line per pushed ref or for the index: what was linted and why. */
  notes: string[];
}

export function runPrePush(root: string, stdin: string, remote: string | undefined, config: SmclConfig): HookLint {
  const out: HookLint = { results: [], errors: [], notes: [] };
  for (const range of pushRanges(parsePushInput(stdin), remote, root)) {
    const lint = lintTree(root, { commit: range.commit }, range.changed, config);
    out.notes.push(`${range.ref.localRef} (${range.why}): ${lint.targets.length ? lint.targets.map((t) => t.dockerfile).join(', ') : 'no Dockerfile or build-context change'}`);
    out.results.push(...lint.results);
    out.errors.push(...lint.errors);
  }
  return out;
}

export function runPreCommit(root: string, config: SmclConfig): HookLint {
  const staged = stagedFiles(root);
  const lint = lintTree(root, 'index', staged, config);
  return {
    results: lint.results,
    errors: lint.errors,
    notes: [`staged changes: ${lint.targets.length ? lint.targets.map((t) => t.dockerfile).join(', ') : 'no Dockerfile or build-context change'}`],
  };
}
