import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sarifErrors } from '../support/sarif.js';
import { CLI, smcl, ROOT } from '../support/cli.js';
import { tempTree } from '../support/tmp.js';

/** The shipped good example's files, with its Dockerfile replaced when `dockerfile` is given. */
function container(dockerfile?: string, prefix = ''): Record<string, string | { content: string; mode: number }> {
  const dir = path.join(ROOT, 'examples/good-container');
  const files: Record<string, string | { content: string; mode: number }> = {};
  for (const rel of ['Dockerfile', 'program/serve', 'program/predictor.py']) {
    const abs = path.join(dir, rel);
    files[prefix + rel] = { content: fs.readFileSync(abs, 'utf8'), mode: fs.statSync(abs).mode & 0o777 };
  }
  if (dockerfile !== undefined) files[prefix + 'Dockerfile'] = dockerfile;
  return files;
}
const GOOD_DOCKERFILE = fs.readFileSync(path.join(ROOT, 'examples/good-container/Dockerfile'), 'utf8');
/** The good example without its label: exactly one finding, accept-bind-to-port-label at line 3. */
const BAD = GOOD_DOCKERFILE.replace(/^LABEL com\.amazonaws.*\n/m, '');
const GOOD = GOOD_DOCKERFILE;

describe('smcl lint (spawned CLI)', () => {
  it('lints the shipped examples: findings for the bad one only, with a code frame, exit 1', () => {
    const r = smcl(['lint', 'examples/']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('examples/bad-container/Dockerfile:3:1 error accept-bind-to-port-label');
    expect(r.stdout).toMatch(/> 3 \| FROM python:3\.12-slim/);
    expect(r.stdout).not.toContain('examples/good-container/Dockerfile:');
  });

  it('exits 0 on a clean Dockerfile and 1 on findings', () => {
    const dir = tempTree({ ...container(GOOD, 'good/'), ...container(BAD, 'bad/') });
    expect(smcl(['lint', path.join(dir, 'good')]).status).toBe(0);
    expect(smcl(['lint', path.join(dir, 'bad')]).status).toBe(1);
  });

  it('--fail-on none and --fail-on info move the threshold', () => {
    const dir = tempTree(container(BAD));
    expect(smcl(['lint', dir, '--fail-on', 'none']).status).toBe(0);
    const info = tempTree(container(GOOD.replace(/^FROM .*$/m, 'FROM 763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3.0-cpu').replace(/^LABEL com\.amazonaws.*\n/m, '')));
    expect(smcl(['lint', info]).status).toBe(0);
    expect(smcl(['lint', info, '--fail-on', 'info']).status).toBe(1);
  });

  it('reads a Dockerfile from stdin', () => {
    const dir = tempTree(container(BAD));
    const r = smcl(['lint', '-', '--format', 'json'], { input: BAD, cwd: dir });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).results[0].findings).toMatchObject([{ ruleId: 'accept-bind-to-port-label', location: { file: '<stdin>', line: 3 } }]);
  });

  it('writes JSON to --output and nothing to stdout', () => {
    const dir = tempTree(container(BAD));
    const out = path.join(dir, 'report', 'smcl.json');
    const r = smcl(['lint', dir, '--format', 'json', '--output', out]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const report = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(report.summary).toMatchObject({ error: 1, total: 1 });
  });

  it('emits SARIF 2.1.0 that validates against the official schema', () => {
    const r = smcl(['lint', 'examples/', '--format', 'sarif']);
    expect(r.status).toBe(1);
    const log = JSON.parse(r.stdout);
    expect(sarifErrors(log)).toBe('');
    const result = log.runs[0].results[0];
    expect(result).toMatchObject({ ruleId: 'accept-bind-to-port-label', level: 'error' });
    expect(result.locations[0].physicalLocation).toMatchObject({ artifactLocation: { uri: 'examples/bad-container/Dockerfile' }, region: { startLine: 3 } });
    expect(log.runs[0].tool.driver.rules[result.ruleIndex].helpUri).toMatch(/rules\/accept-bind-to-port-label\/README\.md$/);
  });

  it('emits GitHub workflow commands', () => {
    const r = smcl(['lint', 'examples/bad-container', '--format', 'github']);
    expect(r.stdout).toMatch(/^::error file=examples\/bad-container\/Dockerfile,line=3,endLine=3,col=1,title=smcl accept-bind-to-port-label::label com\.amazonaws/m);
    expect(r.stdout.split('\n')[0]).not.toContain('\n');
  });

  it('honours inline pragmas', () => {
    const dir = tempTree(container('# smcl-ignore-file accept-bind-to-port-label\n' + BAD));
    expect(smcl(['lint', dir]).status).toBe(0);
    const wrongValue = GOOD.replace('accept-bind-to-port=true', 'accept-bind-to-port=no');
    const next = tempTree(container(wrongValue.replace(/^LABEL/m, '# smcl-ignore accept-bind-to-port-label\nLABEL')));
    expect(smcl(['lint', next]).status).toBe(0);
    const other = tempTree(container(wrongValue.replace(/^LABEL/m, '# smcl-ignore some-other-rule\nLABEL')));
    expect(smcl(['lint', other]).status).toBe(1);
  });

  it('takes severities from a config found upward, in JSON, YAML or package.json', () => {
    const json = tempTree({ '.smclrc.json': JSON.stringify({ rules: { 'accept-bind-to-port-label': 'warning' } }), ...container(BAD, 'svc/') });
    const r = smcl(['lint', path.join(json, 'svc'), '--format', 'json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).results[0].findings[0].severity).toBe('warning');
    const yaml = tempTree({ '.smclrc.yaml': 'rules:\n  accept-bind-to-port-label: off\n', ...container(BAD) });
    expect(smcl(['lint', yaml, '--format', 'json']).stdout).toContain('"total": 0');
    const pkg = tempTree({ 'package.json': JSON.stringify({ name: 'x', smcl: { failOn: 'none' } }), ...container(BAD) });
    expect(smcl(['lint', pkg]).status).toBe(0);
  });

  it('rejects bad configs with one line naming the file, exit 2', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ rules: { 'no-such-rule': 'error' } }, /unknown rule "no-such-rule"/],
      [{ rules: { 'accept-bind-to-port-label': 'fatal' } }, /severity must be one of off, info, warning, error/],
      [{ colour: true }, /unknown key "colour"/],
    ];
    for (const [config, message] of cases) {
      const dir = tempTree({ '.smclrc.json': JSON.stringify(config), ...container(BAD) });
      const r = smcl(['lint', dir]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('.smclrc.json');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const broken = tempTree({ '.smclrc.json': '{ "rules": ', ...container(BAD) });
    const r = smcl(['lint', broken]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot parse config/);
    const missing = smcl(['lint', 'examples/', '--config', '/nonexistent/smcl.json']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/config file not found/);
  });

  it('gives one-line errors and exit 2 for bad input, never a stack trace', () => {
    const empty = tempTree({ Dockerfile: '' });
    const binary = tempTree({ Dockerfile: 'FROM \u0000\u0001\u0002' });
    const nodf = tempTree({ 'README.md': 'hi' });
    const cases: Array<[string[], RegExp]> = [
      [['lint', '/nonexistent/Dockerfile'], /\/nonexistent\/Dockerfile: no such file or directory/],
      [['lint', path.join(empty, 'Dockerfile')], /the Dockerfile is empty/],
      [['lint', path.join(binary, 'Dockerfile')], /looks like a binary file/],
      [['lint', nodf], /no Dockerfile found/],
      [['lint', 'examples/', '--format', 'xml'], /unknown --format "xml"/],
      [['lint', 'examples/', '--fail-on', 'fatal'], /Invalid values/],
      [['lint', 'examples/bad-container', '--target', 'nope'], /no build stage named "nope"/],
      [['frobnicate'], /Unknown argument|Did you mean/],
    ];
    for (const [args, message] of cases) {
      const r = smcl(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('lists rules with severity and doc link', () => {
    const r = smcl(['rules']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/accept-bind-to-port-label\s+error/);
    const json = JSON.parse(smcl(['rules', '--format', 'json']).stdout);
    expect(json.find((m: { id: string }) => m.id === 'accept-bind-to-port-label').docsUrl).toMatch(/README\.md$/);
  });

  it('every registered rule has a README with the required sections', async () => {
    const { allRules } = await import('../../rules/index.js');
    for (const rule of allRules()) {
      const doc = fs.readFileSync(path.join(ROOT, 'rules', rule.meta.id, 'README.md'), 'utf8');
      for (const section of ['## Why', '## Bad', '## Good', '## How to fix']) expect(doc, `${rule.meta.id} ${section}`).toContain(section);
    }
  });
});

describe('smcl lint: targets, build args and endpoint files', () => {
  it('--target all lints every stage that can be built as an image, each as its own subject', () => {
    const dockerfile = [
      'FROM python:3.12 AS build',
      'RUN pip wheel -w /w flask',
      'FROM python:3.12-slim AS sagemaker',
      GOOD.split('\n').slice(3).join('\n'),
      'FROM python:3.12-slim AS test',
      'COPY --from=build /w /w',
    ].join('\n');
    const dir = tempTree(container(dockerfile));
    const r = smcl(['lint', dir, '--target', 'all', '--format', 'json']);
    const subjects = JSON.parse(r.stdout).results.map((x: { subject: string }) => x.subject.replace(/^.*Dockerfile/, 'Dockerfile'));
    expect(subjects).toEqual(['Dockerfile (target sagemaker)', 'Dockerfile (target test)']);
    // Each target is its own model (built in one pass): only the test stage lacks the label.
    const ruleIds = JSON.parse(r.stdout).results.map((x: { findings: Array<{ ruleId: string }> }) => x.findings.map((f) => f.ruleId));
    expect(ruleIds[0]).not.toContain('accept-bind-to-port-label');
    expect(ruleIds[1]).toContain('accept-bind-to-port-label');
  });

  it('takes -f and --context like docker build, and --build-arg values', () => {
    const dir = tempTree({ ...container(undefined, 'ctx/'), 'docker/Dockerfile': GOOD.replace('accept-bind-to-port=true', 'accept-bind-to-port=${ACCEPT}').replace(/^FROM/m, 'ARG ACCEPT\nFROM').replace(/^LABEL/m, 'ARG ACCEPT\nLABEL') });
    const noArg = smcl(['lint', '-f', path.join(dir, 'docker/Dockerfile'), '--context', path.join(dir, 'ctx'), '--format', 'json']);
    expect(JSON.parse(noArg.stdout).results[0].findings.map((f: { ruleId: string }) => f.ruleId)).toEqual(['accept-bind-to-port-label']);
    const withArg = smcl(['lint', '-f', path.join(dir, 'docker/Dockerfile'), '--context', path.join(dir, 'ctx'), '--build-arg', 'ACCEPT=true']);
    expect(withArg.status).toBe(0);
  });

  it('lints the images listed in the config when no path is given', () => {
    const dir = tempTree({ ...container(undefined, 'svc-a/'), ...container(BAD, 'svc-b/'), '.smclrc.json': JSON.stringify({ images: [{ dockerfile: 'svc-a/Dockerfile' }, { dockerfile: 'svc-b/Dockerfile', context: 'svc-b' }] }) });
    const r = smcl(['lint', '--format', 'json'], { cwd: dir });
    const results = JSON.parse(r.stdout).results;
    expect(results).toHaveLength(2);
    expect(results[1].findings.map((f: { ruleId: string }) => f.ruleId)).toEqual(['accept-bind-to-port-label']);
  });

  it('picks up CreateModel files next to Dockerfiles and rejects a named JSON file that is neither', () => {
    const createModel = { ModelName: 'm', InferenceExecutionConfig: { Mode: 'Direct' }, Containers: [{ ContainerHostname: 'a', Image: 'x' }, { ContainerHostname: 'a', Image: 'y' }] };
    const dir = tempTree({ ...container(), 'deploy/create-model.json': JSON.stringify(createModel, null, 2), 'deploy/package.json': '{}' });
    const r = smcl(['lint', dir, '--format', 'json']);
    const ruleIds = JSON.parse(r.stdout).results.flatMap((x: { findings: Array<{ ruleId: string }> }) => x.findings.map((f) => f.ruleId));
    expect(ruleIds).toContain('endpoint-hostnames');
    expect(r.status).toBe(1);
    const other = tempTree({ 'settings.json': '{"a": 1}' });
    const bad = smcl(['lint', path.join(other, 'settings.json')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/neither a Dockerfile nor an endpoint definition/);
  });
  it('--jobs 2 lints 120 Dockerfiles on worker threads with the same report as one thread', () => {
    const files: Record<string, string | { content: string; mode: number }> = {};
    for (let i = 0; i < 120; i++) Object.assign(files, container(i % 3 === 0 ? BAD : GOOD, `p${String(i).padStart(3, '0')}/`));
    const dir = tempTree(files);
    const one = smcl(['lint', dir, '--format', 'json', '-j', '1']);
    const two = smcl(['lint', dir, '--format', 'json', '-j', '2']);
    expect(one.status, one.stderr).toBe(1);
    expect(two.status, two.stderr).toBe(1);
    const a = JSON.parse(one.stdout) as { results: Array<{ subject: string; findings: Array<{ ruleId: string }> }> };
    const b = JSON.parse(two.stdout) as typeof a;
    expect(a.results).toHaveLength(120);
    expect(a.results.filter((r) => r.findings.some((f) => f.ruleId === 'accept-bind-to-port-label'))).toHaveLength(40);
    expect(b).toEqual(a);
    expect(two.stderr).toContain('linting 120 Dockerfiles on 2 worker threads');
    expect(one.stderr).not.toContain('worker threads');
    const bad = smcl(['lint', dir, '-j', '0']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--jobs 0: expected a whole number/);
  }, 60_000);
  it('--fix adds the label after the FROM and makes serve executable; without --fix nothing is written', () => {
    // Without the label, and without the RUN chmod that makes the (non-executable) serve runnable.
    const unfixed = BAD.replace('RUN chmod +x /opt/program/serve\n', '');
    expect(unfixed).not.toBe(BAD);
    const files = container(unfixed);
    files['program/serve'] = { content: (files['program/serve'] as { content: string }).content, mode: 0o644 };
    const dir = tempTree(files);
    const dockerfile = path.join(dir, 'Dockerfile');
    const serve = path.join(dir, 'program/serve');

    const plain = smcl(['lint', dir, '--format', 'json']);
    expect(plain.status).toBe(1);
    const fixable = JSON.parse(plain.stdout).results[0].findings.filter((f: { fix?: unknown }) => f.fix).map((f: { ruleId: string }) => f.ruleId);
    expect(fixable.sort()).toEqual(['accept-bind-to-port-label', 'serve-entrypoint']);
    expect(fs.readFileSync(dockerfile, 'utf8')).toBe(unfixed);
    expect(fs.statSync(serve).mode & 0o777).toBe(0o644);
    expect(smcl(['lint', dir]).stdout).toContain('2 of them can be fixed with `smcl lint --fix`');

    const fixed = smcl(['lint', dir, '--fix']);
    expect(fixed.status, fixed.stdout + fixed.stderr).toBe(0);
    expect(fixed.stderr).toMatch(/fixed .*Dockerfile: add LABEL com\.amazonaws\.sagemaker\.capabilities\.accept-bind-to-port=true after line 3 \(accept-bind-to-port-label\)/);
    expect(fixed.stderr).toMatch(/fixed .*serve: chmod \+x .*serve \(serve-entrypoint\)/);
    expect(fixed.stdout).toContain('no problems in 1 subject');
    expect(fs.readFileSync(dockerfile, 'utf8')).toBe(unfixed.replace(/^(FROM .*)$/m, '$1\nLABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true'));
    expect(fs.statSync(serve).mode & 0o777).toBe(0o755);
    expect(fs.readdirSync(dir).filter((f) => f.includes('smcl-fix'))).toEqual([]);
  });

  it('--fix sets a false label to true, keeps CRLF line endings, and refuses stdin', () => {
    const crlf = GOOD.replace('accept-bind-to-port=true', 'accept-bind-to-port=false').replace(/\n/g, '\r\n');
    const dir = tempTree(container(crlf));
    const r = smcl(['lint', dir, '--fix']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toBe(GOOD.replace(/\n/g, '\r\n'));

    const missing = tempTree(container(BAD.replace(/\n/g, '\r\n')));
    expect(smcl(['lint', missing, '--fix']).status).toBe(0);
    expect(fs.readFileSync(path.join(missing, 'Dockerfile'), 'utf8')).toBe(BAD.replace(/^(FROM .*)$/m, '$1\nLABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true').replace(/\n/g, '\r\n'));

    const stdin = smcl(['lint', '-', '--fix'], { input: BAD });
    expect(stdin.status).toBe(2);
    expect(stdin.stderr).toContain('--fix cannot write to stdin');
  });
  it('a reader that goes away (smcl lint | head) ends the output quietly, with the exit code of the findings', async () => {
    const { spawn } = await import('node:child_process');
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [path.join(ROOT, 'dist/src/cli/main.js'), ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        // A reader that is gone before smcl writes (like `head -1` on a slow start).
        child.stdout.destroy();
        child.on('close', (code) => resolve({ code, stderr }));
      });
    // More output than a pipe buffer holds (64 KiB), so that writes go on after the reader left.
    const files: Record<string, string | { content: string; mode: number }> = {};
    for (let i = 0; i < 80; i++) Object.assign(files, container(BAD, `p${i}/`));
    const lint = await run(['lint', tempTree(files), '-j', '1']);
    expect(lint.stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(lint.code).toBe(1);
    const rules = await run(['rules']);
    expect(rules.stderr).toBe('');
    expect(rules.code).toBe(0);
  });
  it('takes a personal default config from $XDG_CONFIG_HOME/smcl when the project has none', () => {
    const home = tempTree({ 'smcl/config.json': JSON.stringify({ rules: { 'accept-bind-to-port-label': 'off' } }) });
    const project = tempTree(container(BAD));
    expect(smcl(['lint', project], { env: { XDG_CONFIG_HOME: home } }).status).toBe(0);
    expect(smcl(['lint', project], { env: { XDG_CONFIG_HOME: tempTree({}) } }).status).toBe(1);
    // A project config wins over the personal one.
    const withOwn = tempTree({ ...container(BAD), '.smclrc.json': JSON.stringify({ rules: { 'accept-bind-to-port-label': 'error' } }) });
    expect(smcl(['lint', withOwn], { env: { XDG_CONFIG_HOME: home } }).status).toBe(1);
  });
  it('shows progress on a terminal (a status line, cleared at the end), none when stderr is not one', () => {
    const files: Record<string, string | { content: string; mode: number }> = {};
    for (let i = 0; i < 30; i++) Object.assign(files, container(GOOD, `p${i}/`));
    const dir = tempTree(files);
    const args = ['lint', dir, '-F', 'json', '-o', path.join(dir, 'report.json')];
    // util-linux `script` gives the CLI a pseudo-terminal.
    const tty = spawnSync('script', ['-qec', [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' '), '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(tty.status).toBe(0);
    expect(tty.stdout).toMatch(/\r\u001b\[2Ksmcl: linting \d+\/30 /);
    // The last thing on the terminal clears the line.
    expect(tty.stdout.endsWith('\r\u001b[2K')).toBe(true);
    const plain = smcl(args);
    expect(plain.status).toBe(0);
    expect(plain.stderr).toBe('');
  });
});
