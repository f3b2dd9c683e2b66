/**
 * `smcl ecr`: lists a team's ECR repositories and images, picks the images to lint (tag globs,
 * pushed-since, latest N, shard), fetches their manifests with BatchGetImage and lints each
 * distinct manifest digest once, reading config (and layers, unless labels-only) through the
 * registry API with the GetAuthorizationToken credentials. Nothing is dropped silently: every
 * image ends up scanned, failed (with a one-line reason) or skipped (with a reason).
 */
import type { ECRClient, ImageDetail } from '@aws-sdk/client-ecr';
import { wantedFileGlobs } from '../../rules/index.js';
import type { SmclConfig } from '../engine/config.js';
import { InputError, type Finding } from '../engine/types.js';
import { lintModel } from '../lint/lint-dockerfiles.js';
import { loadImage, type HttpTimeouts, type RetryPolicy } from '../sources/image/index.js';
import {
  ACCEPTED_MEDIA_TYPES,
  BATCH_GET_LIMIT,
  EcrError,
  IMAGE_CONFIG_TYPES,
  batchGetManifests,
  describeAwsError,
  getRegistryAuth,
  listImages,
  listRepositories,
  oneLine,
  type FetchedEcrManifest,
  type ManifestFailure,
  type RegistryAuth,
} from './aws.js';
import { globMatcher, isGlob, shardOf, type Shard } from './filters.js';

export type SkipReason = 'untagged' | 'tag' | 'pushed-since' | 'unsupported' | 'latest' | 'shard' | 'not-found';

/** Human text of each skip reason (the summary line and stylish output use it). */
export const SKIP_REASON_TEXT: Record<SkipReason, string> = {
  untagged: 'untagged (pass --untagged to include)',
  tag: 'no tag matches --tag',
  'pushed-since': 'pushed before --pushed-since',
  unsupported: 'not a container image / unsupported manifest media type',
  latest: 'older than the --latest N of its repository',
  shard: 'in another --shard',
  'not-found': 'deleted between listing and fetching',
};

export interface EcrImageResult {
  repository: string;
  digest: string;
  tags: string[];
  /** ISO date, when ECR gave one. */
  pushedAt?: string;
  /** `<registry>/<repository>@<digest>`: the subject of its findings. */
  ref: string;
  status: 'scanned' | 'failed' | 'skipped';
  reason?: SkipReason;
  /** One line: why it failed or was skipped (for skips worth reading: not-found, unsupported). */
  message?: string;
  findings: Finding[];
  /** The ref actually linted when another repository had the same digest. */
  sameAs?: string;
}

export interface EcrRepositoryResult {
  name: string;
  status: 'ok' | 'failed';
  /** One line, e.g. the AccessDeniedException message. */
  error?: string;
  /** Images (distinct digests) listed. */
  images: number;
}

export interface EcrScanReport {
  /** Registry host from GetAuthorizationToken's proxyEndpoint. */
  registry: string;
  registryId?: string;
  mode: 'labels-only' | 'full';
  repositories: EcrRepositoryResult[];
  images: EcrImageResult[];
  counts: { images: number; tags: number; scanned: number; failed: number; skipped: number; repositoriesFailed: number; linted: number };
  skippedBy: Partial<Record<SkipReason, number>>;
}

export interface EcrProgress {
  done: number;
  total: number;
  current?: string;
}

export interface EcrScanOptions {
  client: ECRClient;
  registryId?: string;
  /** Repository names or globs; empty = every repository. */
  repositories?: string[];
  /** Tag globs; empty = every tag. */
  tags?: string[];
  pushedSince?: Date;
  /** Per repository, the N most recently pushed images. */
  latest?: number;
  /** Include images without tags. */
  untagged?: boolean;
  labelsOnly?: boolean;
  /** Images linted at once. Default 8. */
  concurrency?: number;
  shard?: Shard;
  /** Page size for DescribeRepositories / DescribeImages. */
  pageSize?: number;
  platform?: string;
  /** Rule severities and options (as `smcl lint` resolves them). */
  config?: SmclConfig;
  timeouts?: Partial<HttpTimeouts>;
  retry?: Partial<RetryPolicy>;
  onProgress?(p: EcrProgress): void;
  /** One line per failure or notable skip, as it happens. */
  onProblem?(line: string): void;
}

