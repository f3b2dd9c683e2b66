/**
 * Deterministic corpus of SageMaker-style container projects for the lint benchmark: each
 * project is a directory with a Dockerfile (single- or multi-stage, heredocs, long RUN chains,
 * ARG/ENV expansion, some with the label and some without) and the small build context it
 * COPYs (serve scripts, nginx.conf, a Python server, requirements.txt).
 *
 * Same seed → same bytes, so figures from different runs lint the same input.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** mulberry32: small, fast, seeded. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
  };
}

const BASES = [
  'python:3.12-slim', 'python:3.11-slim-bookworm', 'python:3.10', 'ubuntu:22.04', 'ubuntu:24.04', 'debian:bookworm-slim',
  'nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04', 'public.ecr.aws/docker/library/python:3.12-slim',
  '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3.0-cpu-py311-ubuntu20.04-sagemaker',
  'amazonlinux:2023', 'continuumio/miniconda3:24.1.2-0', 'node:20-bookworm-slim',
];
const BUILDERS = ['python:3.12', 'golang:1.22-bookworm', 'rust:1.79-slim', 'node:20-bookworm', 'maven:3.9-eclipse-temurin-21'];
const APT = ['nginx', 'curl', 'ca-certificates', 'libgomp1', 'tini', 'dumb-init', 'build-essential', 'git', 'libssl-dev', 'libffi-dev', 'libjpeg-dev', 'zlib1g-dev', 'procps', 'unzip', 'wget', 'libopenblas0', 'gnupg', 'jq'];
const PIP = ['flask==3.0.3', 'gunicorn==22.0.0', 'fastapi==0.111.0', 'uvicorn[standard]==0.30.1', 'numpy==1.26.4', 'pandas==2.2.2', 'scikit-learn==1.5.0', 'xgboost==2.0.3', 'torch==2.3.1', 'transformers==4.41.2', 'boto3==1.34.130', 'sagemaker-inference==1.10.1', 'multi-model-server==1.1.11', 'onnxruntime==1.18.0', 'pydantic==2.7.4', 'joblib==1.4.2', 'lightgbm==4.4.0', 'starlette==0.37.2'];
const WORDS = 'model predict payload request response tensor batch feature score label weight input output config handler worker thread queue cache shard token image vector'.split(' ');

function comment(r) {
  return `# ${Array.from({ length: r.int(4, 12) }, () => r.pick(WORDS)).join(' ')}`;
}

function runChain(r, n) {
  const steps = [];
  steps.push('apt-get update');
  steps.push(`apt-get install -y --no-install-recommends ${Array.from({ length: r.int(3, 9) }, () => r.pick(APT)).join(' ')}`);
  for (let i = 0; i < n; i++) {
    const k = r.int(0, 7);
    if (k === 0) steps.push(`pip install --no-cache-dir ${Array.from({ length: r.int(1, 5) }, () => r.pick(PIP)).join(' ')}`);
    else if (k === 1) steps.push(`mkdir -p /opt/ml/model /opt/program/${r.pick(WORDS)}`);
    else if (k === 2) steps.push(`curl -fsSL https://example.com/${r.pick(WORDS)}-${r.int(1, 99)}.tar.gz | tar -xz -C /opt`);
    else if (k === 3) steps.push(`ln -sf /dev/stdout /var/log/nginx/access.log`);
    else if (k === 4) steps.push(`useradd -r -u ${r.int(1000, 2000)} ${r.pick(WORDS)}`);
    else if (k === 5) steps.push(`chmod +x /opt/program/serve`);
    else if (k === 6) steps.push(`echo "${r.pick(WORDS)}=${r.int(1, 9999)}" >> /etc/environment`);
    else steps.push(`rm -rf /root/.cache /tmp/*`);
  }
  steps.push('rm -rf /var/lib/apt/lists/*');
  return `RUN ${steps.join(' \\\n    && ')}`;
}

const SERVE_PY = (port) => `#!/usr/bin/env python3
"""Inference server: /ping and /invocations on SAGEMAKER_BIND_TO_PORT."""
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("SAGEMAKER_BIND_TO_PORT", ${port}))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/ping":
            self.send_response(200)
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()

    def do_POST(self):
        if self.path != "/invocations":
            self.send_response(404)
            self.end_headers()
            return
        n = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(n)
        out = json.dumps({"predictions": [len(body)]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(out)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
`;

const FLASK_APP = (r) => `import os
import flask

app = flask.Flask(__name__)


@app.route("/ping", methods=["GET"])
def ping():
    return flask.Response(response="\\n", status=200, mimetype="application/json")


@app.route("/invocations", methods=["POST"])
def invocations():
    data = flask.request.data.decode("utf-8")
    return flask.Response(response=str(len(data)), status=200, mimetype="text/csv")
${r.chance(0.5) ? `\n\ndef ${r.pick(WORDS)}_${r.pick(WORDS)}(x):\n    return [v * ${r.int(2, 9)} for v in x]\n` : ''}`;

const SERVE_SH = (r, hard) => `#!/bin/sh
set -e
PORT="${hard ? '8080' : '${SAGEMAKER_BIND_TO_PORT:-8080}'}"
WORKERS="\${MODEL_SERVER_WORKERS:-${r.int(1, 8)}}"
${r.chance(0.5) ? 'nginx -c /opt/program/nginx.conf\n' : ''}exec gunicorn --timeout ${r.int(30, 120)} -k sync -b 0.0.0.0:$PORT -w "$WORKERS" wsgi:app
`;

const NGINX = (r, port) => `worker_processes 1;
daemon off;
pid /tmp/nginx.pid;
error_log /dev/stderr;

events {
  worker_connections ${r.pick([512, 1024, 2048])};
}

http {
  access_log /dev/stdout combined;
  upstream gunicorn {
    server unix:/tmp/gunicorn.sock;
  }
  server {
    listen ${port} deferred;
    client_max_body_size ${r.int(5, 100)}m;
    keepalive_timeout 5;
    location ~ ^/(ping|invocations) {
      proxy_set_header Host $http_host;
      proxy_redirect off;
      proxy_pass http://gunicorn;
    }
    location / {
      return 404 "{}";
    }
  }
}
`;

/** One project: files by relative path (the Dockerfile first). */
export function project(r, i) {
  const files = {};
  const labelled = r.chance(0.7);
  const hardPort = r.chance(0.15);
  const port = hardPort ? 8080 : r.pick([8080, 8081, 9000]);
  const multi = r.chance(0.45);
  const heredoc = r.chance(0.35);
  const style = r.pick(['python', 'flask', 'nginx']);
  const df = [];
  df.push(`# syntax=docker/dockerfile:1.7`);
  df.push(comment(r));
  df.push(`ARG BASE=${r.pick(BASES)}`);
  df.push(`ARG VERSION=${r.int(0, 9)}.${r.int(0, 30)}.${r.int(0, 9)}`);
  if (multi) {
    df.push('', `FROM ${r.pick(BUILDERS)} AS build`);
    df.push('WORKDIR /src');
    df.push('COPY requirements.txt .');
    df.push(runChain(r, r.int(2, 8)));
    df.push('RUN pip wheel --no-cache-dir -w /wheels -r requirements.txt');
    if (r.chance(0.5)) df.push('', 'FROM build AS test', 'RUN python -m pytest -q || true');
  }
  df.push('', `FROM \${BASE}${multi && r.chance(0.3) ? ' AS runtime' : ''}`);
  if (labelled) df.push('LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true');
  df.push(`LABEL org.opencontainers.image.version=\${VERSION} maintainer="team-${r.pick(WORDS)}@example.com"`);
  df.push(`ENV PYTHONUNBUFFERED=1 \\\n    PYTHONDONTWRITEBYTECODE=1 \\\n    PATH="/opt/program:\${PATH}" \\\n    MODEL_SERVER_WORKERS=${r.int(1, 8)}`);
  df.push(runChain(r, r.int(3, 14)));
  if (multi) df.push('COPY --from=build /wheels /wheels', 'RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels');
  if (heredoc) {
    df.push(`RUN <<EOF
set -eux
mkdir -p /opt/ml/model /opt/ml/input
echo "${r.pick(WORDS)}" > /opt/ml/model/VERSION
python3 -c "import sys; print(sys.version)"
EOF`);
    if (r.chance(0.5)) {
      df.push(`COPY <<-"EOT" /etc/${r.pick(WORDS)}.conf
\tworkers=${r.int(1, 8)}
\ttimeout=${r.int(10, 90)}
\tEOT`);
    }
  }
  df.push(comment(r));
  files['requirements.txt'] = Array.from({ length: r.int(2, 10) }, () => r.pick(PIP)).join('\n') + '\n';
  if (style === 'python') {
    files['program/serve'] = SERVE_PY(port);
  } else {
    files['program/serve'] = SERVE_SH(r, hardPort);
    files['program/wsgi.py'] = 'import predictor as myapp\n\napp = myapp.app\n';
    files['program/predictor.py'] = FLASK_APP(r);
    if (style === 'nginx') files['program/nginx.conf'] = NGINX(r, port);
  }
  df.push('COPY requirements.txt /opt/program/requirements.txt');
  df.push(`COPY program/ /opt/program/`);
  df.push('RUN chmod +x /opt/program/serve');
  df.push('WORKDIR /opt/program');
  if (r.chance(0.6)) df.push(`EXPOSE ${port}`);
  if (r.chance(0.3)) df.push(`HEALTHCHECK --interval=30s --timeout=3s CMD curl -f http://localhost:${port}/ping || exit 1`);
  if (r.chance(0.3)) df.push(`USER ${r.int(1000, 2000)}`);
  const ep = r.int(0, 3);
  if (ep === 0) df.push('ENTRYPOINT ["/usr/bin/tini", "--"]');
  else if (ep === 1) df.push('ENTRYPOINT ["python3", "/opt/program/serve"]');
  else if (ep === 2) df.push('CMD ["serve"]');
  files.Dockerfile = df.join('\n') + '\n';
  return { name: `p${String(i).padStart(5, '0')}`, files };
}

