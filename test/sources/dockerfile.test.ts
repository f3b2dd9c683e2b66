import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/engine/types.js';
import { expandWord } from '../../src/sources/dockerfile/expand.js';
import { listStages, loadDockerfile } from '../../src/sources/dockerfile/index.js';
import { tempTree } from '../support/tmp.js';

function model(text: string, opts: { files?: Record<string, string | { content: string; mode: number }>; target?: string; buildArgs?: Record<string, string> } = {}) {
  const dir = tempTree({ Dockerfile: text, ...(opts.files ?? {}) });
  return loadDockerfile({ file: path.join(dir, 'Dockerfile'), target: opts.target, buildArgs: opts.buildArgs });
}

describe('variable expansion', () => {
  const vars: Record<string, string> = { A: 'a', EMPTY: '' };
  const look = (n: string) => vars[n];
  it.each([
    ['$A', 'a', []],
    ['${A}x', 'ax', []],
    ['${MISSING:-def}', 'def', []],
    ['${EMPTY:-def}', 'def', []],
    ['${EMPTY-def}', '', []],
    ['${A:+alt}', 'alt', []],
    ['${MISSING:+alt}', '', []],
    ["'$A'", '$A', []],
    ['"$A b"', 'a b', []],
    ['\\$A', '$A', []],
    ['$MISSING', '', ['MISSING']],
    ['${MISSING:-${A}}', 'a', []],
    ['${X:-${Y}}', '', ['X', 'Y'].slice(1)],
  ])('%s → %s', (raw, value, unresolved) => {
    const e = expandWord(raw, look);
    expect(e.value).toBe(value);
    expect(e.unresolved).toEqual(unresolved);
  });
  it('uses the backtick escape', () => {
    expect(expandWord('`$A', look, '`').value).toBe('$A');
  });
});

