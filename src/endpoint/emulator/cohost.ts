import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { docsUrl, InputError, type Finding } from '../../engine/types.js';
import { ContainerEngine } from '../../harness/engine.js';
import { instanceType as lookupInstanceType, INSTANCE_TYPES } from '../../harness/instance-types.js';
import { canListen, containerListeningPorts, usedLocalPorts, type ListeningPort } from '../../harness/ports.js';
import { describeProbe, probe, type ProbeResult } from '../../harness/probe.js';
import type { EndpointPlan, PlannedContainer } from './plan.js';

/**
 * Co-hosting: every container of the endpoint on this host, as SageMaker puts them on one
 * instance. Each container gets its own SAGEMAKER_BIND_TO_PORT (random, never 8080) and its own
 * SAGEMAKER_SAFE_PORT_RANGE, disjoint from every other container's, all with `--network host`
 * and `--hostname <ContainerHostname>`.
 *
 * Resources: SageMaker does not partition the instance between containers; they share its memory
 * and CPUs. So every container gets the *whole* instance as its limit (`--memory`, `--cpus` of the
 * instance type: one container alone can use all of it, none can use more), and the *sum* is
 * watched from `stats` (MemoryUtilization is a percentage of the instance, and the startup advice
 * warns when the containers together leave less than a margin of it).
 */

/** Label on every container the emulator starts: `smcl.endpoint.run=<run id>`. */
export const RUN_LABEL = 'smcl.endpoint.run';
export const ENDPOINT_LABEL = 'smcl.endpoint.name';
export const EMULATOR_CONTAINER_PREFIX = 'smcl-ep-';

export interface CohostOptions {
  engine?: string;
  engineArgs?: string[];
  instanceType?: string;
  /** Overrides the instance type's memory (e.g. `4g`). */
  memory?: string;
  cpus?: number;
  /** Seconds every container has to answer `GET /ping` 200 (default 240). */
  startupTimeout?: number;
  pingInterval?: number;
  pingTimeout?: number;
  /** Seconds a container may listen elsewhere (8080...) without the assigned port before it is given up (default 5). */
  hardcodedPortGrace?: number;
  safePortRangeSize?: number;
  stopTimeout?: number;
  pull?: 'missing' | 'never';
  /** Unique id of this run (labels and container names); random by default. */
  runId?: string;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export interface HostedContainer {
  hostname: string;
  image: string;
  /** Engine container name. */
  name: string;
  bindPort: number;
  safePortRange: [number, number];
  env: Record<string, string>;
  pid: number;
  /** From `run` to the first `/ping` 200, in ms. */
  startupMs?: number;
  healthy: boolean;
  listeningPorts: ListeningPort[];
}

export interface Resources {
  instanceType?: string;
  /** Engine `--memory` value per container (the whole instance). */
  memory?: string;
  memoryBytes?: number;
  /** Engine `--cpus` value per container (the whole instance, clamped to this host). */
  cpus?: number;
  /** The instance's vCPUs (before clamping), the multiplier of CPUUtilization. */
  instanceCpus: number;
}

export interface CohostResult {
  ok: boolean;
  findings: Finding[];
  notes: string[];
  containers: HostedContainer[];
}

const LOG_LINES = 50;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, Math.max(0, ms));
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export function parseMemory(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([bkmgBKMG]?)$/.exec(text);
  if (!m) return undefined;
  const f = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'b' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * f);
}

