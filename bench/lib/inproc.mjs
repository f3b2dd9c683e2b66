/**
 * In-process lint of a list of Dockerfiles, run in its own node process so that each tool has a
 * fresh heap: `node bench/lib/inproc.mjs <smcl|dockerfile-utils|smcl-parallel> <list.json> <runs> <warmup>`.
 * Prints one JSON line: { times: [ms per run], files, problems }.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [tool, listFile, runsArg, warmupArg] = process.argv.slice(2);
const files = JSON.parse(fs.readFileSync(listFile, 'utf8'));
const runs = Number(runsArg ?? 5);
const warmup = Number(warmupArg ?? 1);
const root = process.env.SMCL_BENCH_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dist = (p) => pathToFileURL(path.join(root, 'dist', p)).href;

let lintAll;
if (tool === 'smcl') {
  const { lintDockerfile } = await import(dist('src/lint/lint-dockerfiles.js'));
  const { loadConfig } = await import(dist('src/engine/config.js'));
  const { allRules } = await import(dist('rules/index.js'));
  const metas = allRules().map((r) => r.meta);
  lintAll = () => {
    // As the CLI does: one config lookup, then every file with every rule.
    const config = loadConfig(files[0], undefined, metas);
    let problems = 0;
    for (const f of files) problems += lintDockerfile(f, { config }).findings.length;
    return problems;
  };
} else if (tool === 'smcl-parallel') {
  const mod = await import(dist('src/lint/parallel.js'));
  const { loadConfig } = await import(dist('src/engine/config.js'));
  const { allRules } = await import(dist('rules/index.js'));
  const metas = allRules().map((r) => r.meta);
  lintAll = async () => {
    // Workers are started inside the timed pass, as a CLI run would start them.
    const config = loadConfig(files[0], undefined, metas);
    const results = await mod.lintDockerfilesParallel(files, { config });
    let problems = 0;
    for (const r of results) problems += r.findings.length;
    return problems;
  };
} else if (tool === 'dockerfile-utils') {
  const { validate } = await import('dockerfile-utils');
  lintAll = () => {
    let problems = 0;
    for (const f of files) problems += validate(fs.readFileSync(f, 'utf8')).length;
    return problems;
  };
} else {
  throw new Error(`unknown tool ${tool}`);
}

const times = [];
let problems = 0;
for (let i = 0; i < warmup + runs; i++) {
  const t0 = performance.now();
  problems = await lintAll();
  const ms = performance.now() - t0;
  if (i >= warmup) times.push(ms);
}
process.stdout.write(JSON.stringify({ times, files: files.length, problems }) + '\n');
process.exit(0);