describe('Dockerfile source', () => {
  it('reads every LABEL form with locations', () => {
    const m = model(['FROM scratch', 'LABEL "a.b"="x y" c=d \\', "  e='f g'", 'LABEL legacy some value'].join('\n'));
    expect(m.labels.get('a.b')).toMatchObject({ value: 'x y', location: { line: 2, column: 7 } });
    expect(m.labels.get('c')?.value).toBe('d');
    expect(m.labels.get('e')).toMatchObject({ value: 'f g', location: { line: 3 } });
    expect(m.labels.get('legacy')?.value).toBe('some value');
  });

  it('expands ARG and ENV, honours --build-arg and marks unresolved variables', () => {
    const m = model(['ARG V=1', 'FROM scratch', 'ARG V', 'ARG NOVAL', 'ENV P=${PORT:-8080} Q=$V', 'LABEL a=$NOVAL b=$V'].join('\n'), { buildArgs: { V: '9' } });
    expect(m.env.get('P')?.value).toBe('8080');
    expect(m.env.get('Q')?.value).toBe('9');
    expect(m.labels.get('a')?.unresolved).toEqual(['NOVAL']);
    expect(m.labels.get('b')?.value).toBe('9');
  });

  it('expands ENV pairs of one instruction against the state before it', () => {
    const m = model(['FROM scratch', 'ENV A=1', 'ENV A=2 B=$A'].join('\n'));
    expect(m.env.get('B')?.value).toBe('1');
  });

  it('lints the last stage and inherits from a named stage', () => {
    const text = ['FROM python:3 AS base', 'LABEL x=1', 'ENV E=e', 'FROM base AS app', 'LABEL y=2', 'FROM alpine AS other', 'LABEL z=3'].join('\n');
    const last = model(text);
    expect(last.target).toBe('other');
    expect([...last.labels.keys()]).toEqual(['z']);
    expect(last.otherStages.map((s) => s.name)).toEqual(['base', 'app']);
    const app = model(text, { target: 'app' });
    expect([...app.labels.keys()].sort()).toEqual(['x', 'y']);
    expect(app.labels.get('x')?.inheritedFrom).toBe('base');
    expect(app.env.get('E')?.value).toBe('e');
    expect(app.baseImage).toMatchObject({ kind: 'stage', ref: 'base' });
  });

  it('rejects an unknown --target naming the stages', () => {
    expect(() => model('FROM scratch AS a\nFROM scratch AS b', { target: 'c' })).toThrow(/no build stage named "c" \(stages: a, b\)/);
  });

  it('puts COPYed context files in the file system with modes, honouring .dockerignore', () => {
    const m = model(['FROM scratch', 'WORKDIR /opt', 'COPY program/ program/', 'COPY --chmod=755 run.sh /usr/local/bin/', 'COPY *.conf /etc/nginx/'].join('\n'), {
      files: {
        'program/serve': { content: '#!/bin/sh\n', mode: 0o755 },
        'program/app.py': 'print(1)\n',
        'program/secret.key': 'x',
        'run.sh': { content: 'echo\n', mode: 0o644 },
        'nginx.conf': 'listen 8080;\n',
        '.dockerignore': '**/*.key\n',
      },
    });
    expect(m.files.get('/opt/program/serve')?.mode).toBe(0o755);
    expect(m.files.isExecutable('/opt/program/app.py')).toBe(false);
    expect(m.files.has('/opt/program/secret.key')).toBe(false);
    expect(m.files.get('/usr/local/bin/run.sh')?.mode).toBe(0o755);
    const conf = m.files.get('/etc/nginx/nginx.conf')!;
    expect(m.files.readText(conf)).toBe('listen 8080;\n');
    expect(conf.origin).toMatchObject({ kind: 'context', copiedBy: { line: 5 } });
  });

  it('applies RUN chmod and ln -s to the file system', () => {
    const m = model(['FROM scratch', 'COPY serve /opt/program/serve', 'RUN chmod +x /opt/program/serve && ln -s /opt/program/serve /usr/bin/serve'].join('\n'), {
      files: { serve: { content: '#!/bin/sh\n', mode: 0o644 } },
    });
    expect(m.files.isExecutable('/opt/program/serve')).toBe(true);
    // The link resolves to the script, so `serve` is on PATH and executable.
    expect(m.files.get('/usr/bin/serve')?.path).toBe('/opt/program/serve');
    expect(m.files.isExecutable('/usr/bin/serve')).toBe(true);
    expect(m.buildSteps.map((s) => s.location.line)).toEqual([3]);
  });

  it('turns heredoc COPY into a file whose lines map back to the Dockerfile', () => {
    const m = model(['# syntax=docker/dockerfile:1', 'FROM scratch', 'COPY --chmod=755 <<EOF /serve', '#!/bin/sh', 'exec httpd -p 8080', 'EOF'].join('\n'));
    const f = m.files.get('/serve')!;
    expect(f.mode).toBe(0o755);
    expect(f.text()).toBe('#!/bin/sh\nexec httpd -p 8080\n');
    expect(f.origin).toMatchObject({ kind: 'heredoc', firstLine: 4 });
  });

  it('reads RUN heredocs as build steps', () => {
    const m = model(['FROM scratch', 'RUN <<EOT', 'pip install sagemaker-inference', 'EOT'].join('\n'));
    expect(m.buildSteps[0].script).toContain('pip install sagemaker-inference');
  });

  it('records exec and shell forms of ENTRYPOINT/CMD and EXPOSE ports', () => {
    const m = model(['FROM scratch', 'ENV P=9000', 'EXPOSE 8080 ${P}/udp 7000-7001', 'ENTRYPOINT ["python", "serve.py"]', 'CMD exec serve --x'].join('\n'));
    expect(m.entrypoint).toMatchObject({ form: 'exec', args: ['python', 'serve.py'] });
    expect(m.cmd).toMatchObject({ form: 'shell', args: ['exec serve --x'] });
    expect(m.exposedPorts.map((p) => `${p.port}/${p.protocol}`)).toEqual(['8080/tcp', '9000/udp', '7000/tcp', '7001/tcp']);
  });

  it('records a COPY source missing from the context as a gap, not a crash', () => {
    const m = model(['FROM scratch', 'COPY dist/model.whl /tmp/'].join('\n'));
    expect(m.gaps[0].message).toMatch(/dist\/model\.whl: not found in the build context/);
  });

  it('reads pragmas', () => {
    const m = model(['FROM scratch', '# smcl-ignore accept-bind-to-port-label', 'LABEL a=b \\', '  c=d', '# smcl-ignore-file some-rule'].join('\n'));
    expect(m.suppressions).toEqual([
      { file: expect.stringMatching(/Dockerfile$/), ruleIds: ['accept-bind-to-port-label'], fromLine: 3, toLine: 4 },
      { file: '*', ruleIds: ['some-rule'], fromLine: 1, toLine: Number.MAX_SAFE_INTEGER },
    ]);
  });

  it('handles CRLF and a BOM', () => {
    const m = model('\uFEFFFROM scratch\r\nLABEL a=b\r\n');
    expect(m.labels.get('a')?.value).toBe('b');
  });

  it('rejects empty, binary and FROM-less input with InputError', () => {
    expect(() => model('   \n')).toThrow(InputError);
    expect(() => model('LABEL a=b\n')).toThrow(/no FROM instruction/);
    const dir = tempTree({ Dockerfile: 'FROM scratch\u0000\u0001' });
    expect(() => loadDockerfile({ file: path.join(dir, 'Dockerfile') })).toThrow(/binary/);
  });

  it('lists stages and which are only copied from', () => {
    const stages = listStages('FROM a AS build\nFROM b AS serve\nCOPY --from=build /x /x\nFROM serve AS test');
    expect(stages.map((s) => [s.name, s.copiedFromOnly])).toEqual([
      ['build', true],
      ['serve', false],
      ['test', false],
    ]);
  });
});

