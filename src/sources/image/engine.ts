import { spawn } from 'node:child_process';
import type { ContainerModel } from '../../model/container-model.js';
import { InputError } from '../../engine/types.js';
import { loadFromArchiveStream } from './archive.js';
import type { ModelOptions } from './pipeline.js';

/**
 * `podman:IMAGE` / `docker:IMAGE`: runs `podman save --format docker-archive IMAGE` (docker save
 * has no --format and writes a docker-archive, or an OCI layout + manifest.json since Docker 25)
 * with an argument array — never a shell — and reads its stdout as it streams.
 */
export async function loadFromEngine(engine: 'podman' | 'docker', image: string, ref: string, opts: ModelOptions & { engineBinary?: string }): Promise<ContainerModel> {
  if (image.startsWith('-')) throw new InputError(`${ref}: image name must not start with "-"`);
  const bin = opts.engineBinary ?? engine;
  const args = engine === 'podman' ? ['save', '--quiet', '--format', 'docker-archive', image] : ['save', image];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-8192);
  });
  const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, error }));
    child.once('close', (code) => resolve({ code }));
  });
  let model: ContainerModel | undefined;
  let readError: unknown;
  try {
    model = await loadFromArchiveStream(child.stdout, ref, { ...opts, format: 'docker-archive' });
  } catch (err) {
    readError = err;
    if (child.exitCode === null && child.pid !== undefined) child.kill('SIGTERM');
  }
  const { code, error } = await exited;
  if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') throw new InputError(`${ref}: ${bin} is not installed or not on PATH`);
  if (error && error.name === 'AbortError') throw readError ?? error;
  if (!readError && code !== 0) throw new InputError(`${ref}: ${bin} save failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`);
  if (readError) {
    if (code !== 0 && code !== null && stderr.trim()) throw new InputError(`${ref}: ${bin} save failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`);
    throw readError;
  }
  return model!;
}
