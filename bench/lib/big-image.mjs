/**
 * Generates a large synthetic image, streaming (nothing the size of a layer is held in memory),
 * with tar-stream + zlib, as an OCI layout directory and an oci-archive of it:
 *
 *   layer 1  "os"             many small text/config files, directories, symlinks
 *   layer 2  "site-packages"  many small .py files and some shared objects (semi-binary, 0.2-3 MiB)
 *   layer 3  "model"          a few large files of float32 weights (poorly compressible)
 *   layer 4  "app"            serve, nginx.conf, predictor.py (what the rules read)
 *
 * Sizes scale with `targetBytes` (uncompressed total). Content comes from seeded pools, sliced at
 * random offsets so that gzip sees realistic (not repeated within its 32 KiB window) data.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { rng } from './corpus.mjs';

const MiB = 1024 * 1024;

function textPool(r, size) {
  const words = 'import def class return self value data model tensor numpy torch config path os sys json from None True False for in if else elif while try except raise with as lambda yield async await print len range list dict str int float bytes open read write close'.split(' ');
  const parts = [];
  let n = 0;
  while (n < size) {
    const indent = '    '.repeat(r.int(0, 3));
    const line = `${indent}${Array.from({ length: r.int(2, 10) }, () => r.pick(words)).join(' ')}${r.chance(0.3) ? `(${r.int(0, 99999)})` : ''}\n`;
    parts.push(line);
    n += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

function binaryPool(r, size) {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; ) {
    const run = r.int(16, 512);
    if (r.chance(0.35)) i += run; // zero runs, as in ELF padding and tables
    else for (let k = 0; k < run && i < size; k++, i++) b[i] = (r.next() * 256) | 0;
  }
  return b;
}

function weightPool(r, size) {
  const f = new Float32Array(size / 4);
  for (let i = 0; i < f.length; i++) f[i] = (r.next() + r.next() + r.next() - 1.5) * 0.05;
  return Buffer.from(f.buffer);
}

function slice(r, pool, size) {
  if (size <= pool.length) {
    const off = r.int(0, pool.length - size);
    return pool.subarray(off, off + size);
  }
  const parts = [];
  for (let left = size; left > 0; ) {
    const n = Math.min(left, pool.length);
    parts.push(slice(r, pool, n));
    left -= n;
  }
  return Buffer.concat(parts);
}

function hasher() {
  const h = createHash('sha256');
  let size = 0;
  const t = new Transform({
    transform(chunk, _enc, cb) {
      h.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  return { t, done: () => ({ digest: 'sha256:' + h.digest('hex'), size }) };
}

/** Writes one gzip layer blob from an async iterator of entries; returns digests and sizes. */
async function writeLayer(dir, entries, level) {
  const pack = tar.pack();
  const diff = hasher();
  const blob = hasher();
  const tmp = path.join(dir, 'blobs/sha256', `.tmp-${Math.random().toString(36).slice(2)}`);
  const writing = pipeline(pack, diff.t, zlib.createGzip({ level }), blob.t, createWriteStream(tmp));
  let files = 0;
  for await (const e of entries) {
    await new Promise((resolve, reject) => {
      const cb = (err) => (err ? reject(err) : resolve());
      if (e.type === 'file' && e.chunks) {
        const entry = pack.entry({ name: e.name, size: e.size, mode: e.mode ?? 0o644, mtime: new Date(0) }, cb);
        (async () => {
          for (const c of e.chunks()) if (!entry.write(c)) await new Promise((res) => entry.once('drain', res));
          entry.end();
        })().catch(reject);
      } else if (e.type === 'file') pack.entry({ name: e.name, size: e.content.length, mode: e.mode ?? 0o644, mtime: new Date(0) }, e.content, cb);
      else pack.entry({ name: e.name, type: e.type, linkname: e.linkname, mode: e.type === 'directory' ? 0o755 : 0o777, mtime: new Date(0) }, cb);
    });
    if (e.type === 'file') files++;
  }
  pack.finalize();
  await writing;
  const d = diff.done();
  const b = blob.done();
  await fs.rename(tmp, path.join(dir, 'blobs/sha256', b.digest.slice(7)));
  return { digest: b.digest, size: b.size, diffId: d.digest, uncompressed: d.size, files };
}

