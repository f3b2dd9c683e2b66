import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { InvokeEndpointCommand, ModelError, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { describe, expect, it } from 'vitest';
import { EndpointStartError, endpointUp, planFromImages, RUN_LABEL } from '../../src/endpoint/emulator/index.js';
import { buildFixtureFromDir } from '../support/fixture-images.js';
import { requirePodman } from '../support/podman.js';

const execFileP = promisify(execFile);
async function containersOfRun(runId: string): Promise<string[]> {
  const { stdout } = await execFileP('podman', ['ps', '-a', '--filter', `label=${RUN_LABEL}=${runId}`, '--format', '{{.Names}}']);
  return stdout.split('\n').filter(Boolean);
}

describe.skipIf(!requirePodman())('smcl endpoint up: port findings and model errors (podman)', () => {
  it.concurrent('a container hard-coding 8080 is reported (bind-to-port-env) and the endpoint is torn down', async () => {
    const good = await buildFixtureFromDir('mce-echo');
    const hard = await buildFixtureFromDir('hardcodes-8080');
    const runId = `p8080${Date.now().toString(36)}`;
    const err = await endpointUp({ plan: planFromImages([`fine=${good}`, `legacy=${hard}`], { endpointName: 'mce-8080' }), engine: 'podman', pull: 'never', startupTimeout: 30, hardcodedPortGrace: 2, runId }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EndpointStartError);
    const f = (err as EndpointStartError).findings;
    expect(f).toHaveLength(1);
    expect(f[0].subject).toBe('legacy');
    // 8080 may be taken by another test on this host: then the server cannot bind at all.
    if (f[0].ruleId === 'bind-to-port-env') expect(f[0].message).toMatch(/legacy listens on 8080 instead of SAGEMAKER_BIND_TO_PORT=\d+.*legacy did not pass the ping health check/);
    else expect(f[0].ruleId).toBe('serve-entrypoint');
    expect(await containersOfRun(runId)).toEqual([]);
  }, 120_000);

  it.concurrent('an extra port outside the own safe range is reported (second-port-safe-range), the endpoint still serves', async () => {
    const good = await buildFixtureFromDir('mce-echo');
    const second = await buildFixtureFromDir('second-port-outside-range');
    const ep = await endpointUp({ plan: planFromImages([`fine=${good}`, `metrics=${second}`], { endpointName: 'mce-ports' }), engine: 'podman', pull: 'never', startupTimeout: 30 });
    try {
      expect(ep.findings.map((x) => [x.ruleId, x.subject])).toEqual([['second-port-safe-range', 'metrics']]);
      const c = ep.containers.find((x) => x.hostname === 'metrics')!;
      expect(ep.findings[0].message).toContain(`outside its SAGEMAKER_SAFE_PORT_RANGE=${c.safePortRange.join('-')}`);
      expect(ep.findings[0].message).toContain(`port ${c.safePortRange[1] + 1}`);
    } finally {
      await ep.stop();
    }
    expect(await containersOfRun(ep.runId)).toEqual([]);
  }, 120_000);

  it.concurrent('a container answering 4xx/5xx gives ModelError (424) with the original status, counted per container', async () => {
    const good = await buildFixtureFromDir('mce-echo');
    const plan = planFromImages([`ok=${good}`, `client=${good}`, `server=${good}`], { endpointName: 'mce-errors' });
    plan.containers[1].env = { INVOCATIONS_STATUS: '400 Bad Request' };
    plan.containers[2].env = { INVOCATIONS_STATUS: '500 Internal Server Error' };
    const ep = await endpointUp({ plan, engine: 'podman', pull: 'never', startupTimeout: 30 });
    try {
      const sm = new SageMakerRuntimeClient({ endpoint: ep.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
      for (const [h, status] of [
        ['client', 400],
        ['server', 500],
      ] as const) {
        const e = await sm.send(new InvokeEndpointCommand({ EndpointName: 'mce-errors', TargetContainerHostname: h, Body: new TextEncoder().encode('z') })).then(
          () => undefined,
          (x: unknown) => x,
        );
        expect(e).toBeInstanceOf(ModelError);
        expect((e as ModelError).$metadata.httpStatusCode).toBe(424);
        expect((e as ModelError).OriginalStatusCode).toBe(status);
        expect((e as ModelError).OriginalMessage).toBe(`${h} <- z`);
        expect((e as ModelError).message).toMatch(new RegExp(`Received (client|server) error \\(${status}\\) from ${h}`));
      }
      const snap = ep.metrics.snapshot();
      const by = (h: string) => snap.containers.find((c) => c.dimensions.ContainerName === h)!;
      expect([by('client').Invocations, by('client').Invocation4XXErrors, by('client').Invocation5XXErrors]).toEqual([1, 1, 0]);
      expect([by('server').Invocations, by('server').Invocation4XXErrors, by('server').Invocation5XXErrors]).toEqual([1, 0, 1]);
      expect([snap.variant.Invocation4XXErrors, snap.variant.Invocation5XXErrors]).toEqual([1, 1]);
    } finally {
      await ep.stop();
    }
  }, 120_000);
});
