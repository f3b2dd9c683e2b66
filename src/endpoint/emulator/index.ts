import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Finding } from '../../engine/types.js';
import type { ContainerEngine } from '../../harness/engine.js';
import { statsEntries, statsOfEntry } from '../../harness/engine.js';
import { describeProbe, probe } from '../../harness/probe.js';
import type { PolicyDocument } from '../model.js';
import { CohostedEndpoint, removeRun, type CohostOptions, type HostedContainer } from './cohost.js';
import { EndpointMetrics, type AdviceOptions, type StatsSample } from './metrics.js';
import type { EndpointPlan } from './plan.js';
import { startRuntimeServer, type RequestLog, type RuntimeServer } from './server.js';

export { CohostedEndpoint, planCohostPorts, removeRun, containersOfRun, resolveResources, RUN_LABEL, ENDPOINT_LABEL, EMULATOR_CONTAINER_PREFIX } from './cohost.js';
export type { CohostOptions, CohostResult, HostedContainer, Resources } from './cohost.js';
export { EndpointMetrics, startupMemoryAdvice, disparityAdvice, INVOCATION_NAMESPACE, UTILIZATION_NAMESPACE } from './metrics.js';
export { parseGoDuration } from '../../harness/engine.js';
export type { MetricsSnapshot, AdviceOptions } from './metrics.js';
export { planFromInputs, planFromImages, planFromModel } from './plan.js';
export type { EndpointPlan, PlannedContainer } from './plan.js';
export { startRuntimeServer } from './server.js';
export type { RuntimeServer, RuntimeServerOptions, RequestLog } from './server.js';
export { stateDir, stateFile, readState, writeState, listStates, pidAlive } from './state.js';
export type { EndpointState } from './state.js';

export interface EndpointUpOptions extends CohostOptions {
  plan: EndpointPlan;
  policies?: PolicyDocument[];
  host?: string;
  port?: number;
  region?: string;
  accountId?: string;
  invocationTimeout?: number;
  /** Append CloudWatch EMF lines to this file every `metricsInterval` s and at shutdown. */
  metricsFile?: string;
  metricsInterval?: number;
  /** Seconds between `stats` samples (default 2). */
  statsInterval?: number;
  /** Seconds between `GET /ping` health checks of every container once serving (default 5; 0: none). */
  healthInterval?: number;
  advice?: AdviceOptions;
  onRequest?: (entry: RequestLog) => void;
}

/** An endpoint that did not come up: its containers are already removed. */
export class EndpointStartError extends Error {
  constructor(
    readonly findings: Finding[],
    readonly notes: string[],
  ) {
    super(`endpoint failed to start: ${findings.map((f) => f.message.split('\n')[0]).join('; ')}`);
    this.name = 'EndpointStartError';
  }
}

export interface RunningEndpoint {
  plan: EndpointPlan;
  url: string;
  host: string;
  port: number;
  runId: string;
  engine: ContainerEngine;
  containers: HostedContainer[];
  /** Non-fatal findings at startup (ports outside the safe range). */
  findings: Finding[];
  notes: string[];
  metrics: EndpointMetrics;
  server: RuntimeServer;
  /** Advice from the measurements so far. */
  advice(): string[];
  /** Stops the API, flushes metrics, removes every container (idempotent). */
  stop(): Promise<void>;
  /** Last-resort synchronous container removal (for `process.on('exit')`). */
  removeSync(): void;
}

