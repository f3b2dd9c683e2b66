import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What `smcl endpoint up --detach` leaves for `smcl endpoint down`. */
export interface EndpointState {
  endpointName: string;
  /** Process serving the runtime API (the detached `smcl endpoint up`). */
  pid: number;
  url: string;
  engine: string;
  runId: string;
  /** Engine names of every container of the endpoint. */
  containers: string[];
  logFile?: string;
  startedAt: string;
}

/** `SMCL_STATE_DIR`, else `<tmpdir>/smcl-<uid>/endpoints`. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SMCL_STATE_DIR) return env.SMCL_STATE_DIR;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return path.join(os.tmpdir(), `smcl-${uid}`, 'endpoints');
}

export function stateFile(endpointName: string, dir = stateDir()): string {
  return path.join(dir, `${endpointName}.json`);
}

export async function writeState(state: EndpointState, file = stateFile(state.endpointName)): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await fs.rename(tmp, file);
  return file;
}

export async function readState(file: string): Promise<EndpointState | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as EndpointState;
  } catch {
    return undefined;
  }
}

export async function listStates(dir = stateDir()): Promise<Array<{ file: string; state: EndpointState }>> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const out: Array<{ file: string; state: EndpointState }> = [];
  for (const n of names.filter((x) => x.endsWith('.json')).sort()) {
    const file = path.join(dir, n);
    const state = await readState(file);
    if (state) out.push({ file, state });
  }
  return out;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
