import { InputError } from '../../engine/types.js';
import { parseDigest } from './digest.js';

export const MediaTypes = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
} as const;

export const MANIFEST_ACCEPT = [MediaTypes.ociIndex, MediaTypes.dockerManifestList, MediaTypes.ociManifest, MediaTypes.dockerManifest].join(', ');

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: Platform & { 'os.version'?: string };
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface ImageIndex {
  schemaVersion?: number;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion?: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** The image config blob (OCI image-spec config / docker image JSON), only the fields we read. */
export interface ImageConfig {
  os?: string;
  architecture?: string;
  variant?: string;
  config?: {
    User?: string;
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, unknown> | null;
    Healthcheck?: { Test?: string[] | null } | null;
  } | null;
  rootfs?: { type?: string; diff_ids?: string[] };
  history?: Array<{ created_by?: string; empty_layer?: boolean; comment?: string }>;
}

export type ParsedDocument = { kind: 'index'; index: ImageIndex; mediaType: string } | { kind: 'manifest'; manifest: ImageManifest; mediaType: string };

export function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw new InputError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Classifies a manifest-ish document by its media type (from the Content-Type header or the
 * document's own `mediaType`), falling back to its shape, and validates what we rely on.
 */
export function parseDocument(bytes: Buffer, headerType: string | undefined, what: string): ParsedDocument {
  const json = parseJson<Record<string, unknown>>(bytes, what);
  if (!json || typeof json !== 'object') throw new InputError(`${what} is not a JSON object`);
  const declared = typeof json.mediaType === 'string' ? json.mediaType : undefined;
  const ct = headerType?.split(';')[0].trim();
  const mediaType = declared ?? (ct && ct !== 'application/json' && ct !== 'application/octet-stream' ? ct : undefined) ?? '';
  if (mediaType === MediaTypes.dockerSchema1 || mediaType === MediaTypes.dockerSchema1Signed || json.schemaVersion === 1) {
    throw new InputError(`${what} uses the deprecated docker schema 1 manifest format, which is not supported (re-push the image with a current client)`);
  }
  const isIndex = mediaType === MediaTypes.ociIndex || mediaType === MediaTypes.dockerManifestList || (!mediaType && Array.isArray(json.manifests));
  if (isIndex) {
    if (!Array.isArray(json.manifests)) throw new InputError(`${what}: index without a "manifests" list`);
    for (const d of json.manifests as Descriptor[]) parseDigest(d?.digest, `${what}: manifest digest`);
    return { kind: 'index', index: json as unknown as ImageIndex, mediaType: mediaType || MediaTypes.ociIndex };
  }
  const isManifest = mediaType === MediaTypes.ociManifest || mediaType === MediaTypes.dockerManifest || (!mediaType && json.config && Array.isArray(json.layers));
  if (!isManifest) throw new InputError(`${what} has unsupported media type "${mediaType || 'none'}"`);
  const m = json as unknown as ImageManifest;
  if (!m.config || !Array.isArray(m.layers)) throw new InputError(`${what}: manifest without config or layers`);
  parseDigest(m.config.digest, `${what}: config digest`);
  for (const l of m.layers) parseDigest(l?.digest, `${what}: layer digest`);
  return { kind: 'manifest', manifest: m, mediaType: mediaType || MediaTypes.ociManifest };
}

export function parsePlatform(s: string): Platform {
  const parts = s.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !p)) throw new InputError(`invalid platform "${s}" (expected os/arch[/variant], e.g. linux/amd64)`);
  return { os: parts[0], architecture: parts[1], variant: parts[2] };
}

export function formatPlatform(p: Partial<Platform> | undefined): string {
  if (!p) return 'unknown';
  return [p.os ?? '?', p.architecture ?? '?', p.variant].filter(Boolean).join('/');
}

function normVariant(arch: string, variant: string | undefined): string | undefined {
  if (arch === 'arm64' && (variant === undefined || variant === 'v8')) return 'v8';
  if (arch === 'arm' && variant === undefined) return 'v7';
  return variant;
}

/**
 * Picks the manifest for `want` from an index. Attestation manifests (platform unknown/unknown)
 * are never picked. A wanted variant must match; without one, arm64 ≡ arm64/v8 and arm ≡ arm/v7.
 */
export function selectPlatform(index: ImageIndex, want: Platform, what: string): Descriptor {
  const candidates = index.manifests.filter((d) => d.platform && d.platform.os !== 'unknown' && d.platform.architecture !== 'unknown');
  const match = candidates.find(
    (d) =>
      d.platform!.os === want.os &&
      d.platform!.architecture === want.architecture &&
      (want.variant === undefined && want.architecture !== 'arm64' && want.architecture !== 'arm'
        ? true
        : normVariant(want.architecture, want.variant) === normVariant(d.platform!.architecture, d.platform!.variant)),
  );
  if (match) return match;
  const available = [...new Set(candidates.map((d) => formatPlatform(d.platform)))];
  throw new InputError(`${what} has no image for platform ${formatPlatform(want)}; available: ${available.length ? available.join(', ') : 'none'} (choose one with --platform)`);
}

/** How a layer blob is compressed, from its media type; undefined when the type does not say. */
export function compressionOf(mediaType: string | undefined): 'gzip' | 'zstd' | 'none' | undefined {
  if (!mediaType) return undefined;
  if (/zstd/.test(mediaType)) return 'zstd';
  if (/gzip/.test(mediaType)) return 'gzip';
  if (/\.tar$/.test(mediaType) || mediaType === 'application/vnd.docker.image.rootfs.diff.tar') return 'none';
  return undefined;
}
