import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { ContainerModel } from '../../model/container-model.js';
import { InputError } from '../../engine/types.js';
import { DigestMismatchError, parseDigest } from './digest.js';
import { peek, scanLayer, type LayerScan } from './layer.js';
import { parseJson, type Descriptor, type ImageConfig } from './manifest.js';
import { checkDiffIds, finishModel, loadFromStore, scanContext, type ImageStore, type ModelOptions, type ScanContext } from './pipeline.js';

/**
 * Single streaming pass over an image archive (oci-archive, docker-archive, or the output of
 * `podman save` / `docker save` on a pipe), never extracting to disk.
 *
 * The archive's index (index.json / manifest.json) may come after the layers, so every blob that
 * looks like a layer is scanned as it streams into an independent change set (metadata + wanted
 * content only), and small JSON blobs are kept. When the stream ends, the index is read and the
 * change sets of the layers it names are applied in its order — whiteouts included — so entry
 * order in the archive does not matter. Nothing is held but metadata and wanted files. Errors in
 * blobs the image does not use (another platform's layers) are ignored; the ones it does use are
 * reported. Cost of the choice: blobs of other images in the same archive are scanned too.
 */

const MAX_JSON = 16 * 1024 * 1024;

type ScanResult = { scan: LayerScan } | { error: unknown };

interface ArchiveContents {
  /** Small JSON files by normalised path. */
  json: Map<string, Buffer>;
  /** Layer-like blobs by path. */
  scans: Map<string, ScanResult>;
  /** sha256 of every regular file, by path. */
  digests: Map<string, string>;
  /** Symlinks and hard links: path → target path. */
  links: Map<string, string>;
  /** Size of every regular file, by path. */
  sizes: Map<string, number>;
}

function normName(name: string): string | undefined {
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (!p || p === '.') continue;
    if (p === '..') {
      if (!parts.length) return undefined;
      parts.pop();
    } else parts.push(p);
  }
  return parts.join('/');
}

/** `blobs/sha256/<hex>` and docker-archive `<hex>.tar` / `<hex>/layer.tar` are named by digest. */
function layerLabel(name: string): string {
  const m = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(name) ?? /^()([a-f0-9]{64})(?:\.tar|\/layer\.tar)$/.exec(name);
  return m ? `${m[1] || 'sha256'}:${m[2]}` : name;
}

function looksJson(head: Buffer): boolean {
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return false;
  for (const b of head) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b === 0x7b || b === 0x5b; // { or [
  }
  return false;
}

