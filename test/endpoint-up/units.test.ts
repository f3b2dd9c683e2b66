import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/engine/types.js';
import { loadEndpointText } from '../../src/endpoint/load.js';
import {
  disparityAdvice,
  EndpointMetrics,
  parseGoDuration,
  planCohostPorts,
  planFromImages,
  planFromModel,
  resolveResources,
  startupMemoryAdvice,
} from '../../src/endpoint/emulator/index.js';
import { parseStatsList } from '../../src/endpoint/emulator/index.js';

describe('plan', () => {
  it('images: hostname=image or container-N, Direct by default', () => {
    const p = planFromImages(['a=img:1', 'img:2'], {});
    expect(p).toMatchObject({ endpointName: 'local-endpoint', variantName: 'AllTraffic', mode: 'Direct' });
    expect(p.containers.map((c) => [c.hostname, c.image])).toEqual([
      ['a', 'img:1'],
      ['container-2', 'img:2'],
    ]);
    expect(() => planFromImages(['x=a', 'x=b'])).toThrow(InputError);
    expect(() => planFromImages(['bad_name=a'])).toThrow(/invalid ContainerHostname/);
    expect(() => planFromImages(['a'], { endpointName: 'no_underscore' })).toThrow(/invalid endpoint name/);
  });

  it('CreateModel: hostnames, images, environment and the inference mode', () => {
    const model = loadEndpointText(
      JSON.stringify({
        ModelName: 'm1',
        Containers: [
          { ContainerHostname: 'first', Image: 'r/a:1', Environment: { K: 'v' } },
          { Image: 'r/b:1' },
        ],
      }),
      'model.json',
    );
    const p = planFromModel(model, {}, 'model.json');
    expect(p.mode).toBe('Serial'); // no InferenceExecutionConfig: SageMaker's default
    expect(p.endpointName).toBe('m1');
    expect(p.containers).toEqual([
      { hostname: 'first', image: 'r/a:1', env: { K: 'v' } },
      { hostname: 'container-2', image: 'r/b:1', env: {} },
    ]);
  });
});

describe('co-hosting ports and resources', () => {
  it('bind ports and safe ranges are pairwise disjoint and avoid 8080', async () => {
    const plan = await planCohostPorts(5, 1000);
    const spans: Array<[number, number]> = plan.flatMap((p) => [[p.bindPort, p.bindPort] as [number, number], p.safePortRange]);
    for (const [i, a] of spans.entries()) {
      expect(8080 >= a[0] && 8080 <= a[1]).toBe(false);
      for (const b of spans.slice(i + 1)) expect(a[0] <= b[1] && b[0] <= a[1]).toBe(false);
    }
    for (const p of plan) expect(p.safePortRange[1] - p.safePortRange[0] + 1).toBe(1000);
  });

  it('every container gets the whole instance (shared, not split)', () => {
    const notes: string[] = [];
    const r = resolveResources({ instanceType: 'ml.m5.large' }, notes);
    expect(r.memory).toBe('8g');
    expect(r.memoryBytes).toBe(8 * 1024 ** 3);
    expect(r.instanceCpus).toBe(2);
    expect(() => resolveResources({ instanceType: 'ml.nope' }, [])).toThrow(InputError);
  });
});

