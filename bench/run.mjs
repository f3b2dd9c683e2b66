#!/usr/bin/env node
/**
 * `npm run bench`: smcl side by side with what users would use instead, as ratios measured in one
 * run. Prints a table and writes bench/results.json. See bench/README.md.
 *
 *   node bench/run.mjs [--only lint,layer,boot,ecr] [--runs 5] [--files 2000] [--layer-mib 1024]
 *                      [--gzip-level 6] [--root DIR] [--out bench/results.json]
 *
 * --root: the checkout whose dist/ is measured (default: this one; `npm run build` first).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machine } from './lib/stats.mjs';
import { renderTable, targetsOf } from './lib/table.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: {
    only: { type: 'string', default: 'lint,layer,boot,ecr' },
    runs: { type: 'string', default: '5' },
    files: { type: 'string', default: '2000' },
    'layer-mib': { type: 'string', default: '1024' },
    'gzip-level': { type: 'string', default: '6' },
    root: { type: 'string', default: process.env.SMCL_BENCH_ROOT ?? REPO },
    out: { type: 'string', default: path.join(REPO, 'bench/results.json') },
    label: { type: 'string' },
    table: { type: 'string' }, // free text recorded in results.json (what --root holds)
  },
});
if (opt.table) {
  // Re-render the table of a results file: node bench/run.mjs --table bench/results.json
  process.stdout.write(renderTable(JSON.parse(fs.readFileSync(opt.table, 'utf8'))));
  process.exit(0);
}
const sections = new Set(opt.only.split(',').map((s) => s.trim()));
const runs = Math.max(1, Number(opt.runs));
const root = path.resolve(opt.root);
const log = (m) => process.stderr.write(`bench: ${m}\n`);

if (!fs.existsSync(path.join(root, 'dist/src/cli/main.js'))) {
  log(`no ${path.join(root, 'dist')}: building (npm run build)`);
  const b = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) process.exit(2);
}

const results = { machine: machine(), measured: path.relative(REPO, root) || '.', commit: root === REPO ? gitHead(REPO) : undefined, label: opt.label, runs, sections: {} };

function gitHead(dir) {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

async function section(name, fn) {
  if (!sections.has(name)) return;
  const t0 = Date.now();
  try {
    results.sections[name] = await fn();
  } catch (err) {
    log(`${name}: FAILED: ${err.message}`);
    results.sections[name] = { error: err.message };
    process.exitCode = 1;
  }
  log(`${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

await section('lint', async () => (await import('./lint-bench.mjs')).lintBench({ root, files: Number(opt.files), runs, log }));
await section('layer', async () => (await import('./layer-bench.mjs')).layerBench({ root, runs, targetMiB: Number(opt['layer-mib']), level: Number(opt['gzip-level']), log }));
await section('boot', async () => (await import('./boot-bench.mjs')).bootBench({ root, repo: REPO, runs, log }));
await section('ecr', async () => ecrSection());

/**
 * ECR hook: bench/ecr-bench.mjs (or .sh) is owned by the ECR scan; it writes bench/results-ecr.json.
 * It is run with `--runs N` (and SMCL_BENCH_ROOT, SMCL_BENCH_RUNS in its environment); its JSON is
 * folded in as-is under sections.ecr (bench/lib/table.mjs turns its per-concurrency results into rows).
 */
function ecrSection() {
  const mjs = path.join(REPO, 'bench/ecr-bench.mjs');
  const sh = path.join(REPO, 'bench/ecr-bench.sh');
  const script = fs.existsSync(mjs) ? [process.execPath, mjs] : fs.existsSync(sh) ? ['bash', sh] : undefined;
  if (!script) return { skipped: 'bench/ecr-bench.mjs (or .sh) does not exist yet: the hook in bench/run.mjs runs it and folds bench/results-ecr.json in' };
  const file = path.join(REPO, 'bench/results-ecr.json');
  fs.rmSync(file, { force: true });
  log(`ecr: running ${path.relative(REPO, script[1])}`);
  const r = spawnSync(script[0], [...script.slice(1), '--runs', String(runs)], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, SMCL_BENCH_ROOT: root, SMCL_BENCH_RUNS: String(runs) } });
  if (r.status !== 0) throw new Error(`${path.relative(REPO, script[1])} exited with ${r.status}`);
  if (!fs.existsSync(file)) throw new Error(`${path.relative(REPO, script[1])} did not write bench/results-ecr.json`);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

results.targets = targetsOf(results);
process.stdout.write(renderTable(results));
results.machine.loadAvgAtEnd = (await import('node:os')).default.loadavg().map((x) => +x.toFixed(2));
fs.mkdirSync(path.dirname(opt.out), { recursive: true });
fs.writeFileSync(opt.out, JSON.stringify(results, null, 2) + '\n');
log(`wrote ${path.relative(process.cwd(), opt.out)}`);
