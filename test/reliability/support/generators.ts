/**
 * fast-check generators for the lint pipeline fuzzing: Dockerfiles (valid-looking and broken)
 * and the build-context files the rules read (serve scripts, nginx configs, Python servers).
 *
 * Inputs are built as bytes, so they can carry what a string cannot: invalid UTF-8, a BOM,
 * NUL bytes. Fragments come from what real SageMaker containers contain (so rules fire often
 * and their analysis runs deep) mixed with syntax that breaks parsers: unbalanced quotes and
 * braces, stray escapes, heredocs without terminator, line continuations at end of file,
 * very long lines, CR/CRLF line ends.
 */
import fc from 'fast-check';

/** Longest generated line: dockerfile-ast parses a very long line in super-linear time (400 kB: ~5 s), so the default run stays at 30 kB and the soak goes to 100 kB. */
export const HUGE_LINE = process.env.SMCL_SOAK ? 100_000 : 30_000;

const LINE_ENDS = ['\n', '\n', '\n', '\r\n', '\r'];

/** Words and pieces an instruction argument may be made of. */
const ARG_PIECES = [
  'python:3.12-slim', 'scratch', 'busybox', 'AS', 'as', 'build', 'serve', '$BASE', '${BASE:-python}', '--platform=$TARGETPLATFORM', '--platform=linux/arm64',
  'com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true', 'com.amazonaws.sagemaker.capabilities.accept-bind-to-port=false',
  'SAGEMAKER_BIND_TO_PORT=8080', 'SAGEMAKER_SAFE_PORT_RANGE=8000-8999', 'PATH=/opt/program:$PATH', 'PATH="/opt/program:${PATH}"', 'PORT=${SAGEMAKER_BIND_TO_PORT:-8080}',
  '8080', '8080/tcp', '9000/udp', '${PORT}', '$PORT', '0-65535', '99999', '-1',
  '["serve"]', '["/opt/program/serve"]', '["python", "app.py"]', '["sh", "-c", "exec serve"]', '["broken', '[]', '["a", 1]', '{"a": 1}',
  '/opt/program/serve', '/opt/program/', '/opt/program', 'serve', 'app.py', 'nginx.conf', '/etc/nginx/nginx.conf', '.', './', '..', '../..', '/', '*', '*.py', '**', '?', '[a-',
  'program/', 'program/serve', 'program/predictor.py', '"we ird.py"', '["we ird.py", "/opt/program/"]',
  '--from=build', '--from=0', '--from=9', '--from=', '--chmod=755', '--chmod=u+x', '--chmod=9999', '--chown=1000:1000', '--link', '--mount=type=cache,target=/root/.cache', '--network=none', '--interval=5s', '--unknown-flag',
  'CMD', 'curl -f http://localhost:8080/ping', 'NONE', 'root', '1000:1000', 'nobody', 'SIGTERM', '9',
  'chmod +x /opt/program/serve', 'pip install flask gunicorn', 'ln -s /opt/program/serve /usr/bin/serve', 'rm -rf /opt/program', 'cp serve /usr/local/bin/',
  'mv /opt/program/serve /opt/program/serve2', 'chmod -R a-x /opt', 'cd /opt && ls',
  '"', "'", '\\', '\\\\', '`', '$', '${', '${}', '$(', ')', '&&', '||', ';', '|', '>', '<', '#', '=', '==', ':', ',', '{', '}',
  '<<EOF', '<<-"EOF"', "<<'EOT'", 'EOF', '<<', '\t', ' ', '  ', '\u00a0', 'é', '日本', '🐳', '\u202e', '\u0000', '\u0007', '\u001b[31m',
];

const KEYWORDS = ['FROM', 'FROM', 'RUN', 'CMD', 'ENTRYPOINT', 'LABEL', 'ENV', 'ARG', 'EXPOSE', 'COPY', 'COPY', 'ADD', 'WORKDIR', 'USER', 'HEALTHCHECK', 'SHELL', 'ONBUILD', 'STOPSIGNAL', 'VOLUME', 'MAINTAINER', 'from', 'run', 'Copy', 'FRUM', '', '#', '# smcl-ignore accept-bind-to-port-label', '# smcl-ignore-file serve-entrypoint', '# escape=`', '# syntax=docker/dockerfile:1'];

