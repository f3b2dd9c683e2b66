import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { InputError } from '../../engine/types.js';
import { collect, parseDigest, verifyStream } from './digest.js';
import { scanLayer, zstdSupported, zstdUnsupported, type LayerScan } from './layer.js';
import { compressionOf, type Descriptor } from './manifest.js';
import type { ImageStore, ScanContext } from './pipeline.js';

const MAX_DOC = 16 * 1024 * 1024;

/** An OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`). */
export class OciLayoutStore implements ImageStore {
  constructor(
    private readonly dir: string,
    private readonly ref: string,
    readonly refName?: string,
  ) {}

  private blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest, `digest in ${this.ref}`);
    return path.join(this.dir, 'blobs', algorithm, hex);
  }

  private async open(desc: Descriptor): Promise<AsyncIterable<Buffer>> {
    const p = this.blobPath(desc.digest);
    try {
      const st = await fs.stat(p);
      if (!st.isFile()) throw new Error('not a file');
    } catch {
      throw new InputError(`${this.ref}: blob ${desc.digest} is missing from the OCI layout`);
    }
    return verifyStream(createReadStream(p, { highWaterMark: 256 * 1024 }), desc.digest, `blob ${desc.digest} of ${this.ref}`, desc.size);
  }

  async root(): Promise<{ bytes: Buffer; what: string }> {
    let layout: string;
    try {
      layout = await fs.readFile(path.join(this.dir, 'oci-layout'), 'utf8');
    } catch {
      throw new InputError(`${this.ref}: ${this.dir} is not an OCI image layout (no oci-layout file)`);
    }
    try {
      const v = (JSON.parse(layout) as { imageLayoutVersion?: string }).imageLayoutVersion;
      if (v !== '1.0.0') throw new Error(`version ${v}`);
    } catch (err) {
      throw new InputError(`${this.ref}: unsupported oci-layout (${(err as Error).message})`);
    }
    const p = path.join(this.dir, 'index.json');
    const st = await fs.stat(p).catch(() => undefined);
    if (!st) throw new InputError(`${this.ref}: index.json is missing from the OCI layout`);
    if (st.size > MAX_DOC) throw new InputError(`${this.ref}: index.json is too large`);
    return { bytes: await fs.readFile(p), what: `index.json of ${this.ref}` };
  }

  async document(desc: Descriptor): Promise<Buffer> {
    return collect(await this.open(desc), MAX_DOC, `manifest ${desc.digest} of ${this.ref}`);
  }

  async config(desc: Descriptor): Promise<Buffer> {
    return collect(await this.open(desc), MAX_DOC, `config ${desc.digest} of ${this.ref}`);
  }

  async layer(desc: Descriptor, what: string, ctx: ScanContext): Promise<LayerScan> {
    const compression = compressionOf(desc.mediaType);
    if (compression === 'zstd' && !zstdSupported) throw zstdUnsupported(what);
    return scanLayer(await this.open(desc), { ...ctx, what, compression });
  }
}
