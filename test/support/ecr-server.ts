/**
 * A small Amazon ECR API server for tests, on 127.0.0.1: it speaks ECR's JSON 1.1 protocol
 * (`X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Operation>`) so that the real AWS SDK
 * client talks to it through `endpoint` / `AWS_ENDPOINT_URL_ECR`, and answers from a REAL
 * registry (Debian's docker-registry from test/support/registry.ts): repositories are the
 * registry's catalog, images its tags grouped by manifest digest, manifests its manifests.
 *
 * Operations: DescribeRepositories, DescribeImages, ListImages, BatchGetImage,
 * GetAuthorizationToken. Requests must carry a well-formed SigV4 Authorization header (the
 * signature itself is not verified). Errors are `{"__type","message"}` with ECR's HTTP status.
 *
 * Knobs: every Nth call throttled (ThrottlingException), a page size cap, denied repositories
 * (AccessDeniedException), pushed-at dates, tags deleted from the registry right after they
 * were listed (a real "deleted between list and fetch"), and an optional authenticating proxy
 * in front of the registry that accepts only `Basic base64(AWS:<password>)`.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EcrServerOptions {
  /** The real registry behind the API: `http://127.0.0.1:<port>`. */
  registryUrl: string;
  accountId?: string;
  region?: string;
  /** Largest page DescribeRepositories / DescribeImages / ListImages return (maxResults is capped to it). */
  pageSize?: number;
  /** Every Nth API call (over all operations) answers 400 ThrottlingException. 0 = never. */
  throttleEvery?: number;
  /** Repositories whose images cannot be read: DescribeImages, ListImages, BatchGetImage answer AccessDeniedException. */
  deny?: string[];
  /** Pushed-at dates by `repo:tag` or `repo@digest`; others get the time the server first saw the digest. */
  pushedAt?: Record<string, Date | string>;
  /** `repo:tag`s deleted from the registry (by digest) right after a DescribeImages answer lists them. */
  deleteAfterList?: string[];
  /** proxyEndpoint returned by GetAuthorizationToken instead of the registry (or the auth proxy). */
  proxyEndpoint?: string;
  /** Put a proxy in front of the registry that demands `Authorization: Basic base64(AWS:<password>)`. */
  authProxy?: boolean;
  /**
   * Manifests without a tag, by repository (digests pushed by digest, see `pushUntaggedVariant`):
   * a registry's tag list cannot show them, ECR's DescribeImages does (imageTags empty).
   */
  untagged?: Record<string, string[]>;
}

export interface EcrCall {
  operation: string;
  status: number;
  repository?: string;
  imageIds?: number;
  errorType?: string;
  message?: string;
}

export interface EcrServer {
  /** `http://127.0.0.1:<port>`: give it as endpoint / AWS_ENDPOINT_URL_ECR. */
  url: string;
  /** What GetAuthorizationToken returns as proxyEndpoint. */
  proxyEndpoint: string;
  /** Registry password inside the token (`AWS:<password>`). */
  password: string;
  accountId: string;
  calls: EcrCall[];
  /** Registry requests the auth proxy refused (wrong or missing Authorization). */
  refusedRegistryRequests: number;
  /** `GET /v2/...` of every registry request the auth proxy let through. */
  registryRequests: string[];
  stop(): Promise<void>;
}

interface ImageDetail {
  registryId: string;
  repositoryName: string;
  imageDigest: string;
  imageTags: string[];
  imagePushedAt: number;
  imageSizeInBytes: number;
  imageManifestMediaType?: string;
  artifactMediaType?: string;
}

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';
const ALL_MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/vnd.docker.distribution.manifest.v1+json',
];
/** `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ecr/aws4_request, SignedHeaders=a;b, Signature=<64 hex>` */
const SIGV4 = /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

function pageOf<T>(items: T[], body: { nextToken?: string; maxResults?: number }, cap: number): { page: T[]; nextToken?: string } {
  const start = body.nextToken ? Number.parseInt(Buffer.from(body.nextToken, 'base64').toString('utf8').replace(/^offset:/, ''), 10) : 0;
  if (!Number.isInteger(start) || start < 0 || start > items.length) throw new ApiError('InvalidParameterException', 'Invalid parameter at \'nextToken\'');
  if (body.maxResults !== undefined && (body.maxResults < 1 || body.maxResults > 1000)) throw new ApiError('InvalidParameterException', 'Invalid parameter at \'maxResults\' failed to satisfy constraint: \'Member must have value between 1 and 1000\'');
  const size = Math.min(body.maxResults ?? 1000, cap);
  const page = items.slice(start, start + size);
  const next = start + size < items.length ? Buffer.from(`offset:${start + size}`).toString('base64') : undefined;
  return { page, nextToken: next };
}