interface Candidate {
  repository: string;
  digest: string;
  tags: string[];
  pushedAt?: Date;
  manifestMediaType?: string;
  artifactMediaType?: string;
}

/** Runs `fn` over `items` with at most `n` at once, preserving nothing but completion. */
async function pool<T>(items: T[], n: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
}

/** Findings of `from` re-addressed to `to` (same digest in another repository). */
function rebase(findings: Finding[], from: string, to: string): Finding[] {
  const swap = (s: string): string => (s.startsWith(from) ? to + s.slice(from.length) : s);
  return findings.map((f) => ({
    ...f,
    subject: swap(f.subject),
    location: { ...f.location, file: swap(f.location.file), ...(f.location.image ? { image: { ...f.location.image, ref: swap(f.location.image.ref) } } : {}) },
  }));
}

function mergeByDigest(repository: string, details: ImageDetail[]): Candidate[] {
  const byDigest = new Map<string, Candidate>();
  for (const d of details) {
    if (!d.imageDigest) continue;
    const c = byDigest.get(d.imageDigest);
    if (c) {
      for (const t of d.imageTags ?? []) if (!c.tags.includes(t)) c.tags.push(t);
      continue;
    }
    byDigest.set(d.imageDigest, {
      repository,
      digest: d.imageDigest,
      tags: [...(d.imageTags ?? [])],
      pushedAt: d.imagePushedAt,
      manifestMediaType: d.imageManifestMediaType,
      artifactMediaType: d.artifactMediaType,
    });
  }
  for (const c of byDigest.values()) c.tags.sort();
  return [...byDigest.values()];
}

/** Why a manifest (by its media types) is no container image we can lint; undefined when it is. */
function unsupportedType(manifestMediaType: string | undefined, configMediaType: string | undefined): string | undefined {
  if (manifestMediaType && !ACCEPTED_MEDIA_TYPES.includes(manifestMediaType)) return `unsupported manifest media type ${manifestMediaType}`;
  if (configMediaType && !IMAGE_CONFIG_TYPES.includes(configMediaType) && !/index|manifest\.list/.test(manifestMediaType ?? '')) {
    return `not a container image (config media type ${configMediaType})`;
  }
  return undefined;
}

