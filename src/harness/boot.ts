import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { docsUrl, InputError, type Finding } from '../engine/types.js';
import { ContainerEngine, type ContainerState } from './engine.js';
import { instanceType as lookupInstanceType, INSTANCE_TYPES } from './instance-types.js';
import { canListen, containerListeningPorts, planPorts, type ListeningPort } from './ports.js';
import { describeProbe, probe, type ProbeResult } from './probe.js';

/** Rule ids the boot harness reports (docs under rules/<id>/README.md). */
export const BOOT_RULE_IDS = ['bind-to-port-env', 'second-port-safe-range', 'ping-invocations-handlers', 'serve-entrypoint'] as const;
export type BootRuleId = (typeof BOOT_RULE_IDS)[number];

/** Prefix of every container the harness starts (`smcl-boot-<random>`). */
export const CONTAINER_PREFIX = 'smcl-boot-';

export interface BootOptions {
  /** Image reference to boot. */
  image: string;
  /** `podman`, `docker` or a path; default `SMCL_ENGINE`, then podman, then docker from PATH. */
  engine?: string;
  /** Extra arguments for `<engine> run`, inserted before the image (config `engineArgs`). */
  engineArgs?: string[];
  /** e.g. `ml.m5.large`: memory and CPUs of that instance, unless `memory` / `cpus` are given. */
  instanceType?: string;
  /** `--memory` value, e.g. `2g`. */
  memory?: string;
  /** `--cpus` value. Clamped to the host's CPU count (engines refuse more). */
  cpus?: number;
  /** Extra environment for the container (SAGEMAKER_* set by the harness win over these). */
  env?: Record<string, string>;
  /** Body of `POST /invocations` (default `1,2,3`). */
  payload?: Buffer | string;
  /** Content type of the payload (default `text/csv`). */
  contentType?: string;
  /** Seconds to wait for `GET /ping` to answer 200 (default 240, SageMaker's limit is similar). */
  startupTimeout?: number;
  /** Milliseconds between pings while waiting (default 250). */
  pingInterval?: number;
  /** Per-request timeout of `/ping` in ms (default 2000: SageMaker wants an answer within 2 s). */
  pingTimeout?: number;
  /** Per-request timeout of `/invocations` in seconds (default 60, SageMaker's limit). */
  invocationTimeout?: number;
  /** Seconds `stop` waits before SIGKILL (default 2). */
  stopTimeout?: number;
  /** Seconds a container may listen on 8080 (and not on the assigned port) before the harness stops waiting (default 5). */
  hardcodedPortGrace?: number;
  /** Port to assign instead of a random free one. */
  port?: number;
  /** Safe port range to assign instead of a random free one. */
  safePortRange?: [number, number];
  /** Size of the random safe range (default 1000). */
  safePortRangeSize?: number;
  /** Pull the image when it is not local (`missing`, default) or fail (`never`). */
  pull?: 'missing' | 'never';
  /** Cancels the boot (the container is still removed). */
  signal?: AbortSignal;
  /** Install SIGINT/SIGTERM handlers for the duration of the boot (default true). */
  handleSignals?: boolean;
  /** Progress messages (for `--verbose`-like output). */
  onProgress?: (message: string) => void;
}

/** One `POST /invocations`, like SageMaker's ContainerLatency metric (microseconds). */
export interface ContainerLatency {
  status?: number;
  error?: string;
  latencyUs: number;
  contentType?: string;
  responseBytes: number;
}

export interface BootMetrics {
  /** From `<engine> run` to the first `GET /ping` answered 200, in ms. Absent when never healthy. */
  startupMs?: number;
  pingAttempts: number;
  invocation?: ContainerLatency;
  /** Highest memory use seen by `stats --no-stream`, in bytes. */
  peakMemoryBytes?: number;
  memoryLimitBytes?: number;
  /** Highest CPU% seen by `stats --no-stream` (100 = one core). */
  peakCpuPercent?: number;
  /** TCP ports the container's processes listened on (union of all inspections). */
  listeningPorts: ListeningPort[];
  /** False when /proc could not tell which sockets are the container's (port rules skipped). */
  portsInspected: boolean;
}