export async function generateBigImage(dir, { targetBytes = 1024 * MiB, seed = 7, level = 6, log = () => {} } = {}) {
  const r = rng(seed);
  const scale = targetBytes / (1024 * MiB);
  await fs.mkdir(path.join(dir, 'blobs/sha256'), { recursive: true });
  const text = textPool(r, 8 * MiB);
  const bin = binaryPool(r, 16 * MiB);
  const weights = weightPool(r, 32 * MiB);

  async function* osLayer() {
    const dirs = ['etc', 'usr/bin', 'usr/lib/x86_64-linux-gnu', 'usr/share/doc', 'usr/share/locale', 'var/lib/dpkg/info', 'usr/include'];
    for (const d of dirs) yield { type: 'directory', name: d };
    const budget = 150 * MiB * scale;
    let used = 0;
    for (let i = 0; used < budget; i++) {
      const size = r.int(200, 12 * 1024);
      used += size;
      const d = r.pick(dirs);
      if (i % 50 === 0) yield { type: 'symlink', name: `${d}/link${i}`, linkname: `f${i - 1}` };
      yield { type: 'file', name: `${d}/f${i}`, content: slice(r, d.includes('lib') ? bin : text, size), mode: d.endsWith('bin') ? 0o755 : 0o644 };
    }
  }
  async function* sitePackages() {
    const base = 'usr/local/lib/python3.12/site-packages';
    const pkgs = ['numpy', 'torch', 'pandas', 'sklearn', 'scipy', 'transformers', 'flask', 'gunicorn', 'boto3', 'botocore'];
    const budgetPy = 240 * MiB * scale;
    const budgetSo = 200 * MiB * scale;
    let used = 0;
    for (let i = 0; used < budgetPy; i++) {
      const size = r.int(500, 16 * 1024);
      used += size;
      yield { type: 'file', name: `${base}/${r.pick(pkgs)}/m${i % 40}/mod${i}.py`, content: slice(r, text, size) };
    }
    used = 0;
    for (let i = 0; used < budgetSo; i++) {
      const size = r.int(200 * 1024, 3 * MiB);
      used += size;
      yield { type: 'file', name: `${base}/${r.pick(pkgs)}/_lib${i}.so`, content: slice(r, bin, size), mode: 0o755 };
    }
  }
  async function* modelLayer() {
    const sizes = [200, 120, 80].map((m) => Math.max(1, Math.round(m * scale)) * MiB);
    for (const [i, size] of sizes.entries()) {
      yield* bigFile(`opt/ml/model/shard-${i}.safetensors`, size);
    }
    yield { type: 'file', name: 'opt/ml/model/config.json', content: Buffer.from('{"architectures":["Bench"],"hidden_size":4096}\n') };
  }
  async function* bigFile(name, size) {
    // Streamed in 4 MiB chunks: the file is never held whole.
    const chunk = 4 * MiB;
    const chunks = function* () {
      for (let left = size; left > 0; left -= chunk) yield slice(r, weights, Math.min(chunk, left));
    };
    yield { type: 'file', name, size, chunks };
  }
  async function* appLayer() {
    yield { type: 'directory', name: 'opt/program' };
    yield { type: 'file', name: 'opt/program/serve', mode: 0o755, content: Buffer.from('#!/bin/sh\nexec gunicorn -b "0.0.0.0:${SAGEMAKER_BIND_TO_PORT:-8080}" wsgi:app\n') };
    yield { type: 'file', name: 'opt/program/wsgi.py', content: Buffer.from('import predictor as myapp\napp = myapp.app\n') };
    yield {
      type: 'file',
      name: 'opt/program/predictor.py',
      content: Buffer.from('import flask\napp = flask.Flask(__name__)\n\n@app.route("/ping", methods=["GET"])\ndef ping():\n    return "", 200\n\n@app.route("/invocations", methods=["POST"])\ndef invocations():\n    return flask.request.data, 200\n'),
    };
  }

  const layers = [];
  for (const [name, gen] of [['os', osLayer], ['site-packages', sitePackages], ['model', modelLayer], ['app', appLayer]]) {
    const t0 = Date.now();
    const l = await writeLayer(dir, gen(), level);
    log(`layer ${name}: ${l.files} files, ${(l.uncompressed / MiB).toFixed(0)} MiB tar, ${(l.size / MiB).toFixed(0)} MiB gzip (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    layers.push({ name, ...l });
  }
  const configJson = {
    os: 'linux',
    architecture: 'amd64',
    config: {
      Env: ['PATH=/opt/program:/usr/local/bin:/usr/bin:/bin'],
      WorkingDir: '/opt/program',
      Labels: { 'com.amazonaws.sagemaker.capabilities.accept-bind-to-port': 'true' },
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((l) => ({ created_by: `/bin/sh -c #(nop) bench layer ${l.name}` })),
  };
  const config = Buffer.from(JSON.stringify(configJson));
  const configDigest = 'sha256:' + createHash('sha256').update(config).digest('hex');
  await fs.writeFile(path.join(dir, 'blobs/sha256', configDigest.slice(7)), config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
    }),
  );
  const manifestDigest = 'sha256:' + createHash('sha256').update(manifest).digest('hex');
  await fs.writeFile(path.join(dir, 'blobs/sha256', manifestDigest.slice(7)), manifest);
  const index = Buffer.from(
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] }),
  );
  await fs.writeFile(path.join(dir, 'index.json'), index);
  await fs.writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');

  // oci-archive: the layout as one tar (oci-layout, index.json first, then the blobs).
  const archive = `${dir}.oci.tar`;
  const pack = tar.pack();
  const writing = pipeline(pack, createWriteStream(archive));
  const addFile = (name, file, size) =>
    new Promise((resolve, reject) => {
      const entry = pack.entry({ name, size, mode: 0o644, mtime: new Date(0) }, (err) => (err ? reject(err) : resolve()));
      createReadStream(file).on('error', reject).pipe(entry);
    });
  for (const name of ['oci-layout', 'index.json']) {
    const p = path.join(dir, name);
    await addFile(name, p, (await fs.stat(p)).size);
  }
  for (const d of [manifestDigest, configDigest, ...layers.map((l) => l.digest)]) {
    const p = path.join(dir, 'blobs/sha256', d.slice(7));
    await addFile(`blobs/sha256/${d.slice(7)}`, p, (await fs.stat(p)).size);
  }
  pack.finalize();
  await writing;
  return {
    layout: dir,
    archive,
    archiveBytes: (await fs.stat(archive)).size,
    layers: layers.map((l) => ({ name: l.name, files: l.files, uncompressedBytes: l.uncompressed, compressedBytes: l.size, blob: path.join(dir, 'blobs/sha256', l.digest.slice(7)) })),
    uncompressedBytes: layers.reduce((a, l) => a + l.uncompressed, 0),
    compressedBytes: layers.reduce((a, l) => a + l.size, 0),
    files: layers.reduce((a, l) => a + l.files, 0),
  };
}
