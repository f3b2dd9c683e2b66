import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { InputError } from '../engine/types.js';

/**
 * Driver for the container engine CLI (podman or docker). Every call passes an argument array
 * to `spawn` (never a shell), so image names, env values and engine args are never re-parsed.
 */
export type EngineFlavor = 'podman' | 'docker';

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved in arrival order (for logs). */
  combined: string;
  timedOut: boolean;
}

export interface ExecOptions {
  timeoutMs?: number;
  input?: string;
  signal?: AbortSignal;
}

export interface ContainerState {
  status: string;
  running: boolean;
  pid: number;
  exitCode: number;
  oomKilled: boolean;
  error: string;
}

export interface ContainerStats {
  cpuPercent?: number;
  memoryBytes?: number;
  memoryLimitBytes?: number;
  /** Cumulative CPU time of the container (ns), when the engine reports it (podman's `cpu_time`). */
  cpuTimeNs?: number;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

/** Finds an executable on PATH (or checks an explicit path). */
export function findExecutable(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  const candidates = name.includes('/') ? [name] : envPath.split(path.delimiter).filter(Boolean).map((d) => path.join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}

export class ContainerEngine {
  constructor(
    /** Executable name or path as given (`podman`, `/usr/bin/docker`). */
    readonly bin: string,
    readonly flavor: EngineFlavor,
  ) {}

  /**
   * Picks the engine: `requested` (option `engine`), else `SMCL_ENGINE`, else podman then docker
   * from PATH. Throws InputError when none is usable.
   */
  static detect(requested?: string, env: NodeJS.ProcessEnv = process.env): ContainerEngine {
    const wanted = requested || env.SMCL_ENGINE || undefined;
    if (wanted) {
      const found = findExecutable(wanted);
      if (!found) throw new InputError(`container engine "${wanted}" not found (set --engine or SMCL_ENGINE to podman or docker)`);
      return new ContainerEngine(wanted, flavorOf(wanted));
    }
    for (const name of ['podman', 'docker'] as const) {
      if (findExecutable(name)) return new ContainerEngine(name, name);
    }
    throw new InputError('no container engine found: install podman or docker, or set --engine / SMCL_ENGINE');
  }

  /** Runs `<engine> ...args`. Never throws for a non-zero exit; throws InputError when the engine cannot be started. */
  exec(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.bin, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], signal: opts.signal });
      let stdout = '';
      let stderr = '';
      let combined = '';
      let timedOut = false;
      const add = (which: 'out' | 'err') => (d: Buffer) => {
        const s = d.toString('utf8');
        if (which === 'out') stdout = cap(stdout + s);
        else stderr = cap(stderr + s);
        combined = cap(combined + s);
      };
      child.stdout?.on('data', add('out'));
      child.stderr?.on('data', add('err'));
      const timer =
        opts.timeoutMs !== undefined
          ? setTimeout(() => {
              timedOut = true;
              child.kill('SIGKILL');
            }, opts.timeoutMs)
          : undefined;
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (timer) clearTimeout(timer);
        if (err.code === 'ENOENT') reject(new InputError(`container engine "${this.bin}" not found`));
        else reject(err);
      });
      if (opts.input !== undefined) child.stdin?.end(opts.input);
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve({ code, signal, stdout, stderr, combined, timedOut });
      });
    });
  }

  /** Synchronous best-effort removal, for `process.on('exit')` where nothing async can run. */
  removeSync(name: string): void {
    spawnSync(this.bin, ['rm', '-f', name], { stdio: 'ignore', timeout: 20_000 });
  }

  async imageExists(ref: string): Promise<boolean> {
    const r = await this.exec(['image', 'inspect', '--format', '{{.Id}}', ref], { timeoutMs: 60_000 });
    return r.code === 0;
  }

  /** `{{.Architecture}}` of a local image (e.g. amd64, arm64). */
  async imageArchitecture(ref: string): Promise<string | undefined> {
    const r = await this.exec(['image', 'inspect', '--format', '{{.Architecture}}', ref], { timeoutMs: 60_000 });
    return r.code === 0 ? r.stdout.trim() || undefined : undefined;
  }

  async pull(ref: string, signal?: AbortSignal): Promise<ExecResult> {
    return this.exec(['pull', ref], { timeoutMs: 30 * 60_000, signal });
  }

  async state(name: string): Promise<ContainerState | undefined> {
    const r = await this.exec(['inspect', '--type', 'container', '--format', '{{json .State}}', name], { timeoutMs: 30_000 });
    if (r.code !== 0) return undefined;
    try {
      const s = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
      return {
        status: String(s.Status ?? ''),
        running: s.Running === true,
        pid: Number(s.Pid ?? 0),
        exitCode: Number(s.ExitCode ?? 0),
        oomKilled: s.OOMKilled === true,
        error: String(s.Error ?? ''),
      };
    } catch {
      return undefined;
    }
  }

  async logs(name: string, tail: number): Promise<string> {
    const r = await this.exec(['logs', '--tail', String(tail), name], { timeoutMs: 30_000 });
    return r.combined;
  }

  async stats(name: string): Promise<ContainerStats | undefined> {
    const format = this.flavor === 'podman' ? 'json' : '{{json .}}';
    const r = await this.exec(['stats', '--no-stream', '--format', format, name], { timeoutMs: 30_000 });
    if (r.code !== 0) return undefined;
    return parseStats(r.stdout);
  }

  /** Stops with a short grace period (PID 1 of many images ignores SIGTERM), then removes. */
  async stopAndRemove(name: string, stopTimeoutSeconds: number): Promise<void> {
    await this.exec(['stop', '-t', String(stopTimeoutSeconds), name], { timeoutMs: (stopTimeoutSeconds + 30) * 1000 }).catch(() => undefined);
    const r = await this.exec(['rm', '-f', name], { timeoutMs: 60_000 }).catch(() => undefined);
    if (r && r.code !== 0 && !/no such container|no container with name/i.test(r.stderr)) {
      // One retry: podman occasionally reports the container as still stopping.
      await this.exec(['rm', '-f', name], { timeoutMs: 60_000 }).catch(() => undefined);
    }
  }
}

