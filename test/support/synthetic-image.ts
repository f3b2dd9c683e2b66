/**
 * Synthetic container images for tests, generated in memory with tar-stream + zlib:
 * layers, config, manifest, optional index, written as an OCI layout directory, an
 * oci-archive or a docker-archive (manifest.json last, like `podman save`).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import tar from 'tar-stream';

export interface EntrySpec {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo';
  content?: string | Buffer;
  mode?: number;
  linkname?: string;
  /** Declared size override (for lying headers). */
  size?: number;
}

export const sha = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex');
export const hexOf = (digest: string): string => digest.slice('sha256:'.length);

/** An uncompressed layer tar. */
export async function tarOf(entries: EntrySpec[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const content = e.content === undefined ? undefined : Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content);
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: e.name,
        type,
        mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
        linkname: e.linkname,
        size: type === 'file' ? (content?.length ?? 0) : 0,
        mtime: new Date(0),
      };
      if (type === 'file') pack.entry(header, content ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
      else pack.entry(header, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface LayerSpec {
  entries?: EntrySpec[];
  /** Raw blob bytes instead of entries (corrupt data tests). */
  raw?: Buffer;
  /** Uncompressed tar used for the diff_id when `raw` is given (defaults to raw). */
  diffTar?: Buffer;
  compression?: 'gzip' | 'none';
  mediaType?: string;
}

export interface BuiltLayer {
  blob: Buffer;
  digest: string;
  diffId: string;
  mediaType: string;
  tar: Buffer;
}

export async function buildLayer(spec: LayerSpec, oci = true): Promise<BuiltLayer> {
  const t = spec.raw ? (spec.diffTar ?? spec.raw) : await tarOf(spec.entries ?? []);
  const compression = spec.compression ?? 'gzip';
  const blob = spec.raw ?? (compression === 'gzip' ? zlib.gzipSync(t) : t);
  const mediaType =
    spec.mediaType ??
    (oci
      ? compression === 'gzip'
        ? 'application/vnd.oci.image.layer.v1.tar+gzip'
        : 'application/vnd.oci.image.layer.v1.tar'
      : 'application/vnd.docker.image.rootfs.diff.tar.gzip');
  return { blob, digest: sha(blob), diffId: sha(t), mediaType, tar: t };
}

export interface ImageSpec {
  layers: LayerSpec[];
  config?: Record<string, unknown>;
  platform?: { os: string; architecture: string; variant?: string };
  /** Docker media types instead of OCI. */
  docker?: boolean;
  history?: Array<{ created_by: string; empty_layer?: boolean }>;
}

export interface BuiltImage {
  layers: BuiltLayer[];
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
  manifestDigest: string;
  manifestMediaType: string;
  /** All blobs by digest (layers, config, manifest). */
  blobs: Map<string, Buffer>;
}

export async function buildImage(spec: ImageSpec): Promise<BuiltImage> {
  const oci = !spec.docker;
  const layers: BuiltLayer[] = [];
  for (const l of spec.layers) layers.push(await buildLayer(l, oci));
  const platform = spec.platform ?? { os: 'linux', architecture: 'amd64' };
  const configJson = {
    ...platform,
    config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin'], ...(spec.config ?? {}) },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: spec.history ?? layers.map((_, i) => ({ created_by: `/bin/sh -c echo layer ${i}` })),
  };
  const config = Buffer.from(JSON.stringify(configJson));
  const configDigest = sha(config);
  const manifestMediaType = oci ? 'application/vnd.oci.image.manifest.v1+json' : 'application/vnd.docker.distribution.manifest.v2+json';
  const manifestJson = {
    schemaVersion: 2,
    mediaType: manifestMediaType,
    config: { mediaType: oci ? 'application/vnd.oci.image.config.v1+json' : 'application/vnd.docker.container.image.v1+json', digest: configDigest, size: config.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.blob.length })),
  };
  const manifest = Buffer.from(JSON.stringify(manifestJson));
  const manifestDigest = sha(manifest);
  const blobs = new Map<string, Buffer>();
  for (const l of layers) blobs.set(l.digest, l.blob);
  blobs.set(configDigest, config);
  blobs.set(manifestDigest, manifest);
  return { layers, config, configDigest, manifest, manifestDigest, manifestMediaType, blobs };
}

