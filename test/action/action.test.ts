import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, smcl } from '../support/cli.js';
import { sarifErrors } from '../support/sarif.js';

const ENTRY = path.join(ROOT, 'dist/src/action/main.js');
// The shipped good example (which must lint clean), and the same without its label.
const EXAMPLE = path.join(ROOT, 'examples/good-container');
const GOOD = fs.readFileSync(path.join(EXAMPLE, 'Dockerfile'), 'utf8');
const BAD = GOOD.replace(/^LABEL com\.amazonaws\.sagemaker\.capabilities\.accept-bind-to-port=true\n/m, '');
const PROGRAM = Object.fromEntries(fs.readdirSync(path.join(EXAMPLE, 'program')).map((f) => [`program/${f}`, fs.readFileSync(path.join(EXAMPLE, 'program', f), 'utf8')]));
const service = (dir: string, dockerfile: string) => ({ [`${dir}/Dockerfile`]: dockerfile, ...Object.fromEntries(Object.entries(PROGRAM).map(([k, v]) => [`${dir}/${k}`, v])) });

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

const GIT_ENV = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com' };
function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}
function write(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text, { mode: rel.endsWith('/serve') ? 0o755 : 0o644 });
  }
}

/**
 * A repository with a base commit (two bad Dockerfiles, svc-a and svc-b, each with a build
 * context) and a head commit made of `change`; plus the runner's files.
 */
function pullRequest(change: Record<string, string>) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smcl-action-'));
  made.push(tmp);
  const repo = path.join(tmp, 'repo');
  fs.mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  write(repo, { ...service('svc-a', BAD), ...service('svc-b', BAD), 'README.md': 'x\n' });
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'base');
  const base = git(repo, 'rev-parse', 'HEAD');
  git(repo, 'checkout', '-q', '-b', 'feature');
  write(repo, change);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'head');
  const head = git(repo, 'rev-parse', 'HEAD');
  const event = path.join(tmp, 'event.json');
  fs.writeFileSync(event, JSON.stringify({ action: 'synchronize', number: 7, pull_request: { number: 7, base: { ref: 'main', sha: base }, head: { ref: 'feature', sha: head } } }));
  const files = { summary: path.join(tmp, 'summary.md'), output: path.join(tmp, 'output.txt'), sarif: path.join(tmp, 'out', 'smcl.sarif') };
  fs.writeFileSync(files.summary, '');
  fs.writeFileSync(files.output, '');
  return { tmp, repo, base, head, event, ...files };
}

