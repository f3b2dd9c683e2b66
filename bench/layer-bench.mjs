/**
 * Section 2: layer scan. A generated image (default 1 GiB uncompressed, bench/lib/big-image.mjs)
 * scanned by `smcl image oci-archive:FILE` (the whole CLI process: start, archive read, digest
 * checks, gunzip, tar walk, rules, report) against the limit
 * `gzip -dc <layer> | tar -t > /dev/null` over the same layer blobs, one after the other.
 * Throughput = uncompressed layer bytes / wall seconds; peak RSS from GNU time (%M: the largest
 * process of the command, for the baseline the largest of bash, gzip and tar).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateBigImage } from './lib/big-image.mjs';
import { hasGnuTime, run, summary } from './lib/stats.mjs';

const MiB = 1024 * 1024;

export async function layerBench({ root, runs = 5, targetMiB = 1024, level = 6, log = console.error } = {}) {
  if (!hasGnuTime()) throw new Error('/usr/bin/time is missing (apt-get install -y time): it measures peak RSS');
  const cli = path.join(root, 'dist/src/cli/main.js');
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'smcl-bench-image-'));
  try {
    log(`layer: generating a ${targetMiB} MiB image (gzip level ${level}) in ${base}; this takes a few minutes`);
    const t0 = Date.now();
    const img = await generateBigImage(path.join(base, 'layout'), { targetBytes: targetMiB * MiB, level, log: (m) => log(`layer: ${m}`) });
    const generateSeconds = (Date.now() - t0) / 1000;
    const out = path.join(base, 'report.json');
    const smclArgs = [cli, 'image', `oci-archive:${img.archive}`, '--format', 'json', '-o', out, '--fail-on', 'none', '-q'];
    const blobs = img.layers.map((l) => l.blob);
    const baseArgs = ['-c', 'set -o pipefail; for b in "$@"; do gzip -dc "$b" | tar -t > /dev/null || exit 1; done', 'gzip-tar', ...blobs];

    // Warm-up (page cache) and sanity.
    const first = await run(process.execPath, smclArgs, { measure: true });
    if (first.code !== 0) throw new Error(`smcl image failed (exit ${first.code}): ${first.stderr.trim()}`);
    const check = await run('bash', baseArgs, { measure: true });
    if (check.code !== 0) throw new Error(`gzip -dc | tar -t failed: ${check.stderr.trim()}`);

    const smcl = [];
    const gz = [];
    for (let i = 0; i < runs; i++) {
      log(`layer: round ${i + 1}/${runs}`);
      const a = await run(process.execPath, smclArgs, { measure: true });
      if (a.code !== 0) throw new Error(`smcl image exit ${a.code}: ${a.stderr}`);
      smcl.push(a);
      gz.push(await run('bash', baseArgs, { measure: true }));
    }
    const mibps = (xs) => summary(xs.map((x) => img.uncompressedBytes / MiB / (x.ms / 1000)));
    const rss = (xs) => summary(xs.map((x) => x.maxRssKiB / 1024));
    const r = {
      image: {
        targetMiB,
        uncompressedMiB: +(img.uncompressedBytes / MiB).toFixed(1),
        compressedMiB: +(img.compressedBytes / MiB).toFixed(1),
        archiveMiB: +(img.archiveBytes / MiB).toFixed(1),
        files: img.files,
        layers: img.layers.map((l) => ({ name: l.name, files: l.files, uncompressedMiB: +(l.uncompressedBytes / MiB).toFixed(1), compressedMiB: +(l.compressedBytes / MiB).toFixed(1) })),
        gzipLevel: level,
        generateSeconds,
      },
      runs,
      wallSeconds: { smcl: summary(smcl.map((x) => x.ms / 1000)), gzipTar: summary(gz.map((x) => x.ms / 1000)) },
      throughputMiBps: { smcl: mibps(smcl), gzipTar: mibps(gz) },
      peakRssMiB: { smcl: rss(smcl), gzipTar: rss(gz) },
    };
    r.ratios = { smclVsGzipTarThroughput: r.throughputMiBps.smcl.median / r.throughputMiBps.gzipTar.median };
    r.targets = {
      'smcl image >= 50% of gzip -dc | tar -t throughput': r.ratios.smclVsGzipTarThroughput >= 0.5,
      'smcl image peak RSS < 150 MiB (max of runs)': r.peakRssMiB.smcl.max < 150,
    };
    return r;
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}
