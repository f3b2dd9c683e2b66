import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface TestRegistry {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>`, for image references. */
  host: string;
  stop(): Promise<void>;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/**
 * Starts Debian's `docker-registry serve` on 127.0.0.1 with a free port and a temporary storage
 * directory, and waits until `/v2/` answers. `stop()` kills it and removes the directory.
 */
export async function startRegistry(): Promise<TestRegistry> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'smcl-registry-'));
  let child: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    if (child) {
      child.kill('SIGTERM');
      if (!(await waitExit(child, 5000))) {
        child.kill('SIGKILL');
        await waitExit(child, 5000);
      }
    }
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freeLocalPort();
      const host = `127.0.0.1:${port}`;
      const config = [
        'version: 0.1',
        'log:',
        '  level: error',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${JSON.stringify(path.join(dir, 'data'))}`,
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: ${host}`,
        '',
      ].join('\n');
      const configPath = path.join(dir, 'config.yml');
      await fs.writeFile(configPath, config);
      let stderr = '';
      const proc = spawn('docker-registry', ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = proc;
      proc.stderr?.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
      });
      const spawnError = new Promise<Error>((resolve) => proc.once('error', resolve));
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && proc.exitCode === null) {
        if (await answers(`http://${host}/v2/`)) return { url: `http://${host}`, host, stop };
        const err = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(r, 100))]);
        if (err) throw new Error(`cannot start docker-registry: ${err.message}`);
      }
      // Port lost to a race, or a slow start: kill and retry on another port.
      proc.kill('SIGKILL');
      await waitExit(proc, 5000);
      child = undefined;
      if (attempt === 2) throw new Error(`docker-registry did not answer on ${host}: ${stderr.trim()}`);
    }
    throw new Error('unreachable');
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Pushes a local podman image to the test registry as `<registryHost>/<repoTag>`. */
export async function pushImage(localTag: string, registryHost: string, repoTag: string): Promise<string> {
  const dest = `${registryHost}/${repoTag}`;
  try {
    await execFileP('podman', ['push', '--tls-verify=false', '--quiet', localTag, `docker://${dest}`], { timeout: 120_000 });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`podman push ${localTag} -> ${dest} failed: ${(e.stderr || e.message).trim()}`);
  }
  return dest;
}