/** Runs the entry point as the runner does: a node process with GITHUB_* and INPUT_* variables. */
function runAction(pr: ReturnType<typeof pullRequest>, inputs: Record<string, string> = {}, eventName = 'pull_request') {
  const env: Record<string, string> = {
    ...(GIT_ENV as Record<string, string>),
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: eventName,
    GITHUB_EVENT_PATH: pr.event,
    GITHUB_STEP_SUMMARY: pr.summary,
    GITHUB_OUTPUT: pr.output,
    GITHUB_WORKSPACE: pr.repo,
    RUNNER_TEMP: pr.tmp,
    'INPUT_SARIF-FILE': pr.sarif,
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const r = spawnSync(process.execPath, [ENTRY], { cwd: os.tmpdir(), env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function r2errors(file: string): number {
  return Number(outputs(file).errors);
}

function outputs(file: string): Record<string, string> {
  return Object.fromEntries(
    fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe('GitHub Action entry point (run as the runner would)', () => {
  it('on a pull request, lints only the changed Dockerfile: annotations, summary, outputs and SARIF', () => {
    const pr = pullRequest({ 'svc-b/Dockerfile': BAD.replace('\nFROM', '\n# changed by the PR\nFROM') });
    const r = runAction(pr);
    expect(r.status, r.stderr).toBe(1);

    // Every annotation is on the changed Dockerfile (other rules may add their own findings).
    const annotations = r.stdout.split('\n').filter((l) => /^::(error|warning|notice) file=/.test(l));
    expect(annotations.length).toBeGreaterThanOrEqual(1);
    for (const a of annotations) expect(a).toMatch(/^::\w+ file=svc-b\//);
    expect(annotations).toContainEqual(expect.stringMatching(/^::error file=svc-b\/Dockerfile,line=4,endLine=4,col=1,title=smcl accept-bind-to-port-label::label com\.amazonaws/));
    const errorCount = annotations.filter((a) => a.startsWith('::error ')).length;
    expect(r.stdout).toMatch(new RegExp(`^::error title=smcl::${annotations.length} findings \\(${errorCount} errors\\); failing on error`, 'm'));
    expect(r.stdout).not.toContain('svc-a/');
    expect(r.stdout).toContain('changed-only: 1 of 2 Dockerfiles concerned by the pull request');
    expect(r.stdout).toContain('::group::smcl findings');

    const summary = fs.readFileSync(pr.summary, 'utf8');
    expect(summary).toContain('## sagemaker-container-lint');
    expect(summary).toMatch(/❌ \*\*\d+ problems?\*\* \(\d+ errors?, \d+ warnings?, \d+ info\) in 1 of 1 subject\./);
    expect(summary).toContain('### ❌ `svc-b/Dockerfile`');
    expect(summary).toContain('- changed-only: 1 of 2 Dockerfiles concerned by the pull request');
    expect(summary).toContain('| 🔴 error | `svc-b/Dockerfile:4:1` | [accept-bind-to-port-label](https://github.com/sagemaker-container-lint/sagemaker-container-lint/blob/main/rules/accept-bind-to-port-label/README.md) |');
    expect(summary).not.toContain('svc-a');

    expect(outputs(pr.output)).toEqual({ findings: String(annotations.length), errors: String(errorCount), 'sarif-file': pr.sarif });

    const log = JSON.parse(fs.readFileSync(pr.sarif, 'utf8'));
    expect(sarifErrors(log)).toBe('');
    expect(log.runs[0].results).toHaveLength(annotations.length);
    for (const res of log.runs[0].results) expect(res.locations[0].physicalLocation.artifactLocation.uri).toMatch(/^svc-b\//);
    expect(log.runs[0].results).toContainEqual(
      expect.objectContaining({ ruleId: 'accept-bind-to-port-label', level: 'error', locations: [{ physicalLocation: { artifactLocation: { uri: 'svc-b/Dockerfile', uriBaseId: '%SRCROOT%' }, region: expect.objectContaining({ startLine: 4 }) } }] }),
    );
  });

  it('a changed build-context file counts for its Dockerfile; README changes count for none', () => {
    const pr = pullRequest({ 'svc-a/program/predictor.py': `${PROGRAM['program/predictor.py']}\n# changed\n`, 'README.md': 'y\n' });
    const r = runAction(pr);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^::error file=svc-a\/Dockerfile,line=/m);
    expect(r.stdout).not.toMatch(/file=svc-b/);

    const docs = pullRequest({ 'README.md': 'y\n' });
    const clean = runAction(docs);
    expect(clean.status, clean.stdout).toBe(0);
    expect(clean.stdout).toContain('changed-only: 0 of 2 Dockerfiles');
    expect(fs.readFileSync(docs.summary, 'utf8')).toContain('✅ No problems in 0 subjects.');
    expect(outputs(docs.output)).toMatchObject({ findings: '0', errors: '0' });
    expect(JSON.parse(fs.readFileSync(docs.sarif, 'utf8')).runs[0].results).toEqual([]);
  });

  it('changed-only false, fail-on none, paths and the default SARIF location', () => {
    const pr = pullRequest({ 'svc-b/Dockerfile': GOOD });
    const all = runAction(pr, { 'changed-only': 'false', 'fail-on': 'none' });
    expect(all.status).toBe(0);
    expect(all.stdout).toMatch(/^::error file=svc-a\/Dockerfile,/m);
    expect(r2errors(pr.output)).toBeGreaterThanOrEqual(1);
    expect(all.stdout).not.toMatch(/file=svc-b/);

    const only = pullRequest({ 'svc-b/Dockerfile': GOOD });
    const r = runAction(only, { paths: 'svc-a', 'changed-only': 'false', 'sarif-file': '' }, 'push');
    expect(r.status).toBe(1);
    expect(outputs(only.output)['sarif-file']).toBe(path.join(only.tmp, 'smcl.sarif'));
    expect(fs.existsSync(path.join(only.tmp, 'smcl.sarif'))).toBe(true);
  });

  it('takes the repository config, which may name endpoint rules too (one rule list for every command)', () => {
    // The config a repository shares between `smcl lint`, `smcl endpoint` and the Action.
    const config = JSON.stringify({ rules: { 'accept-bind-to-port-label': 'warning', 'endpoint-container-count': 'off', 'iam-target-container-hostname': 'warning' } });
    const pr = pullRequest({ '.smclrc.json': config, 'svc-b/Dockerfile': BAD.replace('\nFROM', '\n# changed\nFROM') });
    const r = runAction(pr);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^::warning file=svc-b\/Dockerfile,line=4,.*title=smcl accept-bind-to-port-label::/m);
    expect(r.stdout).not.toMatch(/^::error file=/m);

    const typo = pullRequest({ '.smclrc.json': JSON.stringify({ rules: { 'endpoint-hostname': 'off' } }), 'svc-b/Dockerfile': GOOD });
    const bad = runAction(typo);
    expect(bad.status).toBe(2);
    expect(bad.stdout).toMatch(/::error title=smcl::.*unknown rule "endpoint-hostname"/);
  });

  it('bad inputs are an input error (exit 2, one annotation)', () => {
    const pr = pullRequest({ 'README.md': 'y\n' });
    const r = runAction(pr, { 'fail-on': 'sometimes' });
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('::error title=smcl::input fail-on: expected error, warning, info or none');
  });

  it('images: run through `smcl image` when this build has it, else skipped with a warning', () => {
    const pr = pullRequest({ 'README.md': 'y\n' });
    const hasImage = /^\s*smcl image\b/m.test(smcl(['--help']).stdout);
    const r = runAction(pr, { images: 'oci-archive:/nonexistent.tar' });
    if (hasImage) {
      expect(r.status).toBe(2);
      expect(r.stdout).toMatch(/::error file=oci-archive%3A\/nonexistent\.tar,title=smcl input error::smcl image/);
    } else {
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('::warning title=smcl image::smcl image is not available');
      expect(fs.readFileSync(pr.summary, 'utf8')).toContain('`smcl image` is not available');
    }
  });
});