export interface BootReport {
  image: string;
  engine: string;
  container: {
    name: string;
    bindPort: number;
    safePortRange: [number, number];
    memory?: string;
    cpus?: number;
    instanceType?: string;
    exitCode?: number;
  };
  findings: Finding[];
  metrics: BootMetrics;
  /** Things worth telling that are not findings (CPU clamp, architecture mismatch...). */
  notes: string[];
}

export class BootInterruptedError extends Error {
  constructor(readonly signalName: NodeJS.Signals | 'abort') {
    super(signalName === 'abort' ? 'boot aborted' : `boot interrupted by ${signalName}`);
    this.name = 'BootInterruptedError';
  }
}

const LOG_LINES = 50;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, Math.max(0, ms));
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function finding(ruleId: BootRuleId, image: string, message: string, help?: string): Finding {
  return { ruleId, severity: 'error', message, location: { file: image }, help, docsUrl: docsUrl(ruleId), subject: image };
}

function indentLogs(logs: string): string {
  const lines = logs.replace(/\s+$/, '').split('\n').slice(-LOG_LINES);
  if (lines.length === 1 && lines[0] === '') return '(no log output)';
  return lines.map((l) => `  | ${l}`).join('\n');
}

function validateOptions(o: BootOptions): void {
  if (!o.image || /\s/.test(o.image)) throw new InputError(`invalid image reference "${o.image}"`);
  for (const [k, v] of [
    ['startupTimeout', o.startupTimeout],
    ['invocationTimeout', o.invocationTimeout],
    ['pingTimeout', o.pingTimeout],
    ['pingInterval', o.pingInterval],
  ] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new InputError(`${k} must be a positive number, got ${v}`);
  }
  if (o.stopTimeout !== undefined && !(Number.isInteger(o.stopTimeout) && o.stopTimeout >= 0)) throw new InputError(`stopTimeout must be a whole number of seconds`);
  if (o.cpus !== undefined && !(Number.isFinite(o.cpus) && o.cpus > 0)) throw new InputError(`cpus must be a positive number, got ${o.cpus}`);
  if (o.memory !== undefined && !/^\d+(\.\d+)?[bkmgBKMG]?$/.test(o.memory)) throw new InputError(`invalid memory "${o.memory}" (e.g. 512m, 4g)`);
  for (const key of Object.keys(o.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new InputError(`invalid environment variable name "${key}"`);
  }
}

/** Resolves memory/CPUs from options and the instance type table. */
function resolveResources(o: BootOptions, notes: string[]): { memory?: string; cpus?: number; arch?: string } {
  let memory = o.memory;
  let cpus = o.cpus;
  let arch: string | undefined;
  if (o.instanceType) {
    const t = lookupInstanceType(o.instanceType);
    if (!t) throw new InputError(`unknown instance type "${o.instanceType}" (known: ${[...INSTANCE_TYPES.keys()].join(', ')})`);
    memory ??= `${t.memoryGiB}g`;
    cpus ??= t.vcpus;
    arch = t.arch;
    if (t.gpus > 0) notes.push(`${t.name} has ${t.gpus} GPU(s); the container runs here without one`);
  }
  const hostCpus = os.availableParallelism();
  if (cpus !== undefined && cpus > hostCpus) {
    notes.push(`--cpus ${cpus} clamped to this host's ${hostCpus} CPUs`);
    cpus = hostCpus;
  }
  return { memory, cpus, arch };
}

async function ensureImage(engine: ContainerEngine, o: BootOptions, signal: AbortSignal): Promise<void> {
  const r = await engine.exec(['image', 'inspect', '--format', '{{.Id}}', o.image], { timeoutMs: 60_000 });
  if (r.code === 0) return;
  const err = r.stderr.trim();
  if (err && !/no such|not known|not found|unknown/i.test(err)) {
    throw new InputError(`${engine.bin} does not work: ${err.split('\n').pop()}`);
  }
  if (o.pull === 'never') throw new InputError(`image ${o.image} not found locally`);
  o.onProgress?.(`pulling ${o.image}`);
  const p = await engine.pull(o.image, signal).catch((e: Error) => ({ code: 1, stderr: e.message }));
  if (signal.aborted) throw new BootInterruptedError('abort');
  if (p.code !== 0) {
    const last = p.stderr.trim().split('\n').pop() ?? '';
    throw new InputError(`image ${o.image} not found locally and could not be pulled: ${last}`);
  }
}

/**
 * Boots an image the way SageMaker does (`<engine> run <image> serve` with
 * SAGEMAKER_BIND_TO_PORT and SAGEMAKER_SAFE_PORT_RANGE, host network), waits for `GET /ping`,
 * sends one `POST /invocations`, inspects the ports it listens on, and reports findings and
 * metrics. The container is always removed: on success, failure, timeout, abort and
 * SIGINT/SIGTERM (after which the signal is re-raised when nobody else handles it).
 */
export async function bootImage(options: BootOptions): Promise<BootReport> {
  validateOptions(options);
  const o = options;
  const image = o.image;
  const notes: string[] = [];
  const progress = (m: string): void => o.onProgress?.(m);
  const engine = ContainerEngine.detect(o.engine);
  const { memory, cpus, arch } = resolveResources(o, notes);

  const controller = new AbortController();
  const signal = controller.signal;
  const onOuterAbort = (): void => controller.abort();
  if (o.signal?.aborted) throw new BootInterruptedError('abort');
  o.signal?.addEventListener('abort', onOuterAbort, { once: true });

  const name = `${CONTAINER_PREFIX}${randomBytes(6).toString('hex')}`;
  let started = false;
  let cleaned = false;
  let interruptedBy: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interruptedBy) {
      // Second signal while cleaning up: remove synchronously and leave now.
      if (started && !cleaned) engine.removeSync(name);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    interruptedBy = sig;
    controller.abort();
  };
  const onExit = (): void => {
    if (started && !cleaned) engine.removeSync(name);
  };
  const handleSignals = o.handleSignals !== false;
  if (handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  process.on('exit', onExit);
  const checkAbort = (): void => {
    if (signal.aborted) throw new BootInterruptedError(interruptedBy ?? 'abort');
  };

  try {
    await ensureImage(engine, o, signal);
    checkAbort();
    if (arch) {
      const imageArch = await engine.imageArchitecture(image);
      if (imageArch && imageArch !== arch) notes.push(`image architecture is ${imageArch} but ${o.instanceType} is ${arch}`);
    }
    const plan = await planPorts({ port: o.port, safePortRange: o.safePortRange, safePortRangeSize: o.safePortRangeSize });
    const [lo, hi] = plan.safeRange;
    const bindPort = plan.bindPort;
    if (bindPort !== 8080 && !(await canListen(8080))) {
      notes.push('port 8080 is already in use on this host: a container that hard-codes 8080 will fail to bind it here (and show as serve-entrypoint)');
    }

    const env: Record<string, string> = { ...(o.env ?? {}), SAGEMAKER_BIND_TO_PORT: String(bindPort), SAGEMAKER_SAFE_PORT_RANGE: `${lo}-${hi}` };
    const runArgs = ['run', '-d', '--name', name, '--network', 'host'];
    for (const [k, v] of Object.entries(env)) runArgs.push('-e', `${k}=${v}`);
    if (memory) runArgs.push('--memory', memory);
    if (cpus !== undefined) runArgs.push('--cpus', String(cpus));
    runArgs.push(...(o.engineArgs ?? []), image, 'serve');

    const report: BootReport = {
      image,
      engine: engine.bin,
      container: { name, bindPort, safePortRange: [lo, hi], memory, cpus, instanceType: o.instanceType },
      findings: [],
      metrics: { pingAttempts: 0, listeningPorts: [], portsInspected: false },
      notes,
    };
    const m = report.metrics;
    const seenPorts = new Map<string, ListeningPort>();
    let pid = 0;
    const inspectPorts = async (): Promise<ListeningPort[] | undefined> => {
      // The wait loop learns the PID from its state checks; a server healthy before the first one
      // has not told it yet.
      if (!pid) pid = (await engine.state(name))?.pid ?? 0;
      if (!pid) return undefined;
      const ports = await containerListeningPorts(pid);
      if (ports) {
        m.portsInspected = true;
        for (const p of ports) seenPorts.set(`${p.family}/${p.address}/${p.port}`, p);
      }
      return ports;
    };

    progress(`starting ${name}: ${engine.bin} ${runArgs.join(' ')}`);
    const t0 = performance.now();
    started = true;
    const run = await engine.exec(runArgs, { timeoutMs: 10 * 60_000 });
    checkAbort();
    if (run.code !== 0) {
      const state = await engine.state(name);
      if (!state) throw new InputError(`${engine.bin} run failed: ${run.stderr.trim().split('\n').pop() ?? `exit ${run.code}`}`);
      // The container was created but its command could not start (e.g. `serve` not found).
      const logs = await engine.logs(name, LOG_LINES);
      report.container.exitCode = state.exitCode;
      report.findings.push(
        finding(
          'serve-entrypoint',
          image,
          `${image} could not start as \`${image} serve\` (exit code ${run.code}): ${run.stderr.trim().split('\n').pop() ?? ''}\n${indentLogs(logs)}`,
          'SageMaker runs the image with the single argument `serve`: give it an ENTRYPOINT that starts the server and accepts `serve`.',
        ),
      );
      return report;
    }

    // Resource sampling in the background for the whole boot.
    let sampling = true;
    const sample = async (): Promise<void> => {
      const s = await engine.stats(name).catch(() => undefined);
      if (!s) return;
      if (s.memoryBytes !== undefined) m.peakMemoryBytes = Math.max(m.peakMemoryBytes ?? 0, s.memoryBytes);
      if (s.memoryLimitBytes !== undefined) m.memoryLimitBytes = s.memoryLimitBytes;
      if (s.cpuPercent !== undefined) m.peakCpuPercent = Math.max(m.peakCpuPercent ?? 0, s.cpuPercent);
    };
    // The first sample waits a second: a `stats` process spawned while the server starts competes
    // with it for the CPU (and the engine's locks), and a fast server is healthy before then. The
    // boot samples once more after /invocations, so short boots still get their memory figure.
    const sampler = (async () => {
      await sleep(1000, signal);
      while (sampling && !signal.aborted) {
        await sample();
        await sleep(1000, signal);
      }
    })();

    try {
      const deadline = t0 + (o.startupTimeout ?? 240) * 1000;
      const pingTimeout = o.pingTimeout ?? 2000;
      const interval = o.pingInterval ?? 250;
      const grace = (o.hardcodedPortGrace ?? 5) * 1000;
      let lastPing: ProbeResult | undefined;
      let healthy = false;
      let exited: ContainerState | undefined;
      let vanished = false;
      let on8080Since: number | undefined;
      let hardcoded = false;
      let lastPortCheck = performance.now();

      progress(`waiting for GET http://127.0.0.1:${bindPort}/ping (up to ${Math.round((deadline - t0) / 1000)} s)`);
      // Ping first and ask the engine about the container only every 500 ms, the first time 500 ms
      // after `run`: `inspect` spawns a process, and paying it before the first pings made
      // time-to-healthy worse than a bare poll loop. A container that exits at once is still seen
      // within half a second (its pings are refused meanwhile).
      let lastStateCheck = performance.now();
      for (;;) {
        checkAbort();
        if (performance.now() - lastStateCheck >= 500) {
          lastStateCheck = performance.now();
          const state = await engine.state(name);
          if (!state) {
            vanished = true;
            break;
          }
          if (!state.running) {
            exited = state;
            break;
          }
          pid = state.pid;
        }
        m.pingAttempts++;
        lastPing = await probe({ method: 'GET', port: bindPort, path: '/ping', timeoutMs: Math.round(Math.max(100, Math.min(pingTimeout, deadline - performance.now()))), signal });
        checkAbort();
        if (lastPing.status === 200) {
          healthy = true;
          m.startupMs = Math.round(performance.now() - t0);
          break;
        }
        const now = performance.now();
        if (now - lastPortCheck >= 1000) {
          lastPortCheck = now;
          const ports = await inspectPorts();
          const on8080 = ports?.some((p) => p.port === 8080) && !ports.some((p) => p.port === bindPort) && bindPort !== 8080;
          if (on8080) {
            on8080Since ??= now;
            if (now - on8080Since >= grace) {
              hardcoded = true;
              break;
            }
          } else on8080Since = undefined;
        }
        if (performance.now() >= deadline) break;
        // Servers usually come up within seconds: poll fast at first, then at the configured pace.
        const pace = performance.now() - t0 < 3000 ? Math.min(50, interval) : interval;
        await sleep(Math.min(pace, deadline - performance.now()), signal);
      }
      checkAbort();

      if (vanished) throw new InputError(`container ${name} disappeared while booting (removed by someone else?)`);

      if (exited) {
        report.container.exitCode = exited.exitCode;
        const logs = await engine.logs(name, LOG_LINES);
        if (exited.oomKilled) {
          report.findings.push(
            finding(
              'ping-invocations-handlers',
              image,
              `${image} did not pass the ping health check: the container was killed for running out of memory (limit ${memory ?? 'none'})\n${indentLogs(logs)}`,
              'Choose a larger instance type or make the model server use less memory while loading.',
            ),
          );
        } else {
          report.findings.push(
            finding(
              'serve-entrypoint',
              image,
              `${image} exited with code ${exited.exitCode} before answering GET /ping (run as \`${image} serve\`)${exited.error ? `: ${exited.error}` : ''}\n${indentLogs(logs)}`,
              'SageMaker starts the container with the argument `serve`; the process it starts must keep running and serve /ping and /invocations.',
            ),
          );
        }
        return report;
      }

      if (!healthy) {
        const ports = (await inspectPorts()) ?? [];
        const onBind = ports.some((p) => p.port === bindPort);
        const others = [...new Set(ports.map((p) => p.port))].filter((p) => p !== bindPort);
        if (!onBind && others.length > 0) {
          const list = others.join(', ');
          report.findings.push(
            finding(
              'bind-to-port-env',
              image,
              `${image} listens on port ${list} instead of SAGEMAKER_BIND_TO_PORT=${bindPort}: SageMaker would find nothing on the assigned port and fail the ping health check`,
              'Read SAGEMAKER_BIND_TO_PORT at startup and listen on it (8080 only when it is not set).',
            ),
          );
          if (hardcoded) progress(`stopped waiting: 8080 held for ${grace / 1000} s without the assigned port`);
          return report;
        }
        const logs = await engine.logs(name, LOG_LINES);
        const waited = Math.round((performance.now() - t0) / 1000);
        report.findings.push(
          finding(
            'ping-invocations-handlers',
            image,
            `${image} did not pass the ping health check: GET /ping on port ${bindPort} did not answer 200 within ${waited} s (last: ${describeProbe(lastPing)})\n${indentLogs(logs)}`,
            'Answer GET /ping with 200 (within 2 s) once the model is loaded; load faster or raise the startup timeout if it is only slow.',
          ),
        );
        return report;
      }

      // Healthy: one invocation, then look at the ports.
      progress(`healthy after ${m.startupMs} ms; POST /invocations`);
      await inspectPorts();
      const invocationTimeout = (o.invocationTimeout ?? 60) * 1000;
      const inv = await probe({
        method: 'POST',
        port: bindPort,
        path: '/invocations',
        body: o.payload ?? '1,2,3',
        contentType: o.contentType ?? 'text/csv',
        timeoutMs: invocationTimeout,
        signal,
      });
      checkAbort();
      m.invocation = { status: inv.status, error: inv.error, latencyUs: inv.latencyUs, contentType: inv.contentType, responseBytes: inv.body.length };
      if (inv.status === 404 || inv.status === 405) {
        report.findings.push(
          finding(
            'ping-invocations-handlers',
            image,
            `${image} answered POST /invocations with HTTP ${inv.status}: it has no /invocations handler`,
            'Serve POST /invocations on SAGEMAKER_BIND_TO_PORT; SageMaker sends every InvokeEndpoint request there.',
          ),
        );
      } else if (inv.status === undefined) {
        report.findings.push(
          finding(
            'ping-invocations-handlers',
            image,
            `${image} did not answer POST /invocations (${describeProbe(inv)})`,
            'SageMaker gives /invocations 60 s to answer.',
          ),
        );
      } else if (inv.status >= 400) {
        notes.push(`POST /invocations answered HTTP ${inv.status} to the ${o.payload === undefined ? 'default payload `1,2,3`' : 'payload'} (${o.contentType ?? 'text/csv'})`);
      }
      const ports = await inspectPorts();
      await sample();
      const after = await engine.state(name);
      if (after && !after.running) {
        report.container.exitCode = after.exitCode;
        const logs = await engine.logs(name, LOG_LINES);
        report.findings.push(
          finding('serve-entrypoint', image, `${image} exited with code ${after.exitCode} after POST /invocations\n${indentLogs(logs)}`, 'The server must keep running between requests.'),
        );
      }
      if (ports === undefined && !m.portsInspected) {
        notes.push('could not inspect the container\'s sockets in /proc (not root?): port rules skipped');
      }
      const all = [...seenPorts.values()];
      if (m.portsInspected && !all.some((p) => p.port === bindPort)) {
        notes.push(`/ping answered on ${bindPort} but no socket of the container listens there (proxied by another process?)`);
      }
      const outside = [...new Set(all.map((p) => p.port))].filter((p) => p !== bindPort && (p < lo || p > hi));
      for (const p of outside) {
        const addrs = all.filter((x) => x.port === p).map((x) => x.address).join(', ');
        const why =
          p === 8080
            ? ` 8080 is not the assigned port (${bindPort}); in a multi-container endpoint another container may be given 8080`
            : '';
        report.findings.push(
          finding(
            'second-port-safe-range',
            image,
            `${image} also listens on port ${p} (${addrs}), outside SAGEMAKER_SAFE_PORT_RANGE=${lo}-${hi}.${why}`,
            'Pick any extra port (metrics, management, gRPC) from SAGEMAKER_SAFE_PORT_RANGE; with several containers on one host, other ports can clash.',
          ),
        );
      }
      return report;
    } finally {
      sampling = false;
      controller.abort();
      await sampler;
      m.listeningPorts = [...seenPorts.values()].sort((a, b) => a.port - b.port || a.family.localeCompare(b.family));
    }
  } finally {
    if (started) {
      progress(`removing ${name}`);
      await engine.stopAndRemove(name, o.stopTimeout ?? 2).catch(() => undefined);
      cleaned = true;
    }
    process.removeListener('exit', onExit);
    o.signal?.removeEventListener('abort', onOuterAbort);
    if (handleSignals) {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
    if (interruptedBy && process.listenerCount(interruptedBy) === 0) {
      // Re-raise with the default action: the process dies by the signal, as the user asked.
      process.kill(process.pid, interruptedBy);
    }
  }
}