export function resolveResources(o: Pick<CohostOptions, 'instanceType' | 'memory' | 'cpus'>, notes: string[]): Resources {
  let memory = o.memory;
  let cpus = o.cpus;
  let instanceCpus = cpus ?? os.availableParallelism();
  if (memory !== undefined && parseMemory(memory) === undefined) throw new InputError(`invalid memory "${memory}" (e.g. 512m, 4g)`);
  if (cpus !== undefined && !(Number.isFinite(cpus) && cpus > 0)) throw new InputError(`cpus must be a positive number, got ${cpus}`);
  if (o.instanceType) {
    const t = lookupInstanceType(o.instanceType);
    if (!t) throw new InputError(`unknown instance type "${o.instanceType}" (known: ${[...INSTANCE_TYPES.keys()].join(', ')})`);
    memory ??= `${t.memoryGiB}g`;
    cpus ??= t.vcpus;
    instanceCpus = o.cpus ?? t.vcpus;
  }
  const hostCpus = os.availableParallelism();
  if (cpus !== undefined && cpus > hostCpus) {
    notes.push(`--cpus ${cpus} clamped to this host's ${hostCpus} CPUs (CPUUtilization is still scaled to ${instanceCpus} CPUs)`);
    cpus = hostCpus;
  }
  const memoryBytes = memory !== undefined ? parseMemory(memory) : undefined;
  return { instanceType: o.instanceType, memory, memoryBytes, cpus, instanceCpus };
}

export interface PortAssignment {
  bindPort: number;
  safePortRange: [number, number];
}

const LOW = 10_000;
const HIGH = 60_000;

/**
 * Picks one bind port and one safe range per container: all free, pairwise disjoint, none
 * containing 8080 (nor any bind port), as SageMaker hands them out on one instance.
 */
export async function planCohostPorts(count: number, rangeSize = 1000, random: () => number = Math.random): Promise<PortAssignment[]> {
  const used = usedLocalPorts();
  const taken: Array<[number, number]> = [[8080, 8080]];
  const clashes = (lo: number, hi: number): boolean => {
    for (const [a, b] of taken) if (lo <= b && a <= hi) return true;
    for (const u of used) if (u >= lo && u <= hi) return true;
    return false;
  };
  const out: PortAssignment[] = [];
  for (let i = 0; i < count; i++) {
    let bindPort: number | undefined;
    for (let t = 0; t < 500 && bindPort === undefined; t++) {
      const p = LOW + Math.floor(random() * (HIGH - LOW));
      if (clashes(p, p)) continue;
      if (await canListen(p)) bindPort = p;
    }
    if (bindPort === undefined) throw new InputError('could not find a free port to assign as SAGEMAKER_BIND_TO_PORT');
    taken.push([bindPort, bindPort]);
    let range: [number, number] | undefined;
    for (let t = 0; t < 500 && !range; t++) {
      const lo = LOW + Math.floor(random() * (HIGH - LOW - rangeSize));
      const hi = lo + rangeSize - 1;
      if (!clashes(lo, hi)) range = [lo, hi];
    }
    if (!range) throw new InputError(`could not find ${rangeSize} consecutive free ports for SAGEMAKER_SAFE_PORT_RANGE`);
    taken.push(range);
    out.push({ bindPort, safePortRange: range });
  }
  return out;
}

