#!/usr/bin/env node
/**
 * Throughput of `smcl ecr --labels-only`: 1,000 tags in 4 repositories (900 distinct images, 100
 * more tags on digests already there), served by the local ECR API server of the tests
 * (test/support/ecr-server.ts) in front of Debian's docker-registry on 127.0.0.1. The CLI is
 * the built one (dist/), spawned as users run it, with the real AWS SDK client.
 *
 *   node bench/ecr-bench.mjs [--runs 3] [--concurrency 8,32] [--tags 1000]
 *
 * SMCL_BENCH_ROOT (set by bench/run.mjs --root) names another tree whose dist/ CLI is measured.
 *
 * Prints images/s and tags/s per concurrency and writes bench/results-ecr.json. Needs
 * docker-registry (scripts/setup-test-env.sh installs it); no podman, no network beyond loopback.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import zlib from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const RUNS = Number(arg('runs', process.env.SMCL_BENCH_RUNS ?? '3'));
/** The tree whose built CLI is measured (bench/run.mjs --root passes it); default this one. */
const measured = process.env.SMCL_BENCH_ROOT ? path.resolve(process.env.SMCL_BENCH_ROOT) : root;
const CONCURRENCY = String(arg('concurrency', '8,32')).split(',').map(Number);
const TAGS = Number(arg('tags', '1000'));
const REPOS = ['bench/alpha', 'bench/beta', 'bench/gamma', 'bench/delta'];
const DISTINCT = Math.round(TAGS * 0.9);

function tsc(args) {
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), ...args], { cwd: root, encoding: 'utf8' });
  return r;
}

// 1. The CLI as installed, and the test servers compiled on the side (they use node built-ins only).
if (measured === root) tsc(['-p', 'tsconfig.build.json']);
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'smcl-ecr-bench-'));
const support = path.join(work, 'support');
const built = tsc(['--outDir', support, '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--skipLibCheck', '--types', 'node', 'test/support/ecr-server.ts', 'test/support/registry.ts']);
if (built.status !== 0) throw new Error(`compiling the test servers failed:\n${built.stdout}${built.stderr}`);
await fs.writeFile(path.join(support, 'package.json'), '{"type":"module"}');
const { startEcrServer, pushSyntheticImage, retag } = await import(pathToFileURL(path.join(support, 'ecr-server.js')).href);
const { startRegistry } = await import(pathToFileURL(path.join(support, 'registry.js')).href);

/** A tiny tar layer with /usr/local/bin/serve, gzipped, and its diff id. */
function layer() {
  const content = Buffer.from('#!/bin/sh\nexec httpd -f -p "${SAGEMAKER_BIND_TO_PORT:-8080}"\n');
  const header = Buffer.alloc(512);
  const put = (s, off, len) => header.write(s.slice(0, len), off, 'ascii');
  put('usr/local/bin/serve', 0, 100);
  put('0000755\0', 100, 8);
  put('0000000\0', 108, 8);
  put('0000000\0', 116, 8);
  put(content.length.toString(8).padStart(11, '0') + '\0', 124, 12);
  put('00000000000\0', 136, 12);
  header.fill(' ', 148, 156);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of header) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
  const tar = Buffer.concat([header, content, pad, Buffer.alloc(1024)]);
  return { gz: zlib.gzipSync(tar), diffId: 'sha256:' + createHash('sha256').update(tar).digest('hex') };
}

async function pool(n, items, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  }));
}

function run(args, env) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [path.join(measured, 'dist/src/cli/main.js'), ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr, seconds: Number(process.hrtime.bigint() - t0) / 1e9 }));
  });
}

const registry = await startRegistry();
let ecr;
try {
  // 2. Seed: DISTINCT images spread over the repositories, then extra tags on existing digests.
  const t0 = Date.now();
  const l = layer();
  const images = Array.from({ length: DISTINCT }, (_, i) => ({ repo: REPOS[i % REPOS.length], tag: `build-${i}`, i }));
  await pool(16, images, async ({ repo, tag, i }) => {
    const labels = { 'org.example.build': String(i), ...(i % 3 ? { 'com.amazonaws.sagemaker.capabilities.accept-bind-to-port': 'true' } : {}) };
    await pushSyntheticImage(registry.url, repo, tag, labels, l);
  });
  const extra = Array.from({ length: TAGS - DISTINCT }, (_, k) => images[(k * 7) % DISTINCT]);
  await pool(16, extra, async ({ repo, tag }, k) => retag(registry.url, repo, tag, `alias-${k}`));
  const seedSeconds = (Date.now() - t0) / 1000;
  process.stderr.write(`seeded ${TAGS} tags (${DISTINCT} images) in ${seedSeconds.toFixed(1)} s\n`);

  ecr = await startEcrServer({ registryUrl: registry.url });
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_'))), NO_COLOR: '1', AWS_ACCESS_KEY_ID: 'AKIDBENCH', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_ENDPOINT_URL_ECR: ecr.url };

  // 3. Measure: a warm-up run (the server's listing snapshot, the registry's caches), then RUNS each.
  const out = path.join(work, 'report.json');
  const warm = await run(['ecr', '--labels-only', '--format', 'json', '-o', out, '-q'], env);
  if (warm.status !== 1 && warm.status !== 0) throw new Error(`smcl ecr failed (${warm.status}): ${warm.stderr}`);
  const report = JSON.parse(await fs.readFile(out, 'utf8'));
  const counts = report.scan.counts;
  if (counts.tags !== TAGS || counts.failed !== 0) throw new Error(`unexpected counts ${JSON.stringify(counts)}`);
  const results = [];
  for (const c of CONCURRENCY) {
    const seconds = [];
    for (let r = 0; r < RUNS; r++) {
      const res = await run(['ecr', '--labels-only', '--format', 'json', '-o', out, '-q', '--concurrency', String(c)], env);
      if (res.status !== 1 && res.status !== 0) throw new Error(`smcl ecr failed (${res.status}): ${res.stderr}`);
      seconds.push(res.seconds);
    }
    const median = [...seconds].sort((a, b) => a - b)[Math.floor(seconds.length / 2)];
    const row = { concurrency: c, seconds: seconds.map((s) => Number(s.toFixed(3))), medianSeconds: Number(median.toFixed(3)), imagesPerSecond: Number((counts.images / median).toFixed(1)), tagsPerSecond: Number((counts.tags / median).toFixed(1)) };
    results.push(row);
    console.log(`smcl ecr --labels-only --concurrency ${c}: ${counts.tags} tags / ${counts.images} images in ${median.toFixed(2)} s (median of ${RUNS}) = ${row.imagesPerSecond} images/s, ${row.tagsPerSecond} tags/s`);
  }
  const fragment = {
    benchmark: 'ecr-labels-only',
    description: 'smcl ecr --labels-only over a local ECR API (JSON 1.1, real AWS SDK client) backed by docker-registry on 127.0.0.1; wall time of the spawned CLI including node start-up',
    measured: path.relative(root, measured) || '.',
    tags: counts.tags,
    images: counts.images,
    repositories: REPOS.length,
    linted: counts.linted,
    seedSeconds: Number(seedSeconds.toFixed(1)),
    results,
    machine: { cpus: os.cpus().length, node: process.version, platform: `${process.platform}-${process.arch}` },
    date: new Date().toISOString(),
  };
  await fs.writeFile(path.join(root, 'bench/results-ecr.json'), JSON.stringify(fragment, null, 2) + '\n');
  console.log('wrote bench/results-ecr.json');
} finally {
  await ecr?.stop();
  await registry.stop();
  await fs.rm(work, { recursive: true, force: true });
}
