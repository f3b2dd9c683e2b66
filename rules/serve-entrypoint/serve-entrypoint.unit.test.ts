import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lintDockerfile } from '../../src/lint/lint-dockerfiles.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Lints a build context written to a temp dir; files whose name ends in `*` are made executable. */
function findings(files: Record<string, string>): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smcl-serve-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    const p = path.join(dir, name.replace(/\*$/, ''));
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text, { mode: name.endsWith('*') ? 0o755 : 0o644 });
  }
  const result = lintDockerfile(path.join(dir, 'Dockerfile'), { config: {} });
  return result.findings.filter((f) => f.ruleId === 'serve-entrypoint').map((f) => `${f.severity} ${path.basename(f.location.file)}:${f.location.line} ${f.message}`);
}

const SERVE = '#!/bin/sh\nexec gunicorn -b :8080 app:app\n';

describe('serve-entrypoint details', () => {
  it('`env VAR=x` and `tini --` with nothing after them run serve from PATH', () => {
    expect(findings({ Dockerfile: 'FROM python:3.12\nENTRYPOINT ["/usr/bin/env", "PYTHONUNBUFFERED=1"]\n' })).toEqual([expect.stringMatching(/^error Dockerfile:2 .*no executable named serve/)]);
    expect(findings({ Dockerfile: 'FROM python:3.12\nCOPY serve* /usr/local/bin/serve\nENTRYPOINT ["tini", "-g", "--"]\n', 'serve*': SERVE })).toEqual([]);
  });

  it('ENTRYPOINT ["python"] with a shell script named serve: python cannot run it', () => {
    const out = findings({ Dockerfile: 'FROM python:3.12\nWORKDIR /opt/program\nCOPY serve* ./\nENTRYPOINT ["python"]\n', 'serve*': SERVE });
    expect(out).toEqual([expect.stringMatching(/^error Dockerfile:4 .*is a \/bin\/sh script, not Python/)]);
  });

  it('python -m module and sh -c "script" take the appended word harmlessly', () => {
    expect(findings({ Dockerfile: 'FROM python:3.12\nENTRYPOINT ["python", "-m", "server"]\n' })).toEqual([]);
    expect(findings({ Dockerfile: 'FROM python:3.12\nENTRYPOINT ["bash", "-c", "exec gunicorn app:app"]\n' })).toEqual([]);
  });

  it('a comment mentioning serve does not make an exec "$@" wrapper handle it', () => {
    const out = findings({
      Dockerfile: 'FROM python:3.12\nCOPY entry.sh* /entry.sh\nENTRYPOINT ["/entry.sh"]\n',
      'entry.sh*': '#!/bin/sh\n# SageMaker passes serve here\nexec "$@"\n',
    });
    expect(out).toEqual([expect.stringMatching(/^error entry\.sh:3 \/entry\.sh ends with exec "\$@"/)]);
  });

  it('a RUN step that may create serve makes a missing serve uncertain (info)', () => {
    const out = findings({ Dockerfile: 'FROM python:3.12\nCOPY bin/ /opt/bin/\nRUN cp /opt/bin/server.sh /usr/local/bin/serve\n', 'bin/server.sh*': SERVE });
    expect(out).toEqual([expect.stringMatching(/^info Dockerfile:3 .*RUN step at line 3/)]);
  });

  it('a serve on a PATH that extends the base PATH is found in the default directories too', () => {
    expect(findings({ Dockerfile: 'FROM python:3.12\nENV PATH=/opt/venv/bin:$PATH\nCOPY serve* /usr/bin/serve\n', 'serve*': SERVE })).toEqual([]);
  });

  it('plain public bases are known to lack serve; other registries are uncertain', () => {
    expect(findings({ Dockerfile: 'FROM public.ecr.aws/docker/library/python:3.12\n' })[0]).toMatch(/^error /);
    expect(findings({ Dockerfile: 'FROM ghcr.io/acme/model-runtime:1\n' })[0]).toMatch(/^info Dockerfile:1 .*base image ghcr\.io\/acme\/model-runtime:1 may/);
  });
});
