/**
 * Interrupts: SIGINT / SIGTERM while the CLI pulls from a slow registry, scans a big layer,
 * boots a container (podman) and scans ECR. Each must exit promptly, non-zero, with a clear
 * message, and leave nothing behind; a second Ctrl-C forces the exit.
 */
import { execFile, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../support/cli.js';
import { startFaultRegistry, type FaultRegistry } from '../support/fault-registry.js';
import { buildFixtureFromDir } from '../support/fixture-images.js';
import { podmanStatus } from '../support/podman.js';
import { buildImage, ociArchive } from '../support/synthetic-image.js';
import { streamedGzipTar } from './support/hostile.js';

const execFileP = promisify(execFile);
const box = fs.mkdtempSync(path.join(os.tmpdir(), 'smcl-interrupt-'));
afterAll(() => fs.rmSync(box, { recursive: true, force: true }));

interface Interrupted {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
  /** ms from the (first) signal to the exit. */
  afterSignalMs: number;
  signalled: boolean;
}

/** Spawns the CLI, waits until stderr matches `when`, sends `signals` (ms apart), measures the exit. */
function interrupt(args: string[], when: RegExp | null, signals: NodeJS.Signals[], opts: { env?: NodeJS.ProcessEnv; delayMs?: number; gapMs?: number } = {}): Promise<Interrupted> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    let sentAt = 0;
    const onData = (): void => {
      if (sentAt || (when && !when.test(stderr))) return;
      sentAt = -1;
      setTimeout(() => {
        sentAt = performance.now();
        signals.forEach((s, i) => setTimeout(() => child.kill(s), i * (opts.gapMs ?? 50)));
      }, opts.delayMs ?? 300);
    };
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onData();
    });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`smcl ${args.join(' ')} did not exit; stderr:\n${stderr}`));
    }, 90_000);
    if (!when) onData();
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stderr, stdout, afterSignalMs: sentAt > 0 ? performance.now() - sentAt : -1, signalled: sentAt !== 0 });
    });
  });
}

function expectPromptFailure(r: Interrupted, what: string): void {
  expect(r.signalled, `${what}: never reached the point to interrupt; stderr:\n${r.stderr}`).toBe(true);
  expect(r.afterSignalMs, `${what}: exit took too long after the signal`).toBeLessThan(5000);
  expect(r.status === null ? r.signal : r.status, what).not.toBe(0);
  expect(r.stdout, `${what}: no report on interrupt`).toBe('');
}

describe('interrupting smcl image', () => {
  let reg: FaultRegistry;
  let archive = '';
  beforeAll(async () => {
    const image = await buildImage({ layers: [{ entries: [{ name: 'opt/program/serve', content: 'x'.repeat(20_000), mode: 0o755 }] }], config: { Entrypoint: ['serve'] } });
    reg = await startFaultRegistry({ slowBlobMs: 20, slowBlobDigest: image.layers[0].digest });
    reg.addImage('slow/img', 'v1', image);
    const bomb = await streamedGzipTar('opt/program/serve', 2048 * 1024 * 1024);
    const big = await buildImage({ layers: [{ raw: bomb.gz, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }] });
    archive = path.join(box, 'big.tar');
    fs.writeFileSync(archive, await ociArchive(big));
  }, 120_000);
  afterAll(async () => reg?.stop());

  it.each(['SIGINT', 'SIGTERM'] as const)('%s during a pull from a byte-by-byte registry', async (sig) => {
    const r = await interrupt(['image', `${reg.host}/slow/img:v1`], /reading/, [sig]);
    expectPromptFailure(r, sig);
    expect(r.status).toBe(sig === 'SIGINT' ? 130 : 143);
    expect(r.stderr).toMatch(/^smcl: interrupted; nothing was written$/m);
    expect(r.stderr).toMatch(new RegExp(`^smcl: interrupted by ${sig}$`, 'm'));
  }, 60_000);

  it.each(['SIGINT', 'SIGTERM'] as const)('%s during a layer scan (2 GiB layer in an oci-archive)', async (sig) => {
    const r = await interrupt(['image', `oci-archive:${archive}`], /reading/, [sig], { delayMs: 500 });
    expectPromptFailure(r, sig);
    expect(r.status).toBe(sig === 'SIGINT' ? 130 : 143);
    expect(r.stderr).toMatch(/interrupted/);
  }, 60_000);

  it('a second Ctrl-C forces the exit', async () => {
    const r = await interrupt(['image', `${reg.host}/slow/img:v1`], /reading/, ['SIGINT', 'SIGINT'], { gapMs: 5 });
    expectPromptFailure(r, 'double SIGINT');
    expect(r.status).toBe(130);
  }, 60_000);
});

describe('interrupting smcl ecr', () => {
  it('SIGINT while the ECR API does not answer', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const server = http.createServer(() => undefined); // never answers
    server.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const env = { AWS_ENDPOINT_URL_ECR: url, AWS_ACCESS_KEY_ID: 'AKIDINTERRUPT', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
      // Progress is not printed before the first API answer: interrupt after a fixed delay.
      const r = await interrupt(['ecr', '--labels-only'], null, ['SIGINT'], { env, delayMs: 1500 });
      expectPromptFailure(r, 'ecr SIGINT');
      expect(r.status).toBe(130);
      expect(r.stderr).toMatch(/^smcl: interrupted by SIGINT$/m);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 60_000);
});

const podman = podmanStatus().ok;
describe.skipIf(!podman)('interrupting smcl boot (podman)', () => {
  let image = '';
  beforeAll(async () => {
    image = await buildFixtureFromDir('hangs');
  }, 300_000);

  it.each(['SIGINT', 'SIGTERM'] as const)('%s while waiting for /ping: container removed, clear message, non-zero exit', async (sig) => {
    const r = await interrupt(['boot', image, '--engine', 'podman', '--pull', 'never', '--startup-timeout', '60'], /waiting for GET/, [sig]);
    expectPromptFailure(r, sig);
    const name = /starting (smcl-boot-[0-9a-f]+)/.exec(r.stderr)?.[1];
    expect(name).toBeDefined();
    expect(r.stderr).toContain(`removing ${name}`);
    expect(r.stderr).toMatch(new RegExp(`^smcl: interrupted by ${sig}$`, 'm'));
    expect(r.status).toBe(sig === 'SIGINT' ? 130 : 143);
    const { stdout } = await execFileP('podman', ['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Names}}']);
    expect(stdout.trim()).toBe('');
  }, 90_000);
});
