/**
 * Metrics as SageMaker charts them for a multi-container endpoint with direct invocation:
 * per container (dimensions EndpointName, VariantName, ContainerName) and per variant
 * (EndpointName, VariantName; no ContainerLatency). Invocation metrics are in namespace
 * `AWS/SageMaker`, CPU and memory in `aws/sagemaker/Endpoints`.
 */
import type { ContainerStats } from '../../harness/engine.js';

export const INVOCATION_NAMESPACE = 'AWS/SageMaker';
export const UTILIZATION_NAMESPACE = 'aws/sagemaker/Endpoints';

export interface Stat {
  count: number;
  sum: number;
  min: number;
  max: number;
}

const emptyStat = (): Stat => ({ count: 0, sum: 0, min: Number.POSITIVE_INFINITY, max: 0 });
function add(s: Stat, v: number): void {
  s.count++;
  s.sum += v;
  s.min = Math.min(s.min, v);
  s.max = Math.max(s.max, v);
}
const avg = (s: Stat): number | undefined => (s.count ? s.sum / s.count : undefined);
const statJson = (s: Stat): { count: number; sum: number; min?: number; max?: number; avg?: number } =>
  s.count ? { count: s.count, sum: s.sum, min: s.min, max: s.max, avg: s.sum / s.count } : { count: 0, sum: 0 };

interface Pending {
  invocations: number;
  e4: number;
  e5: number;
  containerLatency: number[];
  overheadLatency: number[];
}
const emptyPending = (): Pending => ({ invocations: 0, e4: 0, e5: 0, containerLatency: [], overheadLatency: [] });

export interface ContainerSeries {
  invocations: number;
  invocation4xx: number;
  invocation5xx: number;
  /** Microseconds. */
  containerLatency: Stat;
  /** Microseconds. */
  overheadLatency: Stat;
  /** Last sample: percent × CPUs (100 = one CPU busy). */
  cpuUtilization?: number;
  peakCpuUtilization?: number;
  /** Last sample: percent of the instance's memory. */
  memoryUtilization?: number;
  memoryBytes?: number;
  peakMemoryBytes?: number;
  /** Memory right after every container passed its ping (startup). */
  startupMemoryBytes?: number;
  /** Container CPU time (ns) when serving started, and now. */
  cpuTimeStartNs?: number;
  cpuTimeNs?: number;
  invocationsAtCpuStart: number;
  /** `GET /ping` sent after start-up (see `healthInterval`), how many did not get 200, and the last such answer. */
  healthChecks: number;
  healthFailures: number;
  lastHealthFailure?: string;
  pending: Pending;
}

/** One `stats` sample of a container (the engine driver's parse of it). */
export type StatsSample = Pick<ContainerStats, 'cpuPercent' | 'memoryBytes' | 'cpuTimeNs'>;

export interface MetricsOptions {
  endpointName: string;
  variantName: string;
  hostnames: string[];
  /** The instance's vCPUs (CPUUtilization goes up to 100 × this). */
  instanceCpus: number;
  instanceMemoryBytes?: number;
  instanceType?: string;
}

export interface AdviceOptions {
  /** Fraction of the instance memory that should stay free at startup (default 0.1). */
  memoryMargin?: number;
  /** Ratio between containers' CPU per invocation or latency that is worth a warning (default 2). */
  disparityRatio?: number;
  /** Invocations a container needs before its per-invocation numbers count (default 5). */
  minInvocations?: number;
}

export class EndpointMetrics {
  readonly containers = new Map<string, ContainerSeries>();
  readonly variant = { invocations: 0, invocation4xx: 0, invocation5xx: 0, overheadLatency: emptyStat(), modelLatency: emptyStat(), pending: emptyPending() };
  private lastSampleAt = new Map<string, { t: number; cpuTimeNs?: number }>();
  private statsErrors = 0;
  private lastStatsError: string | undefined;
  readonly startedAt = Date.now();

  constructor(readonly o: MetricsOptions) {
    for (const h of o.hostnames) {
      this.containers.set(h, {
        invocations: 0,
        invocation4xx: 0,
        invocation5xx: 0,
        containerLatency: emptyStat(),
        overheadLatency: emptyStat(),
        invocationsAtCpuStart: 0,
        healthChecks: 0,
        healthFailures: 0,
        pending: emptyPending(),
      });
    }
  }