describe('RUN effects in exec form and through busybox', () => {
  it('applies chmod and ln -s from exec-form RUN and busybox applets', () => {
    const m = model(['FROM scratch', 'COPY serve /opt/serve', 'RUN ["/bin/busybox", "chmod", "755", "/opt/serve"]', 'RUN /bin/ln -s /opt/serve /usr/local/bin/serve'].join('\n'), {
      files: { serve: { content: '#!/bin/sh\n', mode: 0o644 } },
    });
    expect(m.files.get('/opt/serve')?.mode).toBe(0o755);
    expect(m.files.isExecutable('/usr/local/bin/serve')).toBe(true);
  });
});

describe('build context lookups', () => {
  it('a COPY of a single file honours .dockerignore (also through an ignored parent) and stays inside the context', () => {
    const m = model(['FROM scratch', 'COPY secret.key /a/', 'COPY build/out.txt /b/', 'COPY ../outside.txt /c/', 'COPY serve /d/'].join('\n'), {
      files: { 'secret.key': 'x', 'build/out.txt': 'y', serve: '#!/bin/sh\n', '.dockerignore': '*.key\nbuild/\n' },
    });
    expect(m.files.has('/a/secret.key')).toBe(false);
    expect(m.files.has('/b/out.txt')).toBe(false);
    expect(m.files.has('/c/outside.txt')).toBe(false);
    expect(m.files.has('/d/serve')).toBe(true);
    expect(m.gaps.map((g) => g.message.split(':')[0])).toEqual(['COPY secret.key', 'COPY build/out.txt', 'COPY ../outside.txt']);
  });

  it('a COPY of a directory reads that subtree only, with .dockerignore, .git and ignored parents as for a whole-context walk', () => {
    const dockerfile = ['FROM scratch', 'COPY svc/app /app', 'COPY build /b', 'COPY svc/app/.git /g'].join('\n');
    const files = {
      'svc/app/serve': { content: '#!/bin/sh\n', mode: 0o755 },
      'svc/app/lib/x.py': 'x = 1\n',
      'svc/app/creds.key': 'k',
      'svc/app/.git/config': '[core]\n',
      'build/out.txt': 'y',
      'other/big.bin': 'z',
      '.dockerignore': '**/*.key\nbuild/\n',
    };
    const m = model(dockerfile, { files });
    expect(m.files.all().filter((f) => f.type === 'file').map((f) => f.path).sort()).toEqual(['/app/lib/x.py', '/app/serve']);
    expect(m.files.get('/app/serve')?.mode).toBe(0o755);
    // The same sources after a glob COPY (which walks the whole context first) give the same files.
    const walked = model(['FROM scratch', 'COPY *.none /n/', ...dockerfile.split('\n').slice(1)].join('\n'), { files });
    expect(walked.files.all().filter((f) => f.type === 'file').map((f) => f.path).sort()).toEqual(['/app/lib/x.py', '/app/serve']);
  });
});
