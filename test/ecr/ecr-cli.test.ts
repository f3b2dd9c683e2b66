/**
 * `smcl ecr` end to end: the spawned CLI with the real AWS SDK client against the local ECR API
 * server (test/support/ecr-server.ts), backed by Debian's docker-registry holding images built
 * with podman. Under CI=true a missing podman or registry fails these tests (requirePodman
 * throws, startRegistry throws).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtureImage, type FixtureSpec } from '../support/fixture-images.js';
import { pushArtifact, pushUntaggedVariant, pushVariant, retag, startEcrServer, type EcrServer, type EcrServerOptions } from '../support/ecr-server.js';
import { requirePodman } from '../support/podman.js';
import { freeLocalPort, pushImage, startRegistry, type TestRegistry } from '../support/registry.js';
import { awsEnv, runSmcl } from './run-cli.js';

const LABEL = 'LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true';
const SERVE_GOOD = '#!/bin/busybox sh\nexec /bin/busybox httpd -f -p "${SAGEMAKER_BIND_TO_PORT:-8080}" -h /www\n';
const SERVE_8080 = '#!/bin/busybox sh\nexec /bin/busybox httpd -f -p 8080 -h /www\n';
const PING = '#!/bin/busybox sh\necho "Status: 200 OK"\necho "Content-Type: text/plain"\necho\necho ok\n';
const INVOCATIONS = '#!/bin/busybox sh\necho "Status: 200 OK"\necho "Content-Type: text/csv"\necho\ncat\n';

/** The same content `smcl lint` judges in the Dockerfile tests: good, no label, hard-coded 8080. */
function spec(serve: string, label: string): FixtureSpec {
  return {
    files: {
      serve: { content: serve, mode: 0o755 },
      'www/cgi-bin/ping': { content: PING, mode: 0o755 },
      'www/cgi-bin/invocations': { content: INVOCATIONS, mode: 0o755 },
    },
    containerfile: ['FROM scratch', 'COPY busybox /bin/busybox', 'COPY serve /usr/local/bin/serve', 'COPY www /www', label, 'ENV PATH=/usr/local/bin:/bin', 'EXPOSE 8080', ''].join('\n'),
  };
}

const LABEL_RULE = 'accept-bind-to-port-label';
const PORT_RULE = 'bind-to-port-env';

/** Every tag seeded, with the rule ids `smcl lint` reports for its content (full mode). */
const EXPECTED_FULL: Record<string, string[]> = {
  'team/alpha:v1': [],
  'team/alpha:v2': [],
  'team/alpha:latest': [],
  'team/alpha:bad-label': [LABEL_RULE],
  'team/alpha:bad-label-2': [LABEL_RULE],
  'team/alpha:port-1': [PORT_RULE],
  'team/alpha:port-2': [PORT_RULE],
  'team/beta:g1': [],
  'team/beta:1.0': [],
  'team/beta:1.0-stable': [],
  'team/beta:1.1': [],
  'team/beta:old': [LABEL_RULE],
  'team/beta:h1': [PORT_RULE],
  'team/beta:h2': [PORT_RULE],
  'team/gamma:r1': [],
  'team/gamma:r2': [],
  'team/gamma:n1': [LABEL_RULE],
  'team/gamma:n2': [LABEL_RULE],
  'team/gamma:n3': [LABEL_RULE],
};
/** Seeded but not lintable: an OCI artifact, a tag deleted right after it was listed, a denied repository. */
const ARTIFACT = 'team/gamma:chart-1';
const GONE = 'team/gamma:gone';
const DENIED = ['team/secret:s1', 'team/secret:s2'];

const PUSHED_AT: Record<string, string> = {
  'team/alpha:v1': '2025-10-01T00:00:00Z',
  'team/alpha:bad-label': '2026-02-01T00:00:00Z',
  'team/alpha:port-1': '2025-12-01T00:00:00Z',
  'team/beta:g1': '2025-12-01T00:00:00Z',
  'team/beta:1.0': '2026-02-01T00:00:00Z',
  'team/beta:1.1': '2026-04-01T00:00:00Z',
  'team/beta:old': '2024-01-01T00:00:00Z',
  'team/beta:h1': '2026-01-15T00:00:00Z',
  'team/beta:h2': '2025-11-01T00:00:00Z',
  'team/gamma:r1': '2025-06-01T00:00:00Z',
  'team/gamma:r2': '2026-03-01T00:00:00Z',
  'team/gamma:gone': '2026-03-02T00:00:00Z',
  'team/gamma:chart-1': '2026-03-03T00:00:00Z',
  'team/gamma:n1': '2025-01-01T00:00:00Z',
  'team/secret:s1': '2026-01-01T00:00:00Z',
};

