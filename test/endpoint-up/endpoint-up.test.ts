import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyFromObject } from '../../src/endpoint/index.js';
import {
  EndpointStartError,
  endpointUp,
  planFromImages,
  RUN_LABEL,
  startRuntimeServer,
  type MetricsSnapshot,
  type RunningEndpoint,
} from '../../src/endpoint/emulator/index.js';
import { buildFixtureFromDir } from '../support/fixture-images.js';
import { requirePodman } from '../support/podman.js';

const execFileP = promisify(execFile);

/** Containers (any state) of one emulator run, by label. */
async function containersOfRun(runId: string): Promise<string[]> {
  const { stdout } = await execFileP('podman', ['ps', '-a', '--filter', `label=${RUN_LABEL}=${runId}`, '--format', '{{.Names}}']);
  return stdout.split('\n').filter(Boolean);
}

function client(url: string): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
    maxAttempts: 1,
  });
}

/** The deny policy of the AWS page, its placeholder Resource filled with the endpoint. */
function referenceDenyPolicy(endpointName: string): unknown {
  const resource = `arn:aws:sagemaker:region:account-id:endpoint/${endpointName}`;
  return {
    Version: '2012-10-17',
    Statement: [
      { Action: ['sagemaker:InvokeEndpoint'], Effect: 'Allow', Resource: resource, Condition: { StringLike: { 'sagemaker:TargetContainerHostname': ['*'] } } },
      { Action: ['sagemaker:InvokeEndpoint'], Effect: 'Deny', Resource: resource, Condition: { StringLike: { 'sagemaker:TargetContainerHostname': ['special*'] } } },
    ],
  };
}

async function errorOf(p: Promise<unknown>): Promise<{ name: string; status?: number; message: string; [k: string]: unknown }> {
  try {
    await p;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return Object.assign(e, { status: e.$metadata?.httpStatusCode }) as never;
  }
  throw new Error('expected the call to fail');
}

const HOSTNAMES = ['alpha', 'bravo', 'charlie', 'delta', 'special-x'];