/** Lines a realistic SageMaker Dockerfile has: they make the rules reach deep analysis. */
const REALISTIC_LINES = [
  'FROM python:3.12-slim',
  'FROM python:3.12-slim AS build',
  'LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true',
  'ENV PATH="/opt/program:${PATH}" PYTHONUNBUFFERED=1',
  'COPY program/ /opt/program/',
  'COPY . /opt/program',
  'COPY serve /opt/program/serve',
  'COPY nginx.conf /etc/nginx/nginx.conf',
  'COPY ["we ird.py", "/opt/program/"]',
  'COPY --from=build /opt/program /opt/program',
  'RUN chmod +x /opt/program/serve',
  'WORKDIR /opt/program',
  'ENTRYPOINT ["serve"]',
  'ENTRYPOINT ["python", "/opt/program/predictor.py"]',
  'ENTRYPOINT /opt/program/serve',
  'CMD ["serve"]',
  'EXPOSE 8080',
  'ARG PORT=8080',
  'ENV SAGEMAKER_BIND_TO_PORT=${PORT}',
  'RUN <<EOF\nset -e\nchmod +x /opt/program/serve\nEOF',
  'COPY <<EOF /opt/program/serve\n#!/bin/sh\nexec gunicorn -b 0.0.0.0:${SAGEMAKER_BIND_TO_PORT:-8080} predictor:app\nEOF',
  'RUN echo a \\\n  && echo b \\\n  && echo c',
  'HEALTHCHECK CMD curl -f http://localhost:8080/ping || exit 1',
];

const lineEnd = fc.constantFrom(...LINE_ENDS);
const piece = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...ARG_PIECES) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
);
const args = fc.array(piece, { maxLength: 6 }).chain((ps) =>
  fc.constantFrom(' ', '', ' \\\n ', ' \\\r\n', '\t').map((sep) => ps.join(sep)),
);

const instruction = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...REALISTIC_LINES) },
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...KEYWORDS), fc.constantFrom(' ', '  ', '\t', ''), args).map(([k, s, a]) => `${k}${s}${a}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('RUN', 'COPY', 'LABEL'), fc.integer({ min: 1000, max: HUGE_LINE }), fc.constantFrom('a', 'x=', '\\ ', '"')).map(([k, n, c]) => `${k} ${c.repeat(Math.ceil(n / c.length))}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('RUN', 'COPY'), fc.constantFrom('EOF', '"EOF"', '-EOF', 'X'), fc.array(piece, { maxLength: 4 }), fc.boolean()).map(([k, tag, body, close]) => `${k} <<${tag}${k === 'COPY' ? ' /opt/program/serve' : ''}\n${body.join(' ')}${close ? '\nEOF' : ''}`) },
);

/** Byte-level damage: invalid UTF-8, NULs, a BOM, a truncated multi-byte character. */
const damage = fc.array(
  fc.tuple(fc.nat(), fc.constantFrom(Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0x00]), Buffer.from([0xe2, 0x82]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('\r'), Buffer.from('\\'))),
  { maxLength: 3 },
);

export interface GeneratedDockerfile {
  bytes: Buffer;
}

export const dockerfileArb: fc.Arbitrary<GeneratedDockerfile> = fc
  .record({
    bom: fc.boolean(),
    prelude: fc.constantFrom('', '', '# escape=`\n', '# syntax=docker/dockerfile:1\n', '# escape=\\\n', 'ARG BASE=python:3.12\n'),
    startWithFrom: fc.boolean(),
    lines: fc.array(fc.tuple(instruction, lineEnd), { maxLength: 14 }),
    trailing: fc.constantFrom('', '\n', '\\', ' \\\n', '\r\n\r\n'),
    damage: fc.oneof({ weight: 4, arbitrary: fc.constant([] as Array<[number, Buffer]>) }, { weight: 1, arbitrary: damage }),
  })
  .map((r) => {
    const body = (r.startWithFrom ? 'FROM python:3.12-slim\n' : '') + r.lines.map(([l, e]) => l + e).join('') + r.trailing;
    let bytes = Buffer.from(r.prelude + body, 'utf8');
    for (const [at, bad] of r.damage) {
      const i = bytes.length ? at % (bytes.length + 1) : 0;
      bytes = Buffer.concat([bytes.subarray(0, i), bad, bytes.subarray(i)]);
    }
    if (r.bom) bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
    return { bytes };
  });

/* ---------------------------------------------------------------- build context files */

const SHELL_LINES = [
  '#!/bin/sh', '#!/usr/bin/env bash', 'set -e', 'PORT=${SAGEMAKER_BIND_TO_PORT:-8080}', 'PORT="$SAGEMAKER_BIND_TO_PORT"', ': "${SAGEMAKER_BIND_TO_PORT:=8080}"',
  'exec gunicorn -b 0.0.0.0:${SAGEMAKER_BIND_TO_PORT:-8080} predictor:app', 'exec gunicorn --bind 0.0.0.0:8080 app:app', 'gunicorn -b :$PORT app:app &',
  'nginx -c /opt/program/nginx.conf', 'exec uvicorn app:app --port 8080 --host 0.0.0.0', 'exec python predictor.py', 'python -m http.server 9000 &',
  'sed -i "s/8080/$SAGEMAKER_BIND_TO_PORT/" /etc/nginx/nginx.conf', 'envsubst < nginx.conf.template > /etc/nginx/nginx.conf',
  'if [ "$1" = "serve" ]; then', 'fi', 'case "$1" in serve) exec serve ;; esac', 'cat <<EOF > /tmp/x', 'EOF', 'while true; do sleep 1; done', 'exec "$@"',
  'echo "unterminated', "echo 'unterminated", 'echo $(', 'echo `', '${', 'trap "" TERM', 'wait',
];

