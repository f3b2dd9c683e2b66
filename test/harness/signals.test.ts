import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtureFromDir } from '../support/fixture-images.js';
import { requirePodman } from '../support/podman.js';

const execFileP = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Node 20 cannot run TypeScript, so the harness (and the one engine module it imports) is
 * transpiled into a temp dir and run there by a plain node child process.
 */
async function transpileHarness(outDir: string): Promise<string> {
  const sources = [
    ...(await fs.readdir(path.join(ROOT, 'src/harness'))).filter((f) => f.endsWith('.ts')).map((f) => `src/harness/${f}`),
    'src/engine/types.ts',
  ];
  for (const rel of sources) {
    const text = await fs.readFile(path.join(ROOT, rel), 'utf8');
    const out = ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false } });
    const dest = path.join(outDir, rel.replace(/\.ts$/, '.js'));
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fs.writeFile(dest, out.outputText);
  }
  await fs.writeFile(path.join(outDir, 'package.json'), '{"type":"module"}\n');
  const script = path.join(outDir, 'boot-child.mjs');
  await fs.writeFile(
    script,
    [
      "import { bootImage } from './src/harness/index.js';",
      'const image = process.argv[2];',
      "bootImage({ image, engine: 'podman', pull: 'never', startupTimeout: 120, onProgress: (m) => console.log(m) })",
      "  .then((r) => { console.log('DONE ' + JSON.stringify(r.findings.map((f) => f.ruleId))); })",
      "  .catch((e) => { console.log('ERROR ' + e.message); process.exitCode = 1; });",
      '',
    ].join('\n'),
  );
  return script;
}

async function prefixedContainers(): Promise<string[]> {
  const { stdout } = await execFileP('podman', ['ps', '-a', '--filter', 'name=smcl-boot-', '--format', '{{.Names}}']);
  return stdout.split('\n').filter(Boolean);
}

function runAndSignal(script: string, image: string, sig: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; name: string; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, image], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let name = '';
    let sent = false;
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /starting (smcl-boot-[0-9a-f]+)/.exec(out);
      if (m) name = m[1];
      // Signal once the container runs and the harness waits for /ping.
      if (!sent && name && out.includes('waiting for GET')) {
        sent = true;
        setTimeout(() => child.kill(sig), 500);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not finish: ${out}`));
    }, 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, name, out });
    });
  });
}

describe.skipIf(!requirePodman())('bootImage cleanup on signals', () => {
  let dir = '';
  let script = '';
  let image = '';
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'smcl-harness-child-'));
    script = await transpileHarness(dir);
    image = await buildFixtureFromDir('hangs');
  }, 300_000);
  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it.concurrent.each(['SIGINT', 'SIGTERM'] as const)('%s: container removed, process dies by the signal', async (sig) => {
    const r = await runAndSignal(script, image, sig);
    expect(r.name, r.out).toMatch(/^smcl-boot-/);
    expect(r.signal, r.out).toBe(sig);
    expect(r.out).toContain(`removing ${r.name}`);
    expect(await prefixedContainers()).not.toContain(r.name);
  }, 90_000);
});
