import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyFixes } from '../../src/lint/fix.js';
import { lintDockerfile } from '../../src/lint/lint-dockerfiles.js';
import { tempTree } from '../../test/support/tmp.js';

const DOCKERFILE = 'FROM python:3.12-slim\nLABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true\nCOPY --chmod=755 serve /usr/local/bin/serve\nCOPY app.py /app/app.py\n';

/** Lints a context with this `serve` script (and app.py), applies the fixes, returns serve after. */
function fixServe(serve: string, app = 'from flask import Flask\napp = Flask(__name__)\n'): { findings: number; fixes: number; after: string } {
  const dir = tempTree({ Dockerfile: DOCKERFILE, serve: { content: serve, mode: 0o755 }, 'app.py': app });
  const result = lintDockerfile(path.join(dir, 'Dockerfile'), { config: {} });
  const findings = result.findings.filter((f) => f.ruleId === 'bind-to-port-env' && f.severity === 'error');
  const fixes = findings.filter((f) => f.fix);
  applyFixes([{ ...result, findings: fixes }]);
  return { findings: findings.length, fixes: fixes.length, after: fs.readFileSync(path.join(dir, 'serve'), 'utf8') };
}

describe('bind-to-port-env --fix (shell scripts only)', () => {
  it('a bind address in a serve script takes the port from SAGEMAKER_BIND_TO_PORT', () => {
    const r = fixServe('#!/bin/sh\nexec gunicorn --bind 0.0.0.0:8080 app:app\n');
    expect(r).toMatchObject({ findings: 1, fixes: 1 });
    expect(r.after).toBe('#!/bin/sh\nexec gunicorn --bind 0.0.0.0:${SAGEMAKER_BIND_TO_PORT:-8080} app:app\n');
  });

  it('a port variable is fixed where the number is written', () => {
    const r = fixServe('#!/bin/sh\nPORT=8080\nexec gunicorn -b "0.0.0.0:$PORT" app:app\n');
    expect(r).toMatchObject({ findings: 1, fixes: 1 });
    expect(r.after).toBe('#!/bin/sh\nPORT=${SAGEMAKER_BIND_TO_PORT:-8080}\nexec gunicorn -b "0.0.0.0:$PORT" app:app\n');
  });

  it('no fix inside single quotes, for the wrong variable, or outside shell', () => {
    const quoted = '#!/bin/sh\nexec sh -c \'gunicorn --bind 0.0.0.0:8080 app:app\'\n';
    expect(fixServe(quoted)).toEqual({ findings: 1, fixes: 0, after: quoted });
    const wrongVar = '#!/bin/sh\nexec gunicorn --bind "0.0.0.0:${MY_PORT:-8080}" app:app\n';
    expect(fixServe(wrongVar)).toEqual({ findings: 1, fixes: 0, after: wrongVar });
    const python = '#!/bin/sh\nexec python /app/app.py\n';
    expect(fixServe(python, 'from flask import Flask\napp = Flask(__name__)\napp.run(host="0.0.0.0", port=8080)\n')).toMatchObject({ findings: 1, fixes: 0 });
  });
});
