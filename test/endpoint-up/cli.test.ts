import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { RUN_LABEL, type EndpointState, type MetricsSnapshot } from '../../src/endpoint/emulator/index.js';
import { CLI, ROOT, smcl } from '../support/cli.js';
import { buildFixtureFromDir } from '../support/fixture-images.js';
import { requirePodman } from '../support/podman.js';
import { tempTree } from '../support/tmp.js';

const execFileP = promisify(execFile);

async function containersOfRun(runId: string): Promise<string[]> {
  const { stdout } = await execFileP('podman', ['ps', '-a', '--filter', `label=${RUN_LABEL}=${runId}`, '--format', '{{.Names}}']);
  return stdout.split('\n').filter(Boolean);
}

const sdk = (url: string): SageMakerRuntimeClient =>
  new SageMakerRuntimeClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'SECRET' }, maxAttempts: 1 });

describe.skipIf(!requirePodman())('smcl endpoint up / down (CLI, podman)', () => {
  let image = '';
  beforeAll(async () => {
    image = await buildFixtureFromDir('mce-echo');
  }, 300_000);

  it('--detach serves in the background; endpoint down stops it and removes every container', async () => {
    const stateDir = tempTree({});
    const env = { SMCL_STATE_DIR: stateDir };
    const up = smcl(['endpoint', 'up', `one=${image}`, `two=${image}`, '--endpoint-name', 'cli-detached', '--pull', 'never', '--detach'], { env });
    expect(up.stderr).toMatch(/endpoint cli-detached is up at/);
    expect(up.status).toBe(0);
    const url = up.stdout.trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const state = JSON.parse(fs.readFileSync(path.join(stateDir, 'cli-detached.json'), 'utf8')) as EndpointState;
    expect(state.containers).toHaveLength(2);
    expect(await containersOfRun(state.runId)).toHaveLength(2);
    const out = await sdk(url).send(new InvokeEndpointCommand({ EndpointName: 'cli-detached', TargetContainerHostname: 'two', Body: new TextEncoder().encode('hi') }));
    expect(new TextDecoder().decode(out.Body)).toBe('two <- hi');

    const down = smcl(['endpoint', 'down', 'cli-detached'], { env });
    expect(down.status, down.stderr).toBe(0);
    expect(down.stderr).toMatch(/endpoint cli-detached is down/);
    expect(await containersOfRun(state.runId)).toEqual([]);
    expect(fs.existsSync(path.join(stateDir, 'cli-detached.json'))).toBe(false);
    await expect(fetch(`${url}/metrics`)).rejects.toThrow();
    expect(smcl(['endpoint', 'down'], { env }).status).toBe(2);
  }, 120_000);

  it('foreground from a CreateModel file: SIGTERM removes every container, EMF metrics, CPU disparity advice', async () => {
    const dir = tempTree({
      'model.json': JSON.stringify({
        ModelName: 'cli-model',
        ExecutionRoleArn: 'arn:aws:iam::123456789012:role/sm',
        InferenceExecutionConfig: { Mode: 'Direct' },
        Containers: [
          { ContainerHostname: 'light', Image: image },
          { ContainerHostname: 'heavy', Image: image, Environment: { BURN_LOOPS: '30000' } },
        ],
      }),
    });
    const metricsFile = path.join(dir, 'emf.jsonl');
    const stateDir = tempTree({});
    const child = spawn(process.execPath, [CLI, 'endpoint', 'up', path.join(dir, 'model.json'), '--endpoint-name', 'cli-fg', '--pull', 'never', '--instance-type', 'ml.t2.medium', '--metrics', metricsFile], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', SMCL_STATE_DIR: stateDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let runId: string | undefined;
    try {
      const deadline = Date.now() + 60_000;
      while (!/ at (http:\/\/\S+)/.test(stdout)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no URL printed:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const url = / at (http:\/\/\S+)/.exec(stdout)![1];
      const state = JSON.parse(fs.readFileSync(path.join(stateDir, 'cli-fg.json'), 'utf8')) as EndpointState;
      runId = state.runId;
      const client = sdk(url);
      // CPU per invocation counts from the first stats sample that carries CPU time; on a loaded
      // machine that sample can come late. Wait until both containers have been sampled twice
      // (CPUUtilization is known) so that every request below falls inside the measured window.
      let snap: MetricsSnapshot | undefined;
      for (let i = 0; i < 300; i++) {
        snap = (await (await fetch(`${url}/metrics`)).json()) as MetricsSnapshot;
        if (snap.containers.every((c) => c.CPUUtilization !== undefined)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(
        snap!.containers.map((c) => c.CPUUtilization !== undefined),
        `no CPU baseline after 60 s (${snap!.statsErrors ?? 0} failed stats calls, last: ${snap!.lastStatsError ?? 'none'})`,
      ).toEqual([true, true]);
      const t0 = performance.now();
      for (let i = 0; i < 6; i++) {
        for (const h of ['light', 'heavy']) {
          await client.send(new InvokeEndpointCommand({ EndpointName: 'cli-fg', TargetContainerHostname: h, Body: new TextEncoder().encode(String(i)) }));
        }
      }
      const took = performance.now() - t0;
      // Let the stats sampler (every 2 s) see the CPU time of the last requests.
      await new Promise((r) => setTimeout(r, 4500));
      const m = (await (await fetch(`${url}/metrics`)).json()) as MetricsSnapshot;
      const light = m.containers.find((c) => c.dimensions.ContainerName === 'light')!;
      const heavy = m.containers.find((c) => c.dimensions.ContainerName === 'heavy')!;
      console.log(
        `12 invocations in ${Math.round(took)} ms; CPU ms/invocation light ${light.cpuMsPerInvocation?.toFixed(2)} heavy ${heavy.cpuMsPerInvocation?.toFixed(2)}; ` +
          `ContainerLatency avg light ${Math.round(light.ContainerLatency.avg!)} us heavy ${Math.round(heavy.ContainerLatency.avg!)} us; advice: ${m.advice.join(' | ')}`,
      );
      expect(light.Invocations).toBe(6);
      expect(heavy.Invocations).toBe(6);
      expect(heavy.cpuMsPerInvocation! / light.cpuMsPerInvocation!).toBeGreaterThan(2);
      expect(m.advice.some((a) => /^CPU time per invocation: heavy .* vs light .*x\)/.test(a))).toBe(true);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).toMatch(/SIGTERM: stopping endpoint cli-fg/);
      expect(stderr).toMatch(/ContainerName\s+Invocations/);
      expect(stderr).toMatch(/advice: CPU time per invocation: heavy/);
      expect(await containersOfRun(state.runId)).toEqual([]);
      expect(fs.existsSync(path.join(stateDir, 'cli-fg.json'))).toBe(false);

      const lines = fs.readFileSync(metricsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
      const perContainer = lines.filter((l) => l.ContainerName === 'heavy');
      expect(perContainer.length).toBeGreaterThan(0);
      const last = perContainer[perContainer.length - 1];
      expect(last._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'AWS/SageMaker', Dimensions: [['EndpointName', 'VariantName', 'ContainerName']] });
      expect(last._aws.CloudWatchMetrics[1]).toMatchObject({ Namespace: 'aws/sagemaker/Endpoints' });
      expect(perContainer.reduce((a, l) => a + (l.Invocations as number), 0)).toBe(6);
      expect(last.ContainerLatency ?? perContainer.find((l) => l.ContainerLatency)?.ContainerLatency).toHaveLength(6);
      const variant = lines.filter((l) => l.ContainerName === undefined);
      expect(variant.reduce((a, l) => a + (l.Invocations as number), 0)).toBe(12);
      expect(variant[0]._aws.CloudWatchMetrics[0].Metrics.map((x: { Name: string }) => x.Name)).not.toContain('ContainerLatency');
    } finally {
      // A failed assertion above must not leave the endpoint (and its containers) running.
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      if (runId) for (const name of await containersOfRun(runId)) await execFileP('podman', ['rm', '-f', '-t', '0', name]).catch(() => undefined);
    }
  }, 120_000);

  it('a container that fails to start: findings with rule ids, exit 1, nothing left', async () => {
    const broken = await buildFixtureFromDir('mce-broken');
    const r = smcl(['endpoint', 'up', `ok=${image}`, `bad=${broken}`, '--endpoint-name', 'cli-broken', '--pull', 'never', '--format', 'json'], { env: { SMCL_STATE_DIR: tempTree({}) } });
    expect(r.status, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as { results: Array<{ findings: Array<{ ruleId: string; message: string }> }> } | Array<{ findings: Array<{ ruleId: string }> }>;
    expect(JSON.stringify(report)).toMatch(/serve-entrypoint/);
    expect(r.stderr).toMatch(/did not start; every container was removed/);
    const { stdout } = await execFileP('podman', ['ps', '-a', '--filter', `label=smcl.endpoint.name=cli-broken`, '--format', '{{.Names}}']);
    expect(stdout.trim()).toBe('');
  }, 120_000);
});
