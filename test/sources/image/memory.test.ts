/**
 * Bounded memory of image loading: peak RSS must not grow with the size of the image (the issue:
 * "peak memory of an image lint stays under 150 MiB for a 1 GiB image"). A behaviour, not a
 * timing: a child process loads a generated ~256 MiB image (bench/lib/big-image.mjs: an OS
 * layer, ~60 MiB of installed Python modules, model weights, the app) with the rules' wanted
 * globs and reports its own peak RSS.
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImage } from '../../../src/sources/image/index.js';
import { buildImage, ociArchive } from '../../support/synthetic-image.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MiB = 1024 * 1024;

describe('image loading keeps library code out of memory', () => {
  it('keeps wanted files of the application, not of installed libraries (unless asked)', async () => {
    const image = await buildImage({
      layers: [
        {
          entries: [
            { name: 'usr/local/lib/python3.12/site-packages/flask/app.py', content: 'class Flask: pass\n' },
            { name: 'usr/lib/node_modules/npm/index.js', content: 'module.exports = {}\n' },
            { name: 'usr/local/lib/python3.12/site-packages/mypkg/setup.py', content: 'setup(entry_points={"console_scripts": ["serve=mypkg:main"]})\n' },
          ],
        },
        { entries: [{ name: 'opt/program/predictor.py', content: 'import flask\n' }] },
      ],
    });
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'smcl-mem-'));
    try {
      const file = path.join(dir, 'img.tar');
      await fs.writeFile(file, await ociArchive(image));
      const wantedGlobs = ['**/*.py', '**/*.js'];
      const m = await loadImage(`oci-archive:${file}`, { wantedGlobs });
      expect(m.files.get('/opt/program/predictor.py')?.text()).toBe('import flask\n');
      expect(m.files.get('/usr/local/lib/python3.12/site-packages/mypkg/setup.py')?.text()).toContain('serve=mypkg:main');
      const lib = m.files.get('/usr/local/lib/python3.12/site-packages/flask/app.py');
      expect(lib?.type).toBe('file');
      expect(lib?.size).toBe(18);
      expect(lib?.text()).toBeUndefined();
      expect(m.files.get('/usr/lib/node_modules/npm/index.js')?.text()).toBeUndefined();
      // Not a gap: nothing the rules read is missing.
      expect(m.gaps.filter((g) => /not read/.test(g.message))).toEqual([]);
      const all = await loadImage(`oci-archive:${file}`, { wantedGlobs, libraryContent: true });
      expect(all.files.get('/usr/local/lib/python3.12/site-packages/flask/app.py')?.text()).toBe('class Flask: pass\n');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('peak memory of an image load', () => {
  let dir: string;
  let archive: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'smcl-mem-'));
    const { generateBigImage } = (await import(path.join(root, 'bench/lib/big-image.mjs'))) as {
      generateBigImage: (dir: string, opts: { targetBytes: number; level: number }) => Promise<{ archive: string; uncompressedBytes: number }>;
    };
    // gzip level 1: the layer bytes (what memory depends on) are the same, generation is faster.
    const img = await generateBigImage(path.join(dir, 'layout'), { targetBytes: 256 * MiB, level: 1 });
    archive = img.archive;
    // The layout is not needed: only the archive is read.
    await fs.rm(path.join(dir, 'layout'), { recursive: true, force: true });
  }, 240_000);
  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('stays under 150 MiB RSS for a ~256 MiB oci-archive with the rules\' wanted globs', () => {
    // dist/ is built by the global setup: the child runs what the CLI runs.
    const script = `
      const { loadImage } = await import(${JSON.stringify(path.join(root, 'dist/src/sources/image/index.js'))});
      const { wantedFileGlobs } = await import(${JSON.stringify(path.join(root, 'dist/rules/index.js'))});
      const m = await loadImage(${JSON.stringify(`oci-archive:${archive}`)}, { wantedGlobs: wantedFileGlobs() });
      process.stdout.write(JSON.stringify({
        maxRssMiB: process.resourceUsage().maxRSS / 1024,
        uncompressedMiB: m.image.uncompressedSizeBytes / 1048576,
        predictor: m.files.get('/opt/program/predictor.py')?.text()?.length ?? 0,
      }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 180_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { maxRssMiB: number; uncompressedMiB: number; predictor: number };
    expect(out.uncompressedMiB).toBeGreaterThan(240);
    expect(out.predictor).toBeGreaterThan(0);
    expect(out.maxRssMiB).toBeLessThan(150);
  }, 200_000);
});