/** An OCI image index over several images (each with its platform). */
export function buildIndex(images: Array<{ image: BuiltImage; platform?: { os: string; architecture: string; variant?: string }; annotations?: Record<string, string> }>, docker = false): { bytes: Buffer; digest: string; mediaType: string } {
  const mediaType = docker ? 'application/vnd.docker.distribution.manifest.list.v2+json' : 'application/vnd.oci.image.index.v1+json';
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      manifests: images.map(({ image, platform, annotations }) => ({
        mediaType: image.manifestMediaType,
        digest: image.manifestDigest,
        size: image.manifest.length,
        ...(platform ? { platform } : {}),
        ...(annotations ? { annotations } : {}),
      })),
    }),
  );
  return { bytes, digest: sha(bytes), mediaType };
}

/** index.json for an OCI layout holding one image under `refName`. */
export function layoutIndex(image: BuiltImage, refName = 'latest'): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: image.manifestMediaType, digest: image.manifestDigest, size: image.manifest.length, annotations: { 'org.opencontainers.image.ref.name': refName } }],
    }),
  );
}

export async function writeOciLayout(dir: string, image: BuiltImage, opts: { index?: Buffer; extraBlobs?: Map<string, Buffer> } = {}): Promise<void> {
  await fs.mkdir(path.join(dir, 'blobs/sha256'), { recursive: true });
  await fs.writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await fs.writeFile(path.join(dir, 'index.json'), opts.index ?? layoutIndex(image));
  for (const [d, b] of [...image.blobs, ...(opts.extraBlobs ?? new Map())]) await fs.writeFile(path.join(dir, 'blobs/sha256', hexOf(d)), b);
}

export async function tarFiles(files: Array<{ name: string; content?: Buffer; linkname?: string; type?: 'file' | 'symlink' }>): Promise<Buffer> {
  return tarOf(files.map((f) => ({ name: f.name, content: f.content, linkname: f.linkname, type: f.type ?? 'file' })));
}

/** oci-archive bytes (index first unless `indexLast`). */
export async function ociArchive(image: BuiltImage, opts: { index?: Buffer; indexLast?: boolean; extraBlobs?: Map<string, Buffer> } = {}): Promise<Buffer> {
  const meta = [
    { name: 'oci-layout', content: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
    { name: 'index.json', content: opts.index ?? layoutIndex(image) },
  ];
  const blobs = [...image.blobs, ...(opts.extraBlobs ?? new Map())].map(([d, b]) => ({ name: `blobs/sha256/${hexOf(d)}`, content: b }));
  return tarFiles(opts.indexLast ? [...blobs, ...meta] : [...meta, ...blobs]);
}

/**
 * docker-archive bytes like `podman save --format docker-archive`: uncompressed `<diffid>.tar`
 * layers, `<config hex>.json`, legacy `<id>/layer.tar` symlinks, manifest.json last.
 */
export async function dockerArchive(image: BuiltImage, opts: { repoTag?: string; layerOverride?: Map<number, Buffer> } = {}): Promise<Buffer> {
  const files: Array<{ name: string; content?: Buffer; linkname?: string; type?: 'file' | 'symlink' }> = [];
  const layerNames: string[] = [];
  image.layers.forEach((l, i) => {
    const name = `${hexOf(l.diffId)}.tar`;
    layerNames.push(name);
    files.push({ name, content: opts.layerOverride?.get(i) ?? l.tar });
  });
  const configName = `${hexOf(image.configDigest)}.json`;
  files.push({ name: configName, content: image.config });
  image.layers.forEach((l, i) => files.push({ name: `legacy${i}/layer.tar`, type: 'symlink', linkname: `../${layerNames[i]}` }));
  const manifest = [{ Config: configName, RepoTags: [opts.repoTag ?? 'localhost/test:latest'], Layers: image.layers.map((_, i) => `legacy${i}/layer.tar`) }];
  files.push({ name: 'manifest.json', content: Buffer.from(JSON.stringify(manifest)) });
  return tarFiles(files);
}