const NGINX_LINES = [
  'worker_processes 1;', 'events { worker_connections 1024; }', 'http {', '}', 'server {', 'listen 8080;', 'listen 0.0.0.0:8080 default_server;', 'listen [::]:9000;', 'listen ${SAGEMAKER_BIND_TO_PORT};',
  'listen unix:/tmp/gunicorn.sock;', 'location /ping { return 200; }', 'location = /invocations { proxy_pass http://127.0.0.1:8000; }', 'location ~ ^/(ping|invocations)$ { proxy_pass http://gunicorn; }',
  'location / { limit_except POST { deny all; } }', 'upstream gunicorn { server unix:/tmp/gunicorn.sock; }', 'include /etc/nginx/conf.d/*.conf;', '# listen 80;', 'server_name _;', '{', '}}', 'location', ';;', 'listen', 'listen 99999;', 'listen -1;',
];

const PYTHON_LINES = [
  'import os', 'import flask', 'from fastapi import FastAPI', 'app = flask.Flask(__name__)', 'app = FastAPI()',
  '@app.route("/ping", methods=["GET"])', '@app.route("/invocations", methods=["POST"])', '@app.get("/ping")', '@app.post("/invocations")', '@app.route("/ping")',
  'def ping():', '    return "", 200', 'def invocations():', '    return flask.request.data', 'async def ping(request):', '    return Response(status_code=200)',
  'routes = [Route("/ping", ping), Route("/invocations", invocations, methods=["POST"])]', 'app = Starlette(routes=routes)',
  'app.run(host="0.0.0.0", port=int(os.environ.get("SAGEMAKER_BIND_TO_PORT", 8080)))', 'app.run(port=8080)', 'uvicorn.run(app, host="0.0.0.0", port=9000)', 'port = os.getenv("SAGEMAKER_BIND_TO_PORT", "8080")',
  'if __name__ == "__main__":', '    pass', '"""', "'''", '# @app.route("/ping")', 'x = f"{', '\tdef broken(', '    @app.route("/invocations", methods=["GET"])',
];

function fileFrom(lines: string[]): fc.Arbitrary<Buffer> {
  return fc
    .record({
      lines: fc.array(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...lines) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }, { weight: 1, arbitrary: fc.constantFrom(...ARG_PIECES) }), { maxLength: 16 }),
      end: lineEnd,
      huge: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 10_000, max: HUGE_LINE }) }),
      damage: fc.oneof({ weight: 5, arbitrary: fc.constant([] as Array<[number, Buffer]>) }, { weight: 1, arbitrary: damage }),
      bom: fc.boolean(),
    })
    .map((r) => {
      let text = r.lines.join(r.end);
      if (r.huge) text += r.end + 'listen 8080; '.repeat(Math.ceil(r.huge / 13));
      let bytes = Buffer.from(text, 'utf8');
      for (const [at, bad] of r.damage) {
        const i = bytes.length ? at % (bytes.length + 1) : 0;
        bytes = Buffer.concat([bytes.subarray(0, i), bad, bytes.subarray(i)]);
      }
      if (r.bom) bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
      return bytes;
    });
}

export const shellArb = fileFrom(SHELL_LINES);
export const nginxArb = fileFrom(NGINX_LINES);
export const pythonArb = fileFrom(PYTHON_LINES);

/** Build context: relative path → bytes (and mode). `Dockerfile` is added by the test. */
export type ContextFiles = Record<string, { content: Buffer; mode: number }>;

const CONTEXT_NAMES: Array<[string, 'shell' | 'nginx' | 'python']> = [
  ['serve', 'shell'], ['program/serve', 'shell'], ['start.sh', 'shell'], ['entrypoint.sh', 'shell'],
  ['nginx.conf', 'nginx'], ['program/nginx.conf', 'nginx'], ['conf.d/default.conf', 'nginx'],
  ['predictor.py', 'python'], ['program/predictor.py', 'python'], ['app.py', 'python'], ['we ird.py', 'python'], ['$(touch pwned).py', 'python'], ['ünï\ncode.py', 'python'],
];

export const contextArb: fc.Arbitrary<ContextFiles> = fc
  .subarray(CONTEXT_NAMES, { minLength: 0 })
  .chain((names) =>
    fc.tuple(
      fc.tuple(...names.map(([, kind]) => (kind === 'shell' ? shellArb : kind === 'nginx' ? nginxArb : pythonArb))),
      fc.tuple(...names.map(() => fc.constantFrom(0o755, 0o644, 0o600))),
      fc.option(fc.constantFrom('*.conf', 'program/', '!program/serve\nprogram', '# comment\n**/*.py', '['), { nil: undefined }),
    ).map(([contents, modes, ignore]) => {
      const files: ContextFiles = {};
      names.forEach(([name], i) => (files[name] = { content: contents[i], mode: modes[i] }));
      if (ignore !== undefined) files['.dockerignore'] = { content: Buffer.from(ignore), mode: 0o644 };
      return files;
    }),
  );
