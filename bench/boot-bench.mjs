/**
 * Section 3: boot harness overhead. The good fixture image (fixtures/images/good, built with the
 * test fixture builder test/support/fixture-images.ts) is booted, alternately:
 *   smcl  `node dist/src/cli/main.js boot IMAGE --engine podman --format json -o FILE`
 *         time-to-healthy = "healthy after: N ms" of its metrics (from `run` to the first 200 on
 *         /ping, polled every 250 ms); wall = the whole process (it also POSTs /invocations,
 *         samples `stats`, inspects ports, and stops + removes the container)
 *   bare  bench/bare-boot.sh: `podman run -d --network host -e SAGEMAKER_BIND_TO_PORT=P IMAGE serve`,
 *         `curl /ping` every 50 ms until 200, `podman rm -f`
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { run, summary } from './lib/stats.mjs';

/** Loads test/support/fixture-images.ts (plain node cannot import TypeScript) by transpiling it. */
async function fixtureBuilder(repo, tmp) {
  const src = fs.readFileSync(path.join(repo, 'test/support/fixture-images.ts'), 'utf8');
  const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  const file = path.join(tmp, 'fixture-images.mjs');
  fs.writeFileSync(file, js);
  return import(pathToFileURL(file).href);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function bootBench({ root, repo, runs = 5, engine = 'podman', log = console.error } = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smcl-bench-boot-'));
  try {
    const probe = await run(engine, ['info', '--format', '{{.Store.GraphDriverName}}']);
    if (probe.code !== 0) return { skipped: `${engine} does not work here (${probe.stderr.trim().split('\n')[0]}); run: sudo bash scripts/setup-test-env.sh` };
    const { buildFixtureFromDir } = await fixtureBuilder(repo, tmp);
    log('boot: building fixtures/images/good (cached by content hash)');
    const image = await buildFixtureFromDir('good', path.join(repo, 'fixtures/images/good'));
    const cli = path.join(root, 'dist/src/cli/main.js');
    const out = path.join(tmp, 'report.json');
    const bare = path.join(repo, 'bench/bare-boot.sh');
    const smcl = [];
    const plain = [];
    for (let i = 0; i <= runs; i++) {
      log(`boot: round ${i}/${runs}${i === 0 ? ' (warm-up)' : ''}`);
      const a = await run(process.execPath, [cli, 'boot', image, '--engine', engine, '--format', 'json', '-o', out]);
      const m = /healthy after: (\d+) ms/.exec(a.stderr);
      if (a.code !== 0 || !m) throw new Error(`smcl boot failed (exit ${a.code}): ${a.stderr.trim().split('\n').slice(-5).join(' | ')}`);
      const b = await run('bash', [bare, image, String(await freePort()), engine], { stdout: 'pipe' });
      if (b.code !== 0) throw new Error(`bare boot failed (exit ${b.code}): ${b.stdout} ${b.stderr}`);
      const bj = JSON.parse(b.stdout.trim().split('\n').pop());
      if (i === 0) continue;
      smcl.push({ healthyMs: Number(m[1]), wallMs: a.ms });
      plain.push({ healthyMs: bj.healthyMs, wallMs: b.ms });
    }
    const r = {
      image,
      engine,
      runs,
      timeToHealthyMs: { smcl: summary(smcl.map((x) => x.healthyMs)), bare: summary(plain.map((x) => x.healthyMs)) },
      wallMs: { smcl: summary(smcl.map((x) => x.wallMs)), bare: summary(plain.map((x) => x.wallMs)) },
    };
    r.ratios = {
      timeToHealthySmclVsBare: r.timeToHealthyMs.smcl.median / r.timeToHealthyMs.bare.median,
      wallSmclVsBare: r.wallMs.smcl.median / r.wallMs.bare.median,
    };
    r.targets = { 'smcl boot time-to-healthy overhead <= 10% (median vs bare podman run + curl loop)': r.ratios.timeToHealthySmclVsBare <= 1.1 };
    return r;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