interface JsonReport {
  results: Array<{ subject: string; repository: string; tags: string[]; digest: string; pushedAt: string | null; sameAs?: string; findings: Array<{ ruleId: string; severity: string; subject: string }> }>;
  scan: {
    registry: string;
    mode: string;
    counts: { images: number; tags: number; scanned: number; failed: number; skipped: number; repositoriesFailed: number; linted: number };
    skippedBy: Record<string, number>;
    repositories: Array<{ name: string; status: string; error?: string; images: number }>;
    failed: Array<{ repository: string; tags: string[]; message?: string }>;
    skipped: Array<{ repository: string; tags: string[]; reason?: string; message?: string }>;
  };
}

/**
 * `repo:tag -> sorted rule ids` over every scanned tag. `verdictsOnly` leaves out `info` findings
 * (a rule that cannot decide, e.g. because labels-only mode read no file): only errors and warnings.
 */
function findingsByTag(report: JsonReport, verdictsOnly = false): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of report.results) {
    const ids = r.findings.filter((f) => !verdictsOnly || f.severity !== 'info').map((f) => f.ruleId);
    for (const t of r.tags) out[`${r.repository}:${t}`] = [...new Set(ids)].sort();
  }
  return out;
}

const tagsOf = (list: Array<{ repository: string; tags: string[] }>): string[] => list.flatMap((r) => r.tags.map((t) => `${r.repository}:${t}`)).sort();

