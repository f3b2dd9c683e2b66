/**
 * Section 1: Dockerfile lint throughput on a generated corpus, and single-file CLI latency.
 *
 * Corpus throughput (files/s), each round running every tool once, rounds interleaved so that
 * load changes on the machine hit every tool alike:
 *   smcl-cli        `node dist/src/cli/main.js lint <corpus dir> --format json -o <tmp>` (whole process)
 *   dockerfilelint  `node node_modules/dockerfilelint/bin/dockerfilelint -j <every Dockerfile>` (whole process)
 * In-process (a fresh node process per tool; 1 warm-up pass, then `runs` passes, each timed):
 *   smcl-api          lintDockerfile() on every file (Dockerfile model + build context + every rule)
 *   smcl-api-parallel lintDockerfilesParallel() (worker threads, src/lint/parallel.ts) when built
 *   dockerfile-utils  validate() on every file's text
 * Single file (process start to exit): smcl CLI on one Dockerfile, `node -e 0`, dockerfilelint.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCorpus } from './lib/corpus.mjs';
import { rateSummary, run, summary } from './lib/stats.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DFL = path.join(REPO, 'node_modules/dockerfilelint/bin/dockerfilelint');
const INPROC = path.join(REPO, 'bench/lib/inproc.mjs');

async function inproc(root, tool, listFile, runs) {
  const r = await run(process.execPath, [INPROC, tool, listFile, String(runs), '1'], { stdout: 'pipe', env: { ...process.env, SMCL_BENCH_ROOT: root } });
  if (r.code !== 0) throw new Error(`${tool} in-process run failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

export async function lintBench({ root = REPO, files = 2000, runs = 5, seed = 13, log = console.error } = {}) {
  const CLI = path.join(root, 'dist/src/cli/main.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smcl-bench-corpus-'));
  try {
    log(`lint: generating ${files} projects (seed ${seed}) in ${dir}`);
    const corpus = await writeCorpus(dir, files, seed);
    const listFile = path.join(dir, 'list.json');
    fs.writeFileSync(listFile, JSON.stringify(corpus.dockerfiles));
    const out = path.join(dir, 'smcl-report.json');
    const n = corpus.dockerfiles.length;

    // Warm the page cache and check that every tool runs.
    const check = await run(process.execPath, [CLI, 'lint', dir, '--format', 'json', '-o', out, '--fail-on', 'none']);
    if (check.code !== 0) throw new Error(`smcl lint failed on the corpus (exit ${check.code}): ${check.stderr.trim()}`);
    const reported = JSON.parse(fs.readFileSync(out, 'utf8'));
    const smclFindings = (reported.results ?? []).reduce((a, r) => a + (r.findings?.length ?? 0), 0);
    // dockerfilelint exits with the issue count right after printing: read its report from a file.
    const dflOut = path.join(dir, 'dockerfilelint.json');
    const dflCheck = await run(process.execPath, [DFL, '-j', ...corpus.dockerfiles], { stdout: dflOut });
    let dflIssues;
    try {
      dflIssues = JSON.parse(fs.readFileSync(dflOut, 'utf8')).totalIssues;
    } catch {
      throw new Error(`dockerfilelint did not produce JSON (exit ${dflCheck.code}): ${dflCheck.stderr.slice(0, 300)}`);
    }

    const cliMs = [];
    const dflMs = [];
    for (let i = 0; i < runs; i++) {
      log(`lint: corpus round ${i + 1}/${runs}`);
      const a = await run(process.execPath, [CLI, 'lint', dir, '--format', 'json', '-o', out, '--fail-on', 'none']);
      if (a.code !== 0) throw new Error(`smcl lint exit ${a.code}: ${a.stderr}`);
      cliMs.push(a.ms);
      const b = await run(process.execPath, [DFL, '-j', ...corpus.dockerfiles]);
      dflMs.push(b.ms);
    }

    log('lint: in-process smcl API');
    const api = await inproc(root, 'smcl', listFile, runs);
    log('lint: in-process dockerfile-utils validate()');
    const utils = await inproc(root, 'dockerfile-utils', listFile, runs);
    let parallel;
    if (fs.existsSync(path.join(root, 'dist/src/lint/parallel.js'))) {
      log('lint: in-process smcl API on worker threads');
      parallel = await inproc(root, 'smcl-parallel', listFile, runs);
    }

    // Single file: process start to exit.
    const one = corpus.dockerfiles[0];
    const single = { smcl: [], nodeNoop: [], dockerfilelint: [] };
    const singleRuns = Math.max(runs, 10);
    // From the corpus directory, as a user runs it in their repository (not from smcl's own).
    for (let i = 0; i < singleRuns + 1; i++) {
      const a = await run(process.execPath, [CLI, 'lint', one, '--fail-on', 'none'], { cwd: dir });
      const b = await run(process.execPath, ['-e', '0'], { cwd: dir });
      const c = await run(process.execPath, [DFL, one], { cwd: dir });
      if (i === 0) continue; // warm-up round
      single.smcl.push(a.ms);
      single.nodeNoop.push(b.ms);
      single.dockerfilelint.push(c.ms);
    }

    const rates = {
      smclCli: rateSummary(n, cliMs),
      smclApi: rateSummary(n, api.times),
      ...(parallel ? { smclApiParallel: rateSummary(n, parallel.times) } : {}),
      dockerfilelintCli: rateSummary(n, dflMs),
      dockerfileUtilsApi: rateSummary(n, utils.times),
    };
    const singleMs = { smclCli: summary(single.smcl), nodeNoop: summary(single.nodeNoop), dockerfilelintCli: summary(single.dockerfilelint) };
    const med = (k) => rates[k].median;
    return {
      corpus: {
        files: n,
        seed,
        dockerfileBytes: corpus.dockerfileBytes,
        avgLines: +(corpus.lines / n).toFixed(1),
        multiStage: corpus.multiStage,
        heredocs: corpus.heredocs,
        smclFindings,
        dockerfilelintIssues: dflIssues,
        dockerfileUtilsProblems: utils.problems,
      },
      runs,
      filesPerSecond: rates,
      singleFileMs: singleMs,
      ratios: {
        smclCliVsDockerfilelint: med('smclCli') / med('dockerfilelintCli'),
        smclApiVsDockerfilelint: med('smclApi') / med('dockerfilelintCli'),
        smclApiVsDockerfileUtils: med('smclApi') / med('dockerfileUtilsApi'),
        smclCliVsDockerfileUtils: med('smclCli') / med('dockerfileUtilsApi'),
        ...(parallel ? { smclApiParallelVsDockerfilelint: med('smclApiParallel') / med('dockerfilelintCli'), smclApiParallelVsSmclApi: med('smclApiParallel') / med('smclApi') } : {}),
        singleFileSmclVsNodeNoop: singleMs.smclCli.median / singleMs.nodeNoop.median,
        singleFileSmclVsDockerfilelint: singleMs.smclCli.median / singleMs.dockerfilelintCli.median,
      },
      targets: {
        'smcl corpus lint >= dockerfilelint (files/s, CLI vs CLI)': med('smclCli') >= med('dockerfilelintCli'),
        'smcl API >= 2x dockerfile-utils validate()': med('smclApi') >= 2 * med('dockerfileUtilsApi'),
        'single-file smcl CLI wall time <= 150 ms (median)': singleMs.smclCli.median <= 150,
      },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
