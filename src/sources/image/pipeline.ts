import picomatch from 'picomatch';
import type { ContainerModel, ImageManifestInfo } from '../../model/container-model.js';
import { InputError } from '../../engine/types.js';
import { LayerTree } from './apply.js';
import { modelFromConfig, configLocation } from './config.js';
import {
  DEFAULT_MAX_DECOMPRESSED,
  DEFAULT_MAX_ENTRIES,
  DEFAULT_MAX_TEXT_TOTAL,
  LayerError,
  ScanBudget,
  type LayerScan,
} from './layer.js';
import {
  formatPlatform,
  parseDocument,
  parseJson,
  parsePlatform,
  selectPlatform,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  type Platform,
} from './manifest.js';
import { MAX_TEXT_FILE_BYTES } from '../../model/vfs.js';

export type ProgressEvent =
  | { phase: 'manifest'; ref: string; digest?: string }
  | { phase: 'config'; ref: string; digest?: string }
  | { phase: 'layer'; ref: string; digest: string; index: number; count: number; state: 'start' | 'done'; bytes?: number; size?: number };

export interface ModelOptions {
  /** `os/arch[/variant]`; default linux/amd64. */
  platform?: string | Platform;
  /** Globs (absolute in-image paths) of files whose content is kept (union of the rules' `files`). */
  wantedGlobs?: string[];
  /** Manifest + config only: no layer is read, the file system stays empty. */
  labelsOnly?: boolean;
  /** Cap on the decompressed size of all layers together (gzip bombs). Default 8 GiB. */
  maxDecompressedBytes?: number;
  /** Cap on the content kept for one file. Default 1 MiB. */
  maxFileBytes?: number;
  /** Cap on all content kept in memory. Default 256 MiB. */
  maxTextBytes?: number;
  /** Cap on tar entries over all layers. Default 2,000,000. */
  maxEntries?: number;
  /**
   * Keep the content of wanted files in library locations too (site-packages, node_modules,
   * /usr/lib, ... — see LIBRARY_PATHS). Default false: the rules read the application's files,
   * not installed libraries, and the rules' `*.py` glob would otherwise hold every installed Python module in
   * memory (hundreds of MiB for an ML image) and let them use up maxTextBytes before the
   * application's own files, which come in the last layers. Packaging files (setup.py,
   * setup.cfg, pyproject.toml) are kept wherever they are.
   */
  libraryContent?: boolean;
  /** Layers fetched/scanned at once from random-access sources. Default 3. */
  concurrency?: number;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

export interface ScanContext {
  wanted: (path: string) => boolean;
  budget: ScanBudget;
  signal?: AbortSignal;
}

/**
 * Where images keep installed libraries and system data rather than the application: content
 * of files here is not kept unless `libraryContent` is set (their metadata always is).
 */
export const LIBRARY_PATHS = {
  prefixes: ['/usr/lib/', '/usr/local/lib/', '/usr/share/', '/usr/include/', '/usr/libexec/', '/lib/', '/lib64/', '/var/lib/', '/opt/conda/lib/', '/root/.cache/', '/proc/', '/sys/'],
  segments: /\/(site-packages|dist-packages|node_modules|__pycache__)\//,
  /** Kept even in library locations (a package's console scripts are declared there). */
  keep: /\/(setup\.py|setup\.cfg|pyproject\.toml)$/,
};

export function isLibraryPath(p: string): boolean {
  return (LIBRARY_PATHS.prefixes.some((x) => p.startsWith(x)) || LIBRARY_PATHS.segments.test(p)) && !LIBRARY_PATHS.keep.test(p);
}

export function scanContext(opts: ModelOptions): ScanContext {
  const globs = opts.wantedGlobs ?? [];
  const matcher = globs.length ? picomatch(globs, { dot: true }) : undefined;
  const libraries = opts.libraryContent === true;
  return {
    wanted: matcher ? (p: string) => matcher(p) && (libraries || !isLibraryPath(p)) : () => false,
    budget: new ScanBudget(
      opts.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED,
      opts.maxTextBytes ?? DEFAULT_MAX_TEXT_TOTAL,
      opts.maxEntries ?? DEFAULT_MAX_ENTRIES,
      opts.maxFileBytes ?? MAX_TEXT_FILE_BYTES,
    ),
    signal: opts.signal,
  };
}

/** A source of image documents and layers, addressed by descriptors. */
export interface ImageStore {
  /** The top document: a manifest or an index (registry: the tag; OCI layout: index.json). */
  root(): Promise<{ bytes: Buffer; contentType?: string; digest?: string; what: string }>;
  /** Only pick index entries annotated with this `org.opencontainers.image.ref.name`. */
  refName?: string;
  /** A manifest or index blob, verified against desc.digest. */
  document(desc: Descriptor): Promise<Buffer>;
  /** The config blob, verified. */
  config(desc: Descriptor): Promise<Buffer>;
  /** Scans a layer blob (verified against desc.digest while streaming). */
  layer(desc: Descriptor, what: string, ctx: ScanContext): Promise<LayerScan>;
}

export interface ResolvedLayer {
  /** Layer digest used in origins (the manifest's blob digest). */
  digest: string;
  scan: LayerScan;
}

const MAX_CONFIG = 16 * 1024 * 1024;

function isRetryable(err: unknown): boolean {
  return !!(err && typeof err === 'object' && (err as { retryable?: boolean }).retryable === true && !(err instanceof LayerError));
}

const REF_NAME = 'org.opencontainers.image.ref.name';

/** Walks index → manifest (choosing the platform or the named image). */
async function resolveManifest(store: ImageStore, ref: string, want: Platform): Promise<{ manifest: ImageManifest; digest?: string; mediaType: string }> {
  const root = await store.root();
  let doc = parseDocument(root.bytes, root.contentType, root.what);
  let digest = root.digest;
  let what = root.what;
  let first = true;
  for (let depth = 0; depth < 4; depth++) {
    if (doc.kind === 'manifest') return { manifest: doc.manifest, digest, mediaType: doc.manifest.mediaType ?? doc.mediaType };
    let list = doc.index.manifests;
    if (first && store.refName !== undefined) {
      const name = store.refName;
      const named = list.filter((d) => {
        const n = d.annotations?.[REF_NAME];
        return n === name || n?.endsWith(`:${name}`) || n === `localhost/${name}`;
      });
      if (!named.length) {
        const names = list.map((d) => d.annotations?.[REF_NAME]).filter(Boolean);
        throw new InputError(`${what} has no image named "${name}"; names: ${names.length ? names.join(', ') : 'none'}`);
      }
      list = named;
    }
    first = false;
    let chosen: Descriptor;
    if (list.some((d) => d.platform)) chosen = selectPlatform({ manifests: list }, want, what);
    else if (list.length === 1) chosen = list[0];
    else {
      const names = list.map((d) => d.annotations?.[REF_NAME] ?? d.digest.slice(0, 19));
      throw new InputError(`${what} holds ${list.length} images (${names.join(', ')}); name one as ${ref}:NAME`);
    }
    const bytes = await store.document(chosen);
    what = `manifest ${chosen.digest} of ${ref}`;
    doc = parseDocument(bytes, chosen.mediaType, what);
    digest = chosen.digest;
  }
  throw new InputError(`${ref}: indexes nested too deeply`);
}

/** Scans layers with bounded concurrency, retrying transport failures, preserving order. */
async function scanAll(store: ImageStore, ref: string, layers: Descriptor[], ctx: ScanContext, opts: ModelOptions, retries: number): Promise<LayerScan[]> {
  const out: LayerScan[] = new Array(layers.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < layers.length) {
      const i = next++;
      const desc = layers[i];
      const what = `layer ${desc.digest} (${i + 1}/${layers.length})`;
      opts.onProgress?.({ phase: 'layer', ref, digest: desc.digest, index: i, count: layers.length, state: 'start', size: desc.size });
      for (let attempt = 0; ; attempt++) {
        try {
          out[i] = await store.layer(desc, what, ctx);
          break;
        } catch (err) {
          if (isRetryable(err) && attempt < retries && !failed && !ctx.signal?.aborted) continue;
          failed = true;
          if (err instanceof InputError && !err.message.includes(what)) {
            // "blob <digest> of <repo>: x" → "layer <digest> (i/n): x"
            const msg = err.message.startsWith(`blob ${desc.digest} of `) ? err.message.slice(err.message.indexOf(': ') + 2) : err.message;
            throw new InputError(`${what}: ${msg}`, { cause: err });
          }
          throw err;
        }
      }
      opts.onProgress?.({ phase: 'layer', ref, digest: desc.digest, index: i, count: layers.length, state: 'done', bytes: out[i].size, size: desc.size });
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? 3, layers.length));
  // First failure wins at once; the caller's finally aborts the layers still in flight.
  await Promise.all(Array.from({ length: n }, worker));
  return out;
}