function sanitize(s: string): string {
  return s.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

function indentLogs(logs: string): string {
  const lines = logs.replace(/\s+$/, '').split('\n').slice(-LOG_LINES);
  if (lines.length === 1 && lines[0] === '') return '  | (no log output)';
  return lines.map((l) => `  | ${l}`).join('\n');
}

/**
 * The containers of one emulated endpoint: `start()` boots them all and waits for every `/ping`;
 * when one fails, all are removed. `stop()` removes them (idempotent). `removeSync()` is for
 * `process.on('exit')`.
 */
export class CohostedEndpoint {
  readonly engine: ContainerEngine;
  readonly runId: string;
  readonly resources: Resources;
  readonly notes: string[] = [];
  containers: HostedContainer[] = [];
  /** Container names created so far (for cleanup), in creation order. */
  readonly created: string[] = [];
  private stopped = false;

  constructor(
    readonly plan: EndpointPlan,
    readonly options: CohostOptions = {},
  ) {
    this.engine = ContainerEngine.detect(options.engine);
    this.runId = options.runId ?? randomBytes(4).toString('hex');
    this.resources = resolveResources(options, this.notes);
  }

  private progress(m: string): void {
    this.options.onProgress?.(m);
  }

  containerName(c: PlannedContainer): string {
    return `${EMULATOR_CONTAINER_PREFIX}${sanitize(this.plan.endpointName)}-${sanitize(c.hostname)}-${this.runId}`;
  }

  private finding(ruleId: string, c: { hostname: string; image: string }, message: string, help?: string): Finding {
    return { ruleId, severity: 'error', message, location: { file: c.image }, help, docsUrl: docsUrl(ruleId), subject: c.hostname };
  }

  private async ensureImages(): Promise<void> {
    const images = [...new Set(this.plan.containers.map((c) => c.image))];
    for (const image of images) {
      if (await this.engine.imageExists(image)) continue;
      if (this.options.pull === 'never') throw new InputError(`image ${image} not found locally`);
      this.progress(`pulling ${image}`);
      const p = await this.engine.pull(image, this.options.signal);
      if (p.code !== 0) throw new InputError(`image ${image} not found locally and could not be pulled: ${p.stderr.trim().split('\n').pop() ?? ''}`);
    }
  }

  /** Boots every container; on any failure removes all of them and returns ok=false with findings. */
  async start(): Promise<CohostResult> {
    const o = this.options;
    const findings: Finding[] = [];
    try {
      await this.ensureImages();
      const ports = await planCohostPorts(this.plan.containers.length, o.safePortRangeSize ?? 1000);
      if (!(await canListen(8080))) this.notes.push('port 8080 is already in use on this host: a container that hard-codes 8080 fails to bind it here');
      this.containers = this.plan.containers.map((c, i) => ({
        hostname: c.hostname,
        image: c.image,
        name: this.containerName(c),
        bindPort: ports[i].bindPort,
        safePortRange: ports[i].safePortRange,
        env: { ...c.env, SAGEMAKER_BIND_TO_PORT: String(ports[i].bindPort), SAGEMAKER_SAFE_PORT_RANGE: `${ports[i].safePortRange[0]}-${ports[i].safePortRange[1]}` },
        pid: 0,
        healthy: false,
        listeningPorts: [],
      }));
      const t0 = performance.now();
      // Start all at once, as SageMaker does: memory and CPU pressure at startup is the sum.
      const runs = await Promise.all(this.containers.map((c) => this.run(c)));
      runs.forEach((f) => f && findings.push(f));
      if (o.signal?.aborted) throw new Error('aborted');
      if (findings.length === 0) {
        const results = await Promise.all(this.containers.map((c) => this.waitHealthy(c, t0)));
        for (const r of results) findings.push(...r);
      }
      if (findings.length === 0) findings.push(...(await this.checkPorts()));
      const fatal = findings.some((f) => f.ruleId !== 'second-port-safe-range');
      if (fatal || o.signal?.aborted) {
        this.progress(`endpoint ${this.plan.endpointName} failed to start: removing its ${this.created.length} container(s)`);
        await this.stop();
        return { ok: false, findings, notes: this.notes, containers: this.containers };
      }
      return { ok: true, findings, notes: this.notes, containers: this.containers };
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async run(c: HostedContainer): Promise<Finding | undefined> {
    const o = this.options;
    const args = ['run', '-d', '--name', c.name, '--network', 'host', '--hostname', c.hostname, '--label', `${RUN_LABEL}=${this.runId}`, '--label', `${ENDPOINT_LABEL}=${this.plan.endpointName}`];
    for (const [k, v] of Object.entries(c.env)) args.push('-e', `${k}=${v}`);
    if (this.resources.memory) args.push('--memory', this.resources.memory);
    if (this.resources.cpus !== undefined) args.push('--cpus', String(this.resources.cpus));
    args.push(...(o.engineArgs ?? []), c.image, 'serve');
    this.progress(`starting ${c.hostname} (${c.image}) as ${c.name}: SAGEMAKER_BIND_TO_PORT=${c.bindPort} SAGEMAKER_SAFE_PORT_RANGE=${c.env.SAGEMAKER_SAFE_PORT_RANGE}`);
    if (this.stopped) return undefined;
    this.created.push(c.name);
    const r = await this.engine.exec(args, { timeoutMs: 10 * 60_000 });
    if (r.code === 0) return undefined;
    const state = await this.engine.state(c.name);
    const last = r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`;
    if (!state) throw new InputError(`${this.engine.bin} run of ${c.hostname} (${c.image}) failed: ${last}`);
    const logs = await this.engine.logs(c.name, LOG_LINES);
    return this.finding('serve-entrypoint', c, `${c.hostname} (${c.image}) could not start as \`${c.image} serve\`: ${last}\n${indentLogs(logs)}`, 'SageMaker runs each image with the single argument `serve`.');
  }

  private async waitHealthy(c: HostedContainer, t0: number): Promise<Finding[]> {
    const o = this.options;
    const deadline = t0 + (o.startupTimeout ?? 240) * 1000;
    const interval = o.pingInterval ?? 250;
    const pingTimeout = o.pingTimeout ?? 2000;
    const grace = (o.hardcodedPortGrace ?? 5) * 1000;
    let last: ProbeResult | undefined;
    let elsewhereSince: number | undefined;
    let lastPortCheck = 0;
    for (;;) {
      if (o.signal?.aborted) return [];
      const state = await this.engine.state(c.name);
      if (!state || !state.running) {
        const logs = await this.engine.logs(c.name, LOG_LINES).catch(() => '');
        const how = !state ? 'disappeared' : state.oomKilled ? `was OOM-killed (memory limit ${this.resources.memory ?? 'none'})` : `exited with code ${state.exitCode}`;
        const rule = state?.oomKilled ? 'ping-invocations-handlers' : 'serve-entrypoint';
        const msg = state?.oomKilled ? `${c.hostname} did not pass the ping health check: it ${how}` : `${c.hostname} (${c.image}) ${how} before passing the ping health check`;
        return [this.finding(rule, c, `${msg}\n${indentLogs(logs)}`, 'Every container of the endpoint must keep serving; one that stops fails CreateEndpoint for all of them.')];
      }
      c.pid = state.pid;
      last = await probe({ method: 'GET', port: c.bindPort, path: '/ping', timeoutMs: Math.round(Math.max(100, Math.min(pingTimeout, deadline - performance.now()))), signal: o.signal });
      if (last.status === 200) {
        c.healthy = true;
        c.startupMs = Math.round(performance.now() - t0);
        this.progress(`${c.hostname} passed the ping health check after ${c.startupMs} ms`);
        return [];
      }
      const now = performance.now();
      if (last.status === undefined && now - lastPortCheck >= 1000) {
        lastPortCheck = now;
        const ports = await containerListeningPorts(c.pid);
        if (ports) c.listeningPorts = ports;
        if (ports && ports.length > 0 && !ports.some((p) => p.port === c.bindPort)) {
          elsewhereSince ??= now;
          if (now - elsewhereSince >= grace) {
            const where = ports.map((p) => p.port).join(', ');
            return [
              this.finding(
                'bind-to-port-env',
                c,
                `${c.hostname} listens on ${where} instead of SAGEMAKER_BIND_TO_PORT=${c.bindPort}${ports.some((p) => p.port === 8080) ? ': with several containers on one instance, 8080 is not this container\'s port' : ''}; ${c.hostname} did not pass the ping health check`,
                'Listen on the port in SAGEMAKER_BIND_TO_PORT (fall back to 8080 only when it is unset).',
              ),
            ];
          }
        } else elsewhereSince = undefined;
      }
      if (performance.now() >= deadline) {
        const logs = await this.engine.logs(c.name, LOG_LINES).catch(() => '');
        return [
          this.finding(
            'ping-invocations-handlers',
            c,
            `${c.hostname} did not pass the ping health check (GET http://127.0.0.1:${c.bindPort}/ping: ${describeProbe(last)} after ${Math.round((deadline - t0) / 1000)} s)\n${indentLogs(logs)}`,
            'GET /ping must answer 200 within the startup window; with several containers starting together, memory and CPU are under more pressure.',
          ),
        ];
      }
      await sleep(interval, o.signal);
    }
  }

  /** After all are healthy: extra ports outside the own safe range, and ports two containers share. */
  private async checkPorts(): Promise<Finding[]> {
    const out: Finding[] = [];
    let inspected = false;
    for (const c of this.containers) {
      const ports = await containerListeningPorts(c.pid);
      if (!ports) continue;
      inspected = true;
      c.listeningPorts = ports;
    }
    if (!inspected) {
      this.notes.push("could not inspect the containers' sockets in /proc (not root?): port checks skipped");
      return out;
    }
    for (const c of this.containers) {
      const [lo, hi] = c.safePortRange;
      for (const port of [...new Set(c.listeningPorts.map((p) => p.port))]) {
        if (port === c.bindPort || (port >= lo && port <= hi)) continue;
        const other = this.containers.find((x) => x !== c && (x.bindPort === port || (port >= x.safePortRange[0] && port <= x.safePortRange[1])));
        const sharer = this.containers.find((x) => x !== c && x.listeningPorts.some((p) => p.port === port));
        const why =
          port === 8080
            ? ' 8080 is not its assigned port; on SageMaker another container may be given 8080'
            : other
              ? ` Port ${port} belongs to ${other.hostname} (${other.bindPort === port ? 'its SAGEMAKER_BIND_TO_PORT' : `its SAGEMAKER_SAFE_PORT_RANGE ${other.safePortRange.join('-')}`}): a port collision on the instance`
              : '';
        const shared = sharer ? ` ${sharer.hostname} listens on ${port} too.` : '';
        out.push(
          this.finding(
            'second-port-safe-range',
            c,
            `${c.hostname} also listens on port ${port}, outside its SAGEMAKER_SAFE_PORT_RANGE=${lo}-${hi}.${why}${shared}`,
            'Take any extra port from SAGEMAKER_SAFE_PORT_RANGE: the ranges of the containers on one instance are disjoint.',
          ),
        );
      }
    }
    return out;
  }

  /** Stops and removes every container created (idempotent, concurrent). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const names = [...this.created];
    if (names.length === 0) return;
    this.progress(`removing ${names.length} container(s): ${names.join(', ')}`);
    await Promise.all(names.map((n) => this.engine.stopAndRemove(n, this.options.stopTimeout ?? 2).catch(() => undefined)));
    // A `run` racing with stop (signal during startup) may have created one more: sweep by label.
    await removeRun(this.engine, this.runId);
  }

  /** Synchronous last-resort removal (process `exit`). */
  removeSync(): void {
    if (this.stopped) return;
    for (const n of this.created) this.engine.removeSync(n);
    this.stopped = true;
  }

  get isStopped(): boolean {
    return this.stopped;
  }
}

/** Names of the containers (any state) labelled with this run id. */
export async function containersOfRun(engine: ContainerEngine, runId: string): Promise<string[]> {
  const r = await engine.exec(['ps', '-a', '--filter', `label=${RUN_LABEL}=${runId}`, '--format', '{{.Names}}'], { timeoutMs: 60_000 }).catch(() => undefined);
  if (!r || r.code !== 0) return [];
  return r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

/** Removes every container of a run (`rm -f`), whatever its state. */
export async function removeRun(engine: ContainerEngine, runId: string): Promise<string[]> {
  const names = await containersOfRun(engine, runId);
  if (names.length > 0) await engine.exec(['rm', '-f', ...names], { timeoutMs: 120_000 }).catch(() => undefined);
  return names;
}