export async function startEcrServer(opts: EcrServerOptions): Promise<EcrServer> {
  const accountId = opts.accountId ?? '123456789012';
  const region = opts.region ?? 'us-east-1';
  const registryUrl = opts.registryUrl.replace(/\/+$/, '');
  const password = randomBytes(18).toString('base64url');
  const deny = new Set(opts.deny ?? []);
  const deleteAfterList = new Set(opts.deleteAfterList ?? []);
  const firstSeen = new Map<string, number>();
  const calls: EcrCall[] = [];
  let callCount = 0;
  let refused = 0;
  const registryRequests: string[] = [];
  /** Per-repository snapshot of image details, taken on the first page of a listing. */
  const snapshots = new Map<string, ImageDetail[]>();

  async function registryJson<T>(path: string, accept?: string): Promise<{ status: number; json?: T; headers: Headers; text: string }> {
    const res = await fetch(`${registryUrl}${path}`, { headers: accept ? { accept } : {} });
    const text = await res.text();
    let json: T | undefined;
    try {
      json = JSON.parse(text) as T;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, headers: res.headers, text };
  }

  async function catalog(): Promise<string[]> {
    const r = await registryJson<{ repositories?: string[] }>('/v2/_catalog?n=1000');
    if (r.status !== 200) throw new ApiError('ServerException', `registry catalog: HTTP ${r.status}`, 500);
    const repos: string[] = [];
    // The catalog keeps repositories whose tags were all deleted: ECR lists them too (empty).
    for (const name of r.json?.repositories ?? []) repos.push(name);
    return repos.sort();
  }

  /** Manifests by `repo@digest`: content-addressed, so immutable (dropped when the server deletes one). */
  const manifestCache = new Map<string, { digest: string; mediaType: string; text: string }>();
  async function manifestOf(repo: string, reference: string, accept: string[] = ALL_MANIFEST_TYPES): Promise<{ digest: string; mediaType: string; text: string } | undefined> {
    const cached = reference.startsWith('sha256:') ? manifestCache.get(`${repo}@${reference}`) : undefined;
    if (cached && accept.includes(cached.mediaType)) return cached;
    const found = await fetchManifest(repo, reference, accept);
    if (found?.digest) manifestCache.set(`${repo}@${found.digest}`, found);
    return found;
  }

  async function fetchManifest(repo: string, reference: string, accept: string[]): Promise<{ digest: string; mediaType: string; text: string } | undefined> {
    const r = await registryJson<Record<string, unknown>>(`/v2/${repo}/manifests/${encodeURIComponent(reference)}`, accept.join(', '));
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw new ApiError('ServerException', `registry manifest ${repo}:${reference}: HTTP ${r.status}`, 500);
    const digest = r.headers.get('docker-content-digest') ?? '';
    const mediaType = (r.headers.get('content-type') ?? '').split(';')[0].trim();
    return { digest, mediaType, text: r.text };
  }

  function pushedAtOf(repo: string, digest: string, tags: string[]): number {
    const given = opts.pushedAt ?? {};
    for (const key of [`${repo}@${digest}`, ...tags.map((t) => `${repo}:${t}`)]) {
      if (given[key] !== undefined) return new Date(given[key]).getTime() / 1000;
    }
    const k = `${repo}@${digest}`;
    if (!firstSeen.has(k)) firstSeen.set(k, Date.now() / 1000);
    return firstSeen.get(k)!;
  }

  async function imagesOf(repo: string): Promise<ImageDetail[]> {
    const r = await registryJson<{ tags?: string[] | null }>(`/v2/${repo}/tags/list`);
    if (r.status === 404) return [];
    if (r.status !== 200) throw new ApiError('ServerException', `registry tags of ${repo}: HTTP ${r.status}`, 500);
    const tags = [...(r.json?.tags ?? [])].sort();
    const byDigest = new Map<string, ImageDetail>();
    const found = await Promise.all(tags.map(async (t) => ({ tag: t, m: await manifestOf(repo, t) })));
    for (const { tag, m } of found) {
      if (!m) continue; // deleted meanwhile
      let d = byDigest.get(m.digest);
      if (!d) {
        let size = 0;
        let artifactMediaType: string | undefined;
        try {
          const j = JSON.parse(m.text) as { config?: { mediaType?: string; size?: number }; layers?: Array<{ size?: number }> };
          size = (j.layers ?? []).reduce((n, l) => n + (l.size ?? 0), 0);
          artifactMediaType = j.config?.mediaType;
        } catch {
          /* not JSON */
        }
        d = { registryId: accountId, repositoryName: repo, imageDigest: m.digest, imageTags: [], imagePushedAt: 0, imageSizeInBytes: size, imageManifestMediaType: m.mediaType, artifactMediaType };
        byDigest.set(m.digest, d);
      }
      d.imageTags.push(tag);
    }
    for (const digest of opts.untagged?.[repo] ?? []) {
      if (byDigest.has(digest)) continue;
      const m = await manifestOf(repo, digest);
      if (m) byDigest.set(digest, { registryId: accountId, repositoryName: repo, imageDigest: digest, imageTags: [], imagePushedAt: 0, imageSizeInBytes: 0, imageManifestMediaType: m.mediaType });
    }
    const out = [...byDigest.values()];
    for (const d of out) d.imagePushedAt = pushedAtOf(repo, d.imageDigest, d.imageTags);
    return out.sort((a, b) => a.imageDigest.localeCompare(b.imageDigest));
  }

  async function requireRepository(body: { repositoryName?: string; registryId?: string }): Promise<string> {
    const repo = body.repositoryName;
    if (!repo) throw new ApiError('InvalidParameterException', "1 validation error detected: Value null at 'repositoryName' failed to satisfy constraint: Member must not be null");
    if (body.registryId && body.registryId !== accountId) throw new ApiError('AccessDeniedException', `User is not authorized to access registry ${body.registryId}`);
    if (!(await catalog()).includes(repo)) throw new ApiError('RepositoryNotFoundException', `The repository with name '${repo}' does not exist in the registry with id '${accountId}'`);
    if (deny.has(repo)) {
      throw new ApiError('AccessDeniedException', `User: arn:aws:iam::${accountId}:user/test is not authorized to perform: ecr:DescribeImages on resource: arn:aws:ecr:${region}:${accountId}:repository/${repo} because no identity-based policy allows the ecr:DescribeImages action`);
    }
    return repo;
  }

  async function deleteListed(details: ImageDetail[]): Promise<void> {
    for (const d of details)
      for (const t of d.imageTags) {
        if (deleteAfterList.has(`${d.repositoryName}:${t}`)) {
          deleteAfterList.delete(`${d.repositoryName}:${t}`);
          manifestCache.delete(`${d.repositoryName}@${d.imageDigest}`);
          const res = await fetch(`${registryUrl}/v2/${d.repositoryName}/manifests/${d.imageDigest}`, { method: 'DELETE' });
          await res.arrayBuffer();
          if (res.status !== 202) throw new Error(`deleting ${d.repositoryName}@${d.imageDigest}: HTTP ${res.status}`);
        }
      }
  }

  const cap = opts.pageSize ?? 1000;
  const operations: Record<string, (body: Record<string, unknown>, call: EcrCall) => Promise<unknown>> = {
    async DescribeRepositories(body) {
      if (body.registryId && body.registryId !== accountId) throw new ApiError('AccessDeniedException', `User is not authorized to access registry ${String(body.registryId)}`);
      const all = await catalog();
      const names = body.repositoryNames as string[] | undefined;
      let list = all;
      if (names?.length) {
        const missing = names.find((n) => !all.includes(n));
        if (missing) throw new ApiError('RepositoryNotFoundException', `The repository with name '${missing}' does not exist in the registry with id '${accountId}'`);
        list = names;
      }
      const { page, nextToken } = pageOf(list, body as { nextToken?: string; maxResults?: number }, cap);
      return {
        repositories: page.map((name) => ({
          repositoryArn: `arn:aws:ecr:${region}:${accountId}:repository/${name}`,
          registryId: accountId,
          repositoryName: name,
          repositoryUri: `${accountId}.dkr.ecr.${region}.amazonaws.com/${name}`,
          createdAt: 1767225600,
          imageTagMutability: 'MUTABLE',
        })),
        nextToken,
      };
    },
    async DescribeImages(body, call) {
      const repo = await requireRepository(body);
      call.repository = repo;
      if (!body.nextToken || !snapshots.has(repo)) snapshots.set(repo, await imagesOf(repo));
      let details = snapshots.get(repo)!;
      const status = (body.filter as { tagStatus?: string } | undefined)?.tagStatus ?? 'ANY';
      if (status === 'UNTAGGED') details = details.filter((d) => d.imageTags.length === 0);
      const ids = body.imageIds as Array<{ imageDigest?: string; imageTag?: string }> | undefined;
      if (ids?.length) {
        const picked = ids.map((id) => details.find((d) => (id.imageDigest ? d.imageDigest === id.imageDigest : d.imageTags.includes(id.imageTag ?? ''))));
        const missing = ids.findIndex((_, i) => !picked[i]);
        if (missing >= 0) throw new ApiError('ImageNotFoundException', `The image with imageId {imageDigest:'${ids[missing].imageDigest ?? 'null'}', imageTag:'${ids[missing].imageTag ?? 'null'}'} does not exist within the repository with name '${repo}' in the registry with id '${accountId}'`);
        return { imageDetails: picked };
      }
      const { page, nextToken } = pageOf(details, body as { nextToken?: string; maxResults?: number }, cap);
      await deleteListed(page);
      return { imageDetails: page, nextToken };
    },
    async ListImages(body, call) {
      const repo = await requireRepository(body);
      call.repository = repo;
      if (!body.nextToken || !snapshots.has(repo)) snapshots.set(repo, await imagesOf(repo));
      const ids = snapshots.get(repo)!.flatMap((d) => d.imageTags.map((t) => ({ imageDigest: d.imageDigest, imageTag: t })));
      const { page, nextToken } = pageOf(ids, body as { nextToken?: string; maxResults?: number }, cap);
      return { imageIds: page, nextToken };
    },
    async BatchGetImage(body, call) {
      const repo = await requireRepository(body);
      call.repository = repo;
      const ids = (body.imageIds as Array<{ imageDigest?: string; imageTag?: string }> | undefined) ?? [];
      call.imageIds = ids.length;
      if (ids.length < 1 || ids.length > 100) throw new ApiError('InvalidParameterException', "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length less than or equal to 100, Member must have length greater than or equal to 1'");
      const accepted = (body.acceptedMediaTypes as string[] | undefined) ?? ['application/vnd.docker.distribution.manifest.v1+json'];
      const answers = await Promise.all(
        ids.map(async (id): Promise<{ image?: unknown; failure?: unknown }> => {
          if (!id.imageDigest && !id.imageTag) return { failure: { imageId: id, failureCode: 'MissingDigestAndTag', failureReason: 'Requested image is missing both digest and tag' } };
          const m = await manifestOf(repo, id.imageDigest ?? id.imageTag!, accepted);
          if (!m) return { failure: { imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' } };
          if (id.imageDigest && id.imageTag) {
            const byTag = await manifestOf(repo, id.imageTag, accepted);
            if (byTag?.digest !== id.imageDigest) return { failure: { imageId: id, failureCode: 'ImageTagDoesNotMatchDigest', failureReason: 'Requested image tag does not match requested image digest' } };
          }
          return { image: { registryId: accountId, repositoryName: repo, imageId: { imageDigest: m.digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) }, imageManifest: m.text, imageManifestMediaType: m.mediaType } };
        }),
      );
      const images = answers.flatMap((a) => (a.image ? [a.image] : []));
      const failures = answers.flatMap((a) => (a.failure ? [a.failure] : []));
      return { images, failures };
    },
    async GetAuthorizationToken() {
      return {
        authorizationData: [
          {
            authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
            expiresAt: Math.floor(Date.now() / 1000) + 12 * 3600,
            proxyEndpoint: server.proxyEndpoint,
          },
        ],
      };
    },
  };

  function send(res: http.ServerResponse, status: number, body: unknown, errorType?: string): void {
    const text = JSON.stringify(body);
    const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomBytes(16).toString('hex'), 'content-length': String(Buffer.byteLength(text)) };
    if (errorType) headers['x-amzn-errortype'] = errorType;
    res.writeHead(status, headers);
    res.end(text);
  }

  const api = http.createServer((req, res) => {
    void (async () => {
      const call: EcrCall = { operation: '?', status: 0 };
      try {
        if (req.method !== 'POST') throw new ApiError('UnknownOperationException', `${req.method} is not supported`, 404);
        const target = String(req.headers['x-amz-target'] ?? '');
        if (!target.startsWith(TARGET_PREFIX)) throw new ApiError('UnknownOperationException', `bad X-Amz-Target "${target}"`);
        call.operation = target.slice(TARGET_PREFIX.length);
        const ctype = String(req.headers['content-type'] ?? '');
        if (ctype.split(';')[0].trim() !== 'application/x-amz-json-1.1') throw new ApiError('SerializationException', `Content-Type must be application/x-amz-json-1.1, not "${ctype}"`);
        const auth = String(req.headers.authorization ?? '');
        if (!auth) throw new ApiError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
        const m = SIGV4.exec(auth);
        if (!m) throw new ApiError('IncompleteSignatureException', `Authorization header is not a well-formed AWS Signature Version 4: ${auth.slice(0, 60)}`);
        if (m[4] !== 'ecr') throw new ApiError('InvalidSignatureException', `Credential should be scoped to correct service: 'ecr', not '${m[4]}'`);
        if (m[3] !== region) throw new ApiError('InvalidSignatureException', `Credential should be scoped to a valid region, not '${m[3]}'`);
        if (!req.headers['x-amz-date'] || !m[5].split(';').includes('x-amz-target')) throw new ApiError('IncompleteSignatureException', 'X-Amz-Date and the signed X-Amz-Target header are required');
        const raw = await readBody(req);
        let body: Record<string, unknown>;
        try {
          body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
        } catch {
          throw new ApiError('SerializationException', 'Request body is not JSON');
        }
        const op = operations[call.operation];
        if (!op) throw new ApiError('UnknownOperationException', `Unknown operation ${call.operation}`);
        callCount++;
        if (opts.throttleEvery && callCount % opts.throttleEvery === 0) throw new ApiError('ThrottlingException', 'Rate exceeded');
        const out = await op(body, call);
        call.status = 200;
        send(res, 200, out);
      } catch (err) {
        const e = err instanceof ApiError ? err : new ApiError('ServerException', (err as Error).message, 500);
        call.status = e.status;
        call.errorType = e.type;
        call.message = e.message;
        send(res, e.status, { __type: e.type, message: e.message }, e.type);
      } finally {
        calls.push(call);
      }
    })();
  });

  // Optional authenticating proxy in front of the registry.
  let proxy: http.Server | undefined;
  if (opts.authProxy) {
    const expected = `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}`;
    const target = new URL(registryUrl);
    proxy = http.createServer((req, res) => {
      if (req.headers.authorization !== expected) {
        refused++;
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': `Basic realm="${registryUrl}",service="ecr.amazonaws.com"` });
        res.end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'Not Authorized' }] }));
        return;
      }
      registryRequests.push(`${req.method} ${req.url}`);
      const headers = { ...req.headers, host: target.host };
      delete headers.authorization;
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      });
      up.on('error', (e) => {
        res.writeHead(502);
        res.end(e.message);
      });
      req.pipe(up);
    });
  }

  const listen = (s: http.Server): Promise<number> =>
    new Promise((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port));
    });
  const apiPort = await listen(api);
  const proxyPort = proxy ? await listen(proxy) : undefined;
  const close = (s: http.Server): Promise<void> =>
    new Promise((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    });

  const server: EcrServer = {
    url: `http://127.0.0.1:${apiPort}`,
    proxyEndpoint: opts.proxyEndpoint ?? (proxyPort ? `http://127.0.0.1:${proxyPort}` : registryUrl),
    password,
    accountId,
    calls,
    get refusedRegistryRequests() {
      return refused;
    },
    registryRequests,
    async stop() {
      await close(api);
      if (proxy) await close(proxy);
    },
  };
  return server;
}

