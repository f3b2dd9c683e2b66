import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { InputError } from '../engine/types.js';

/** What git prints for "no commit" in hook input (`<remote sha>` of a new branch, `<local sha>` of a deletion). */
export const ZERO_SHA = /^0+$/;

export interface GitRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs git without a shell; never throws. */
export function tryGit(args: string[], cwd: string, input?: string): GitRun {
  const r = spawnSync('git', args, { cwd, input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
  if (r.error) throw new InputError(`git ${args[0]}: cannot run git (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`, { cause: r.error });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs git and returns stdout; a failure is an input error naming the command. */
export function git(args: string[], cwd: string, input?: string): string {
  const r = tryGit(args, cwd, input);
  if (r.status !== 0) throw new InputError(`git ${args.join(' ')}: ${r.stderr.trim().split('\n')[0] || `exit ${r.status}`}`);
  return r.stdout;
}

/** Top of the work tree containing `cwd`. */
export function repoRoot(cwd: string): string {
  const r = tryGit(['rev-parse', '--show-toplevel'], cwd);
  if (r.status !== 0) throw new InputError(`${cwd}: not inside a git work tree`);
  return r.stdout.trim();
}

/**
 * The directory git runs hooks from: `core.hooksPath` when set (relative to the top of the work
 * tree, `~` expanded by git), else `$GIT_DIR/hooks` (also right in linked work trees).
 */
export function hooksDir(root: string): string {
  return path.resolve(root, git(['rev-parse', '--git-path', 'hooks'], root).trim());
}

export function commitExists(sha: string, cwd: string): boolean {
  return tryGit(['cat-file', '-e', `${sha}^{commit}`], cwd).status === 0;
}

export function mergeBase(a: string, b: string, cwd: string): string | undefined {
  const r = tryGit(['merge-base', a, b], cwd);
  return r.status === 0 ? r.stdout.trim() || undefined : undefined;
}

export function resolveRef(ref: string, cwd: string): string | undefined {
  const r = tryGit(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], cwd);
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** `git diff --name-only` between two commits (three-dot: from their merge base), renames as both names. */
export function changedBetween(base: string, head: string, cwd: string, threeDot = false): string[] {
  return splitZ(git(['diff', '--name-only', '--no-renames', '-z', threeDot ? `${base}...${head}` : base, ...(threeDot ? [] : [head])], cwd));
}

/** Paths staged in the index relative to HEAD (or to the empty tree before the first commit). */
export function stagedFiles(cwd: string): string[] {
  const head = resolveRef('HEAD', cwd);
  const args = ['diff', '--cached', '--name-only', '--no-renames', '-z', ...(head ? [] : ['4b825dc642cb6eb9a060e54bf8d69288fbee4904'])];
  return splitZ(git(args, cwd));
}

/** Every file of a commit, repo-relative. */
export function filesAt(commit: string, cwd: string): string[] {
  return splitZ(git(['ls-tree', '-r', '-z', '--name-only', '--full-tree', commit], cwd));
}

/** Every file in the index, repo-relative. */
export function indexFiles(cwd: string): string[] {
  return splitZ(git(['ls-files', '-z', '--cached'], cwd));
}

export function splitZ(s: string): string[] {
  return s.split('\0').filter(Boolean);
}