export async function scanEcr(opts: EcrScanOptions): Promise<EcrScanReport> {
  const { client } = opts;
  const concurrency = Math.max(1, opts.concurrency ?? 8);
  const wantedGlobs = wantedFileGlobs();
  const problem = (line: string): void => opts.onProblem?.(line);

  // 1. Registry credentials first: no credentials / no region fail here, before anything is listed.
  let auth: RegistryAuth = await getRegistryAuth(client, opts.registryId);
  let refreshing: Promise<RegistryAuth> | undefined;
  const authorization = async (): Promise<string> => {
    if (auth.expiresAt && auth.expiresAt.getTime() - Date.now() < 5 * 60_000) {
      refreshing ??= getRegistryAuth(client, opts.registryId).finally(() => (refreshing = undefined));
      auth = await refreshing;
    }
    return auth.authorization;
  };
  const registry = auth.host;

  // 2. Repositories.
  const wanted = opts.repositories ?? [];
  let repoNames: string[];
  if (wanted.length && !wanted.some(isGlob)) {
    repoNames = [...new Set(wanted)];
  } else {
    const all = await listRepositories(client, { registryId: opts.registryId, pageSize: opts.pageSize });
    const match = globMatcher(wanted);
    repoNames = all.map((r) => r.repositoryName ?? '').filter((n) => n && match(n));
    for (const name of wanted.filter((w) => !isGlob(w) && !repoNames.includes(w))) repoNames.push(name); // reported as not found below
    if (wanted.length && !repoNames.length) problem(`no repository matches ${wanted.join(', ')}`);
  }
  repoNames.sort();

  // 3. Images of each repository.
  const repositories: EcrRepositoryResult[] = repoNames.map((name) => ({ name, status: 'ok', images: 0 }));
  const listed = new Map<string, Candidate[]>();
  await pool(repositories, Math.min(4, concurrency), async (repo) => {
    try {
      const details = await listImages(client, repo.name, { registryId: opts.registryId, pageSize: opts.pageSize });
      const candidates = mergeByDigest(repo.name, details);
      repo.images = candidates.length;
      listed.set(repo.name, candidates);
    } catch (err) {
      const e = describeAwsError(err, `DescribeImages ${repo.name}`);
      if (['NoCredentials', 'NoRegion'].includes(e.code)) throw e;
      repo.status = 'failed';
      repo.error = e.message;
      problem(`repository ${repo.name}: ${e.message}`);
    }
  });

  // 4. Selection.
  const matchTag = globMatcher(opts.tags ?? []);
  const images: EcrImageResult[] = [];
  const toScan: EcrImageResult[] = [];
  const candidateOf = new Map<EcrImageResult, Candidate>();
  for (const repo of repositories) {
    const candidates = listed.get(repo.name) ?? [];
    const keep: Array<{ c: Candidate; r: EcrImageResult }> = [];
    for (const c of candidates) {
      const r: EcrImageResult = { repository: c.repository, digest: c.digest, tags: c.tags, pushedAt: c.pushedAt?.toISOString(), ref: `${registry}/${c.repository}@${c.digest}`, status: 'skipped', findings: [] };
      images.push(r);
      candidateOf.set(r, c);
      if (!c.tags.length && !opts.untagged) r.reason = 'untagged';
      else if (opts.tags?.length && !c.tags.some(matchTag)) r.reason = 'tag';
      else if (opts.pushedSince && c.pushedAt && c.pushedAt.getTime() < opts.pushedSince.getTime()) r.reason = 'pushed-since';
      else {
        const why = unsupportedType(c.manifestMediaType, c.artifactMediaType);
        if (why) {
          r.reason = 'unsupported';
          r.message = why;
          problem(`${label(r)}: skipped: ${why}`);
        } else keep.push({ c, r });
      }
    }
    if (opts.latest !== undefined) {
      keep.sort((a, b) => (b.c.pushedAt?.getTime() ?? 0) - (a.c.pushedAt?.getTime() ?? 0) || a.c.digest.localeCompare(b.c.digest));
      for (const { r } of keep.splice(opts.latest)) r.reason = 'latest';
    }
    for (const { c, r } of keep) {
      if (opts.shard && opts.shard.count > 1 && shardOf(c.repository, c.digest, opts.shard.count) !== opts.shard.index) r.reason = 'shard';
      else toScan.push(r);
    }
  }

  // 5. Manifests, fetched lazily per repository in chunks of BatchGetImage's limit.
  const digestsOf = new Map<string, string[]>();
  for (const r of toScan) digestsOf.set(r.repository, [...(digestsOf.get(r.repository) ?? []), r.digest]);
  const chunks = new Map<string, Promise<{ found: Map<string, FetchedEcrManifest>; failures: Map<string, ManifestFailure> }>>();
  const chunkOf = (repo: string, chunk: number) => {
    const list = digestsOf.get(repo)!;
    const key = `${repo}\0${chunk}`;
    if (!chunks.has(key) && chunk * BATCH_GET_LIMIT < list.length) {
      const p = batchGetManifests(client, repo, list.slice(chunk * BATCH_GET_LIMIT, (chunk + 1) * BATCH_GET_LIMIT), { registryId: opts.registryId });
      p.catch(() => undefined); // awaited (and reported) by the images of the chunk
      chunks.set(key, p);
    }
    return chunks.get(key);
  };
  const manifestFor = (repo: string, digest: string): Promise<{ found: Map<string, FetchedEcrManifest>; failures: Map<string, ManifestFailure> }> => {
    const chunk = Math.floor(digestsOf.get(repo)!.indexOf(digest) / BATCH_GET_LIMIT);
    chunkOf(repo, chunk + 1); // fetch the next batch while this one is linted
    return chunkOf(repo, chunk)!;
  };

  // 6. Lint each distinct digest once (the same digest in several repositories too).
  const owners = new Map<string, Promise<EcrImageResult>>();
  let done = 0;
  let linted = 0;
  const lintOne = async (r: EcrImageResult): Promise<void> => {
    const c = candidateOf.get(r)!;
    let batch;
    try {
      batch = await manifestFor(r.repository, r.digest);
    } catch (err) {
      r.status = 'failed';
      r.message = (err as Error).message;
      return;
    }
    const failure = batch.failures.get(r.digest);
    if (failure) {
      if (failure.code === 'ImageNotFound') {
        r.status = 'skipped';
        r.reason = 'not-found';
        r.message = `BatchGetImage: ImageNotFound: ${failure.reason || 'Requested image not found'} (deleted after it was listed?)`;
      } else {
        r.status = 'failed';
        r.message = `BatchGetImage: ${failure.code}${failure.reason ? `: ${failure.reason}` : ''}`;
      }
      return;
    }
    const m = batch.found.get(r.digest)!;
    let configType: string | undefined;
    try {
      configType = (JSON.parse(m.manifest) as { config?: { mediaType?: string } }).config?.mediaType;
    } catch {
      /* loadImage reports malformed manifests */
    }
    const why = unsupportedType(m.mediaType ?? c.manifestMediaType, configType);
    if (why) {
      r.status = 'skipped';
      r.reason = 'unsupported';
      r.message = why;
      return;
    }
    try {
      const model = await loadImage(r.ref, {
        manifest: { bytes: Buffer.from(m.manifest, 'utf8'), contentType: m.mediaType },
        authorization,
        insecure: auth.insecure,
        labelsOnly: opts.labelsOnly,
        wantedGlobs,
        platform: opts.platform,
        timeouts: opts.timeouts,
        retry: opts.retry,
      });
      // Labels-only: rules that read files have nothing to read (as in `smcl image --labels-only`).
      if (opts.labelsOnly) model.filesUnknown = true;
      r.findings = lintModel(model, opts.config ?? {}).findings;
      r.status = 'scanned';
      linted++;
    } catch (err) {
      r.status = 'failed';
      r.message = oneLine(err instanceof InputError || err instanceof EcrError ? err.message : `unexpected error: ${(err as Error).message}`);
    }
  };
  await pool(toScan, concurrency, async (r) => {
    opts.onProgress?.({ done, total: toScan.length, current: label(r) });
    const owner = owners.get(r.digest);
    if (owner) {
      const o = await owner;
      if (o.status === 'scanned') {
        r.status = 'scanned';
        r.sameAs = o.ref;
        r.findings = rebase(o.findings, o.ref, r.ref);
      } else await lintOne(r);
    } else {
      let resolve!: (x: EcrImageResult) => void;
      owners.set(r.digest, new Promise((res) => (resolve = res)));
      try {
        await lintOne(r);
      } finally {
        resolve(r);
      }
    }
    if (r.status === 'failed') problem(`${label(r)}: ${r.message}`);
    else if (r.status === 'skipped') problem(`${label(r)}: skipped: ${r.message}`);
    done++;
    opts.onProgress?.({ done, total: toScan.length });
  });

  const skippedBy: Partial<Record<SkipReason, number>> = {};
  for (const r of images) if (r.status === 'skipped' && r.reason) skippedBy[r.reason] = (skippedBy[r.reason] ?? 0) + 1;
  return {
    registry,
    registryId: opts.registryId,
    mode: opts.labelsOnly ? 'labels-only' : 'full',
    repositories,
    images,
    skippedBy,
    counts: {
      images: images.length,
      tags: images.reduce((n, r) => n + r.tags.length, 0),
      scanned: images.filter((r) => r.status === 'scanned').length,
      failed: images.filter((r) => r.status === 'failed').length,
      skipped: images.filter((r) => r.status === 'skipped').length,
      repositoriesFailed: repositories.filter((r) => r.status === 'failed').length,
      linted,
    },
  };
}

/** `repo:tag,tag (sha256:0123456789ab)` for one-line messages. */
export function label(r: Pick<EcrImageResult, 'repository' | 'tags' | 'digest'>): string {
  const short = r.digest.slice(0, 19);
  return r.tags.length ? `${r.repository}:${r.tags.join(',')} (${short})` : `${r.repository}@${short}`;
}
