import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { InputError } from '../../engine/types.js';
import { MAX_TEXT_FILE_BYTES } from '../../model/vfs.js';

/**
 * Layer scanning: one pass over a (possibly compressed) layer tar, producing the layer's change
 * set — whiteouts, opaque dirs, entries — with content kept only for wanted files. Change sets
 * are independent of each other, so layers can be scanned in any order (or concurrently) and
 * applied in manifest order afterwards (see apply.ts): that is how docker-archives whose
 * manifest.json comes after the layers are read in a single streaming pass, with whiteouts
 * still applied correctly across layers.
 */

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface LayerEntry {
  /** Normalised absolute path. */
  path: string;
  type: EntryType;
  mode: number;
  size: number;
  /** Symlink target as written, or the normalised absolute target path of a hard link. */
  linkTarget?: string;
  /** Captured content (wanted files up to the per-file cap). */
  content?: Buffer;
  /** Wanted, but not captured: reason. */
  skipped?: string;
}

export interface LayerScan {
  whiteouts: string[];
  opaqueDirs: string[];
  entries: LayerEntry[];
  /** Problems found in the layer (unsafe paths...), with the in-image path they concern. */
  problems: Array<{ path: string; message: string }>;
  /** sha256 of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: string;
  /** Uncompressed size. */
  size: number;
}

/** Limits shared by all layers of one image load. */
export class ScanBudget {
  decompressed = 0;
  textBytes = 0;
  entries = 0;
  textBudgetHit = false;
  constructor(
    readonly maxDecompressedBytes: number,
    readonly maxTextBytes: number,
    readonly maxEntries: number,
    readonly maxFileBytes: number = MAX_TEXT_FILE_BYTES,
  ) {}
}

export const DEFAULT_MAX_DECOMPRESSED = 8 * 1024 ** 3;
export const DEFAULT_MAX_TEXT_TOTAL = 256 * 1024 ** 2;
export const DEFAULT_MAX_ENTRIES = 2_000_000;

export interface ScanOptions {
  wanted: (path: string) => boolean;
  budget: ScanBudget;
  /** Media type of the blob, when known (zstd is refused before reading). */
  compression?: 'gzip' | 'zstd' | 'none';
  /** For messages: `layer sha256:... of REF`. */
  what: string;
  signal?: AbortSignal;
}

/** Error in the layer data itself (not transport): never retried. */
export class LayerError extends InputError {}

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

type ZstdFactory = () => NodeJS.ReadWriteStream;
const zstdFactory = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress;

/** Whether this Node.js can decompress zstd layers (node:zlib gained zstd in Node 22.15/23.8). */
export const zstdSupported = typeof zstdFactory === 'function';

export function zstdUnsupported(what: string): LayerError {
  return new LayerError(`${what}: zstd layers not supported yet (this Node.js has no zstd; re-push the image with gzip layers)`);
}

export function sniffCompression(head: Buffer): 'gzip' | 'zstd' | 'none' {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.subarray(0, 4).equals(ZSTD_MAGIC)) return 'zstd';
  return 'none';
}

/** Normalises a tar entry name to an absolute path; undefined when it contains `..` (unsafe). */
export function safeEntryPath(name: string): string | undefined {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return undefined;
    parts.push(part);
  }
  return '/' + parts.join('/');
}

/** Reads the first `n` bytes of an async iterable and returns them plus an iterable of everything. */
export async function peek(src: AsyncIterable<Buffer>, n: number): Promise<{ head: Buffer; all: AsyncGenerator<Buffer> }> {
  const it = src[Symbol.asyncIterator]();
  const first: Buffer[] = [];
  let have = 0;
  let ended = false;
  while (have < n) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    first.push(r.value);
    have += r.value.length;
  }
  const head = Buffer.concat(first);
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { head: head.subarray(0, Math.max(n, 0)), all: all() };
}

/** Decompressed chunks of a layer blob (gzip via zlib streaming, or as is). */
async function* decompress(src: AsyncGenerator<Buffer>, compression: 'gzip' | 'zstd' | 'none', what: string): AsyncGenerator<Buffer> {
  if (compression === 'none') {
    yield* src;
    return;
  }
  let z: NodeJS.ReadWriteStream;
  if (compression === 'zstd') {
    if (!zstdFactory) throw zstdUnsupported(what);
    z = zstdFactory();
  } else {
    z = zlib.createGunzip({ chunkSize: 256 * 1024 });
  }
  const zs = z as unknown as NodeJS.ReadableStream & NodeJS.WritableStream & { destroy(err?: Error): void };
  // Feed the decompressor from the source with backpressure; its errors surface in the loop below.
  let feedError: unknown;
  let stop = false;
  const waitWritable = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const done = (): void => {
        zs.removeListener('drain', done);
        zs.removeListener('close', done);
        resolve();
      };
      if (stop || (zs as unknown as { destroyed?: boolean }).destroyed) return resolve();
      zs.once('drain', done);
      zs.once('close', done);
    });
  const feeding = (async () => {
    try {
      for await (const chunk of src) {
        if (stop) break;
        if (!zs.write(chunk)) await waitWritable();
        if (stop) break;
      }
      if (!stop) zs.end();
    } catch (err) {
      feedError = err;
      zs.destroy(err as Error);
    }
  })();
  let ok = false;
  try {
    for await (const chunk of zs as AsyncIterable<Buffer>) yield chunk;
    ok = true;
  } catch (err) {
    if (feedError) throw feedError;
    const e = err as Error & { code?: string };
    throw new LayerError(`${what}: corrupt or truncated ${compression} data (${e.code ?? ''}${e.code ? ': ' : ''}${e.message})`);
  } finally {
    if (!ok) {
      stop = true;
      zs.destroy();
    }
    await feeding;
  }
  if (feedError) throw feedError;
}

