import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import { endpointCommand } from '../../src/cli/commands/endpoint.js';
import { ROOT } from './harness.js';

const fx = (rule: string, file: string): string => path.relative(process.cwd(), path.join(ROOT, 'rules', rule, 'fixtures', file));
const IAM = 'iam-target-container-hostname';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    process.exitCode = 0;
    await yargs().command(endpointCommand).strict().fail((msg, error) => {
      throw error ?? new Error(msg);
    }).parseAsync(['endpoint', ...args]);
    return { code: Number(process.exitCode ?? 0), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = 0;
  }
}

describe('smcl endpoint', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints the access matrix', async () => {
    const r = await run([fx(IAM, 'direct-model.json'), fx(IAM, 'reference-allow-all-deny-special.json'), '--format', 'matrix', '--config', path.join(ROOT, 'test/endpoint/fixtures/empty-config.json')]);
    expect(r.err).toBe('');
    expect(r.out).toContain('Access to model shared-models, endpoint (name not known)');
    expect(r.out).toMatch(/reference-allow-all-deny-special\.json\s+allow #0\s+allow #0\s+DENY #1\s+allow #0/);
    expect(r.code).toBe(1); // special-x is reached by no Allow: an error finding
  });

  it('prints the matrix as JSON for given hostnames', async () => {
    const r = await run([fx(IAM, 'reference-allow-prefixes.json'), '--hostname', 'customIps1', '--hostname', 'other', '--format', 'matrix-json', '--config', path.join(ROOT, 'test/endpoint/fixtures/empty-config.json')]);
    const json = JSON.parse(r.out) as { tables: Array<{ rows: Array<{ cells: Record<string, { decision: string }> }> }> };
    expect(json.tables[0].rows[0].cells.customIps1.decision).toBe('allow');
    expect(json.tables[0].rows[0].cells.other.decision).toBe('implicit-deny');
    expect(r.code).toBe(0);
  });

  it('reports findings with the common formats and honours --max-containers', async () => {
    const r = await run([fx('endpoint-container-count', 'good-6-containers.json'), '--max-containers', '5', '--format', 'json', '--config', path.join(ROOT, 'test/endpoint/fixtures/empty-config.json')]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('endpoint-container-count');
  });

  it('bad input: one line, exit 2', async () => {
    const r = await run([path.join(ROOT, 'test/endpoint/fixtures/bad.json'), '--config', path.join(ROOT, 'test/endpoint/fixtures/empty-config.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^smcl: .*bad\.json:4: invalid JSON: unexpected "{" \(expected "," or "]"\)/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});
