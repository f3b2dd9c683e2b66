import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/engine/types.js';
import { bootImage, type BootOptions, type BootReport } from '../../src/harness/index.js';
import { buildFixtureFromDir } from '../support/fixture-images.js';
import { requirePodman } from '../support/podman.js';

const execFileP = promisify(execFile);

async function containerExists(name: string): Promise<boolean> {
  const { stdout } = await execFileP('podman', ['ps', '-a', '--filter', 'name=smcl-boot-', '--format', '{{.Names}}']);
  return stdout.split('\n').includes(name);
}

function ruleIds(r: BootReport): string[] {
  return r.findings.map((f) => f.ruleId).sort();
}

const FIXTURES = ['good', 'hardcodes-8080', 'second-port-outside-range', 'no-ping', 'no-invocations', 'crashes-on-start', 'hangs', 'slow-ping'];

describe.skipIf(!requirePodman())('bootImage with podman fixtures', () => {
  const images: Record<string, string> = {};
  beforeAll(async () => {
    for (const name of FIXTURES) images[name] = await buildFixtureFromDir(name);
  }, 300_000);

  async function boot(name: string, extra: Partial<BootOptions> = {}): Promise<BootReport> {
    const report = await bootImage({ image: images[name], engine: 'podman', pull: 'never', handleSignals: false, ...extra });
    expect(await containerExists(report.container.name), `container ${report.container.name} left behind`).toBe(false);
    for (const f of report.findings) {
      expect(f.subject).toBe(images[name]);
      expect(f.location).toEqual({ file: images[name] });
      expect(f.docsUrl).toMatch(new RegExp(`/rules/${f.ruleId}/README\\.md$`));
      expect(f.severity).toBe('error');
    }
    return report;
  }

  // The cases wait on the container most of the time, so they run concurrently.
  it.concurrent('good: no finding, healthy quickly, invocation measured', async () => {
    const r = await boot('good', { instanceType: 'ml.t2.medium', env: { MODEL_NAME: 'demo' } });
    expect(ruleIds(r)).toEqual([]);
    expect(r.metrics.startupMs).toBeGreaterThan(0);
    expect(r.metrics.startupMs).toBeLessThan(15_000);
    expect(r.metrics.invocation).toMatchObject({ status: 200, responseBytes: 5 });
    expect(r.metrics.invocation!.latencyUs).toBeGreaterThan(0);
    expect(r.metrics.portsInspected).toBe(true);
    expect(r.metrics.listeningPorts.map((p) => p.port)).toEqual([r.container.bindPort]);
    expect(r.container.bindPort).not.toBe(8080);
    const [lo, hi] = r.container.safePortRange;
    expect(hi - lo + 1).toBe(1000);
    expect(r.container.bindPort < lo || r.container.bindPort > hi).toBe(true);
    expect(r.container.memory).toBe('4g');
    expect(r.metrics.peakMemoryBytes).toBeGreaterThan(0);
    expect(r.metrics.memoryLimitBytes).toBeGreaterThan(3e9);
    console.log(`good fixture: healthy after ${r.metrics.startupMs} ms, invocation ${r.metrics.invocation!.latencyUs} us, peak mem ${r.metrics.peakMemoryBytes} B, peak cpu ${r.metrics.peakCpuPercent}%`);
  }, 60_000);

  it.concurrent('hardcodes-8080: bind-to-port-env only', async () => {
    const r = await boot('hardcodes-8080', { startupTimeout: 30, hardcodedPortGrace: 3 });
    expect(ruleIds(r)).toEqual(['bind-to-port-env']);
    expect(r.findings[0].message).toContain('8080');
    expect(r.findings[0].message).toContain(`SAGEMAKER_BIND_TO_PORT=${r.container.bindPort}`);
    expect(r.metrics.startupMs).toBeUndefined();
  }, 60_000);

  it.concurrent('second-port-outside-range: second-port-safe-range only', async () => {
    const r = await boot('second-port-outside-range');
    expect(ruleIds(r)).toEqual(['second-port-safe-range']);
    const [, hi] = r.container.safePortRange;
    expect(r.findings[0].message).toContain(`port ${hi + 1}`);
    expect(r.metrics.listeningPorts.map((p) => p.port).sort()).toEqual([r.container.bindPort, hi + 1].sort());
  }, 60_000);

  it.concurrent('no-ping: ping-invocations-handlers with the SageMaker message and logs', async () => {
    const r = await boot('no-ping', { startupTimeout: 8 });
    expect(ruleIds(r)).toEqual(['ping-invocations-handlers']);
    expect(r.findings[0].message).toContain(`${images['no-ping']} did not pass the ping health check`);
    expect(r.findings[0].message).toContain('HTTP 404');
    expect(r.findings[0].message).toContain('no-ping: serving on port');
  }, 60_000);

  it.concurrent('no-invocations: ping-invocations-handlers only', async () => {
    const r = await boot('no-invocations');
    expect(ruleIds(r)).toEqual(['ping-invocations-handlers']);
    expect(r.findings[0].message).toContain('POST /invocations with HTTP 404');
    expect(r.metrics.startupMs).toBeGreaterThan(0);
  }, 60_000);

  it.concurrent('crashes-on-start: serve-entrypoint with exit code and logs', async () => {
    const r = await boot('crashes-on-start', { startupTimeout: 30 });
    expect(ruleIds(r)).toEqual(['serve-entrypoint']);
    expect(r.findings[0].message).toContain('exited with code 3');
    expect(r.findings[0].message).toContain('FATAL: /opt/ml/model/model.bin');
    expect(r.container.exitCode).toBe(3);
  }, 60_000);

  it.concurrent('hangs: ping-invocations-handlers after the startup timeout', async () => {
    const t0 = Date.now();
    const r = await boot('hangs', { startupTimeout: 8 });
    expect(ruleIds(r)).toEqual(['ping-invocations-handlers']);
    expect(r.findings[0].message).toContain('did not pass the ping health check');
    expect(r.findings[0].message).toMatch(/timeout after \d+ ms/);
    expect(Date.now() - t0).toBeLessThan(30_000);
  }, 60_000);

  it.concurrent('slow-ping: healthy after ~20 s, no finding', async () => {
    const r = await boot('slow-ping', { startupTimeout: 45 });
    expect(ruleIds(r)).toEqual([]);
    expect(r.metrics.startupMs).toBeGreaterThanOrEqual(19_000);
    expect(r.metrics.invocation?.status).toBe(200);
  }, 90_000);

  it.concurrent('slow-ping with a short timeout: ping-invocations-handlers', async () => {
    const r = await boot('slow-ping', { startupTimeout: 6 });
    expect(ruleIds(r)).toEqual(['ping-invocations-handlers']);
    expect(r.findings[0].message).toContain('HTTP 503');
  }, 60_000);

  it('bad input is an InputError', async () => {
    await expect(bootImage({ image: 'localhost/smcl-fixture/does-not-exist:1', engine: 'podman', pull: 'never', handleSignals: false })).rejects.toThrow(
      InputError,
    );
    await expect(bootImage({ image: images.good, engine: 'no-such-engine-smcl', handleSignals: false })).rejects.toThrow(/not found/);
    await expect(bootImage({ image: images.good, engine: 'podman', instanceType: 'ml.nope', handleSignals: false })).rejects.toThrow(/unknown instance type/);
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      await expect(bootImage({ image: images.good, engine: 'podman', port, handleSignals: false })).rejects.toThrow(new RegExp(`port ${port} is already in use`));
    } finally {
      srv.close();
    }
  }, 60_000);
});
