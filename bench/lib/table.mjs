/** The stdout table of bench/run.mjs, from a results object (also used by `run.mjs --table FILE`). */
import { fmt, summary, triple } from './stats.mjs';

export function targetsOf(results) {
  const list = Object.entries(results.sections).flatMap(([name, s]) => Object.entries(s?.targets ?? {}).map(([t, ok]) => [`${name}: ${t}`, ok ? 'met' : 'MISSED']));
  return Object.fromEntries(list);
}

export function renderTable(results) {
  const rows = [];
  const row = (sec, figure, value, unit) => rows.push([sec, figure, value, unit]);
  const L = results.sections.lint;
  if (L && !L.error) {
    const f = L.filesPerSecond;
    row('lint', `corpus: ${L.corpus.files} Dockerfiles, avg ${L.corpus.avgLines} lines, ${L.corpus.multiStage} multi-stage, ${L.corpus.heredocs} with heredocs`, '', '');
    row('lint', 'smcl CLI (whole dir, one process)', triple(f.smclCli), 'files/s');
    row('lint', 'smcl API lintDockerfile()', triple(f.smclApi), 'files/s');
    if (f.smclApiParallel) row('lint', 'smcl API on worker threads (src/lint/parallel.ts)', triple(f.smclApiParallel), 'files/s');
    row('lint', 'dockerfilelint CLI (all files, one process)', triple(f.dockerfilelintCli), 'files/s');
    row('lint', 'dockerfile-utils validate()', triple(f.dockerfileUtilsApi), 'files/s');
    row('lint', 'single file: smcl CLI', triple(L.singleFileMs.smclCli), 'ms');
    row('lint', 'single file: node -e 0', triple(L.singleFileMs.nodeNoop), 'ms');
    row('lint', 'single file: dockerfilelint CLI', triple(L.singleFileMs.dockerfilelintCli), 'ms');
    for (const [k, v] of Object.entries(L.ratios)) row('lint', `ratio ${k}`, fmt(v, 2), 'x');
  }
  const Y = results.sections.layer;
  if (Y && !Y.error) {
    row('layer', `image: ${Y.image.uncompressedMiB} MiB tar / ${Y.image.compressedMiB} MiB gzip, ${Y.image.files} files, ${Y.image.layers.length} layers`, '', '');
    row('layer', 'smcl image oci-archive: throughput', triple(Y.throughputMiBps.smcl, 1), 'MiB/s');
    row('layer', 'gzip -dc | tar -t throughput', triple(Y.throughputMiBps.gzipTar, 1), 'MiB/s');
    row('layer', 'smcl image peak RSS', triple(Y.peakRssMiB.smcl), 'MiB');
    row('layer', 'gzip -dc | tar -t peak RSS', triple(Y.peakRssMiB.gzipTar, 1), 'MiB');
    row('layer', 'ratio smcl / gzip throughput', fmt(Y.ratios.smclVsGzipTarThroughput, 2), 'x');
  }
  const B = results.sections.boot;
  if (B && !B.error && !B.skipped) {
    row('boot', 'smcl boot time-to-healthy', triple(B.timeToHealthyMs.smcl), 'ms');
    row('boot', 'bare podman run + curl loop time-to-healthy', triple(B.timeToHealthyMs.bare), 'ms');
    row('boot', 'smcl boot wall', triple(B.wallMs.smcl), 'ms');
    row('boot', 'bare wall (incl. podman rm -f -t 2)', triple(B.wallMs.bare), 'ms');
    row('boot', 'ratio time-to-healthy smcl / bare', fmt(B.ratios.timeToHealthySmclVsBare, 2), 'x');
    row('boot', 'ratio wall smcl / bare', fmt(B.ratios.wallSmclVsBare, 2), 'x');
  }
  const E = results.sections.ecr;
  if (E && !E.error && !E.skipped) {
    // bench/ecr-bench.mjs: results[] per concurrency with the seconds of each run.
    for (const r of Array.isArray(E.results) ? E.results : []) {
      if (Array.isArray(r.seconds) && r.seconds.length && E.tags) {
        row('ecr', `smcl ecr --labels-only, ${E.tags} tags / ${E.images} images, --concurrency ${r.concurrency}`, triple(summary(r.seconds.map((s) => E.tags / s)), 1), 'tags/s');
      }
    }
  }
  for (const [name, s] of Object.entries(results.sections)) {
    if (s?.skipped) row(name, `skipped: ${s.skipped}`, '', '');
    if (s?.error) row(name, `FAILED: ${s.error}`, '', '');
  }
  const head = ['section', 'figure', 'min / median / max', 'unit'];
  const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => String(r[i]).length), head[i].length));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(w[i])).join(' | ')} |`;
  const m = results.machine;
  const targets = targetsOf(results);
  return (
    `\nsmcl bench ${m.date} (commit ${results.commit ?? '?'}), ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}, load average at start ${m.loadAvgAtStart.join(' ')}\n` +
    [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n') +
    '\n\ntargets:\n' +
    Object.entries(targets)
      .map(([t, v]) => `  [${v}] ${t}`)
      .join('\n') +
    '\n'
  );
}