/**
 * Scans one layer blob. Throws LayerError for bad data (corrupt gzip, truncated tar, zstd,
 * size caps) and lets transport errors of `src` through unchanged.
 */
export async function scanLayer(src: AsyncIterable<Buffer>, opts: ScanOptions): Promise<LayerScan> {
  const { what, budget } = opts;
  if (opts.compression === 'zstd' && !zstdFactory) throw zstdUnsupported(what);
  const { head, all } = await peek(src, 4);
  const compression = sniffCompression(head);
  const scan: LayerScan = { whiteouts: [], opaqueDirs: [], entries: [], problems: [], diffId: '', size: 0 };
  const hash = createHash('sha256');
  const extract = tar.extract();
  let extractError: Error | undefined;
  let closed = false;

  const finished = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('close', () => {
      closed = true;
      if (extractError) reject(extractError);
      else resolve();
    });
    extract.on('error', (err: Error) => {
      extractError ??= err;
      reject(err);
    });
  });
  finished.catch(() => undefined);

  extract.on('entry', (header, stream, next) => {
    handleEntry(header, stream as unknown as Readable, scan, opts).then(
      () => next(),
      (err: Error) => {
        stream.resume();
        next(err);
      },
    );
  });

  const waitDrain = (): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        extract.removeListener('drain', done);
        extract.removeListener('close', done);
        extract.removeListener('error', done);
        resolve();
      };
      extract.on('drain', done);
      extract.on('close', done);
      extract.on('error', done);
    });

  try {
    for await (const chunk of decompress(all, compression, what)) {
      if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new Error('aborted');
      hash.update(chunk);
      scan.size += chunk.length;
      budget.decompressed += chunk.length;
      if (budget.decompressed > budget.maxDecompressedBytes) {
        throw new LayerError(`${what}: image decompresses to more than ${budget.maxDecompressedBytes} bytes (limit; a gzip bomb?)`);
      }
      if (extractError || closed) break;
      if (!extract.write(chunk)) await waitDrain();
    }
    if (!extractError && !closed) extract.end(undefined as unknown as Buffer);
    await finished;
  } catch (err) {
    extract.destroy();
    if (err instanceof InputError) throw err;
    if (extractError) throw new LayerError(`${what}: not a valid tar archive (${extractError.message})`);
    throw err;
  }
  if (extractError) throw new LayerError(`${what}: not a valid tar archive (${extractError.message})`);
  scan.diffId = 'sha256:' + hash.digest('hex');
  return scan;
}

async function drain(stream: Readable): Promise<number> {
  let n = 0;
  for await (const c of stream) n += (c as Buffer).length;
  return n;
}

async function handleEntry(header: tar.Header, stream: Readable, scan: LayerScan, opts: ScanOptions): Promise<void> {
  const { budget } = opts;
  if (++budget.entries > budget.maxEntries) throw new LayerError(`${opts.what}: more than ${budget.maxEntries} tar entries (limit)`);
  const path = safeEntryPath(header.name);
  if (path === undefined) {
    scan.problems.push({ path: header.name, message: `tar entry "${header.name.slice(0, 200)}" has a ".." path component: ignored, never written` });
    await drain(stream);
    return;
  }
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash) || '/';
  const base = path.slice(slash + 1);
  if (base.startsWith('.wh.')) {
    await drain(stream);
    if (base === '.wh..wh..opq') scan.opaqueDirs.push(dir);
    else if (base.startsWith('.wh..wh.')) return; // aufs metadata (.wh..wh.plnk, ...)
    else scan.whiteouts.push(`${dir === '/' ? '' : dir}/${base.slice(4)}`);
    return;
  }
  if (path === '/') {
    await drain(stream);
    return;
  }
  const mode = (header.mode ?? 0) & 0o7777;
  switch (header.type) {
    case 'directory':
      await drain(stream);
      scan.entries.push({ path, type: 'dir', mode, size: 0 });
      return;
    case 'symlink':
      await drain(stream);
      scan.entries.push({ path, type: 'symlink', mode, size: 0, linkTarget: header.linkname ?? '' });
      return;
    case 'link': {
      await drain(stream);
      const target = safeEntryPath(header.linkname ?? '');
      if (target === undefined) {
        scan.problems.push({ path, message: `hard link ${path} points outside the image ("${(header.linkname ?? '').slice(0, 200)}"): ignored` });
        return;
      }
      scan.entries.push({ path, type: 'hardlink', mode, size: 0, linkTarget: target });
      return;
    }
    case 'file':
    case 'contiguous-file':
    case null:
    case undefined: {
      const size = header.size ?? 0;
      const entry: LayerEntry = { path, type: 'file', mode, size };
      if (opts.wanted(path)) {
        if (size > budget.maxFileBytes) {
          entry.skipped = `${size} bytes, more than the ${budget.maxFileBytes}-byte cap`;
        } else if (budget.textBytes + size > budget.maxTextBytes) {
          entry.skipped = `the total content cap of ${budget.maxTextBytes} bytes was reached`;
          budget.textBudgetHit = true;
        } else {
          const parts: Buffer[] = [];
          for await (const c of stream) parts.push(c as Buffer);
          entry.content = Buffer.concat(parts);
          budget.textBytes += entry.content.length;
          scan.entries.push(entry);
          return;
        }
      }
      await drain(stream);
      scan.entries.push(entry);
      return;
    }
    default:
      // Devices, fifos: they replace what was below but are not modelled.
      await drain(stream);
      scan.entries.push({ path, type: 'other', mode, size: 0 });
  }
}