/** Reads an archive stream once, scanning layers as they pass. */
async function readArchive(src: Readable, ref: string, ctx: ScanContext, labelsOnly: boolean): Promise<ArchiveContents> {
  const contents: ArchiveContents = { json: new Map(), scans: new Map(), digests: new Map(), links: new Map(), sizes: new Map() };
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
    src.on('error', (err) => extract.destroy(err));
  });

  extract.on('entry', (header, stream, next) => {
    (async () => {
      const name = normName(header.name);
      if (name === undefined) {
        stream.resume();
        return;
      }
      if (header.type === 'symlink' || header.type === 'link') {
        stream.resume();
        const target = header.type === 'symlink' ? normName(path.posix.join(path.posix.dirname(name), header.linkname ?? '')) : normName(header.linkname ?? '');
        if (target !== undefined) contents.links.set(name, target);
        return;
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file') {
        stream.resume();
        return;
      }
      const hash = createHash('sha256');
      const it = (stream as unknown as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      // Pulls from the entry without ever closing it early, so the outer tar keeps going.
      let ended = false;
      const pull = async (): Promise<Buffer | undefined> => {
        if (ended) return undefined;
        const r = await it.next();
        if (r.done) {
          ended = true;
          return undefined;
        }
        hash.update(r.value);
        return r.value;
      };
      async function* body(): AsyncGenerator<Buffer> {
        for (;;) {
          const c = await pull();
          if (!c) return;
          yield c;
        }
      }
      const { head, all } = await peek(body(), 512);
      if (looksJson(head) && header.size <= MAX_JSON) {
        const parts: Buffer[] = [];
        for await (const c of all) parts.push(c);
        contents.json.set(name, Buffer.concat(parts));
      } else if (!labelsOnly) {
        try {
          contents.scans.set(name, { scan: await scanLayer(all, { ...ctx, what: `layer ${layerLabel(name)} of ${ref}` }) });
        } catch (err) {
          if (ctx.signal?.aborted) throw err;
          contents.scans.set(name, { error: err });
        }
      }
      while (await pull());
      contents.digests.set(name, 'sha256:' + hash.digest('hex'));
      contents.sizes.set(name, header.size ?? 0);
    })().then(
      () => next(),
      (err: Error) => {
        stream.resume();
        next(err);
      },
    );
  });

  src.pipe(extract as unknown as NodeJS.WritableStream);
  try {
    await done;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${ref}: not a readable image archive (${(err as Error).message})`);
  }
  return contents;
}

function resolveLink(c: ArchiveContents, name: string): string {
  let n = name;
  for (let i = 0; i < 40 && c.links.has(n); i++) n = c.links.get(n)!;
  return n;
}

function scanFor(c: ArchiveContents, name: string, what: string): LayerScan {
  const r = c.scans.get(resolveLink(c, name));
  if (!r) {
    if (c.json.has(resolveLink(c, name)) || !c.digests.has(resolveLink(c, name))) throw new InputError(`${what} is missing from the archive or is not a layer`);
    throw new InputError(`${what} was not read`);
  }
  if ('error' in r) throw r.error;
  return r.scan;
}

/** OCI layout inside the archive, as a store over what the single pass collected. */
class OciArchiveStore implements ImageStore {
  constructor(
    private readonly c: ArchiveContents,
    private readonly ref: string,
    readonly refName?: string,
  ) {}
  private blob(desc: Descriptor, what: string): string {
    const { algorithm, hex } = parseDigest(desc.digest, `digest in ${this.ref}`);
    const name = `blobs/${algorithm}/${hex}`;
    const actual = this.c.digests.get(resolveLink(this.c, name));
    if (!actual) throw new InputError(`${what}: blob ${desc.digest} is missing from the archive`);
    if (algorithm === 'sha256' && actual !== desc.digest) throw new DigestMismatchError(what, desc.digest, actual);
    return name;
  }
  async root(): Promise<{ bytes: Buffer; what: string }> {
    const bytes = this.c.json.get('index.json');
    if (!bytes) throw new InputError(`${this.ref}: index.json is missing from the OCI archive`);
    return { bytes, what: `index.json of ${this.ref}` };
  }
  private json(desc: Descriptor, what: string): Buffer {
    const name = this.blob(desc, what);
    const b = this.c.json.get(resolveLink(this.c, name));
    if (!b) throw new InputError(`${what}: blob ${desc.digest} is not a JSON document`);
    return b;
  }
  async document(desc: Descriptor): Promise<Buffer> {
    return this.json(desc, `manifest ${desc.digest} of ${this.ref}`);
  }
  async config(desc: Descriptor): Promise<Buffer> {
    return this.json(desc, `config ${desc.digest} of ${this.ref}`);
  }
  async layer(desc: Descriptor, what: string): Promise<LayerScan> {
    if (/zstd/.test(desc.mediaType ?? '')) {
      // Refused even if the blob happened to scan (e.g. a Node with zstd): keep behaviour uniform.
      const r = this.c.scans.get(this.blob(desc, what));
      if (r && 'error' in r) throw r.error;
    }
    return scanFor(this.c, this.blob(desc, what), what);
  }
}

interface DockerManifestEntry {
  Config?: string;
  RepoTags?: string[] | null;
  Layers?: string[];
}

function pickDockerEntry(entries: DockerManifestEntry[], ref: string, name: string | undefined): DockerManifestEntry {
  if (!Array.isArray(entries) || entries.length === 0) throw new InputError(`${ref}: manifest.json lists no image`);
  if (name !== undefined) {
    const found = entries.find((e) => (e.RepoTags ?? []).some((t) => t === name || t === `localhost/${name}` || t === `docker.io/${name}` || t === `docker.io/library/${name}`));
    if (!found) throw new InputError(`${ref}: no image tagged "${name}" in the archive; tags: ${entries.flatMap((e) => e.RepoTags ?? []).join(', ') || 'none'}`);
    return found;
  }
  if (entries.length > 1) throw new InputError(`${ref}: the archive holds ${entries.length} images (${entries.flatMap((e) => e.RepoTags ?? []).join(', ')}); name one as ${ref}:REPO:TAG`);
  return entries[0];
}

export interface ArchiveOptions extends ModelOptions {
  /** Which format the user asked for (messages only: both are detected). */
  format?: 'oci-archive' | 'docker-archive';
  /** Image inside the archive: OCI ref name, or docker-archive repo:tag. */
  name?: string;
}

/** Loads a model from an archive stream (file or pipe). */
export async function loadFromArchiveStream(src: Readable, ref: string, opts: ArchiveOptions): Promise<ContainerModel> {
  const ctx = scanContext(opts);
  opts.onProgress?.({ phase: 'manifest', ref });
  const c = await readArchive(src, ref, ctx, !!opts.labelsOnly);
  const dockerManifest = c.json.get('manifest.json');
  if (dockerManifest && (opts.format !== 'oci-archive' || !c.json.has('index.json'))) {
    const entry = pickDockerEntry(parseJson<DockerManifestEntry[]>(dockerManifest, `manifest.json of ${ref}`), ref, opts.name);
    if (!entry.Config) throw new InputError(`${ref}: manifest.json entry without Config`);
    const configName = resolveLink(c, normName(entry.Config) ?? entry.Config);
    const configBytes = c.json.get(configName);
    if (!configBytes) throw new InputError(`${ref}: config ${entry.Config} is missing from the archive`);
    // Config files are named after their digest (<hex>.json or blobs/sha256/<hex>): check it.
    const hex = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/.exec(configName)?.[1];
    if (hex && c.digests.get(configName) !== `sha256:${hex}`) throw new DigestMismatchError(`config ${entry.Config} of ${ref}`, `sha256:${hex}`, c.digests.get(configName) ?? '?');
    const config = parseJson<ImageConfig>(configBytes, `config of ${ref}`);
    opts.onProgress?.({ phase: 'config', ref, digest: c.digests.get(configName) });
    // manifest.json has no media types: only the stored layer sizes and digests are known.
    const layerNames = (entry.Layers ?? []).map((l) => resolveLink(c, normName(l) ?? l));
    const image = {
      sizeBytes: layerNames.reduce((n, l) => n + (c.sizes.get(l) ?? 0), 0),
      layerDigests: layerNames.map((l) => c.digests.get(l) ?? l),
    };
    if (opts.labelsOnly) return finishModel(ref, config, undefined, opts, undefined, undefined, undefined, image);
    const layers = (entry.Layers ?? []).map((l, i, all) => {
      const name = resolveLink(c, normName(l) ?? l);
      const what = `layer ${l} (${i + 1}/${all.length}) of ${ref}`;
      const scan = scanFor(c, name, what);
      return { digest: c.digests.get(name)!, scan };
    });
    checkDiffIds(ref, config, layers);
    return finishModel(ref, config, layers, opts, ctx, undefined, undefined, image);
  }
  if (c.json.has('index.json')) {
    return loadFromStore(new OciArchiveStore(c, ref, opts.name), ref, { ...opts, retries: 0, ctx });
  }
  throw new InputError(`${ref}: not an image archive (neither manifest.json nor index.json found)`);
}