// ---- Seeding helpers: registry API calls a tool like crane/skopeo makes (tag, mutate config, push artifact).

function sha256(b: Buffer): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}

async function putBlob(registryUrl: string, repo: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const head = await fetch(`${registryUrl}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  if (head.status === 200) return digest;
  const start = await fetch(`${registryUrl}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await start.arrayBuffer();
  if (start.status !== 202) throw new Error(`blob upload to ${repo}: HTTP ${start.status}`);
  const loc = new URL(start.headers.get('location')!, registryUrl);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(bytes) });
  await put.arrayBuffer();
  if (put.status !== 201) throw new Error(`blob upload to ${repo}: HTTP ${put.status}`);
  return digest;
}

async function getManifest(registryUrl: string, repo: string, ref: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
  const res = await fetch(`${registryUrl}/v2/${repo}/manifests/${ref}`, { headers: { accept: ALL_MANIFEST_TYPES.join(', ') } });
  const bytes = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`manifest ${repo}:${ref}: HTTP ${res.status}`);
  return { bytes, mediaType: (res.headers.get('content-type') ?? '').split(';')[0], digest: res.headers.get('docker-content-digest') ?? sha256(bytes) };
}

async function putManifest(registryUrl: string, repo: string, tag: string, bytes: Buffer, mediaType: string): Promise<string> {
  const res = await fetch(`${registryUrl}/v2/${repo}/manifests/${tag}`, { method: 'PUT', headers: { 'content-type': mediaType }, body: new Uint8Array(bytes) });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`PUT manifest ${repo}:${tag}: HTTP ${res.status}: ${text}`);
  return res.headers.get('docker-content-digest') ?? sha256(bytes);
}