  /**
   * One InvokeEndpoint request that reached containers: `calls` in order (one for Direct,
   * the pipeline for Serial), and the total time from receiving the request to answering it.
   */
  recordRequest(calls: Array<{ hostname: string; status?: number; latencyUs: number }>, totalUs: number): void {
    const modelUs = calls.reduce((a, c) => a + c.latencyUs, 0);
    const overheadUs = Math.max(0, totalUs - modelUs);
    const v = this.variant;
    v.invocations++;
    v.pending.invocations++;
    add(v.modelLatency, modelUs);
    add(v.overheadLatency, overheadUs);
    v.pending.overheadLatency.push(overheadUs);
    const failed = calls.find((c) => c.status === undefined || c.status >= 400);
    if (failed) {
      if (failed.status !== undefined && failed.status < 500) {
        v.invocation4xx++;
        v.pending.e4++;
      } else {
        v.invocation5xx++;
        v.pending.e5++;
      }
    }
    for (const c of calls) {
      const s = this.containers.get(c.hostname);
      if (!s) continue;
      s.invocations++;
      s.pending.invocations++;
      add(s.containerLatency, c.latencyUs);
      s.pending.containerLatency.push(c.latencyUs);
      add(s.overheadLatency, overheadUs);
      s.pending.overheadLatency.push(overheadUs);
      if (c.status !== undefined && c.status >= 400 && c.status < 500) {
        s.invocation4xx++;
        s.pending.e4++;
      } else if (c.status === undefined || c.status >= 500) {
        s.invocation5xx++;
        s.pending.e5++;
      }
    }
  }

  /** One health check of a container in service: `failure` describes an answer other than 200. */
  recordHealthCheck(hostname: string, failure?: string): void {
    const s = this.containers.get(hostname);
    if (!s) return;
    s.healthChecks++;
    if (failure !== undefined) {
      s.healthFailures++;
      s.lastHealthFailure = failure;
    }
  }

  /** The engine's `stats` failed for every container: kept so that `/metrics` can say why CPU and memory are missing. */
  recordStatsError(message: string): void {
    this.statsErrors++;
    this.lastStatsError = message;
  }

  /** One `stats` sample of a container. */
  recordStats(hostname: string, sample: StatsSample, now = performance.now()): void {
    const s = this.containers.get(hostname);
    if (!s) return;
    const prev = this.lastSampleAt.get(hostname);
    let cpu = sample.cpuPercent;
    if (sample.cpuTimeNs !== undefined && prev?.cpuTimeNs !== undefined && now > prev.t) {
      // CPU time over wall time: 100 per busy CPU, SageMaker's "percent × CPUs".
      cpu = ((sample.cpuTimeNs - prev.cpuTimeNs) / 1e6 / (now - prev.t)) * 100;
    }
    this.lastSampleAt.set(hostname, { t: now, cpuTimeNs: sample.cpuTimeNs ?? prev?.cpuTimeNs });
    if (cpu !== undefined) {
      s.cpuUtilization = Math.max(0, cpu);
      s.peakCpuUtilization = Math.max(s.peakCpuUtilization ?? 0, s.cpuUtilization);
    }
    if (sample.cpuTimeNs !== undefined) {
      if (s.cpuTimeStartNs === undefined) {
        s.cpuTimeStartNs = sample.cpuTimeNs;
        s.invocationsAtCpuStart = s.invocations;
      }
      s.cpuTimeNs = sample.cpuTimeNs;
    }
    if (sample.memoryBytes !== undefined) {
      s.memoryBytes = sample.memoryBytes;
      s.peakMemoryBytes = Math.max(s.peakMemoryBytes ?? 0, sample.memoryBytes);
      if (this.o.instanceMemoryBytes) s.memoryUtilization = (sample.memoryBytes / this.o.instanceMemoryBytes) * 100;
    }
  }

  /** Marks the peak memory seen so far (while every container started) as the startup footprint. */
  markStartup(): void {
    for (const s of this.containers.values()) s.startupMemoryBytes = s.peakMemoryBytes ?? s.memoryBytes;
  }

  /** CPU milliseconds per invocation since serving started, when known. */
  cpuMsPerInvocation(hostname: string): number | undefined {
    const s = this.containers.get(hostname);
    if (!s || s.cpuTimeNs === undefined || s.cpuTimeStartNs === undefined) return undefined;
    const n = s.invocations - s.invocationsAtCpuStart;
    return n > 0 ? (s.cpuTimeNs - s.cpuTimeStartNs) / 1e6 / n : undefined;
  }

  variantCpuUtilization(): number | undefined {
    const vals = [...this.containers.values()].map((s) => s.cpuUtilization).filter((x): x is number => x !== undefined);
    return vals.length ? vals.reduce((a, b) => a + b, 0) : undefined;
  }

