/**
 * The AWS side of `smcl ecr`: the real ECR client of the AWS SDK (default credential chain and
 * region resolution, adaptive retry for throttling), listing with the SDK's paginators,
 * manifests by BatchGetImage in batches of 100, and the registry Authorization header from
 * GetAuthorizationToken. Every failure becomes an EcrError with a one-line message.
 */
import {
  BatchGetImageCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  paginateDescribeImages,
  paginateDescribeRepositories,
  type ImageDetail,
  type Repository,
} from '@aws-sdk/client-ecr';

/** Manifest media types we ask BatchGetImage for: Docker v2 and OCI, single and multi-platform. */
export const ACCEPTED_MEDIA_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
];

/** Config media types of container images (anything else is an artifact: Helm chart, signature, SBOM...). */
export const IMAGE_CONFIG_TYPES = ['application/vnd.docker.container.image.v1+json', 'application/vnd.oci.image.config.v1+json'];

/** The API limit of imageIds per BatchGetImage call. */
export const BATCH_GET_LIMIT = 100;

export interface EcrClientOptions {
  region?: string;
  endpointUrl?: string;
  /** Attempts per API call (first try included), with the SDK's adaptive retry. */
  maxAttempts?: number;
  /** Page size asked of the paginators (ECR allows 1-1000). */
  pageSize?: number;
}

/** A failed AWS call, with a one-line message and the AWS error name when there is one. */
export class EcrError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EcrError';
  }
}

/** Turns an SDK error into a short line, naming what was being done. */
export function describeAwsError(err: unknown, doing: string): EcrError {
  if (err instanceof EcrError) return err;
  const e = err as Error & { name?: string; code?: string; $metadata?: { httpStatusCode?: number; attempts?: number }; $fault?: string };
  const name = e?.name ?? 'Error';
  const msg = oneLine(e?.message ?? String(err));
  const attempts = e?.$metadata?.attempts && e.$metadata.attempts > 1 ? ` after ${e.$metadata.attempts} attempts` : '';
  if (name === 'CredentialsProviderError' || /Could not load credentials|credential/i.test(msg) && !e?.$metadata?.httpStatusCode) {
    return new EcrError(`${doing}: no AWS credentials found (set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run aws sso login): ${msg}`, 'NoCredentials', { cause: err });
  }
  if (/Region is missing/i.test(msg)) return new EcrError(`${doing}: no AWS region (set AWS_REGION or pass --region)`, 'NoRegion', { cause: err });
  const netCode = e?.code ?? (e?.cause as { code?: string } | undefined)?.code;
  if (netCode && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH)$/.test(netCode)) {
    return new EcrError(`${doing}: cannot reach the ECR API (${netCode}: ${msg})`, netCode, { cause: err });
  }
  if (name === 'TimeoutError' || name === 'RequestTimeout') return new EcrError(`${doing}: the ECR API timed out${attempts}`, 'Timeout', { cause: err });
  if (e?.$metadata?.httpStatusCode || e?.$fault) return new EcrError(`${doing}: ${name}${attempts}: ${msg}`, name, { cause: err });
  return new EcrError(`${doing}: ${msg}`, netCode ?? name, { cause: err });
}

export function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

export function createEcrClient(opts: EcrClientOptions): ECRClient {
  // The SDK warns on every run under Node 20 about its releases of 2027: not actionable for smcl's users.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new ECRClient({
    ...(opts.region ? { region: opts.region } : {}),
    ...(opts.endpointUrl ? { endpoint: opts.endpointUrl } : {}),
    maxAttempts: opts.maxAttempts ?? 8,
    retryMode: 'adaptive',
  });
}

/** All repositories of the registry, or the named ones (DescribeRepositories, paginated). */
export async function listRepositories(client: ECRClient, opts: { registryId?: string; names?: string[]; pageSize?: number }): Promise<Repository[]> {
  const out: Repository[] = [];
  try {
    const pages = paginateDescribeRepositories(
      { client, ...(opts.names?.length ? {} : { pageSize: opts.pageSize ?? 1000 }) },
      { registryId: opts.registryId, ...(opts.names?.length ? { repositoryNames: opts.names } : {}) },
    );
    for await (const page of pages) out.push(...(page.repositories ?? []));
  } catch (err) {
    throw describeAwsError(err, 'DescribeRepositories');
  }
  return out;
}

