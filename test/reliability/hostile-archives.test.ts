/**
 * Hostile archives and registries, each loaded in a child process through the compiled image
 * sources (and the rules), measuring the child's peak RSS, with an empty TMPDIR and cwd of its
 * own that must stay empty, and canary paths outside that must never appear.
 *
 * Already covered elsewhere, not repeated here: corrupt/truncated gzip, zstd, tampered blobs and
 * diff_ids, the decompressed-size cap with a 1 MiB limit (test/sources/image/layers.test.ts);
 * lying blob from a registry, slow manifest/blob, no answer, blob redirect without the
 * Authorization header, 429/500 (test/sources/image/registry.test.ts); a 200 MB layer's memory
 * (test/sources/image/bench-layer.test.ts). Here: the same classes of attack, pushed further
 * (default limits, process-level memory, the whole load + lint) and the ones not covered.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, ociArchive, dockerArchive, sha, writeOciLayout, type BuiltImage, type LayerSpec } from '../support/synthetic-image.js';
import { hostileRegistry, loadInChild, rawTar, streamedGzipTar, type ChildOutcome, type HostileRegistry, type RawEntry } from './support/hostile.js';

const MiB = 1024 * 1024;
/** `npm run test:soak`: a 4 GiB bomb instead of 1 GiB (same memory bound). */
const BOMB_MIB = process.env.SMCL_SOAK ? 4096 : 1024;
const RSS_BOUND = 200 * MiB;
const token = randomBytes(6).toString('hex');
/** Host paths a traversal would create: none may exist after any case. */
const CANARIES = [`/tmp/smcl-evil-${token}`, `/tmp/smcl-evil2-${token}`, `/smcl-evil-abs-${token}`, path.join(os.tmpdir(), `smcl-evil-${token}`)];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smcl-hostile-'));
const outcomes: Array<{ name: string; o: ChildOutcome }> = [];
let peak = 0;

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  const lines = outcomes.map(({ name, o }) => `  ${name}: ${o.ok ? 'loaded' : `${o.errorName}: ${o.error?.slice(0, 160)}`} — peak RSS ${(o.maxRssBytes / MiB).toFixed(0)} MiB, ${o.ms} ms`);
  console.log(`[hostile] ${outcomes.length} loads, peak RSS ${(peak / MiB).toFixed(0)} MiB (bound ${RSS_BOUND / MiB} MiB)\n${lines.join('\n')}`);
});

function tmpSnapshot(): Set<string> {
  return new Set(fs.readdirSync(os.tmpdir()).filter((n) => n.includes(token)));
}

/** Runs a load in the child and checks the invariants every hostile case shares. */
async function hostile(name: string, ref: string, opts: Record<string, unknown> = {}): Promise<ChildOutcome> {
  const before = tmpSnapshot();
  const o = await loadInChild(ref, opts);
  outcomes.push({ name, o });
  peak = Math.max(peak, o.maxRssBytes);
  expect(o.maxRssBytes, `${name}: peak RSS`).toBeLessThan(RSS_BOUND);
  expect(o.leftover, `${name}: files left in the child's TMPDIR/cwd`).toEqual([]);
  expect([...tmpSnapshot()].filter((n) => !before.has(n)), `${name}: new entries in ${os.tmpdir()}`).toEqual([]);
  for (const c of CANARIES) expect(fs.existsSync(c), `${name}: ${c} was written`).toBe(false);
  if (!o.ok) {
    expect(o.errorName, `${name}: ${o.error}`).toBe('InputError');
    expect(o.error).not.toMatch(/\n/);
    expect(o.error!.length).toBeLessThan(1000);
  }
  return o;
}