function cap(s: string): string {
  return s.length > MAX_OUTPUT ? s.slice(s.length - MAX_OUTPUT) : s;
}

export function flavorOf(bin: string): EngineFlavor {
  return /docker/i.test(path.basename(bin)) ? 'docker' : 'podman';
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** Parses `237.6kB`, `1.5MiB`, `512MB` into bytes. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*([\d.]+)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return undefined;
  const unit = (m[2] || 'b').toLowerCase();
  const factor = UNITS[unit];
  if (factor === undefined) return undefined;
  return Math.round(Number(m[1]) * factor);
}

function parsePercent(text: unknown): number | undefined {
  if (typeof text === 'number') return text;
  if (typeof text !== 'string') return undefined;
  const n = Number.parseFloat(text.replace('%', ''));
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The entries of `stats --no-stream --format json`: podman prints one JSON array, docker one
 * object per line. Lines that are not JSON are skipped.
 */
export function statsEntries(stdout: string): Array<Record<string, unknown>> {
  const text = stdout.trim();
  if (!text) return [];
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? (parsed as Array<Record<string, unknown>>) : [parsed as Record<string, unknown>];
  } catch {
    const entries: Array<Record<string, unknown>> = [];
    for (const line of text.split('\n')) {
      try {
        entries.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a stats line (a warning from the engine): skip it
      }
    }
    return entries;
  }
}

/**
 * Parses `stats --no-stream` JSON: podman prints an array of
 * `{cpu_percent: "3.46%", mem_usage: "237.6kB / 536.9MB"}`, docker one object per line with
 * `CPUPerc` / `MemUsage`.
 */
export function parseStats(stdout: string): ContainerStats | undefined {
  const e = statsEntries(stdout)[0];
  return e && statsOfEntry(e);
}

/** One container's entry of `stats` output, podman's or docker's field names. */
export function statsOfEntry(e: Record<string, unknown>): ContainerStats {
  const usage = String(e.mem_usage ?? e.MemUsage ?? '');
  const [used, limit] = usage.split('/').map((s) => parseSize(s));
  return {
    cpuPercent: parsePercent(e.cpu_percent ?? e.CPUPerc ?? e.CPU),
    memoryBytes: used,
    memoryLimitBytes: limit,
    cpuTimeNs: typeof e.cpu_time === 'string' ? parseGoDuration(e.cpu_time) : undefined,
  };
}

/** Parses a Go duration as podman prints `cpu_time` (`56.381995ms`, `1m2.5s`) into ns. */
export function parseGoDuration(text: string): number | undefined {
  const re = /([\d.]+)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let matched = '';
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * unit[m[2]];
    matched += m[0];
  }
  return matched.length > 0 && matched === text.trim() ? total : undefined;
}