/**
 * Writes `count` projects under `dir` (dir/pNNNNN/Dockerfile + context). Returns the Dockerfile
 * paths and byte totals.
 */
export async function writeCorpus(dir, count, seed = 13) {
  const r = rng(seed);
  const dockerfiles = [];
  let dockerfileBytes = 0;
  let lines = 0;
  let multiStage = 0;
  let heredocs = 0;
  for (let i = 0; i < count; i++) {
    const p = project(r, i);
    const root = path.join(dir, p.name);
    await fs.mkdir(path.join(root, 'program'), { recursive: true });
    // Dockerfile first in the object; write the context too.
    for (const [rel, content] of Object.entries(p.files)) {
      await fs.writeFile(path.join(root, rel), content, { mode: rel === 'program/serve' ? 0o755 : 0o644 });
    }
    dockerfiles.push(path.join(root, 'Dockerfile'));
    dockerfileBytes += Buffer.byteLength(p.files.Dockerfile);
    lines += p.files.Dockerfile.split('\n').length - 1;
    if ((p.files.Dockerfile.match(/^FROM /gm) ?? []).length > 1) multiStage++;
    if (p.files.Dockerfile.includes('<<')) heredocs++;
  }
  return { dockerfiles, dockerfileBytes, lines, multiStage, heredocs };
}
