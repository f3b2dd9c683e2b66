/**
 * Image sources: builds the ContainerModel of a built image from a registry, an OCI layout
 * directory, an oci-archive / docker-archive file, or the podman / docker image store.
 *
 * Reference syntax (what `smcl image REF` accepts):
 * - `host[:port]/repo:tag`, `repo@sha256:...`, `ubuntu` (docker.io/library/ubuntu:latest), `docker://...`
 * - `oci:DIR[:name]`, `oci-archive:FILE[:name]`, `docker-archive:FILE[:repo:tag]`
 * - `podman:IMAGE` (alias `containers-storage:IMAGE`), `docker:IMAGE`
 */
import { createReadStream, promises as fs } from 'node:fs';
import type { ContainerModel } from '../../model/container-model.js';
import { InputError } from '../../engine/types.js';
import { loadFromArchiveStream } from './archive.js';
import { credentialsFromAuthFiles, type AuthorizationProvider, type Credentials, type CredentialsProvider } from './auth.js';
import { DigestMismatchError, digestOf, parseDigest } from './digest.js';
import { loadFromEngine } from './engine.js';
import type { HttpTimeouts, RetryPolicy } from './http.js';
import { scanLayer, zstdSupported, zstdUnsupported, type LayerScan } from './layer.js';
import { compressionOf, type Descriptor, type Platform } from './manifest.js';
import { OciLayoutStore } from './oci-layout.js';
import { loadFromStore, type ImageStore, type ModelOptions, type ScanContext } from './pipeline.js';
import { formatRegistryReference, parseImageSource, type RegistryReference } from './reference.js';
import { RegistryClient } from './registry.js';

export { RegistryClient, type RegistryClientOptions, type FetchedManifest } from './registry.js';
export type { Credentials, CredentialsProvider, AuthorizationProvider } from './auth.js';
export { credentialsFromAuthFiles, parseWwwAuthenticate } from './auth.js';
export { parseImageSource, parseRegistryReference, type RegistryReference, type ImageSourceSpec } from './reference.js';
export { MediaTypes, parseDocument, selectPlatform, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type Platform } from './manifest.js';
export type { ProgressEvent, ModelOptions } from './pipeline.js';
export { HttpError, type HttpTimeouts, type RetryPolicy } from './http.js';

export interface LoadImageOptions extends ModelOptions {
  /** Registry credentials (both or neither); otherwise auth files are searched. */
  username?: string;
  password?: string;
  /** Credentials or Authorization header provider (e.g. from ECR GetAuthorizationToken). */
  credentials?: Credentials | CredentialsProvider;
  authorization?: AuthorizationProvider;
  /** Plain http to the registry (automatic for localhost / 127.x / ::1). */
  insecure?: boolean;
  /** Overrides the engine binary for `podman:` / `docker:` refs (e.g. a full path). */
  engine?: string;
  timeouts?: Partial<HttpTimeouts>;
  retry?: Partial<RetryPolicy>;
  /** Environment for auth file lookup (tests); default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * The reference's manifest (or index), already fetched elsewhere (ECR BatchGetImage): used
   * instead of GET /manifests; verified against the reference's digest when it has one.
   */
  manifest?: { bytes: Buffer; contentType?: string };
}

/** Registry as an ImageStore. */
class RegistryStore implements ImageStore {
  constructor(
    private readonly client: RegistryClient,
    private readonly ref: RegistryReference,
    private readonly printable: string,
    private readonly prefetched?: { bytes: Buffer; contentType?: string },
  ) {}
  async root(): Promise<{ bytes: Buffer; contentType?: string; digest?: string; what: string }> {
    if (this.prefetched) {
      const what = `manifest of ${this.printable}`;
      let digest = digestOf(this.prefetched.bytes);
      if (this.ref.digest) {
        digest = digestOf(this.prefetched.bytes, parseDigest(this.ref.digest, `${what} digest`).algorithm);
        if (digest !== this.ref.digest) throw new DigestMismatchError(what, this.ref.digest, digest);
      }
      return { bytes: this.prefetched.bytes, contentType: this.prefetched.contentType, digest, what };
    }
    const m = await this.client.getManifest(this.ref.repository, this.ref.digest ?? this.ref.tag!);
    return { bytes: m.bytes, contentType: m.contentType, digest: m.digest, what: `manifest of ${this.printable}` };
  }
  async document(desc: Descriptor): Promise<Buffer> {
    return (await this.client.getManifest(this.ref.repository, desc.digest)).bytes;
  }
  async config(desc: Descriptor): Promise<Buffer> {
    return this.client.getBlobBytes(this.ref.repository, desc.digest, 16 * 1024 * 1024, desc.size);
  }
  async layer(desc: Descriptor, what: string, ctx: ScanContext): Promise<LayerScan> {
    const compression = compressionOf(desc.mediaType);
    if (compression === 'zstd' && !zstdSupported) throw zstdUnsupported(what);
    return scanLayer(await this.client.getBlob(this.ref.repository, desc.digest, { size: desc.size }), { ...ctx, what, compression });
  }
}

