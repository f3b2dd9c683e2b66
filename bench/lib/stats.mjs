/** Timing and process helpers shared by the benchmark sections. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { min: s[0], median, max: s[s.length - 1], n: s.length, values };
}

/** Throughput summary from durations: min throughput comes from the max duration. */
export function rateSummary(amount, msValues) {
  return summary(msValues.map((ms) => amount / (ms / 1000)));
}

export const TIME_BIN = '/usr/bin/time';
export const hasGnuTime = () => fs.existsSync(TIME_BIN);

/**
 * Runs a command to completion. With `measure`, it runs under GNU time and returns the child's
 * peak RSS (KiB; the largest of the process and the descendants it waited for).
 * Wall time is measured here, from spawn to exit.
 */
export function run(cmd, args, { measure = false, cwd, env, stdout = 'ignore', input } = {}) {
  return new Promise((resolve, reject) => {
    let tfile;
    let argv = [cmd, ...args];
    if (measure) {
      if (!hasGnuTime()) return reject(new Error(`${TIME_BIN} is missing: apt-get install -y time`));
      tfile = path.join(os.tmpdir(), `smcl-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
      argv = [TIME_BIN, '-f', '%e %M %x', '-o', tfile, ...argv];
    }
    // stdout: 'ignore', 'pipe', or a file path (a file, not a pipe, for tools that exit before a pipe drains).
    const outFd = stdout !== 'ignore' && stdout !== 'pipe' ? fs.openSync(stdout, 'w') : undefined;
    const t0 = performance.now();
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: [input === undefined ? 'ignore' : 'pipe', outFd ?? stdout, 'pipe'] });
    if (outFd !== undefined) fs.closeSync(outFd);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    if (input !== undefined) child.stdin.end(input);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const ms = performance.now() - t0;
      let maxRssKiB;
      if (tfile) {
        const t = fs.readFileSync(tfile, 'utf8').trim().split('\n').pop().split(' ');
        maxRssKiB = Number(t[1]);
        fs.rmSync(tfile, { force: true });
      }
      resolve({ code, signal, ms, maxRssKiB, stdout: out, stderr: err });
    });
  });
}

export function machine() {
  const cpus = os.cpus();
  let memTotal = os.totalmem();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: +(memTotal / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAvgAtStart: os.loadavg().map((x) => +x.toFixed(2)),
    date: new Date().toISOString(),
  };
}

export const fmt = (x, digits = 0) => (x === undefined || x === null || Number.isNaN(x) ? '-' : Number(x).toFixed(digits));
export const triple = (s, digits = 0) => (s ? `${fmt(s.min, digits)} / ${fmt(s.median, digits)} / ${fmt(s.max, digits)}` : '-');
