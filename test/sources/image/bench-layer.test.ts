/**
 * Throughput / memory of layer scanning on a generated ~200 MB layer. Opt-in (slow):
 * SMCL_BENCH=1 npx vitest run test/sources/image/bench-layer.test.ts
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { loadImage } from '../../../src/sources/image/index.js';

async function fileDigest(p: string): Promise<{ digest: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of createReadStream(p)) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { digest: 'sha256:' + h.digest('hex'), size };
}

describe.skipIf(process.env.SMCL_BENCH !== '1')('layer scan benchmark', () => {
  it('scans a ~200 MB layer with bounded memory', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'smcl-bench-'));
    try {
      await fs.mkdir(path.join(dir, 'blobs/sha256'), { recursive: true });
      const layerPath = path.join(dir, 'layer.tar.gz');
      const diff = createHash('sha256');
      const pack = tar.pack();
      const gz = zlib.createGzip({ level: 1 });
      async function* hashed(): AsyncGenerator<Buffer> {
        for await (const c of pack as unknown as AsyncIterable<Buffer>) {
          diff.update(c);
          yield c;
        }
      }
      const writing = pipeline(Readable.from(hashed()), gz, createWriteStream(layerPath));
      // Random bytes: gzip cannot shrink them (realistic for binaries/wheels already compressed).
      const chunk = randomBytes(100 * 1024);
      for (let i = 0; i < 2000; i++) {
        const name = i % 100 === 0 ? `app/scripts/s${i}.py` : `usr/lib/data/f${i}.bin`;
        const content = i % 100 === 0 ? Buffer.from(`print(${i})\n`.repeat(100)) : chunk;
        await new Promise<void>((resolve, reject) => pack.entry({ name, size: content.length, mode: 0o644 }, content, (e) => (e ? reject(e) : resolve())));
      }
      pack.finalize();
      await writing;
      const layer = await fileDigest(layerPath);
      await fs.rename(layerPath, path.join(dir, 'blobs/sha256', layer.digest.slice(7)));
      const config = Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', config: {}, rootfs: { type: 'layers', diff_ids: ['sha256:' + diff.digest('hex')] } }));
      const configDigest = 'sha256:' + createHash('sha256').update(config).digest('hex');
      await fs.writeFile(path.join(dir, 'blobs/sha256', configDigest.slice(7)), config);
      const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.size }] }));
      const manifestDigest = 'sha256:' + createHash('sha256').update(manifest).digest('hex');
      await fs.writeFile(path.join(dir, 'blobs/sha256', manifestDigest.slice(7)), manifest);
      await fs.writeFile(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length }] }));
      await fs.writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');

      (globalThis as { gc?: () => void }).gc?.();
      const base = process.memoryUsage().rss;
      let peak = base;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const t0 = performance.now();
      const m = await loadImage(`oci:${dir}`, { wantedGlobs: ['/app/**/*.py'] });
      const ms = performance.now() - t0;
      clearInterval(timer);
      const mb = 2000 * 100 * 1024 / 1024 / 1024;
      console.log(`layer: ${(layer.size / 1e6).toFixed(1)} MB gzip, ~${mb.toFixed(0)} MiB tar, 2000 files; scan ${ms.toFixed(0)} ms = ${(mb / (ms / 1000)).toFixed(0)} MiB/s; RSS ${(base / 2 ** 20).toFixed(0)} → peak ${(peak / 2 ** 20).toFixed(0)} MiB`);
      expect(m.files.glob('/app/**/*.py').length).toBe(20);
      expect(peak - base).toBeLessThan(150 * 2 ** 20);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
