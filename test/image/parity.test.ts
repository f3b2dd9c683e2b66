/**
 * Dockerfile ↔ image parity: every case of fixtures/parity/ is linted from its Containerfile (the
 * Dockerfile source over the exact build context podman gets) and from the built image through
 * every image source (podman store, oci-archive, docker-archive, a real registry). All five must
 * report the same (ruleId, severity) set, and that set must equal the case's expected.json.
 * Under CI=true a missing podman or registry fails (requirePodman throws; startRegistry throws).
 */
import { execFile } from 'node:child_process';
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wantedFileGlobs } from '../../rules/index.js';
import type { Finding } from '../../src/engine/types.js';
import { lintDockerfile, lintModel } from '../../src/lint/lint-dockerfiles.js';
import { loadImage } from '../../src/sources/image/index.js';
import { BUSYBOX, buildFixtureFromDir } from '../support/fixture-images.js';
import { ROOT } from '../support/cli.js';
import { requirePodman } from '../support/podman.js';
import { pushImage, startRegistry, type TestRegistry } from '../support/registry.js';

const execFileP = promisify(execFile);
const PARITY_DIR = path.join(ROOT, 'fixtures/parity');

interface Expected {
  /** What the case shows, for people reading the corpus. */
  description: string;
  findings: Array<{ ruleId: string; severity: Finding['severity'] }>;
}

const cases = readdirSync(PARITY_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

function expectedOf(name: string): Expected {
  return JSON.parse(readFileSync(path.join(PARITY_DIR, name, 'expected.json'), 'utf8')) as Expected;
}

/** Sorted `ruleId severity` lines: what must agree across sources (locations differ by nature). */
function signature(findings: Array<Pick<Finding, 'ruleId' | 'severity'>>): string[] {
  return findings.map((f) => `${f.ruleId} ${f.severity}`).sort();
}

/** Copies the case (minus expected.json) plus busybox into `dest`: the context podman builds. */
async function buildContext(name: string, dest: string): Promise<void> {
  await fs.cp(path.join(PARITY_DIR, name), dest, { recursive: true, filter: (src) => path.basename(src) !== 'expected.json' });
  await fs.copyFile(BUSYBOX, path.join(dest, 'busybox'));
  await fs.chmod(path.join(dest, 'busybox'), 0o755);
}

describe('the corpus', () => {
  it('has at least 10 cases, each with a Containerfile and a well-formed expected.json', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
    for (const name of cases) {
      const e = expectedOf(name);
      expect(typeof e.description, name).toBe('string');
      expect(Array.isArray(e.findings), name).toBe(true);
      for (const f of e.findings) expect(['error', 'warning', 'info'], name).toContain(f.severity);
      expect(readFileSync(path.join(PARITY_DIR, name, 'Containerfile'), 'utf8')).toMatch(/^FROM scratch$/m);
    }
  });

  it('covers every container rule that reads the Dockerfile or the image files', () => {
    const covered = new Set(cases.flatMap((c) => expectedOf(c).findings.map((f) => f.ruleId)));
    for (const id of ['accept-bind-to-port-label', 'bind-to-port-env', 'second-port-safe-range', 'ping-invocations-handlers', 'serve-entrypoint']) {
      expect(covered, id).toContain(id);
    }
  });
});

describe.skipIf(!requirePodman())('Dockerfile and image sources agree on the parity corpus', () => {
  let registry: TestRegistry;
  let tmp: string;
  const wantedGlobs = wantedFileGlobs();
  let layerFindings = 0;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'smcl-parity-'));
    registry = await startRegistry();
  }, 180_000);

  afterAll(async () => {
    await registry?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it.each(cases)('%s', async (name) => {
    const expected = signature(expectedOf(name).findings);
    const work = path.join(tmp, name);
    const context = path.join(work, 'context');
    await buildContext(name, context);

    const fromDockerfile = lintDockerfile(path.join(context, 'Containerfile'), { config: {}, context });

    const tag = await buildFixtureFromDir(`parity-${name}`, path.join(PARITY_DIR, name));
    const ociFile = path.join(work, 'image.oci.tar');
    const dockerFile = path.join(work, 'image.docker.tar');
    await execFileP('podman', ['save', '--quiet', '--format', 'oci-archive', '-o', ociFile, tag], { timeout: 120_000 });
    await execFileP('podman', ['save', '--quiet', '--format', 'docker-archive', '-o', dockerFile, tag], { timeout: 120_000 });
    const pushed = await pushImage(tag, registry.host, `smcl-parity/${name}:v1`);

    const refs = [`podman:${tag}`, `oci-archive:${ociFile}`, `docker-archive:${dockerFile}`, pushed];
    const imageResults = await Promise.all(refs.map(async (ref) => ({ ref, result: lintModel(await loadImage(ref, { wantedGlobs }), {}) })));
    await fs.rm(work, { recursive: true, force: true });

    const table = [
      { source: 'dockerfile', findings: fromDockerfile.findings },
      ...imageResults.map((r) => ({ source: r.ref.replace(tmp, '$TMP'), findings: r.result.findings })),
    ];
    const describeAll = table.map((t) => `${t.source}:\n${t.findings.map((f) => `  ${f.ruleId} ${f.severity} ${f.location.file}:${f.location.line ?? ''} ${f.message}`).join('\n')}`).join('\n');
    for (const t of table) expect(signature(t.findings), `${name} via ${t.source}\n${describeAll}`).toEqual(expected);

    // Locations differ by nature (Containerfile line vs image//path), but a finding that the
    // Dockerfile source puts in a build-context file must point into a layer of the image.
    const containerfile = path.join(context, 'Containerfile');
    const inContextFile = new Set(fromDockerfile.findings.filter((f) => path.resolve(f.location.file) !== containerfile).map((f) => `${f.ruleId} ${f.severity}`));
    for (const { ref, result } of imageResults) {
      for (const f of result.findings) {
        const what = `${ref}: ${f.ruleId} at ${f.location.file}`;
        if (inContextFile.has(`${f.ruleId} ${f.severity}`)) {
          expect(f.location.file.startsWith(`${ref}//`), what).toBe(true);
          expect(f.location.image?.path, what).toMatch(/^\//);
          layerFindings++;
        }
        if (f.location.image?.path?.startsWith('/')) expect(f.location.image.layer, what).toMatch(/^sha256:[0-9a-f]{64}$/);
      }
    }
  }, 240_000);

  it('checked the layer of file findings (the corpus has findings in files, not only in the Containerfile)', () => {
    // hardcoded-8080, second-fixed-port, no-ping (serve-entrypoint points at the COPY line in a Containerfile).
    expect(layerFindings).toBeGreaterThanOrEqual(3 * 4);
  });
});
