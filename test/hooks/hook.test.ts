import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, smcl } from '../support/cli.js';

// The shipped good example (which must lint clean), and the same without its label.
const EXAMPLE = path.join(ROOT, 'examples/good-container');
const GOOD = fs.readFileSync(path.join(EXAMPLE, 'Dockerfile'), 'utf8');
const BAD = GOOD.replace(/^LABEL com\.amazonaws\.sagemaker\.capabilities\.accept-bind-to-port=true\n/m, '');
const PROGRAM = fs.readdirSync(path.join(EXAMPLE, 'program')).map((f) => [f, fs.readFileSync(path.join(EXAMPLE, 'program', f), 'utf8')] as const);

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** Environment for git in tests: no user config, a fixed identity, and the hook able to find this checkout's CLI. */
const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  NO_COLOR: '1',
  SMCL_SKIP: '',
  SMCL_BIN: '',
};

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { cwd, env: { ...GIT_ENV, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}
function git(cwd: string, ...args: string[]): string {
  const r = run('git', args, cwd);
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.out}`);
  return r.out;
}
function write(dir: string, rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), text, { mode: rel.endsWith('/serve') ? 0o755 : 0o644 });
}
function commit(dir: string, msg: string): void {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', msg);
}
/** The installed hook runs `smcl` of this checkout: the CLI path recorded at install, with this node. */
function hookCli(dir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'hook', ...args], { cwd: dir, env: GIT_ENV, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A work tree with two Dockerfiles (a/ and b/) and an empty bare remote beside it. */
function setup(hooksPath?: string): { work: string; remote: string; hooks: string; marker: string } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'smcl-hook-test-'));
  made.push(base);
  const remote = path.join(base, 'remote.git');
  const work = path.join(base, 'work');
  git(base, 'init', '-q', '--bare', remote);
  git(base, 'init', '-q', '-b', 'main', work);
  if (hooksPath) git(work, 'config', 'core.hooksPath', hooksPath);
  git(work, 'remote', 'add', 'origin', remote);
  for (const d of ['a', 'b']) {
    write(work, `${d}/Dockerfile`, GOOD);
    for (const [f, text] of PROGRAM) write(work, `${d}/program/${f}`, text);
  }
  commit(work, 'init');
  const hooks = path.resolve(work, hooksPath ?? '.git/hooks');
  fs.mkdirSync(hooks, { recursive: true });
  const marker = path.join(base, 'marker');
  // A pre-existing pre-push hook: records its arguments and stdin.
  fs.writeFileSync(path.join(hooks, 'pre-push'), `#!/bin/sh\necho "$1 $(cat)" >> '${marker}'\n`, { mode: 0o755 });
  return { work, remote, hooks, marker };
}