/** Parses `stats --no-stream` of podman (JSON array) or docker (one JSON object per line) for several containers. */
export function parseStatsList(stdout: string): Map<string, StatsSample> {
  const out = new Map<string, StatsSample>();
  for (const e of statsEntries(stdout)) {
    const name = String(e.name ?? e.Name ?? '').replace(/^\//, '');
    if (name) out.set(name, statsOfEntry(e));
  }
  return out;
}

/**
 * Runs `fn` every `ms` (first right away with `now`), one run at a time; the returned function
 * stops the loop, waking it from its wait, and resolves once the run in progress has finished.
 */
function repeat(fn: () => Promise<void>, ms: number, opts: { now: boolean }): () => Promise<void> {
  let running = true;
  let wake: (() => void) | undefined;
  const wait = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  const loop = (async () => {
    if (!opts.now) await wait();
    while (running) {
      await fn().catch(() => undefined);
      if (!running) break;
      await wait();
    }
  })();
  return async () => {
    running = false;
    wake?.();
    await loop;
  };
}

/** One `GET /ping` of a container in service, with SageMaker's 2 s to answer. */
async function healthCheck(c: HostedContainer, metrics: EndpointMetrics): Promise<void> {
  const r = await probe({ method: 'GET', port: c.bindPort, path: '/ping', timeoutMs: 2000 });
  metrics.recordHealthCheck(c.hostname, r.status === 200 ? undefined : describeProbe(r));
}

/**
 * `smcl endpoint up` as a library: boots every container of the plan on this host (see
 * `CohostedEndpoint`), samples their stats, and serves the runtime API. Throws
 * `EndpointStartError` (containers removed) when one container does not come up.
 */
export async function endpointUp(o: EndpointUpOptions): Promise<RunningEndpoint> {
  const cohost = new CohostedEndpoint(o.plan, o);
  const metrics = new EndpointMetrics({
    endpointName: o.plan.endpointName,
    variantName: o.plan.variantName,
    hostnames: o.plan.containers.map((c) => c.hostname),
    instanceCpus: cohost.resources.instanceCpus,
    instanceMemoryBytes: cohost.resources.memoryBytes,
    instanceType: cohost.resources.instanceType,
  });
  const engine = cohost.engine;
  const nameToHost = new Map(o.plan.containers.map((c) => [cohost.containerName(c), c.hostname]));
  const names = [...nameToHost.keys()];
  const format = engine.flavor === 'podman' ? 'json' : '{{json .}}';
  const statsOf = async (which: string[]): Promise<Map<string, StatsSample> | string> => {
    const r = await engine.exec(['stats', '--no-stream', '--format', format, ...which], { timeoutMs: 30_000 }).catch((e: Error) => e);
    if (r instanceof Error) return r.message;
    if (r.code !== 0) return (r.timedOut ? 'timed out after 30 s: ' : '') + (r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`);
    return parseStatsList(r.stdout);
  };
  // Stats of our containers only, by name: an unnamed call lists every container on the host,
  // and one of someone else's containers coming or going can fail the whole call. A named call
  // fails when one of ours is missing (not created yet, or exited), so then ask one by one.
  const sample = async (): Promise<void> => {
    let got = await statsOf(names);
    if (typeof got === 'string') {
      const each = await Promise.all(names.map((n) => statsOf([n])));
      const ok = each.filter((e): e is Map<string, StatsSample> => typeof e !== 'string');
      if (ok.length === 0) {
        metrics.recordStatsError(got);
        return;
      }
      got = new Map(ok.flatMap((m) => [...m]));
    }
    for (const [name, s] of got) {
      const h = nameToHost.get(name);
      if (h) metrics.recordStats(h, s);
    }
  };
  const stopSampler = repeat(sample, (o.statsInterval ?? 2) * 1000, { now: true });

  let result;
  try {
    result = await cohost.start();
  } catch (err) {
    await stopSampler();
    throw err;
  }
  if (!result.ok) {
    await stopSampler();
    throw new EndpointStartError(result.findings, result.notes);
  }
  await sample();
  metrics.markStartup();

  let server: RuntimeServer;
  try {
    server = await startRuntimeServer({
      plan: o.plan,
      containers: result.containers,
      metrics,
      policies: o.policies,
      host: o.host,
      port: o.port,
      region: o.region,
      accountId: o.accountId,
      invocationTimeout: o.invocationTimeout,
      advice: o.advice,
      onRequest: o.onRequest,
    });
  } catch (err) {
    await stopSampler();
    await cohost.stop();
    throw err;
  }

  const writeEmf = async (): Promise<void> => {
    if (!o.metricsFile) return;
    const lines = metrics.flushEmf();
    await fs.mkdir(path.dirname(path.resolve(o.metricsFile)), { recursive: true });
    await fs.appendFile(o.metricsFile, lines.map((l) => `${l}\n`).join(''));
  };
  // SageMaker keeps sending GET /ping to containers in service, not only at start-up.
  const healthMs = (o.healthInterval ?? 5) * 1000;
  const stopHealthChecks =
    healthMs > 0
      ? repeat(() => Promise.all(result.containers.map((c) => healthCheck(c, metrics))).then(() => undefined), healthMs, { now: false })
      : async () => undefined;
  const emfTimer = o.metricsFile ? setInterval(() => void writeEmf().catch(() => undefined), (o.metricsInterval ?? 60) * 1000) : undefined;
  emfTimer?.unref();

  let stopping: Promise<void> | undefined;
  return {
    plan: o.plan,
    url: server.url,
    host: server.host,
    port: server.port,
    runId: cohost.runId,
    engine,
    containers: result.containers,
    findings: result.findings,
    notes: result.notes,
    metrics,
    server,
    advice: () => metrics.advice(o.advice),
    stop: () =>
      (stopping ??= (async () => {
        if (emfTimer) clearInterval(emfTimer);
        await server.close().catch(() => undefined);
        await stopHealthChecks();
        await stopSampler();
        await writeEmf().catch(() => undefined);
        await cohost.stop();
        await removeRun(engine, cohost.runId);
      })()),
    removeSync: () => cohost.removeSync(),
  };
}
