/**
 * Hostile containers through the boot harness (podman). Fixtures: fixtures/hostile/<name>/
 * (FROM scratch + the host's static busybox), built by the tests. Short timeouts throughout.
 *
 * Each case: the harness reports the right finding (or none), stops within its grace period
 * (SIGKILL after `stopTimeout`), and leaves no container, no volume and no temp dir behind
 * (`podman ps -a`, `podman volume ls` and os.tmpdir() listed before and after), and no process
 * holding a host port (host network: a leaked process would keep the port).
 *
 * log-flood writes ~100 MB of logs, not 1 GB, to stay within CI time; the harness only ever
 * reads the last 50 lines (`logs --tail`), so the size does not change what is tested.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { bootImage, type BootOptions, type BootReport } from '../../src/harness/index.js';
import { canListen } from '../../src/harness/ports.js';
import { buildFixtureFromDir } from '../support/fixture-images.js';
import { requirePodman } from '../support/podman.js';
import { freeLocalPort } from '../support/registry.js';

const execFileP = promisify(execFile);
const FIXTURES = ['ignores-sigterm', 'forks-port-keeper', 'binds-safe-range', 'log-flood', 'exits-restarts', 'ping-then-hang'];

async function lines(args: string[]): Promise<Set<string>> {
  const { stdout } = await execFileP('podman', args, { maxBuffer: 16 * 1024 * 1024 });
  return new Set(stdout.split('\n').filter(Boolean));
}
const tmpEntries = (): Set<string> => new Set(fs.readdirSync(os.tmpdir()).filter((n) => /^(smcl-boot|libpod|podman|conmon)/.test(n)));

/** A port range of `size` free ports (checked on 127.0.0.1 and ::), away from 8080. */
async function freeRange(size: number): Promise<[number, number]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const lo = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let p = lo; p < lo + size && ok; p++) ok = await canListen(p);
    if (ok) return [lo, lo + size - 1];
  }
  throw new Error('no free port range');
}

describe.skipIf(!requirePodman())('hostile containers (podman boot harness)', () => {
  const images: Record<string, string> = {};
  let volumesBefore = new Set<string>();
  let tmpBefore = new Set<string>();
  const names: string[] = [];
  const summary: string[] = [];

  beforeAll(async () => {
    for (const name of FIXTURES) images[name] = await buildFixtureFromDir(`hostile-${name}`, path.join(ROOT, 'fixtures/hostile', name));
    volumesBefore = await lines(['volume', 'ls', '-q']);
    tmpBefore = tmpEntries();
  }, 600_000);

  afterAll(async () => {
    if (!names.length) return;
    const left = [...(await lines(['ps', '-a', '--format', '{{.Names}}']))].filter((n) => names.includes(n));
    const newVolumes = [...(await lines(['volume', 'ls', '-q']))].filter((v) => !volumesBefore.has(v));
    const newTmp = [...tmpEntries()].filter((n) => !tmpBefore.has(n));
    console.log(`[hostile containers] ${names.length} boots, containers left: ${left.length}, new volumes: ${newVolumes.length}, new temp entries: ${newTmp.length}\n${summary.join('\n')}`);
    expect(left).toEqual([]);
    expect(newVolumes).toEqual([]);
    expect(newTmp).toEqual([]);
  });

  async function boot(name: string, extra: Partial<BootOptions> = {}): Promise<{ report: BootReport; ms: number }> {
    const t0 = performance.now();
    const report = await bootImage({ image: images[name], engine: 'podman', pull: 'never', handleSignals: false, startupTimeout: 20, stopTimeout: 1, invocationTimeout: 3, ...extra });
    const ms = Math.round(performance.now() - t0);
    names.push(report.container.name);
    const all = await lines(['ps', '-a', '--format', '{{.Names}}']);
    expect(all.has(report.container.name), `${name}: container ${report.container.name} left behind`).toBe(false);
    // Host network: every port the container held must be free again.
    for (const p of [report.container.bindPort, ...report.metrics.listeningPorts.map((x) => x.port)]) expect(await canListen(p), `${name}: port ${p} still held after the boot`).toBe(true);
    summary.push(`  ${name}: ${report.findings.map((f) => f.ruleId).join(', ') || 'no finding'} in ${ms} ms`);
    return { report, ms };
  }

  it('ignores SIGTERM: served fine, killed after the 1 s grace period', async () => {
    const { report, ms } = await boot('ignores-sigterm');
    expect(report.findings).toEqual([]);
    expect(report.metrics.invocation?.status).toBe(200);
    expect(ms).toBeLessThan(40_000);
  }, 90_000);

  it('forks a daemon that keeps a port outside the safe range: second-port-safe-range, port released afterwards', async () => {
    const range = await freeRange(10);
    let extra = await freeLocalPort();
    while (extra >= range[0] && extra <= range[1]) extra = await freeLocalPort();
    const { report } = await boot('forks-port-keeper', { safePortRange: range, env: { EXTRA_PORT: String(extra) } });
    expect(report.findings.map((f) => f.ruleId)).toEqual(['second-port-safe-range']);
    expect(report.findings[0].message).toContain(`port ${extra}`);
    expect(await canListen(extra)).toBe(true);
  }, 90_000);

  it('binds every port of the safe range: allowed, no finding, all released', async () => {
    let range = await freeRange(20);
    let booted: { report: BootReport } | undefined;
    // The harness refuses a range with a port in use (also by an outgoing connection of another
    // test): pick another range then.
    for (let attempt = 0; !booted; attempt++) {
      try {
        booted = await boot('binds-safe-range', { safePortRange: range });
      } catch (err) {
        if (attempt >= 5 || !/already in use/.test((err as Error).message)) throw err;
        range = await freeRange(20);
      }
    }
    const { report } = booted;
    expect(report.findings).toEqual([]);
    const inRange = new Set(report.metrics.listeningPorts.map((p) => p.port).filter((p) => p >= range[0] && p <= range[1]));
    expect(inRange.size).toBe(20);
    for (let p = range[0]; p <= range[1]; p++) expect(await canListen(p)).toBe(true);
  }, 90_000);

  it('writes ~100 MB of logs then exits: serve-entrypoint with the tail of the log only', async () => {
    const { report } = await boot('log-flood', { startupTimeout: 60 });
    expect(report.findings.map((f) => f.ruleId)).toEqual(['serve-entrypoint']);
    expect(report.findings[0].message).toContain('log-flood: last line before exit');
    expect(report.findings[0].message.length).toBeLessThan(20_000);
  }, 180_000);

  it('exits and is restarted by the engine (--restart=always): a finding, and the restarting container is removed', async () => {
    const { report } = await boot('exits-restarts', { engineArgs: ['--restart=always'], startupTimeout: 8 });
    expect(report.findings.length).toBeGreaterThan(0);
    expect(['serve-entrypoint', 'ping-invocations-handlers']).toContain(report.findings[0].ruleId);
  }, 90_000);

  it('answers /ping then hangs /invocations: ping-invocations-handlers after the invocation timeout', async () => {
    const { report, ms } = await boot('ping-then-hang', { invocationTimeout: 3 });
    expect(report.findings.map((f) => f.ruleId)).toEqual(['ping-invocations-handlers']);
    expect(report.findings[0].message).toMatch(/did not answer POST \/invocations/);
    expect(report.metrics.startupMs).toBeGreaterThan(0);
    expect(ms).toBeLessThan(40_000);
  }, 90_000);
});