describe('smcl hook (real git repositories, spawned CLI)', () => {
  it('pre-push: refuses a bad Dockerfile with findings, lets a fix through, chains the existing hook, uninstall restores it', () => {
    const { work, hooks, marker, remote } = setup();
    const original = fs.readFileSync(path.join(hooks, 'pre-push'), 'utf8');

    const inst = hookCli(work, 'install', '--pre-push');
    expect(inst.status).toBe(0);
    expect(inst.out).toContain('existing hook was moved to');
    expect(fs.readFileSync(path.join(hooks, 'pre-push.smcl-chained'), 'utf8')).toBe(original);
    const script = fs.readFileSync(path.join(hooks, 'pre-push'), 'utf8');
    expect(script).toContain('# smcl-hook: pre-push');
    expect(script).toContain(CLI);

    write(work, 'b/Dockerfile', BAD);
    commit(work, 'bad');
    const refused = run('git', ['push', 'origin', 'main'], work);
    expect(refused.status).not.toBe(0);
    expect(refused.out).toContain('b/Dockerfile:3:1 error accept-bind-to-port-label');
    expect(refused.out).toContain('> 3 | FROM python:3.12-slim');
    expect(refused.out).toContain('push refused');
    expect(refused.out).not.toContain('a/Dockerfile:');
    expect(git(remote, 'branch', '--list')).toBe('');
    // The chained hook ran, with git's arguments and stdin.
    expect(fs.readFileSync(marker, 'utf8')).toMatch(/^origin refs\/heads\/main [0-9a-f]{40} refs\/heads\/main 0{40}\n$/);

    // SMCL_SKIP=1 bypasses the lint (the chained hook still runs).
    expect(run('git', ['push', '--dry-run', 'origin', 'main'], work, { SMCL_SKIP: '1' }).status).toBe(0);

    write(work, 'b/Dockerfile', GOOD);
    commit(work, 'fix');
    const ok = run('git', ['push', 'origin', 'main'], work);
    expect(ok.status, ok.out).toBe(0);
    expect(ok.out).toContain('no problems in 2 subjects');
    expect(git(remote, 'rev-parse', 'main').trim()).toBe(git(work, 'rev-parse', 'HEAD').trim());

    // An existing push range: only what changed is linted; a change in a/'s build context lints a/ only.
    write(work, 'a/program/predictor.py', `${PROGRAM.find(([f]) => f === 'predictor.py')![1]}\n# tuned\n`);
    commit(work, 'serve');
    const ranged = run('git', ['push', 'origin', 'main'], work);
    expect(ranged.status, ranged.out).toBe(0);
    expect(ranged.out).toMatch(/refs\/heads\/main \(changes since [0-9a-f]{12} on the remote\): a\/Dockerfile\n/);
    expect(ranged.out).toContain('no problems in 1 subject');

    // A Dockerfile fixed only in the work tree does not count: the pushed commit is linted.
    write(work, 'a/Dockerfile', BAD);
    commit(work, 'bad a');
    write(work, 'a/Dockerfile', GOOD);
    const dirty = run('git', ['push', 'origin', 'main'], work);
    expect(dirty.status).not.toBe(0);
    expect(dirty.out).toContain('a/Dockerfile:3:1 error accept-bind-to-port-label');
    expect(fs.readFileSync(marker, 'utf8').trim().split('\n')).toHaveLength(5);

    const un = hookCli(work, 'uninstall');
    expect(un.status).toBe(0);
    expect(un.out).toContain('restored the previous one');
    expect(fs.readFileSync(path.join(hooks, 'pre-push'), 'utf8')).toBe(original);
    expect(fs.existsSync(path.join(hooks, 'pre-push.smcl-chained'))).toBe(false);
    // Back to the original hook alone: the bad commit goes through.
    expect(run('git', ['push', 'origin', 'main'], work).status).toBe(0);
  });

  it('pre-push takes the repository config, which may name endpoint rules too', () => {
    const { work } = setup();
    expect(hookCli(work, 'install', '--pre-push').status).toBe(0);
    write(work, '.smclrc.json', JSON.stringify({ rules: { 'accept-bind-to-port-label': 'warning', 'endpoint-hostnames': 'error', 'endpoint-container-count': 'off' } }));
    write(work, 'b/Dockerfile', BAD);
    commit(work, 'label finding as a warning');
    const warned = run('git', ['push', 'origin', 'main'], work);
    expect(warned.status, warned.out).toBe(0);
    expect(warned.out).toContain('b/Dockerfile:3:1 warning accept-bind-to-port-label');

    write(work, '.smclrc.json', JSON.stringify({ rules: { 'endpoint-hostname': 'off' } }));
    write(work, 'b/Dockerfile', `${BAD}\n`);
    commit(work, 'typo in the config');
    const refused = run('git', ['push', 'origin', 'main'], work);
    expect(refused.status).not.toBe(0);
    expect(refused.out).toContain('unknown rule "endpoint-hostname"');
  });

  it('respects core.hooksPath, re-installs idempotently and leaves foreign hooks alone on uninstall', () => {
    const { work, hooks } = setup('.githooks');
    expect(hooks).toBe(path.join(work, '.githooks'));
    expect(hookCli(work, 'install').status).toBe(0);
    expect(fs.existsSync(path.join(hooks, 'pre-push.smcl-chained'))).toBe(true);
    const again = hookCli(work, 'install');
    expect(again.out).toContain('updated pre-push hook');
    expect(fs.existsSync(path.join(work, '.git/hooks/pre-push'))).toBe(false);
    expect(hookCli(work, 'uninstall', '--pre-commit').out).toContain('no pre-commit hook');
    fs.writeFileSync(path.join(work, '.githooks/pre-commit'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    expect(hookCli(work, 'uninstall', '--pre-commit').out).toContain('not written by smcl: left alone');
    expect(fs.existsSync(path.join(work, '.githooks/pre-commit'))).toBe(true);
  });

  it('pre-commit: lints staged Dockerfiles and context files, not the work tree', () => {
    const { work } = setup();
    expect(hookCli(work, 'install', '--pre-commit').status).toBe(0);
    write(work, 'a/Dockerfile', BAD);
    git(work, 'add', 'a/Dockerfile');
    write(work, 'a/Dockerfile', GOOD); // fixed in the work tree but not staged
    const refused = run('git', ['commit', '-m', 'bad'], work);
    expect(refused.status).not.toBe(0);
    expect(refused.out).toContain('a/Dockerfile:3:1 error accept-bind-to-port-label');
    expect(refused.out).toContain('commit refused');

    git(work, 'add', 'a/Dockerfile');
    write(work, 'b/notes.txt', 'context change\n');
    git(work, 'add', 'b/notes.txt');
    const ok = run('git', ['commit', '-m', 'ok'], work);
    expect(ok.status, ok.out).toBe(0);
    expect(ok.out).toContain('staged changes: b/Dockerfile');

    write(work, 'README.md', 'docs\n');
    git(work, 'add', 'README.md');
    const none = run('git', ['commit', '-m', 'docs'], work);
    expect(none.status).toBe(0);
    expect(none.out).toContain('no Dockerfile or build-context change');
  });

  it('smcl hook run reads pre-push input given on stdin', () => {
    const { work } = setup();
    const head = git(work, 'rev-parse', 'HEAD').trim();
    const r = smcl(['hook', 'run', 'pre-push', 'origin', 'url'], { cwd: work, input: `refs/heads/main ${head} refs/heads/main ${'0'.repeat(40)}\n`, env: { SMCL_SKIP: '' } });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('no remote default branch known: every Dockerfile): a/Dockerfile, b/Dockerfile');

    // A new branch once the remote's main is known: against the merge base with origin/main.
    git(work, 'push', '-q', '--no-verify', 'origin', 'main');
    git(work, 'checkout', '-q', '-b', 'feature');
    write(work, 'b/program/notes.txt', 'context change\n');
    commit(work, 'feature');
    const tip = git(work, 'rev-parse', 'HEAD').trim();
    const nb = smcl(['hook', 'run', 'pre-push', 'origin'], { cwd: work, input: `refs/heads/feature ${tip} refs/heads/feature ${'0'.repeat(40)}\n` });
    expect(nb.status).toBe(0);
    expect(nb.stderr).toContain('merge base with origin/main): b/Dockerfile\n');
    const del = smcl(['hook', 'run', 'pre-push', 'origin'], { cwd: work, input: `(delete) ${'0'.repeat(40)} refs/heads/x ${head}\n` });
    expect(del.status).toBe(0);
    expect(del.stdout).toBe('');
  });
});