describe.skipIf(!requirePodman())('smcl ecr against a local ECR API backed by a real registry', () => {
  let registry: TestRegistry;
  const servers: EcrServer[] = [];

  async function server(opts: Partial<EcrServerOptions> = {}): Promise<EcrServer> {
    const s = await startEcrServer({ registryUrl: registry.url, pushedAt: PUSHED_AT, ...opts });
    servers.push(s);
    return s;
  }

  const pushGone = () => pushVariant(registry.url, 'team/gamma', 'r1', 'gone', { 'org.example.build': 'gone' });

  beforeAll(async () => {
    const [good, nolabel, hard8080] = await Promise.all([
      buildFixtureImage('ecr-good', spec(SERVE_GOOD, LABEL)),
      buildFixtureImage('ecr-nolabel', spec(SERVE_GOOD, 'LABEL org.example.variant=nolabel')),
      buildFixtureImage('ecr-hard8080', spec(SERVE_8080, LABEL)),
    ]);
    registry = await startRegistry();
    const url = registry.url;
    const push = (local: string, repoTag: string) => pushImage(local, registry.host, repoTag);
    await push(good, 'team/alpha:v1');
    await retag(url, 'team/alpha', 'v1', 'v2', 'latest');
    await push(nolabel, 'team/alpha:bad-label');
    await retag(url, 'team/alpha', 'bad-label', 'bad-label-2');
    await push(hard8080, 'team/alpha:port-1');
    await retag(url, 'team/alpha', 'port-1', 'port-2');

    await push(good, 'team/beta:g1'); // the same digest as team/alpha:v1
    await pushVariant(url, 'team/beta', 'g1', '1.0', { 'org.example.build': '1' });
    await retag(url, 'team/beta', '1.0', '1.0-stable');
    await pushVariant(url, 'team/beta', 'g1', '1.1', { 'org.example.build': '2' });
    await push(nolabel, 'team/beta:old');
    await push(hard8080, 'team/beta:h1');
    await pushVariant(url, 'team/beta', 'h1', 'h2', { 'org.example.build': '2' });

    await push(good, 'team/gamma:r1');
    await pushVariant(url, 'team/gamma', 'r1', 'r2', { 'org.example.build': '2' });
    await pushGone();
    await pushArtifact(url, 'team/gamma', 'chart-1');
    await push(nolabel, 'team/gamma:n1');
    await retag(url, 'team/gamma', 'n1', 'n2', 'n3');

    await push(good, 'team/secret:s1');
    await retag(url, 'team/secret', 's1', 's2');
  }, 600_000);

  afterAll(async () => {
    for (const s of servers) await s.stop();
    await registry?.stop();
  });

  it('seeds 4 repositories and more than 20 tags', async () => {
    const tags = Object.keys(EXPECTED_FULL).length + 2 + DENIED.length;
    expect(tags).toBeGreaterThanOrEqual(20);
  });

  it('full mode, throttled, page size 2: exact findings per tag, the denied repository reported, the others scanned', async () => {
    const ecr = await server({ throttleEvery: 3, pageSize: 2, deny: ['team/secret'], authProxy: true, deleteAfterList: [GONE] });
    const run = await runSmcl(['ecr', '--format', 'json', '--page-size', '2', '--concurrency', '4'], awsEnv(ecr.url)).finally(
      // The server really deleted team/gamma:gone from the registry: push it back for the other tests.
      () => pushGone(),
    );
    expect(run.stderr).not.toMatch(/unexpected error/);
    expect(run.status, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as JsonReport;

    expect(findingsByTag(report)).toEqual(Object.fromEntries(Object.entries(EXPECTED_FULL).map(([k, v]) => [k, [...v].sort()])));
    // Subjects are <registry>/<repo>@sha256:..., with the tags beside them.
    for (const r of report.results) {
      expect(r.subject).toBe(`${report.scan.registry}/${r.repository}@${r.digest}`);
      for (const f of r.findings) expect(f.subject.startsWith(r.subject)).toBe(true);
      expect(r.pushedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    }
    expect(report.scan.registry).toBe(new URL(ecr.proxyEndpoint).host);

    const repos = Object.fromEntries(report.scan.repositories.map((r) => [r.name, r]));
    expect(Object.keys(repos).sort()).toEqual(['team/alpha', 'team/beta', 'team/gamma', 'team/secret']);
    expect(repos['team/secret'].status).toBe('failed');
    expect(repos['team/secret'].error).toMatch(/AccessDeniedException/);
    for (const name of ['team/alpha', 'team/beta', 'team/gamma']) expect(repos[name].status).toBe('ok');
    expect(run.stderr).toMatch(/repository team\/secret: .*AccessDeniedException/);

    expect(tagsOf(report.scan.skipped)).toEqual([ARTIFACT, GONE].sort());
    const skipped = Object.fromEntries(report.scan.skipped.map((s) => [`${s.repository}:${s.tags[0]}`, s]));
    expect(skipped[ARTIFACT].reason).toBe('unsupported');
    expect(skipped[ARTIFACT].message).toMatch(/not a container image \(config media type application\/vnd\.cncf\.helm\.config\.v1\+json\)/);
    expect(skipped[GONE].reason).toBe('not-found');
    expect(skipped[GONE].message).toMatch(/ImageNotFound/);
    expect(report.scan.failed).toEqual([]);
    // 14 images (digests per repository) in alpha/beta/gamma, 2 of them skipped. podman pushed the
    // same local images to several repositories (same digests), and gamma:r2 equals beta:1.1: each
    // distinct digest is linted once, the others reuse its findings.
    expect(report.scan.counts).toMatchObject({ images: 14, scanned: 12, failed: 0, skipped: 2, repositoriesFailed: 1, linted: 6 });
    expect(new Set(report.results.map((r) => r.digest)).size).toBe(6);
    expect(report.results.filter((r) => r.sameAs).length).toBe(6);
    expect(report.results.find((r) => r.tags.includes('g1'))?.sameAs).toMatch(/team\/alpha@sha256:/);
    expect(run.stderr).toMatch(/12 scanned, 0 failed, 2 skipped, 1 repositories unreadable/);

    // The SDK met throttling and retried; listings were paginated; BatchGetImage stayed within its limit.
    const throttled = ecr.calls.filter((c) => c.errorType === 'ThrottlingException');
    expect(throttled.length).toBeGreaterThan(0);
    const ok = (op: string, repo?: string) => ecr.calls.filter((c) => c.operation === op && c.status === 200 && (!repo || c.repository === repo));
    expect(ok('DescribeImages', 'team/beta').length).toBe(3); // 6 images, 2 per page
    expect(ok('DescribeRepositories').length).toBe(2); // 4 repositories, 2 per page
    for (const c of ok('BatchGetImage')) expect(c.imageIds).toBeLessThanOrEqual(100);
    // Registry requests carried the GetAuthorizationToken credentials; each distinct config was read once.
    expect(ecr.refusedRegistryRequests).toBe(0);
    const configReads = ecr.registryRequests.filter((r) => r.startsWith('GET ') && r.includes('/blobs/'));
    expect(configReads.length).toBeGreaterThan(11); // configs and layers
    expect(ecr.registryRequests.filter((r) => r.includes('/manifests/'))).toEqual([]); // manifests came from BatchGetImage
  }, 300_000);

  /** Rule ids of the labels-only mode: rules that read files do not run (as in smcl image --labels-only). */
  const labelsOnly = (tags: string[]): Record<string, string[]> => Object.fromEntries(tags.map((t) => [t, (t === GONE ? [] : EXPECTED_FULL[t]).filter((id) => id === LABEL_RULE)])); // gone: a good variant

  it('labels-only with --repository glob and --pushed-since: only manifests and configs are read', async () => {
    const ecr = await server({ deny: ['team/secret'], authProxy: true, throttleEvery: 4 });
    const run = await runSmcl(['ecr', '--labels-only', '--format', 'json', '-r', 'team/*', '--pushed-since', '2026-01-01'], awsEnv(ecr.url));
    expect(run.status, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as JsonReport;
    expect(findingsByTag(report, true)).toEqual(
      labelsOnly(['team/alpha:bad-label', 'team/alpha:bad-label-2', 'team/beta:1.0', 'team/beta:1.0-stable', 'team/beta:1.1', 'team/beta:h1', 'team/gamma:r2', 'team/gamma:gone']),
    );
    expect(report.scan.mode).toBe('labels-only');
    expect(report.scan.skippedBy).toEqual({ 'pushed-since': 7, unsupported: 1 });
    expect(report.scan.repositories.find((r) => r.name === 'team/secret')?.error).toMatch(/AccessDeniedException/);
    // No layer was read: the only blobs fetched are the configs, one per distinct digest.
    const blobs = ecr.registryRequests.filter((r) => r.includes('/blobs/'));
    expect(blobs.length).toBe(report.scan.counts.linted);
    expect(ecr.refusedRegistryRequests).toBe(0);
  }, 300_000);

  it('--latest 1 per named repository (no DescribeRepositories needed)', async () => {
    const ecr = await server();
    const run = await runSmcl(['ecr', '--labels-only', '--format', 'json', '--latest', '1', '-r', 'team/beta', '-r', 'team/gamma'], awsEnv(ecr.url));
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as JsonReport;
    expect(findingsByTag(report, true)).toEqual(labelsOnly(['team/beta:1.1', 'team/gamma:gone']));
    expect(report.scan.skippedBy).toEqual({ latest: 8, unsupported: 1 });
    expect(ecr.calls.filter((c) => c.operation === 'DescribeRepositories')).toEqual([]);
  }, 300_000);

  it('--shard i/n splits the images without overlap; --tag globs select by tag', async () => {
    const ecr = await server({ deny: ['team/secret'] });
    const args = ['ecr', '--labels-only', '--format', 'json', '--tag', 'port-*', '--tag', 'n?', '--tag', 'bad-*', '--tag', 'r*'];
    const [all, s1, s2] = await Promise.all([
      runSmcl(args, awsEnv(ecr.url)),
      runSmcl([...args, '--shard', '1/2'], awsEnv(ecr.url)),
      runSmcl([...args, '--shard', '2/2'], awsEnv(ecr.url)),
    ]);
    const [ra, r1, r2] = [all, s1, s2].map((r) => JSON.parse(r.stdout) as JsonReport);
    const expected = labelsOnly(['team/alpha:port-1', 'team/alpha:port-2', 'team/alpha:bad-label', 'team/alpha:bad-label-2', 'team/gamma:n1', 'team/gamma:n2', 'team/gamma:n3', 'team/gamma:r1', 'team/gamma:r2']);
    expect(findingsByTag(ra, true)).toEqual(expected);
    const a = findingsByTag(r1, true);
    const b = findingsByTag(r2, true);
    expect(Object.keys(a).filter((k) => k in b)).toEqual([]);
    expect({ ...a, ...b }).toEqual(expected);
    expect(Object.keys(a).length).toBeGreaterThan(0);
    expect(Object.keys(b).length).toBeGreaterThan(0);
    expect(r1.scan.skippedBy.shard! + r2.scan.skippedBy.shard!).toBe(ra.scan.counts.scanned);
    expect(ra.scan.skippedBy.tag).toBeGreaterThan(0);
  }, 300_000);

  it('an image without a tag is skipped unless --untagged, which lints it by digest', async () => {
    // A build of the unlabelled image pushed by digest only (as CI pipelines that tag later do).
    const digest = await pushUntaggedVariant(registry.url, 'team/beta', 'old', { 'org.example.build': 'untagged' });
    const ecr = await server({ untagged: { 'team/beta': [digest] } });
    const args = ['ecr', '--labels-only', '--format', 'json', '-r', 'team/beta'];
    const without = JSON.parse((await runSmcl(args, awsEnv(ecr.url))).stdout) as JsonReport;
    expect(without.results.some((r) => r.digest === digest)).toBe(false);
    expect(without.scan.skippedBy.untagged).toBe(1);
    expect(without.scan.skipped).toContainEqual(expect.objectContaining({ repository: 'team/beta', tags: [], reason: 'untagged' }));

    const run = await runSmcl([...args, '--untagged'], awsEnv(ecr.url));
    expect(run.status, run.stderr).toBe(1);
    const withIt = JSON.parse(run.stdout) as JsonReport;
    const untagged = withIt.results.find((r) => r.digest === digest)!;
    expect(untagged).toMatchObject({ repository: 'team/beta', tags: [] });
    expect(untagged.findings.map((f) => f.ruleId)).toContain('accept-bind-to-port-label');
    expect(withIt.scan.skippedBy.untagged).toBeUndefined();
    // Every tagged image is still there, with the same verdicts.
    expect(findingsByTag(withIt, true)).toEqual(findingsByTag(without, true));
  }, 300_000);

  it('stylish groups by repository; markdown, sarif and github carry findings, failures and the summary', async () => {
    const ecr = await server({ deny: ['team/secret'] });
    const base = ['ecr', '--labels-only', '-r', 'team/alpha', '-r', 'team/secret'];
    const [stylish, markdown, sarif, github] = await Promise.all(['stylish', 'markdown', 'sarif', 'github'].map((f) => runSmcl([...base, '--format', f], awsEnv(ecr.url))));
    for (const r of [stylish, markdown, sarif, github]) expect(r.status, r.stderr).toBe(1);
    const host = new URL(ecr.proxyEndpoint).host;
    const s = stylish.stdout;
    expect(s.indexOf(`${host}/team/alpha (3 images)`)).toBeGreaterThanOrEqual(0);
    expect(s.indexOf(`${host}/team/secret`)).toBeGreaterThan(s.indexOf(`${host}/team/alpha`));
    expect(s).toMatch(/ {2}bad-label, bad-label-2 sha256:[0-9a-f]{12} pushed 2026-02-01T00:00:00.000Z ✖ \d+ problems?\n {4}error accept-bind-to-port-label /);
    expect(s).toMatch(/ {2}latest, v1, v2 sha256:[0-9a-f]{12} pushed 2025-10-01T00:00:00.000Z (✔|✖ \d+ problems?\n {4}info )/);
    expect(s).toMatch(/✖ not scanned: DescribeImages team\/secret: AccessDeniedException/);
    expect(s).toMatch(/2 repositories, 1 unreadable; 3 images scanned \(7 tags\), 0 failed, 0 skipped/);

    expect(markdown.stdout).toMatch(/## sagemaker-container-lint/);
    expect(markdown.stdout).toMatch(/\(tags: bad-label, bad-label-2\)/);
    expect(markdown.stdout).toMatch(/### ECR scan/);
    expect(markdown.stdout).toMatch(/\| ❌ \| `[^`]*team\/secret` \| repository not scanned: .*AccessDeniedException/);

    const doc = JSON.parse(sarif.stdout) as { runs: Array<{ results: Array<{ ruleId: string; level: string }>; invocations: Array<{ executionSuccessful: boolean; toolExecutionNotifications: Array<{ message: { text: string } }> }> }> };
    expect(doc.runs[0].results.filter((r) => r.level !== 'note').map((r) => r.ruleId)).toEqual([LABEL_RULE]);
    expect(doc.runs[0].invocations[0].executionSuccessful).toBe(true);
    expect(doc.runs[0].invocations[0].toolExecutionNotifications[0].message.text).toMatch(/team\/secret: repository not scanned/);

    expect(github.stdout).toMatch(/^::error file=[^\n]*team\/alpha@sha256[^\n]*title=smcl accept-bind-to-port-label::/m);
    expect(github.stdout).toMatch(/^::error title=smcl ecr::[^\n]*team\/secret: repository not scanned/m);
  }, 300_000);

  describe('faults: one clear line, exit 2 when nothing could be scanned', () => {
    it('no credentials', async () => {
      const ecr = await server();
      const run = await runSmcl(['ecr'], awsEnv(ecr.url, { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined }));
      expect(run.status).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/^smcl: GetAuthorizationToken: no AWS credentials found/);
      expect(ecr.calls).toEqual([]);
    });

    it('no region', async () => {
      const ecr = await server();
      const run = await runSmcl(['ecr'], awsEnv(ecr.url, { AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined }));
      expect(run.status).toBe(2);
      expect(run.stderr.trim()).toMatch(/^smcl: GetAuthorizationToken: no AWS region \(set AWS_REGION or pass --region\)$/);
    });

    it('the ECR API cannot be reached (--endpoint-url wins over the environment)', async () => {
      const port = await freeLocalPort();
      const run = await runSmcl(['ecr', '--endpoint-url', `http://127.0.0.1:${port}`, '--max-attempts', '2'], awsEnv('http://127.0.0.1:9'));
      expect(run.status).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(new RegExp(`^smcl: GetAuthorizationToken: cannot reach the ECR API \\(ECONNREFUSED: .*127\\.0\\.0\\.1:${port}`));
    });

    it('the registry cannot be reached: every image failed with a line each', async () => {
      const port = await freeLocalPort();
      const ecr = await server({ proxyEndpoint: `http://127.0.0.1:${port}` });
      const run = await runSmcl(['ecr', '--labels-only', '--format', 'json', '-r', 'team/alpha'], awsEnv(ecr.url));
      expect(run.status).toBe(2);
      const report = JSON.parse(run.stdout) as JsonReport;
      expect(report.scan.counts).toMatchObject({ scanned: 0, failed: 3 });
      for (const f of report.scan.failed) expect(f.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}`));
      expect(run.stderr.split('\n').filter((l) => l.startsWith('smcl: team/alpha:'))).toHaveLength(3);
      expect(run.stderr).toMatch(/smcl: nothing could be scanned/);
    }, 120_000);

    it('every repository denied', async () => {
      const ecr = await server({ deny: ['team/alpha', 'team/beta', 'team/gamma', 'team/secret'] });
      const run = await runSmcl(['ecr', '--labels-only'], awsEnv(ecr.url));
      expect(run.status).toBe(2);
      expect(run.stderr.split('\n').filter((l) => /^smcl: repository team\/\w+: DescribeImages team\/\w+: AccessDeniedException/.test(l))).toHaveLength(4);
      expect(run.stdout).toMatch(/4 repositories, 4 unreadable; 0 images scanned/);
    });

    it('a repository that does not exist', async () => {
      const ecr = await server();
      const run = await runSmcl(['ecr', '--labels-only', '-r', 'team/alpha', '-r', 'team/nope', '--format', 'json'], awsEnv(ecr.url));
      expect(run.status).toBe(1);
      const report = JSON.parse(run.stdout) as JsonReport;
      expect(report.scan.repositories.find((r) => r.name === 'team/nope')?.error).toMatch(/RepositoryNotFoundException/);
      expect(report.scan.counts.scanned).toBe(3);
    });
  });
});