  variantMemoryUtilization(): number | undefined {
    const vals = [...this.containers.values()].map((s) => s.memoryUtilization).filter((x): x is number => x !== undefined);
    return vals.length ? vals.reduce((a, b) => a + b, 0) : undefined;
  }

  /** The JSON of `GET /metrics`. */
  snapshot(advice: AdviceOptions = {}): MetricsSnapshot {
    const { endpointName, variantName } = this.o;
    return {
      endpointName,
      variantName,
      instanceType: this.o.instanceType,
      instanceCpus: this.o.instanceCpus,
      instanceMemoryBytes: this.o.instanceMemoryBytes,
      uptimeMs: Date.now() - this.startedAt,
      containers: [...this.containers.entries()].map(([name, s]) => ({
        dimensions: { EndpointName: endpointName, VariantName: variantName, ContainerName: name },
        Invocations: s.invocations,
        Invocation4XXErrors: s.invocation4xx,
        Invocation5XXErrors: s.invocation5xx,
        ContainerLatency: statJson(s.containerLatency),
        OverheadLatency: statJson(s.overheadLatency),
        CPUUtilization: s.cpuUtilization,
        MemoryUtilization: s.memoryUtilization,
        memoryBytes: s.memoryBytes,
        peakMemoryBytes: s.peakMemoryBytes,
        startupMemoryBytes: s.startupMemoryBytes,
        cpuMsPerInvocation: this.cpuMsPerInvocation(name),
        healthChecks: { sent: s.healthChecks, failed: s.healthFailures, ...(s.lastHealthFailure !== undefined ? { lastFailure: s.lastHealthFailure } : {}) },
      })),
      variant: {
        dimensions: { EndpointName: endpointName, VariantName: variantName },
        Invocations: this.variant.invocations,
        Invocation4XXErrors: this.variant.invocation4xx,
        Invocation5XXErrors: this.variant.invocation5xx,
        OverheadLatency: statJson(this.variant.overheadLatency),
        ModelLatency: statJson(this.variant.modelLatency),
        CPUUtilization: this.variantCpuUtilization(),
        MemoryUtilization: this.variantMemoryUtilization(),
      },
      advice: this.advice(advice),
      ...(this.lastStatsError !== undefined ? { statsErrors: this.statsErrors, lastStatsError: this.lastStatsError } : {}),
    };
  }

  /**
   * CloudWatch Embedded Metric Format lines for what happened since the last call (counts are
   * deltas, latencies the values seen), one line per container and one for the variant.
   */
  flushEmf(timestamp = Date.now()): string[] {
    const { endpointName, variantName } = this.o;
    const lines: string[] = [];
    const directive = (ns: string, dims: string[], metrics: Array<[string, string]>) => ({ Namespace: ns, Dimensions: [dims], Metrics: metrics.map(([Name, Unit]) => ({ Name, Unit })) });
    for (const [name, s] of this.containers) {
      const p = s.pending;
      const dims = ['EndpointName', 'VariantName', 'ContainerName'];
      const inv: Array<[string, string]> = [
        ['Invocations', 'None'],
        ['Invocation4XXErrors', 'None'],
        ['Invocation5XXErrors', 'None'],
      ];
      const rec: Record<string, unknown> = { EndpointName: endpointName, VariantName: variantName, ContainerName: name, Invocations: p.invocations, Invocation4XXErrors: p.e4, Invocation5XXErrors: p.e5 };
      if (p.containerLatency.length) {
        inv.push(['ContainerLatency', 'Microseconds'], ['OverheadLatency', 'Microseconds']);
        rec.ContainerLatency = p.containerLatency.slice(0, 100);
        rec.OverheadLatency = p.overheadLatency.slice(0, 100);
      }
      const util: Array<[string, string]> = [];
      if (s.cpuUtilization !== undefined) {
        util.push(['CPUUtilization', 'Percent']);
        rec.CPUUtilization = round(s.cpuUtilization);
      }
      if (s.memoryUtilization !== undefined) {
        util.push(['MemoryUtilization', 'Percent']);
        rec.MemoryUtilization = round(s.memoryUtilization);
      }
      const directives = [directive(INVOCATION_NAMESPACE, dims, inv)];
      if (util.length) directives.push(directive(UTILIZATION_NAMESPACE, dims, util));
      lines.push(JSON.stringify({ _aws: { Timestamp: timestamp, CloudWatchMetrics: directives }, ...rec }));
      s.pending = emptyPending();
    }
    const v = this.variant.pending;
    const dims = ['EndpointName', 'VariantName'];
    const inv: Array<[string, string]> = [
      ['Invocations', 'None'],
      ['Invocation4XXErrors', 'None'],
      ['Invocation5XXErrors', 'None'],
    ];
    const rec: Record<string, unknown> = { EndpointName: endpointName, VariantName: variantName, Invocations: v.invocations, Invocation4XXErrors: v.e4, Invocation5XXErrors: v.e5 };
    if (v.overheadLatency.length) {
      inv.push(['OverheadLatency', 'Microseconds']);
      rec.OverheadLatency = v.overheadLatency.slice(0, 100);
    }
    const util: Array<[string, string]> = [];
    const cpu = this.variantCpuUtilization();
    const mem = this.variantMemoryUtilization();
    if (cpu !== undefined) {
      util.push(['CPUUtilization', 'Percent']);
      rec.CPUUtilization = round(cpu);
    }
    if (mem !== undefined) {
      util.push(['MemoryUtilization', 'Percent']);
      rec.MemoryUtilization = round(mem);
    }
    const directives = [directive(INVOCATION_NAMESPACE, dims, inv)];
    if (util.length) directives.push(directive(UTILIZATION_NAMESPACE, dims, util));
    lines.push(JSON.stringify({ _aws: { Timestamp: timestamp, CloudWatchMetrics: directives }, ...rec }));
    this.variant.pending = emptyPending();
    return lines;
  }

