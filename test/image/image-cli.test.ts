/**
 * `smcl image` through the spawned CLI, as users run it, on images of the parity corpus
 * (fixtures/parity/) built with podman and read back from the podman store, archives and a real
 * registry on 127.0.0.1. Under CI=true a missing podman or registry fails these tests.
 */
import { execFile } from 'node:child_process';
import { promises as fs, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sarifErrors } from '../support/sarif.js';
import { ROOT, smcl, type CliRun } from '../support/cli.js';
import { buildFixtureFromDir } from '../support/fixture-images.js';
import { requirePodman } from '../support/podman.js';
import { pushImage, startRegistry, type TestRegistry } from '../support/registry.js';
import { tempTree } from '../support/tmp.js';

const execFileP = promisify(execFile);

const PARITY = path.join(ROOT, 'fixtures/parity');
const build = (name: string): Promise<string> => buildFixtureFromDir(`parity-${name}`, path.join(PARITY, name));

/**
 * Rule ids of a JSON report's first result, without incomplete-input (its info findings say what
 * the source could not see, e.g. that --labels-only read no file).
 */
function ruleIds(stdout: string): string[] {
  return (JSON.parse(stdout).results[0].findings as Array<{ ruleId: string }>).map((f) => f.ruleId).filter((id) => id !== 'incomplete-input');
}

/** Stderr lines that are not progress notes (`smcl: reading ...`). */
function errorLines(r: CliRun): string[] {
  return r.stderr.split('\n').filter((l) => l.trim() && !/^smcl: reading /.test(l));
}

/** An input error: exit 2, exactly one line naming the input, no stack trace, no report. */
function expectInputError(r: CliRun, names: string | RegExp, what: string): void {
  expect(r.status, `${what}\n${r.stderr}`).toBe(2);
  const lines = errorLines(r);
  expect(lines, what).toHaveLength(1);
  if (typeof names === 'string') expect(lines[0], what).toContain(names);
  else expect(lines[0], what).toMatch(names);
  expect(lines[0], what).toMatch(/^smcl: /);
  expect(r.stderr, what).not.toMatch(/^\s+at /m);
  expect(r.stdout, what).toBe('');
}