/** Every image of a repository (DescribeImages, paginated). */
export async function listImages(client: ECRClient, repositoryName: string, opts: { registryId?: string; pageSize?: number }): Promise<ImageDetail[]> {
  const out: ImageDetail[] = [];
  try {
    const pages = paginateDescribeImages(
      { client, pageSize: opts.pageSize ?? 1000 },
      { repositoryName, registryId: opts.registryId },
    );
    for await (const page of pages) out.push(...(page.imageDetails ?? []));
  } catch (err) {
    throw describeAwsError(err, `DescribeImages ${repositoryName}`);
  }
  return out;
}

export interface FetchedEcrManifest {
  digest: string;
  mediaType?: string;
  manifest: string;
}

export interface ManifestFailure {
  digest: string;
  code: string;
  reason: string;
}

/** Manifests by digest, BATCH_GET_LIMIT per call. A failed call throws; per-image failures are returned. */
export async function batchGetManifests(
  client: ECRClient,
  repositoryName: string,
  digests: string[],
  opts: { registryId?: string } = {},
): Promise<{ found: Map<string, FetchedEcrManifest>; failures: Map<string, ManifestFailure> }> {
  const found = new Map<string, FetchedEcrManifest>();
  const failures = new Map<string, ManifestFailure>();
  for (let i = 0; i < digests.length; i += BATCH_GET_LIMIT) {
    const chunk = digests.slice(i, i + BATCH_GET_LIMIT);
    let res;
    try {
      res = await client.send(
        new BatchGetImageCommand({ repositoryName, registryId: opts.registryId, imageIds: chunk.map((imageDigest) => ({ imageDigest })), acceptedMediaTypes: ACCEPTED_MEDIA_TYPES }),
      );
    } catch (err) {
      throw describeAwsError(err, `BatchGetImage ${repositoryName}`);
    }
    for (const img of res.images ?? []) {
      const digest = img.imageId?.imageDigest;
      if (digest && img.imageManifest !== undefined) found.set(digest, { digest, mediaType: img.imageManifestMediaType, manifest: img.imageManifest });
    }
    for (const f of res.failures ?? []) {
      const digest = f.imageId?.imageDigest;
      if (digest) failures.set(digest, { digest, code: f.failureCode ?? 'Unknown', reason: oneLine(f.failureReason ?? '') });
    }
    for (const d of chunk) {
      if (!found.has(d) && !failures.has(d)) failures.set(d, { digest: d, code: 'Missing', reason: 'BatchGetImage returned neither the image nor a failure for it' });
    }
  }
  return { found, failures };
}

export interface RegistryAuth {
  /** `host[:port]` of the registry (from proxyEndpoint). */
  host: string;
  /** `http:` or `https:` as the proxyEndpoint says. */
  insecure: boolean;
  /** `Basic <token>`: the token is base64("AWS:<password>"). */
  authorization: string;
  expiresAt?: Date;
}

/** GetAuthorizationToken → registry host and Authorization header (checked to be AWS:<password>). */
export async function getRegistryAuth(client: ECRClient, registryId?: string): Promise<RegistryAuth> {
  let res;
  try {
    res = await client.send(new GetAuthorizationTokenCommand(registryId ? { registryIds: [registryId] } : {}));
  } catch (err) {
    throw describeAwsError(err, 'GetAuthorizationToken');
  }
  const data = res.authorizationData?.[0];
  if (!data?.authorizationToken || !data.proxyEndpoint) throw new EcrError('GetAuthorizationToken: the answer has no token or proxyEndpoint', 'BadAnswer');
  const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new EcrError('GetAuthorizationToken: the token is not base64("user:password")', 'BadAnswer');
  let url: URL;
  try {
    url = new URL(data.proxyEndpoint);
  } catch {
    throw new EcrError(`GetAuthorizationToken: proxyEndpoint "${data.proxyEndpoint}" is not a URL`, 'BadAnswer');
  }
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  return {
    host: url.host,
    insecure: url.protocol === 'http:',
    authorization: 'Basic ' + Buffer.from(`${user}:${password}`, 'utf8').toString('base64'),
    expiresAt: data.expiresAt,
  };
}
