/**
 * Lints many Dockerfiles on worker threads (one per core by default). Results come back in the
 * order of `files` (several per file with `--target all`), the same as {@link lintDockerfileSubjects}
 * on each in turn; an InputError on one file rejects the whole call with that error, as the
 * sequential loop would.
 *
 * Below `minFiles` files (or with one thread) it lints in this thread: a worker loads the rules
 * and parser again (~100 ms of CPU), about as much as linting fifty files.
 *
 * This module is also the worker's entry point (it checks `workerData`).
 */
import os from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { InputError } from '../engine/types.js';
import type { LintResult } from '../report/types.js';
import { lintDockerfileSubjects, type DockerfileLintOptions } from './lint-dockerfiles.js';

export interface ParallelLintOptions {
  /** Worker threads (default: available parallelism, at most 8). */
  threads?: number;
  /** Lint in this thread below this many files (default 100). */
  minFiles?: number;
  /** Files handed to a worker at a time (default 16). */
  batch?: number;
  /** Called with the number of files linted so far, after each batch. */
  onProgress?: (done: number) => void;
}

const WORKER_MARK = 'smcl-lint-worker';

type Job = { id: number; files: string[]; opts: DockerfileLintOptions };
type Reply = { id: number; results?: LintResult[][]; error?: { message: string; input: boolean; stack?: string } };

function lintBatch(job: Job): Reply {
  try {
    return { id: job.id, results: job.files.map((f) => lintDockerfileSubjects(f, job.opts)) };
  } catch (err) {
    const e = err as Error;
    return { id: job.id, error: { message: e?.message ?? String(err), input: err instanceof InputError, stack: e?.stack } };
  }
}

if (!isMainThread && (workerData as { mark?: string } | null)?.mark === WORKER_MARK) {
  parentPort!.on('message', (job: Job) => parentPort!.postMessage(lintBatch(job)));
}

export function defaultThreads(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(8, n));
}

/** Lints `files` ('-' is not allowed here: stdin is read in the main thread) on worker threads. */
export async function lintDockerfilesParallel(files: string[], opts: DockerfileLintOptions, popts: ParallelLintOptions = {}): Promise<LintResult[]> {
  const threads = Math.min(popts.threads ?? defaultThreads(), Math.ceil(files.length / (popts.batch ?? 16)));
  if (files.includes('-') || threads <= 1 || files.length < (popts.minFiles ?? 100)) return files.flatMap((f) => lintDockerfileSubjects(f, opts));
  const batch = Math.max(1, popts.batch ?? 16);
  const results: LintResult[][] = new Array(files.length);
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let pending = 0;
      let linted = 0;
      let failed = false;
      const feed = (w: Worker): void => {
        if (failed) return;
        if (next >= files.length) {
          if (pending === 0) resolve();
          return;
        }
        const start = next;
        next = Math.min(files.length, next + batch);
        pending++;
        w.postMessage({ id: start, files: files.slice(start, next), opts } satisfies Job);
      };
      for (let i = 0; i < threads; i++) {
        const w = new Worker(new URL(import.meta.url), { workerData: { mark: WORKER_MARK } });
        workers.push(w);
        w.on('message', (reply: Reply) => {
          pending--;
          if (reply.error) {
            failed = true;
            const e = reply.error.input ? new InputError(reply.error.message) : Object.assign(new Error(reply.error.message), { stack: reply.error.stack });
            reject(e);
            return;
          }
          reply.results!.forEach((r, k) => (results[reply.id + k] = r));
          linted += reply.results!.length;
          popts.onProgress?.(linted);
          feed(w);
        });
        w.on('error', (err) => {
          failed = true;
          reject(err);
        });
        w.on('exit', (code) => {
          if (code !== 0 && !failed) {
            failed = true;
            reject(new Error(`lint worker exited with code ${code}`));
          }
        });
        feed(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results.flat();
}