/** Adds `toTags` to the manifest `repo:fromTag` (same digest), as `crane tag` does. */
export async function retag(registryUrl: string, repo: string, fromTag: string, ...toTags: string[]): Promise<string> {
  const m = await getManifest(registryUrl, repo, fromTag);
  for (const t of toTags) await putManifest(registryUrl, repo, t, m.bytes, m.mediaType);
  return m.digest;
}

/**
 * Pushes `repo:toTag` as a copy of `repo:fromTag` whose config has `labels` added (a new config
 * blob and manifest: a distinct digest sharing the layers), as `crane mutate --label` does.
 */
export async function pushVariant(registryUrl: string, repo: string, fromTag: string, toTag: string, labels: Record<string, string>): Promise<string> {
  const v = await variantManifest(registryUrl, repo, fromTag, labels);
  return putManifest(registryUrl, repo, toTag, v.bytes, v.mediaType);
}

/** Like `pushVariant`, but pushed by its digest only: an image without a tag. */
export async function pushUntaggedVariant(registryUrl: string, repo: string, fromTag: string, labels: Record<string, string>): Promise<string> {
  const v = await variantManifest(registryUrl, repo, fromTag, labels);
  return putManifest(registryUrl, repo, sha256(v.bytes), v.bytes, v.mediaType);
}