export function wantPlatform(p: ModelOptions['platform']): Platform {
  if (!p) return { os: 'linux', architecture: 'amd64' };
  return typeof p === 'string' ? parsePlatform(p) : p;
}

/** Loads a model from a random-access store (registry, OCI layout, OCI archive already read). */
export async function loadFromStore(store: ImageStore, ref: string, opts: ModelOptions & { retries?: number; ctx?: ScanContext }): Promise<ContainerModel> {
  const want = wantPlatform(opts.platform);
  opts.onProgress?.({ phase: 'manifest', ref });
  const { manifest, digest, mediaType } = await resolveManifest(store, ref, want);
  const image: ImageManifestInfo = {
    sizeBytes: manifest.layers.reduce((n, l) => n + (typeof l.size === 'number' && Number.isFinite(l.size) ? l.size : 0), 0),
    manifestMediaType: mediaType,
    layerMediaTypes: manifest.layers.map((l) => l.mediaType ?? ''),
    layerDigests: manifest.layers.map((l) => l.digest),
  };
  opts.onProgress?.({ phase: 'config', ref, digest: manifest.config.digest });
  const configBytes = await store.config(manifest.config);
  if (configBytes.length > MAX_CONFIG) throw new InputError(`${ref}: image config is larger than ${MAX_CONFIG} bytes`);
  const config = parseJson<ImageConfig>(configBytes, `config ${manifest.config.digest} of ${ref}`);
  let layers: ResolvedLayer[] | undefined;
  if (!opts.labelsOnly) {
    const ctx = opts.ctx ?? scanContext(opts);
    const scans = await scanAll(store, ref, manifest.layers, ctx, opts, opts.retries ?? 2);
    layers = manifest.layers.map((d, i) => ({ digest: d.digest, scan: scans[i] }));
    checkDiffIds(ref, config, layers);
    return finishModel(ref, config, layers, opts, ctx, manifest.annotations, digest, image);
  }
  return finishModel(ref, config, undefined, opts, undefined, manifest.annotations, digest, image);
}