  /** A fixed-width table (live view and shutdown summary). */
  table(): string {
    const head = ['ContainerName', 'Invocations', '4XX', '5XX', 'ContainerLatency avg', 'OverheadLatency avg', 'CPU%', 'Mem%', 'Memory', 'Ping fails'];
    const rows: string[][] = [];
    for (const [name, s] of this.containers) {
      rows.push([
        name,
        String(s.invocations),
        String(s.invocation4xx),
        String(s.invocation5xx),
        fmtUs(avg(s.containerLatency)),
        fmtUs(avg(s.overheadLatency)),
        fmtPct(s.cpuUtilization),
        fmtPct(s.memoryUtilization),
        fmtBytes(s.memoryBytes),
        s.healthChecks ? `${s.healthFailures}/${s.healthChecks}` : '',
      ]);
    }
    const v = this.variant;
    rows.push([`(variant ${this.o.variantName})`, String(v.invocations), String(v.invocation4xx), String(v.invocation5xx), '', fmtUs(avg(v.overheadLatency)), fmtPct(this.variantCpuUtilization()), fmtPct(this.variantMemoryUtilization()), '', '']);
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
    return [`${this.o.endpointName} / ${this.o.variantName}${this.o.instanceType ? ` on ${this.o.instanceType}` : ''}`, line(head), ...rows.map(line)].join('\n');
  }

  /** Advice from the measurements (see `startupMemoryAdvice` and `disparityAdvice`). */
  advice(o: AdviceOptions = {}): string[] {
    const out: string[] = [];
    const mem = startupMemoryAdvice(
      [...this.containers.entries()].map(([hostname, s]) => ({ hostname, bytes: s.startupMemoryBytes })),
      this.o.instanceMemoryBytes,
      o.memoryMargin ?? 0.1,
      this.o.instanceType,
    );
    if (mem) out.push(mem);
    const min = o.minInvocations ?? 5;
    const ratio = o.disparityRatio ?? 2;
    const cpu = [...this.containers.keys()]
      .filter((h) => this.containers.get(h)!.invocations - this.containers.get(h)!.invocationsAtCpuStart >= min)
      .map((h) => ({ hostname: h, value: this.cpuMsPerInvocation(h) }));
    const a = disparityAdvice(cpu, ratio, 'CPU time per invocation', (v) => `${v.toFixed(2)} ms`);
    if (a) out.push(a);
    const lat = [...this.containers.entries()].filter(([, s]) => s.containerLatency.count >= min).map(([hostname, s]) => ({ hostname, value: avg(s.containerLatency) }));
    const b = disparityAdvice(lat, ratio, 'average ContainerLatency', (v) => fmtUs(v));
    if (b) out.push(b);
    for (const [hostname, s] of this.containers) {
      if (s.healthFailures === 0) continue;
      out.push(
        `${hostname} failed ${s.healthFailures} of ${s.healthChecks} GET /ping health checks after start-up (last: ${s.lastHealthFailure}): ` +
          'SageMaker keeps pinging containers in service and treats an instance whose container stops answering 200 as unhealthy (it is replaced)',
      );
    }
    return out;
  }
}