async function variantManifest(registryUrl: string, repo: string, fromTag: string, labels: Record<string, string>): Promise<{ bytes: Buffer; mediaType: string }> {
  const m = await getManifest(registryUrl, repo, fromTag);
  const manifest = JSON.parse(m.bytes.toString('utf8')) as { config: { digest: string; size: number } };
  const cres = await fetch(`${registryUrl}/v2/${repo}/blobs/${manifest.config.digest}`);
  const config = JSON.parse(Buffer.from(await cres.arrayBuffer()).toString('utf8')) as { config?: { Labels?: Record<string, string> } };
  config.config = { ...config.config, Labels: { ...config.config?.Labels, ...labels } };
  const cbytes = Buffer.from(JSON.stringify(config));
  manifest.config = { ...manifest.config, digest: await putBlob(registryUrl, repo, cbytes), size: cbytes.length };
  return { bytes: Buffer.from(JSON.stringify(manifest)), mediaType: m.mediaType };
}

/** Pushes a non-image OCI artifact (a Helm-chart-like config media type) as `repo:tag`. */
export async function pushArtifact(registryUrl: string, repo: string, tag: string): Promise<string> {
  const config = Buffer.from(JSON.stringify({ name: 'chart', version: '0.1.0', apiVersion: 'v2' }));
  const layer = Buffer.from('not a tarball: chart contents\n');
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: await putBlob(registryUrl, repo, config), size: config.length },
    layers: [{ mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', digest: await putBlob(registryUrl, repo, layer), size: layer.length }],
  };
  return putManifest(registryUrl, repo, tag, Buffer.from(JSON.stringify(manifest)), manifest.mediaType);
}

/**
 * Pushes a minimal image (one small layer, a config with `labels`) as `repo:tag` without podman:
 * for the throughput benchmark, which needs many distinct digests fast.
 */
export async function pushSyntheticImage(registryUrl: string, repo: string, tag: string, labels: Record<string, string>, layer: { gz: Buffer; diffId: string }): Promise<string> {
  const layerDigest = await putBlob(registryUrl, repo, layer.gz);
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: labels, Entrypoint: ['/usr/local/bin/serve'] }, rootfs: { type: 'layers', diff_ids: [layer.diffId] } }),
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await putBlob(registryUrl, repo, config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.gz.length }],
  };
  return putManifest(registryUrl, repo, tag, Buffer.from(JSON.stringify(manifest)), manifest.mediaType);
}