/** Every uncompressed layer must hash to the config's rootfs.diff_ids entry. */
export function checkDiffIds(ref: string, config: ImageConfig, layers: ResolvedLayer[]): void {
  const ids = config.rootfs?.diff_ids;
  if (!Array.isArray(ids)) return;
  if (ids.length !== layers.length) {
    throw new InputError(`${ref}: the config lists ${ids.length} layers (rootfs.diff_ids) but the manifest has ${layers.length}`);
  }
  layers.forEach((l, i) => {
    if (ids[i] !== l.scan.diffId) {
      throw new InputError(`layer ${l.digest} (${i + 1}/${layers.length}) of ${ref}: uncompressed content digest ${l.scan.diffId} does not match the config's rootfs.diff_ids[${i}] ${ids[i]} (corrupt or tampered layer)`);
    }
  });
}

/** Config + applied layers → ContainerModel. */
export function finishModel(
  ref: string,
  config: ImageConfig,
  layers: ResolvedLayer[] | undefined,
  opts: ModelOptions,
  ctx: ScanContext | undefined,
  annotations?: Record<string, string>,
  _manifestDigest?: string,
  image?: ImageManifestInfo,
): ContainerModel {
  const model = modelFromConfig(ref, config, annotations);
  if (image) {
    model.image = { ...image };
    if (layers) model.image.uncompressedSizeBytes = layers.reduce((n, l) => n + l.scan.size, 0);
  }
  if (opts.platform && model.platform) {
    const want = wantPlatform(opts.platform);
    if (model.platform.os !== want.os || model.platform.architecture !== want.architecture) {
      model.gaps.push({ message: `the image is ${formatPlatform(model.platform)}, not the requested ${formatPlatform(want)}`, location: configLocation(ref, 'config.architecture') });
    }
  }
  if (!layers) {
    model.gaps.push({ message: 'labels-only mode: the image layers were not read, so its file system is unknown', location: model.subjectLocation });
    return model;
  }
  const tree = new LayerTree(ref);
  for (const l of layers) tree.apply(l);
  tree.toVfs(model.files);
  model.gaps.push(...tree.gaps);
  if (ctx?.budget.textBudgetHit) {
    model.gaps.push({ message: `more than ${ctx.budget.maxTextBytes} bytes of file content matched the rules' globs: later files were kept as metadata only`, location: model.subjectLocation });
  }
  return model;
}
