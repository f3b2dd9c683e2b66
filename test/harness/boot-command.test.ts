import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import { bootCommand, parseEnvList } from '../../src/cli/commands/boot.js';
import { buildFixtureFromDir } from '../support/fixture-images.js';
import { requirePodman } from '../support/podman.js';

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  const before = process.exitCode;
  try {
    await yargs(args).command(bootCommand).strict().exitProcess(false).parseAsync();
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = before;
  }
}

describe('parseEnvList', () => {
  it('splits on the first =', () => {
    expect(parseEnvList(['A=1', 'B=x=y', 'C='])).toEqual({ A: '1', B: 'x=y', C: '' });
    expect(() => parseEnvList(['nope'])).toThrow(/KEY=VALUE/);
  });
});

describe.skipIf(!requirePodman())('smcl boot command', () => {
  const images: Record<string, string> = {};
  beforeAll(async () => {
    images.good = await buildFixtureFromDir('good');
    images.crash = await buildFixtureFromDir('crashes-on-start');
  }, 300_000);
  afterEach(() => vi.restoreAllMocks());

  it('good image: exit 0, JSON report without findings, metrics on stderr', async () => {
    const r = await runCli(['boot', images.good, '--engine', 'podman', '--format', 'json', '--env', 'A=1', '--instance-type', 'ml.m5.large']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('ruleId');
    expect(r.stderr).toContain('healthy after:');
    expect(r.stderr).toMatch(/ContainerLatency \d+ us/);
  }, 60_000);

  it('crashing image: exit 1 with serve-entrypoint', async () => {
    const r = await runCli(['boot', images.crash, '--engine', 'podman', '--format', 'json', '--quiet', '--startup-timeout', '20']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('serve-entrypoint');
  }, 60_000);

  it('missing image: exit 2, one line', async () => {
    const r = await runCli(['boot', 'localhost/smcl-fixture/not-there:1', '--engine', 'podman', '--pull', 'never']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^smcl: image localhost\/smcl-fixture\/not-there:1 not found locally/);
  }, 60_000);
});