let n = 0;
async function asLayout(image: BuiltImage, index?: Buffer): Promise<string> {
  const d = path.join(dir, `layout-${n++}`);
  await writeOciLayout(d, image, index ? { index } : {});
  return `oci:${d}`;
}
async function asArchive(image: BuiltImage, kind: 'oci-archive' | 'docker-archive'): Promise<string> {
  const f = path.join(dir, `archive-${n++}.tar`);
  fs.writeFileSync(f, kind === 'oci-archive' ? await ociArchive(image) : await dockerArchive(image));
  return `${kind}:${f}`;
}
const rawLayer = (entries: RawEntry[], gzip = true): LayerSpec => {
  const t = rawTar(entries);
  return gzip ? { raw: zlib.gzipSync(t), diffTar: t, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' } : { raw: t, mediaType: 'application/vnd.oci.image.layer.v1.tar' };
};
const SERVE = Buffer.from('#!/bin/sh\nexec gunicorn -b 0.0.0.0:${SAGEMAKER_BIND_TO_PORT:-8080} app:app\n');
const CONFIG = { Entrypoint: ['serve'], Env: ['PATH=/opt/program:/loop/a:/usr/bin'], Labels: { 'com.amazonaws.sagemaker.capabilities.accept-bind-to-port': 'true' } };

describe('hostile archives (child process, bounded memory, nothing written)', () => {
  it('path traversal: "..", absolute names, ".." through symlinks, in layers and in the archive itself', async () => {
    const layer = rawLayer([
      { name: `../../../../../../../tmp/smcl-evil-${token}`, content: Buffer.from('x') },
      { name: `/smcl-evil-abs-${token}`, content: Buffer.from('abs') },
      { name: 'escape', type: '2', linkname: '../../../../../../tmp' },
      { name: `escape/smcl-evil2-${token}`, content: Buffer.from('through a symlink') },
      { name: 'opt/program/../../../../etc/passwd', content: Buffer.from('root::0:0') },
      { name: 'hl', type: '1', linkname: '../../../../etc/shadow' },
      { name: 'opt/program/serve', content: SERVE, mode: 0o755 },
    ]);
    const image = await buildImage({ layers: [layer], config: CONFIG });
    for (const ref of [await asLayout(image), await asArchive(image, 'oci-archive'), await asArchive(image, 'docker-archive')]) {
      const o = await hostile(`traversal ${ref.split(':')[0]}`, ref);
      expect(o.ok, o.error).toBe(true);
      expect(o.paths!.every((p) => p.startsWith('/') && !p.split('/').includes('..'))).toBe(true);
      expect(o.paths).toContain(`/smcl-evil-abs-${token}`); // an absolute name is a path inside the image
      expect(o.paths).not.toContain('/etc/shadow');
    }
    // The outer archive itself: entries with ".." next to the real blobs.
    const f = path.join(dir, `outer-${n++}.tar`);
    const inner = await ociArchive(image);
    fs.writeFileSync(f, Buffer.concat([rawTar([{ name: `../../../../tmp/smcl-evil-${token}`, content: Buffer.from('x') }, { name: `blobs/sha256/../../../../../tmp/smcl-evil2-${token}`, content: Buffer.from('y') }]).subarray(0, -1024), inner]));
    await hostile('traversal outer oci-archive', `oci-archive:${f}`);
    // A layout whose index names a "digest" that is a path.
    const idx = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:../../../../../../etc/passwd', size: 10 }] }));
    const o = await hostile('digest that is a path', await asLayout(image, idx));
    expect(o.ok).toBe(false);
  }, 120_000);

  it('symlink and hard link loops, device files and fifos where the rules look', async () => {
    const layer = rawLayer([
      { name: 'loop/a', type: '2', linkname: '/loop/b' },
      { name: 'loop/b', type: '2', linkname: '/loop/a' },
      { name: 'loop/self', type: '2', linkname: 'self' },
      { name: 'loop/dir', type: '5', mode: 0o755 },
      { name: 'loop/dir/up', type: '2', linkname: '..' },
      { name: 'loop/dir/up/dir/up/dir/up/dir/serve', content: SERVE, mode: 0o755 },
      { name: 'usr/bin', type: '2', linkname: '../usr/bin' },
      { name: 'opt/program/serve', type: '2', linkname: '/opt/program/serve' },
      { name: 'opt/program/start.sh', type: '2', linkname: '/loop/a' },
      { name: 'h1', type: '1', linkname: 'h2' },
      { name: 'h2', type: '1', linkname: 'h1' },
      { name: 'h3', type: '1', linkname: 'h3' },
      { name: 'opt/program/nginx.conf', type: '3', mode: 0o644 },
      { name: 'opt/program/app.py', type: '4', mode: 0o644 },
      { name: 'opt/program/entrypoint.sh', type: '6', mode: 0o755 },
      { name: 'dev/zero', type: '3', mode: 0o666 },
    ]);
    const image = await buildImage({ layers: [layer], config: { ...CONFIG, Entrypoint: ['/opt/program/serve'] } });
    for (const ref of [await asLayout(image), await asArchive(image, 'docker-archive')]) {
      const o = await hostile(`loops+devices ${ref.split(':')[0]}`, ref);
      expect(o.ok, o.error).toBe(true);
      expect(o.ms).toBeLessThan(30_000);
    }
  }, 120_000);

  it('gzip bomb: 1 GiB (soak: 4 GiB) of zeros in a ~1 MiB layer, as the file the rules want (default limits), and past a cap', async () => {
    const bomb = await streamedGzipTar('opt/program/serve', BOMB_MIB * MiB);
    expect(bomb.gz.length).toBeLessThan((BOMB_MIB / 128) * MiB);
    const image = await buildImage({ layers: [{ raw: bomb.gz, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }], config: CONFIG });
    // buildImage hashes `raw` as the diff_id; give the config the real one (of the 1 GiB tar).
    const config = Buffer.from(image.config.toString().replace(image.layers[0].diffId, bomb.diffId));
    const manifest = Buffer.from(image.manifest.toString().replace(image.configDigest, sha(config)).replace(`"size":${image.config.length}`, `"size":${config.length}`));
    const blobs = new Map([...image.blobs].filter(([d]) => d !== image.configDigest && d !== image.manifestDigest));
    blobs.set(sha(config), config).set(sha(manifest), manifest);
    const ref = await asLayout({ ...image, config, configDigest: sha(config), manifest, manifestDigest: sha(manifest), blobs });
    const o = await hostile(`gzip bomb ${BOMB_MIB / 1024} GiB (default limits)`, ref);
    expect(o.ok, o.error).toBe(true);
    expect(o.gaps!.join('\n') + o.findings!.join(' ')).toBeDefined();
    const capped = await hostile(`gzip bomb ${BOMB_MIB / 1024} GiB (256 MiB cap)`, ref, { maxDecompressedBytes: 256 * MiB });
    expect(capped.ok).toBe(false);
    expect(capped.error).toMatch(/decompresses to more than 268435456 bytes/);
  }, 900_000);

  it('a layer of 100,000 tiny entries', async () => {
    const entries: RawEntry[] = [];
    for (let i = 0; i < 100_000; i++) entries.push({ name: `d${Math.floor(i / 1000)}/f${i}.${i % 10 === 0 ? 'sh' : 'txt'}`, content: Buffer.from('x') });
    entries.push({ name: 'opt/program/serve', content: SERVE, mode: 0o755 });
    const image = await buildImage({ layers: [rawLayer(entries)], config: CONFIG });
    const o = await hostile('100,000 entries', await asLayout(image));
    expect(o.ok, o.error).toBe(true);
    expect(o.files).toBeGreaterThan(100_000);
    const capped = await hostile('100,000 entries (entry cap 50,000)', await asLayout(image), { maxEntries: 50_000 });
    expect(capped.error).toMatch(/more than 50000 tar entries/);
  }, 300_000);

  it('a descriptor that lies about the size of its blob', async () => {
    const image = await buildImage({ layers: [{ entries: [{ name: 'opt/program/serve', content: SERVE.toString(), mode: 0o755 }] }], config: CONFIG });
    const manifest = JSON.parse(image.manifest.toString());
    manifest.layers[0].size = 10; // the blob is bigger
    const lying = Buffer.from(JSON.stringify(manifest));
    const blobs = new Map(image.blobs);
    blobs.set(sha(lying), lying);
    const fake: BuiltImage = { ...image, manifest: lying, manifestDigest: sha(lying), blobs };
    const o = await hostile('lying layer size', await asLayout(fake));
    expect(o.ok).toBe(false);
    expect(o.error).toMatch(/size|bytes|match/i);
  }, 60_000);
});

describe('hostile registries (child process)', () => {
  let reg: HostileRegistry;
  let image: BuiltImage;
  beforeAll(async () => {
    reg = await hostileRegistry();
    image = await buildImage({ layers: [{ entries: [{ name: 'opt/program/serve', content: SERVE.toString(), mode: 0o755 }] }], config: CONFIG });
  });
  afterAll(async () => reg?.stop());
  const fast = { timeouts: { headersMs: 3000, documentMs: 3000, idleMs: 2000, lowSpeedWindowMs: 2000 }, retry: { retries: 1, baseDelayMs: 10, maxDelayMs: 50 } };
  const json = (res: import('node:http').ServerResponse, body: Buffer, type: string): void => void res.writeHead(200, { 'content-type': type, 'content-length': String(body.length) }).end(body);
  const blobRoute = (res: import('node:http').ServerResponse, url: URL): boolean => {
    const m = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    const b = m && image.blobs.get(m[1]);
    if (!b) return false;
    json(res, b, 'application/octet-stream');
    return true;
  };

  it('a manifest whose content does not match the digest it was asked by', async () => {
    reg.routes = [(req, res, url) => (url.pathname.includes('/manifests/') ? json(res, image.manifest, image.manifestMediaType) : blobRoute(res, url))];
    const wrong = 'sha256:' + 'ab'.repeat(32);
    const o = await hostile('lying manifest digest', `${reg.host}/lie/img@${wrong}`, fast);
    expect(o.error).toMatch(/does not match|digest/);
  }, 60_000);

  it('an index that points to itself (a registry ignoring content addresses) and a chain of nested indexes', async () => {
    const selfIndex = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: 'sha256:' + '00'.repeat(32), size: 200, platform: { os: 'linux', architecture: 'amd64' } }] }));
    reg.routes = [(req, res, url) => (url.pathname.includes('/manifests/') ? json(res, selfIndex, 'application/vnd.oci.image.index.v1+json') : false)];
    const o = await hostile('index loop', `${reg.host}/loop/img:latest`, fast);
    expect(o.ok).toBe(false);
    expect(o.error).toMatch(/does not match|nested|digest/);
    // A real chain: index_k → index_{k-1} → ... → manifest, 10 levels.
    const docs = new Map<string, Buffer>([[image.manifestDigest, image.manifest]]);
    let top = { digest: image.manifestDigest, bytes: image.manifest, mediaType: image.manifestMediaType };
    for (let i = 0; i < 10; i++) {
      const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: top.mediaType, digest: top.digest, size: top.bytes.length, platform: { os: 'linux', architecture: 'amd64' } }] }));
      top = { digest: sha(bytes), bytes, mediaType: 'application/vnd.oci.image.index.v1+json' };
      docs.set(top.digest, bytes);
    }
    const tip = top;
    reg.routes = [
      (req, res, url) => {
        const m = /\/manifests\/(.+)$/.exec(url.pathname);
        if (!m) return blobRoute(res, url);
        const ref = decodeURIComponent(m[1]);
        const doc = ref === 'deep' ? tip.bytes : docs.get(ref);
        if (!doc) return false;
        json(res, doc, doc === image.manifest ? image.manifestMediaType : 'application/vnd.oci.image.index.v1+json');
      },
    ];
    const deep = await hostile('10 nested indexes', `${reg.host}/deep/img:deep`, fast);
    expect(deep.error).toMatch(/nested too deeply/);
  }, 60_000);

  it('an endless manifest and a byte-by-byte blob: bounded memory, timeout', async () => {
    reg.routes = [
      (req, res, url) => {
        if (!url.pathname.includes('/manifests/')) return false;
        res.writeHead(200, { 'content-type': image.manifestMediaType });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      },
    ];
    const endless = await hostile('endless manifest', `${reg.host}/endless/img:latest`, { ...fast, timeouts: { ...fast.timeouts, documentMs: 20_000 } });
    expect(endless.error).toMatch(/more than \d+ bytes|no complete answer/);
    reg.routes = [
      (req, res, url) => {
        if (url.pathname.includes('/manifests/')) return json(res, image.manifest, image.manifestMediaType);
        const m = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
        const b = m && image.blobs.get(m[1]);
        if (!b) return false;
        if (m![1] === image.configDigest) return json(res, b, 'application/octet-stream');
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(b.length) });
        let i = 0;
        const t = setInterval(() => (res.destroyed || i >= b.length ? clearInterval(t) : res.write(b.subarray(i, ++i))), 200);
      },
    ];
    const slow = await hostile('byte-by-byte blob', `${reg.host}/slow/img:latest`, { ...fast, timeouts: { ...fast.timeouts, lowSpeedBytes: 1024, lowSpeedWindowMs: 1500 } });
    expect(slow.error).toMatch(/too slow|no data/);
    expect(slow.ms).toBeLessThan(20_000);
  }, 90_000);

  it('redirects to another host never carry the credentials; loops and non-http redirects are refused', async () => {
    const basic = { username: `user-${token}`, password: `pw-${token}` };
    reg.basic = basic;
    reg.log.length = 0;
    try {
      reg.routes = [
        (req, res, url) => {
          if (req.headers.host?.startsWith('127.0.0.1') && /\/(manifests|blobs)\//.test(url.pathname)) {
            res.writeHead(307, { location: `${reg.otherUrl}${url.pathname}` }).end();
            return;
          }
          if (url.pathname.includes('/manifests/')) return json(res, image.manifest, image.manifestMediaType);
          return blobRoute(res, url);
        },
      ];
      const o = await hostile('redirect to another host', `${reg.host}/redir/img:latest`, { ...fast, username: basic.username, password: basic.password });
      expect(o.ok, o.error).toBe(true);
      const other = reg.log.filter((l) => l.host === 'other');
      expect(other.length).toBeGreaterThan(0);
      expect(other.every((l) => l.authorization === undefined)).toBe(true);
      expect(reg.log.some((l) => l.host === 'registry' && l.authorization?.startsWith('Basic '))).toBe(true);
      reg.routes = [(req, res) => void res.writeHead(302, { location: req.url ?? '/' }).end()];
      const loop = await hostile('redirect loop', `${reg.host}/redir/img:latest`, { ...fast, username: basic.username, password: basic.password });
      expect(loop.error).toMatch(/too many redirects/);
      reg.routes = [(req, res) => void res.writeHead(302, { location: 'file:///etc/passwd' }).end()];
      const file = await hostile('redirect to file://', `${reg.host}/redir/img:latest`, { ...fast, username: basic.username, password: basic.password });
      expect(file.error).toMatch(/refusing redirect to file: URL/);
      for (const x of outcomes) expect(`${x.o.error ?? ''}${x.o.stderr}`).not.toContain(basic.password);
    } finally {
      reg.basic = undefined;
    }
  }, 90_000);
});