function withRef(ref: string, err: unknown): unknown {
  if (err instanceof InputError) {
    if (err.message.includes(ref)) return err;
    return new InputError(`${ref}: ${err.message}`, { cause: err.cause ?? err });
  }
  return err;
}

/**
 * Builds the ContainerModel of a built image. Only files matching `wantedGlobs` keep their
 * content (up to 1 MiB each); every other file is metadata only. All problems with the input
 * (unreachable registry, auth, missing image, corrupt or tampered data) are InputErrors that
 * name `ref` (and the layer where relevant).
 */
export async function loadImage(ref: string, opts: LoadImageOptions = {}): Promise<ContainerModel> {
  const ctrl = new AbortController();
  const onAbort = (): void => ctrl.abort(opts.signal!.reason);
  if (opts.signal?.aborted) throw new InputError(`${ref}: aborted`);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const mopts: LoadImageOptions = { ...opts, signal: ctrl.signal };
  try {
    const spec = parseImageSource(ref);
    switch (spec.kind) {
      case 'registry': {
        if ((opts.username === undefined) !== (opts.password === undefined)) throw new InputError('give both username and password, or neither');
        const r = spec.ref;
        const credentials: Credentials | CredentialsProvider | undefined =
          opts.credentials ??
          (opts.username !== undefined ? { username: opts.username, password: opts.password! } : () => credentialsFromAuthFiles(r.domain, r.repository, opts.env ?? process.env));
        const client = new RegistryClient(r.registry, {
          insecure: opts.insecure,
          credentials,
          authorization: opts.authorization,
          timeouts: opts.timeouts,
          retry: opts.retry,
          signal: ctrl.signal,
        });
        return await loadFromStore(new RegistryStore(client, r, ref, opts.manifest), ref, { ...mopts, retries: opts.retry?.retries ?? 2 });
      }
      case 'oci-dir': {
        const st = await fs.stat(spec.path).catch(() => undefined);
        if (!st?.isDirectory()) throw new InputError(`${ref}: ${spec.path} is not a directory`);
        return await loadFromStore(new OciLayoutStore(spec.path, ref, spec.name), ref, { ...mopts, retries: 0 });
      }
      case 'oci-archive':
      case 'docker-archive': {
        const st = await fs.stat(spec.path).catch(() => undefined);
        if (!st?.isFile()) throw new InputError(`${ref}: ${spec.path} is not a file`);
        const stream = createReadStream(spec.path, { highWaterMark: 1024 * 1024 });
        try {
          return await loadFromArchiveStream(stream, ref, { ...mopts, format: spec.kind, name: spec.name });
        } finally {
          stream.destroy();
        }
      }
      case 'engine':
        return await loadFromEngine(spec.engine, spec.image, ref, { ...mopts, engineBinary: opts.engine });
    }
    throw new InputError(`${ref}: unsupported image source`);
  } catch (err) {
    if (opts.signal?.aborted) throw new InputError(`${ref}: aborted`, { cause: err });
    throw withRef(ref, err);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    ctrl.abort(new Error('image load finished'));
  }
}

/** Printable canonical form of a registry reference (`docker.io/library/ubuntu:latest`). */
export function canonicalReference(ref: string): string {
  const spec = parseImageSource(ref);
  return spec.kind === 'registry' ? formatRegistryReference(spec.ref) : ref;
}

export type { Platform as ImagePlatform };