describe.skipIf(!requirePodman())('smcl endpoint up (library) with 5 podman containers', () => {
  let image = '';
  let ep: RunningEndpoint | undefined;
  const sent = new Map<string, number>();

  beforeAll(async () => {
    image = await buildFixtureFromDir('mce-echo');
    const t0 = performance.now();
    ep = await endpointUp({
      plan: planFromImages(
        HOSTNAMES.map((h) => `${h}=${image}`),
        { endpointName: 'mce-test', mode: 'Direct' },
      ),
      engine: 'podman',
      pull: 'never',
      instanceType: 'ml.m5.large',
      startupTimeout: 60,
      statsInterval: 1,
      healthInterval: 1,
    });
    console.log(`5 containers up in ${Math.round(performance.now() - t0)} ms at ${ep.url}`);
  }, 180_000);

  afterAll(async () => {
    const runId = ep?.runId;
    await ep?.stop();
    if (runId) expect(await containersOfRun(runId)).toEqual([]);
  }, 120_000);

  it('co-hosts every container with its own port and disjoint safe range, never 8080', () => {
    const c = ep!.containers;
    expect(c.map((x) => x.hostname)).toEqual(HOSTNAMES);
    expect(new Set(c.map((x) => x.bindPort)).size).toBe(5);
    for (const x of c) {
      expect(x.bindPort).not.toBe(8080);
      expect(x.healthy).toBe(true);
      for (const y of c) {
        if (x === y) continue;
        const overlap = x.safePortRange[0] <= y.safePortRange[1] && y.safePortRange[0] <= x.safePortRange[1];
        expect(overlap, `${x.hostname} and ${y.hostname} safe ranges overlap`).toBe(false);
        expect(y.bindPort < x.safePortRange[0] || y.bindPort > x.safePortRange[1]).toBe(true);
      }
      expect(8080 < x.safePortRange[0] || 8080 > x.safePortRange[1]).toBe(true);
    }
    expect(ep!.findings).toEqual([]);
    expect(ep!.host).toBe('127.0.0.1');
  });

  it('routes InvokeEndpoint to the container named by TargetContainerHostname (real SDK client)', async () => {
    const sm = client(ep!.url);
    for (let round = 0; round < 2; round++) {
      for (const [i, h] of HOSTNAMES.entries()) {
        if (h === 'special-x' && round === 1) continue;
        const out = await sm.send(
          new InvokeEndpointCommand({ EndpointName: 'mce-test', TargetContainerHostname: h, Body: new TextEncoder().encode(`req-${i}`), ContentType: 'text/plain', Accept: 'text/plain', CustomAttributes: `n=${i}` }),
        );
        expect(new TextDecoder().decode(out.Body)).toBe(`${h} <- req-${i}`);
        expect(out.ContentType).toBe('text/plain');
        expect(out.InvokedProductionVariant).toBe('AllTraffic');
        expect(out.CustomAttributes).toBe(`seen=n=${i}`);
        sent.set(h, (sent.get(h) ?? 0) + 1);
      }
    }
  }, 60_000);

  it('raises ValidationError for an unknown hostname, a missing hostname, and a hostname on a Serial endpoint', async () => {
    const sm = client(ep!.url);
    const body = new TextEncoder().encode('x');
    const unknown = await errorOf(sm.send(new InvokeEndpointCommand({ EndpointName: 'mce-test', TargetContainerHostname: 'no-such-container', Body: body })));
    expect(unknown.name).toBe('ValidationError');
    expect(unknown.status).toBe(400);
    expect(unknown.message).toMatch(/no-such-container does not exist/);
    const missing = await errorOf(sm.send(new InvokeEndpointCommand({ EndpointName: 'mce-test', Body: body })));
    expect(missing.name).toBe('ValidationError');
    expect(missing.message).toMatch(/direct invocation/);
    const wrongEndpoint = await errorOf(sm.send(new InvokeEndpointCommand({ EndpointName: 'other', TargetContainerHostname: 'alpha', Body: body })));
    expect(wrongEndpoint.name).toBe('ValidationError');

    // The same running containers behind a Serial endpoint: a pipeline, and no hostname allowed.
    const serial = await startRuntimeServer({ plan: { ...ep!.plan, endpointName: 'mce-serial', mode: 'Serial', containers: ep!.plan.containers.slice(0, 2) }, containers: ep!.containers.slice(0, 2), metrics: ep!.metrics });
    try {
      const s = client(serial.url);
      const withHost = await errorOf(s.send(new InvokeEndpointCommand({ EndpointName: 'mce-serial', TargetContainerHostname: 'alpha', Body: body })));
      expect(withHost.name).toBe('ValidationError');
      expect(withHost.status).toBe(400);
      const chained = await s.send(new InvokeEndpointCommand({ EndpointName: 'mce-serial', Body: new TextEncoder().encode('in'), ContentType: 'text/plain' }));
      expect(new TextDecoder().decode(chained.Body)).toBe('bravo <- alpha <- in');
      sent.set('alpha', (sent.get('alpha') ?? 0) + 1);
      sent.set('bravo', (sent.get('bravo') ?? 0) + 1);
    } finally {
      await serial.close();
    }
  }, 60_000);

  it('raises AccessDeniedException for special* under the AWS page deny policy, allows the rest', async () => {
    const policy = policyFromObject(referenceDenyPolicy('mce-test'), 'deny-special.json');
    const guarded = await startRuntimeServer({ plan: ep!.plan, containers: ep!.containers, metrics: ep!.metrics, policies: [policy] });
    try {
      const sm = client(guarded.url);
      const denied = await errorOf(sm.send(new InvokeEndpointCommand({ EndpointName: 'mce-test', TargetContainerHostname: 'special-x', Body: new TextEncoder().encode('x') })));
      expect(denied.name).toBe('AccessDeniedException');
      expect(denied.status).toBe(403);
      expect(denied.message).toMatch(/explicit deny/);
      const ok = await sm.send(new InvokeEndpointCommand({ EndpointName: 'mce-test', TargetContainerHostname: 'delta', Body: new TextEncoder().encode('y') }));
      expect(new TextDecoder().decode(ok.Body)).toBe('delta <- y');
      sent.set('delta', (sent.get('delta') ?? 0) + 1);
    } finally {
      await guarded.close();
    }
  }, 60_000);

  it('counts Invocations per container as sent, with latencies, CPU and memory', async () => {
    // Memory comes from the engine's stats, sampled every second; on a loaded machine give it time.
    let m!: MetricsSnapshot & { rejected: Record<string, number> };
    for (let i = 0; i < 300; i++) {
      m = (await (await fetch(`${ep!.url}/metrics`)).json()) as typeof m;
      if (m.containers.every((c) => c.MemoryUtilization !== undefined && c.CPUUtilization !== undefined)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(
      m.containers.filter((c) => c.MemoryUtilization === undefined).map((c) => c.dimensions.ContainerName),
      `no memory sample after 60 s (${m.statsErrors ?? 0} failed stats calls, last: ${m.lastStatsError ?? 'none'})`,
    ).toEqual([]);
    for (const h of HOSTNAMES) {
      const c = m.containers.find((x) => x.dimensions.ContainerName === h)!;
      expect(c.dimensions).toEqual({ EndpointName: 'mce-test', VariantName: 'AllTraffic', ContainerName: h });
      expect(c.Invocations, h).toBe(sent.get(h));
      expect(c.Invocation4XXErrors + c.Invocation5XXErrors).toBe(0);
      expect(c.ContainerLatency.count).toBe(sent.get(h));
      expect(c.ContainerLatency.min).toBeGreaterThan(0);
      expect(c.OverheadLatency.count).toBe(sent.get(h));
      expect(c.MemoryUtilization).toBeGreaterThan(0);
      expect(c.MemoryUtilization).toBeLessThan(100);
      console.log(`${h}: ${c.Invocations} invocations, ContainerLatency avg ${Math.round(c.ContainerLatency.avg!)} us, OverheadLatency avg ${Math.round(c.OverheadLatency.avg!)} us, mem ${c.memoryBytes} B (${c.MemoryUtilization?.toFixed(4)}%), cpu ${c.CPUUtilization?.toFixed(1)}%`);
    }
    // The variant counts requests (the Serial one is one request through two containers).
    expect(m.variant.Invocations).toBe([...sent.values()].reduce((a, b) => a + b, 0) - 1);
    expect(m.variant).not.toHaveProperty('ContainerLatency');
    expect(m.rejected.ValidationError).toBe(3);
  }, 90_000);

  it('keeps pinging containers in service: one that stops answering /ping is counted and advised about', async () => {
    const sick = ep!.containers.find((c) => c.hostname === 'charlie')!;
    await execFileP('podman', ['exec', sick.name, '/bin/busybox', 'touch', '/unhealthy']);
    let m!: MetricsSnapshot;
    for (let i = 0; i < 100; i++) {
      m = (await (await fetch(`${ep!.url}/metrics`)).json()) as MetricsSnapshot;
      // One round checks the containers in parallel: wait for whole rounds, not just charlie's.
      const charlie = m.containers.find((c) => c.dimensions.ContainerName === 'charlie')!;
      if (charlie.healthChecks.failed >= 2 && m.containers.every((c) => c.healthChecks.sent >= 2)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    for (const c of m.containers) {
      const h = c.dimensions.ContainerName;
      expect(c.healthChecks.sent, h).toBeGreaterThanOrEqual(2);
      if (h === 'charlie') {
        expect(c.healthChecks.failed).toBeGreaterThanOrEqual(2);
        expect(c.healthChecks.lastFailure).toMatch(/503/);
      } else expect(c.healthChecks, h).toEqual({ sent: c.healthChecks.sent, failed: 0 });
    }
    expect(m.advice).toContainEqual(expect.stringMatching(/^charlie failed \d+ of \d+ GET \/ping health checks after start-up \(last: .*503/));
    expect(ep!.metrics.table()).toMatch(/charlie .* [1-9]\d*\/\d+$/m);
    await execFileP('podman', ['exec', sick.name, '/bin/busybox', 'rm', '/unhealthy']);
  }, 60_000);
});

describe.skipIf(!requirePodman())('smcl endpoint up: startup failure', () => {
  it('a container that fails to start tears every container down and is reported', async () => {
    const image = await buildFixtureFromDir('mce-echo');
    const broken = await buildFixtureFromDir('mce-broken');
    // Other test files boot emulator containers at the same time: look only at this run's.
    const runId = 'brokentest' + Date.now().toString(36);
    let err: unknown;
    try {
      await endpointUp({
        plan: planFromImages([`one=${image}`, `two=${image}`, `bad=${broken}`, `three=${image}`], { endpointName: 'mce-broken-test' }),
        engine: 'podman',
        pull: 'never',
        startupTimeout: 30,
        runId,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EndpointStartError);
    const findings = (err as EndpointStartError).findings;
    expect(findings.map((f) => [f.ruleId, f.subject])).toEqual([['serve-entrypoint', 'bad']]);
    expect(findings[0].message).toMatch(/exited with code 3/);
    expect(findings[0].message).toMatch(/cannot load model/);
    expect(await containersOfRun(runId)).toEqual([]);
  }, 120_000);

  it('a container that never passes /ping is reported with SageMaker\'s wording, and all are removed', async () => {
    const image = await buildFixtureFromDir('mce-echo');
    const runId = 'sicktest' + Date.now().toString(36);
    const plan = planFromImages([`fine=${image}`, `sick=${image}`], { endpointName: 'mce-sick' });
    plan.containers[1].env = { PING_STATUS: '503 Service Unavailable' };
    const err = await endpointUp({ plan, engine: 'podman', pull: 'never', startupTimeout: 4, runId }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EndpointStartError);
    const f = (err as EndpointStartError).findings;
    expect(f.map((x) => x.ruleId)).toEqual(['ping-invocations-handlers']);
    expect(f[0].message).toMatch(/^sick did not pass the ping health check/);
    expect(await containersOfRun(runId)).toEqual([]);
  }, 120_000);
});