describe('smcl image: input errors that need no image', () => {
  it('a nonexistent archive, an unparseable reference, a corrupt archive: exit 2, one line naming the input', () => {
    const dir = tempTree({ 'junk.tar': 'this is not a tar file at all\n'.repeat(40) });
    for (const ref of ['oci-archive:/nonexistent/smcl/image.tar', 'docker-archive:/nonexistent/smcl/image.tar', 'oci:/nonexistent/smcl/layout']) {
      expectInputError(smcl(['image', ref]), ref, ref);
    }
    expectInputError(smcl(['image', 'Not A Ref!!']), 'Not A Ref!!', 'bad reference');
    const junk = `oci-archive:${path.join(dir, 'junk.tar')}`;
    expectInputError(smcl(['image', junk]), junk, 'not a tar');
  });

  it('--password-stdin without --username: exit 2', () => {
    const r = smcl(['image', '--password-stdin', 'registry.example.com/model:1'], { input: 'secret\n' });
    expect(r.status).toBe(2);
    expect(errorLines(r)).toEqual(['smcl: --password-stdin needs --username']);
    expect(r.stderr).not.toContain('secret');
  });

  it('--quiet: an input error is exactly one line on stderr', () => {
    const r = smcl(['image', '--quiet', 'oci-archive:/nonexistent/smcl.tar']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('smcl: oci-archive:/nonexistent/smcl.tar: /nonexistent/smcl.tar is not a file\n');
  });
});

describe.skipIf(!requirePodman())('smcl image (spawned CLI) on built images', () => {
  let registry: TestRegistry;
  let tmp: string;
  const tags: Record<string, string> = {};
  const oci: Record<string, string> = {};
  const pushed: Record<string, string> = {};
  let arch = 'amd64';

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'smcl-image-cli-'));
    registry = await startRegistry();
    for (const name of ['good', 'hardcoded-8080', 'missing-label', 'expose-two-ports']) {
      tags[name] = await build(name);
      oci[name] = path.join(tmp, `${name}.oci.tar`);
      await execFileP('podman', ['save', '--quiet', '--format', 'oci-archive', '-o', oci[name], tags[name]], { timeout: 120_000 });
      pushed[name] = await pushImage(tags[name], registry.host, `smcl-cli/${name}:v1`);
    }
    arch = (await execFileP('podman', ['image', 'inspect', '--format', '{{.Architecture}}', tags.good])).stdout.trim();
  }, 300_000);

  afterAll(async () => {
    await registry?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('stylish: the finding points into the layer file, with a code frame of it; exit 1', () => {
    const ref = `oci-archive:${oci['hardcoded-8080']}`;
    const r = smcl(['image', ref]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`${ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}//usr/local/bin/serve:3:31 \\(layer sha256:[0-9a-f]{12}\\) error bind-to-port-env`));
    expect(r.stdout).toContain('> 3 | exec /bin/busybox httpd -f -p 8080 -h /www');
    expect(r.stdout).toMatch(/\|\s+\^\^\^\^\n/);
    expect(r.stdout).toContain('help: use "${SAGEMAKER_BIND_TO_PORT:-8080}" for the port');
    expect(r.stdout).toMatch(/1 problem \(1 error/);
  });

  it('json from the registry: layer digest and in-image path on file findings; a clean image exits 0', () => {
    const bad = smcl(['image', pushed['hardcoded-8080'], '--format', 'json']);
    expect(bad.status, bad.stderr).toBe(1);
    const report = JSON.parse(bad.stdout);
    expect(report.summary).toMatchObject({ error: 1, total: 1 });
    expect(report.results[0].subject).toBe(pushed['hardcoded-8080']);
    expect(report.results[0].findings[0]).toMatchObject({
      ruleId: 'bind-to-port-env',
      severity: 'error',
      location: { file: `${pushed['hardcoded-8080']}//usr/local/bin/serve`, line: 3, image: { ref: pushed['hardcoded-8080'], path: '/usr/local/bin/serve' } },
    });
    expect(report.results[0].findings[0].location.image.layer).toMatch(/^sha256:[0-9a-f]{64}$/);

    const good = smcl(['image', pushed.good, '--format', 'json']);
    expect(good.status, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout).results[0].findings).toEqual([]);
  });

  it('several references in one run: one result each, exit 1 when any has an error', () => {
    const r = smcl(['image', `podman:${tags.good}`, `oci-archive:${oci['missing-label']}`, '--format', 'json', '--quiet']);
    expect(r.status, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.results.map((x: { subject: string }) => x.subject)).toEqual([`podman:${tags.good}`, `oci-archive:${oci['missing-label']}`]);
    expect(report.results[1].findings.map((f: { ruleId: string }) => f.ruleId)).toEqual(['accept-bind-to-port-label']);
    expect(r.stderr).toBe('');
  });

  it('emits SARIF 2.1.0 that validates against the official schema, with the layer in properties', () => {
    const r = smcl(['image', `podman:${tags['hardcoded-8080']}`, '--format', 'sarif']);
    expect(r.status, r.stderr).toBe(1);
    const log = JSON.parse(r.stdout);
    expect(sarifErrors(log)).toBe('');
    const result = log.runs[0].results[0];
    expect(result).toMatchObject({ ruleId: 'bind-to-port-env', level: 'error', properties: { pathInImage: '/usr/local/bin/serve' } });
    expect(result.properties.layer).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.locations[0].physicalLocation.region).toMatchObject({ startLine: 3, startColumn: 31 });
  });

  it('exit codes follow --fail-on: a warning-only image exits 0 by default, 1 with --fail-on warning; --fail-on none exits 0 on errors', () => {
    const ref = `podman:${tags['expose-two-ports']}`;
    const dflt = smcl(['image', ref, '--format', 'json']);
    expect(dflt.status, dflt.stderr).toBe(0);
    expect(JSON.parse(dflt.stdout).results[0].findings).toMatchObject([{ ruleId: 'second-port-safe-range', severity: 'warning' }]);
    expect(smcl(['image', ref, '--fail-on', 'warning']).status).toBe(1);
    expect(smcl(['image', `podman:${tags['hardcoded-8080']}`, '--fail-on', 'none']).status).toBe(0);
  });

  it('--labels-only reports only what the config holds (labels), and reads no layer', async () => {
    const missing = smcl(['image', pushed['missing-label'], '--labels-only', '--format', 'json']);
    expect(missing.status, missing.stderr).toBe(1);
    expect(ruleIds(missing.stdout)).toEqual(['accept-bind-to-port-label']);
    // hardcoded-8080's problem is in a file: labels-only cannot see it (and says nothing about it).
    const hard = smcl(['image', pushed['hardcoded-8080'], '--labels-only', '--format', 'json']);
    expect(hard.status, hard.stderr).toBe(0);
    expect(ruleIds(hard.stdout)).toEqual([]);

    // Proof that no layer is fetched: delete the layer blobs from the registry.
    const repoTag = 'smcl-cli/layerless:v1';
    const ref = await pushImage(tags['missing-label'], registry.host, repoTag);
    const manifest = (await (
      await fetch(`${registry.url}/v2/smcl-cli/layerless/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } })
    ).json()) as { layers: Array<{ digest: string }> };
    for (const l of manifest.layers) {
      const del = await fetch(`${registry.url}/v2/smcl-cli/layerless/blobs/${l.digest}`, { method: 'DELETE' });
      expect(del.status).toBe(202);
    }
    const fast = smcl(['image', ref, '--labels-only', '--format', 'json']);
    expect(fast.status, fast.stderr).toBe(1);
    expect(ruleIds(fast.stdout)).toEqual(['accept-bind-to-port-label']);
    expectInputError(smcl(['image', ref]), new RegExp(`${ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*layer sha256:`), 'full read of a layerless image');
  });

  it('--instance-type of the other architecture: image-architecture error; of the same: clean', () => {
    const [other, same] = arch === 'arm64' ? ['ml.c5.xlarge', 'ml.c6g.xlarge'] : ['ml.c6g.xlarge', 'ml.c5.xlarge'];
    const wrong = smcl(['image', `podman:${tags.good}`, '--instance-type', other, '--format', 'json']);
    expect(wrong.status, wrong.stderr).toBe(1);
    const findings = JSON.parse(wrong.stdout).results[0].findings;
    expect(findings).toMatchObject([{ ruleId: 'image-architecture', severity: 'error' }]);
    expect(findings[0].message).toContain(`linux/${arch}`);
    expect(findings[0].message).toContain(other);
    const right = smcl(['image', `podman:${tags.good}`, '--instance-type', same]);
    expect(right.status, right.stdout + right.stderr).toBe(0);
    // Works with --labels-only too: the architecture is in the config.
    expect(smcl(['image', pushed.good, '--labels-only', '--instance-type', other]).status).toBe(1);
  });

  it('image-manifest: a push with zstd layers gets a warning on the layer (labels only, or a full read where Node has zstd)', async () => {
    // An image whose layer this registry has never seen: podman would otherwise mount the gzip
    // blob it pushed before instead of compressing again.
    const zstdRef = `${registry.host}/smcl-cli/zstd:v1`;
    const local = await build('entrypoint-wrapper'); // a clean image: only the zstd warning
    await execFileP('podman', ['push', '--quiet', '--tls-verify=false', '--compression-format', 'zstd', local, `docker://${zstdRef}`], { timeout: 120_000 });
    const r = smcl(['image', zstdRef, '--labels-only', '--format', 'json']);
    expect(r.status, r.stderr).toBe(0); // a warning does not fail the default --fail-on error
    const findings = JSON.parse(r.stdout).results[0].findings.filter((f: { ruleId: string }) => f.ruleId === 'image-manifest');
    expect(findings).toMatchObject([{ severity: 'warning', location: { file: zstdRef, image: { ref: zstdRef } } }]);
    expect(findings[0].message).toContain('application/vnd.oci.image.layer.v1.tar+zstd');
    expect(findings[0].location.image.layer).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(smcl(['image', zstdRef, '--labels-only', '--fail-on', 'warning']).status).toBe(1);

    const full = smcl(['image', zstdRef, '--format', 'json']);
    if (typeof (zlib as unknown as { createZstdDecompress?: unknown }).createZstdDecompress === 'function') {
      expect(full.status, full.stderr).toBe(0);
      expect(ruleIds(full.stdout)).toEqual(['image-manifest']);
    } else {
      expectInputError(full, new RegExp(`${zstdRef.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*zstd layers not supported`), 'zstd without Node zstd');
    }
    // The same image pushed with gzip layers: nothing from image-manifest.
    expect(ruleIds(smcl(['image', pushed.good, '--labels-only', '--format', 'json']).stdout)).toEqual([]);
  });

  it('bad inputs: truncated archives, a tag the registry does not have, an image podman does not have', async () => {
    for (const format of ['oci-archive', 'docker-archive'] as const) {
      const full = path.join(tmp, `good.${format}.tar`);
      await execFileP('podman', ['save', '--quiet', '--format', format, '-o', full, tags.good], { timeout: 120_000 });
      const bytes = await fs.readFile(full);
      const cut = path.join(tmp, `truncated.${format}.tar`);
      writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
      expectInputError(smcl(['image', `${format}:${cut}`]), `${format}:${cut}`, `truncated ${format}`);
    }
    const missingTag = `${registry.host}/smcl-cli/good:no-such-tag`;
    expectInputError(smcl(['image', missingTag]), new RegExp(`${missingTag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*not found \\(HTTP 404\\)`), 'registry 404');
    const missingRepo = `${registry.host}/smcl-cli/never-pushed:v1`;
    expectInputError(smcl(['image', missingRepo]), missingRepo, 'registry: unknown repository');
    const noImage = 'podman:localhost/smcl-cli/does-not-exist:latest';
    expectInputError(smcl(['image', noImage]), noImage, 'podman: no such image');
  });
});