export interface MetricsSnapshot {
  endpointName: string;
  variantName: string;
  instanceType?: string;
  instanceCpus: number;
  instanceMemoryBytes?: number;
  uptimeMs: number;
  containers: Array<{
    dimensions: { EndpointName: string; VariantName: string; ContainerName: string };
    Invocations: number;
    Invocation4XXErrors: number;
    Invocation5XXErrors: number;
    ContainerLatency: ReturnType<typeof statJson>;
    OverheadLatency: ReturnType<typeof statJson>;
    CPUUtilization?: number;
    MemoryUtilization?: number;
    memoryBytes?: number;
    peakMemoryBytes?: number;
    startupMemoryBytes?: number;
    cpuMsPerInvocation?: number;
    /** `GET /ping` after start-up, as SageMaker keeps sending it to containers in service. */
    healthChecks: { sent: number; failed: number; lastFailure?: string };
  }>;
  variant: {
    dimensions: { EndpointName: string; VariantName: string };
    Invocations: number;
    Invocation4XXErrors: number;
    Invocation5XXErrors: number;
    OverheadLatency: ReturnType<typeof statJson>;
    ModelLatency: ReturnType<typeof statJson>;
    CPUUtilization?: number;
    MemoryUtilization?: number;
  };
  advice: string[];
  /** Failed `stats` calls so far, and the last engine message, when any failed. */
  statsErrors?: number;
  lastStatsError?: string;
}

/**
 * The containers' summed memory at startup against the instance's: under `margin` left, the
 * ping health check is at risk on SageMaker (models load while every container starts at once).
 */
export function startupMemoryAdvice(samples: Array<{ hostname: string; bytes?: number }>, instanceBytes: number | undefined, margin: number, instanceType?: string): string | undefined {
  if (!instanceBytes) return undefined;
  const known = samples.filter((s): s is { hostname: string; bytes: number } => s.bytes !== undefined);
  if (known.length === 0) return undefined;
  const sum = known.reduce((a, s) => a + s.bytes, 0);
  const free = instanceBytes - sum;
  if (free >= instanceBytes * margin) return undefined;
  const parts = [...known].sort((a, b) => b.bytes - a.bytes).map((s) => `${s.hostname} ${fmtBytes(s.bytes)}`).join(', ');
  const inst = instanceType ? `the ${instanceType}'s` : "the instance's";
  return (
    `memory: the ${known.length} containers use ${fmtBytes(sum)} together at startup (${parts}), ${((sum / instanceBytes) * 100).toFixed(1)}% of ${inst} ${fmtBytes(instanceBytes)}: ` +
    `${free > 0 ? `${fmtBytes(free)} left` : `${fmtBytes(-free)} over`}, under the ${Math.round(margin * 100)}% margin (${fmtBytes(instanceBytes * margin)}). ` +
    'On SageMaker, CreateEndpoint may fail with "<ContainerHostname> did not pass the ping health check": choose an instance type with more memory.'
  );
}

/**
 * Containers whose per-invocation cost differs by `ratio` or more: autoscaling on
 * InvocationsPerInstance counts their requests alike and misjudges the load when traffic shifts.
 */
export function disparityAdvice(values: Array<{ hostname: string; value?: number }>, ratio: number, what: string, fmt: (v: number) => string): string | undefined {
  const known = values.filter((v): v is { hostname: string; value: number } => v.value !== undefined && v.value > 0);
  if (known.length < 2) return undefined;
  const sorted = [...known].sort((a, b) => b.value - a.value);
  const hi = sorted[0];
  const lo = sorted[sorted.length - 1];
  const r = hi.value / lo.value;
  if (r < ratio) return undefined;
  return (
    `${what}: ${hi.hostname} ${fmt(hi.value)} vs ${lo.hostname} ${fmt(lo.value)} (${r.toFixed(1)}x). ` +
    `Autoscaling on InvocationsPerInstance counts a request to ${lo.hostname} like one to ${hi.hostname}: when traffic shifts towards ${hi.hostname} at the same call volume, the endpoint does not scale out. ` +
    'Scale on CPUUtilization, or host these models on separate endpoints.'
  );
}

const round = (n: number): number => Math.round(n * 100) / 100;

export function fmtUs(us: number | undefined): string {
  if (us === undefined) return '-';
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)} s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(1)} ms`;
  return `${Math.round(us)} us`;
}

function fmtPct(p: number | undefined): string {
  return p === undefined ? '-' : `${p.toFixed(1)}%`;
}

export function fmtBytes(n: number | undefined): string {
  if (n === undefined) return '-';
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024).toFixed(0)} KiB`;
}