describe('metrics', () => {
  const mk = () => new EndpointMetrics({ endpointName: 'ep', variantName: 'AllTraffic', hostnames: ['a', 'b'], instanceCpus: 2, instanceMemoryBytes: 1000, instanceType: 'ml.x' });

  it('per-container and variant counts, latencies and EMF lines', () => {
    const m = mk();
    m.recordRequest([{ hostname: 'a', status: 200, latencyUs: 100 }], 150);
    m.recordRequest([{ hostname: 'b', status: 404, latencyUs: 50 }], 60);
    m.recordRequest([{ hostname: 'b', status: 503, latencyUs: 70 }], 90);
    m.recordStats('a', { memoryBytes: 100, cpuTimeNs: 0 }, 0);
    m.recordStats('a', { memoryBytes: 200, cpuTimeNs: 500e6 }, 1000); // 0.5 s CPU in 1 s: 50%
    const s = m.snapshot();
    const a = s.containers[0];
    expect(a).toMatchObject({ Invocations: 1, Invocation4XXErrors: 0, Invocation5XXErrors: 0, CPUUtilization: 50, MemoryUtilization: 20 });
    expect(a.ContainerLatency).toMatchObject({ count: 1, sum: 100 });
    expect(a.OverheadLatency).toMatchObject({ count: 1, sum: 50 });
    expect(s.containers[1]).toMatchObject({ Invocations: 2, Invocation4XXErrors: 1, Invocation5XXErrors: 1 });
    expect(s.variant).toMatchObject({ Invocations: 3, Invocation4XXErrors: 1, Invocation5XXErrors: 1 });
    expect(s.variant).not.toHaveProperty('ContainerLatency');

    const lines = m.flushEmf(1234).map((l) => JSON.parse(l) as Record<string, any>);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ EndpointName: 'ep', VariantName: 'AllTraffic', ContainerName: 'a', Invocations: 1, ContainerLatency: [100], OverheadLatency: [50], CPUUtilization: 50, MemoryUtilization: 20 });
    expect(lines[0]._aws).toEqual({
      Timestamp: 1234,
      CloudWatchMetrics: [
        {
          Namespace: 'AWS/SageMaker',
          Dimensions: [['EndpointName', 'VariantName', 'ContainerName']],
          Metrics: [
            { Name: 'Invocations', Unit: 'None' },
            { Name: 'Invocation4XXErrors', Unit: 'None' },
            { Name: 'Invocation5XXErrors', Unit: 'None' },
            { Name: 'ContainerLatency', Unit: 'Microseconds' },
            { Name: 'OverheadLatency', Unit: 'Microseconds' },
          ],
        },
        { Namespace: 'aws/sagemaker/Endpoints', Dimensions: [['EndpointName', 'VariantName', 'ContainerName']], Metrics: [{ Name: 'CPUUtilization', Unit: 'Percent' }, { Name: 'MemoryUtilization', Unit: 'Percent' }] },
      ],
    });
    expect(lines[2].ContainerName).toBeUndefined();
    expect(lines[2]._aws.CloudWatchMetrics[0].Dimensions).toEqual([['EndpointName', 'VariantName']]);
    expect(lines[2]._aws.CloudWatchMetrics[0].Metrics.map((x: { Name: string }) => x.Name)).toEqual(['Invocations', 'Invocation4XXErrors', 'Invocation5XXErrors', 'OverheadLatency']);
    // Deltas: a second flush without traffic counts nothing.
    expect((JSON.parse(m.flushEmf()[0]) as { Invocations: number }).Invocations).toBe(0);
    expect(m.table()).toMatch(/ContainerName\s+Invocations/);
  });

  it('startup memory advice names the containers and the numbers', () => {
    const gib = 1024 ** 3;
    expect(startupMemoryAdvice([{ hostname: 'a', bytes: 1 * gib }], 8 * gib, 0.1)).toBeUndefined();
    const a = startupMemoryAdvice(
      [
        { hostname: 'a', bytes: 4 * gib },
        { hostname: 'b', bytes: 3.5 * gib },
      ],
      8 * gib,
      0.1,
      'ml.m5.large',
    )!;
    expect(a).toContain('the 2 containers use 7.50 GiB together at startup (a 4.00 GiB, b 3.50 GiB), 93.8% of the ml.m5.large\'s 8.00 GiB: 512.0 MiB left, under the 10% margin (819.2 MiB)');
    expect(a).toContain('did not pass the ping health check');
    const m = mk();
    m.recordStats('a', { memoryBytes: 600 });
    m.recordStats('b', { memoryBytes: 350 });
    m.markStartup();
    expect(m.advice()[0]).toMatch(/^memory: the 2 containers use/);
  });

  it('disparity advice names the containers and the ratio', () => {
    expect(disparityAdvice([{ hostname: 'a', value: 10 }, { hostname: 'b', value: 15 }], 2, 'x', String)).toBeUndefined();
    expect(disparityAdvice([{ hostname: 'a', value: 10 }, { hostname: 'b', value: 35 }, { hostname: 'c', value: 12 }], 2, 'CPU time per invocation', (v) => `${v} ms`)).toMatch(
      /^CPU time per invocation: b 35 ms vs a 10 ms \(3\.5x\)\. Autoscaling on InvocationsPerInstance/,
    );
  });
});

describe('engine output parsing', () => {
  it('Go durations (podman cpu_time)', () => {
    expect(parseGoDuration('56.381995ms')).toBeCloseTo(56_381_995);
    expect(parseGoDuration('1m2.5s')).toBe(62.5e9);
    expect(parseGoDuration('12µs')).toBe(12_000);
    expect(parseGoDuration('n/a')).toBeUndefined();
  });

  it('stats of several containers (podman JSON array, docker lines)', () => {
    const podman = parseStatsList('[{"name":"x","cpu_time":"1.5s","cpu_percent":"3.00%","mem_usage":"1.5MB / 8GB"},{"name":"y","cpu_percent":"0%","mem_usage":"1kB / 8GB"}]');
    expect(podman.get('x')).toEqual({ cpuPercent: 3, memoryBytes: 1_500_000, memoryLimitBytes: 8e9, cpuTimeNs: 1.5e9 });
    expect(podman.get('y')?.memoryBytes).toBe(1000);
    const docker = parseStatsList('{"Name":"x","CPUPerc":"1.5%","MemUsage":"2MiB / 1GiB"}\n{"Name":"z","CPUPerc":"0.00%","MemUsage":"0B / 1GiB"}');
    expect(docker.get('x')).toEqual({ cpuPercent: 1.5, memoryBytes: 2 * 1024 ** 2, memoryLimitBytes: 1024 ** 3, cpuTimeNs: undefined });
    expect([...docker.keys()]).toEqual(['x', 'z']);
  });
});
