import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/engine/types.js';
import { loadImage } from '../../../src/sources/image/index.js';
import type { ContainerModel } from '../../../src/model/container-model.js';
import { locateInFile } from '../../../src/model/vfs.js';
import { buildImage, dockerArchive, ociArchive, tarOf, writeOciLayout, type ImageSpec } from '../../support/synthetic-image.js';

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'smcl-image-test-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

let counter = 0;
/** Writes the image in all three file formats and loads each. */
async function loadAll(spec: ImageSpec, opts: Parameters<typeof loadImage>[1] = {}): Promise<ContainerModel[]> {
  const image = await buildImage(spec);
  const n = counter++;
  const dir = path.join(tmp, `layout-${n}`);
  await writeOciLayout(dir, image);
  const ociFile = path.join(tmp, `oci-${n}.tar`);
  await fs.writeFile(ociFile, await ociArchive(image, { indexLast: true }));
  const dockerFile = path.join(tmp, `docker-${n}.tar`);
  await fs.writeFile(dockerFile, await dockerArchive(image));
  return Promise.all([loadImage(`oci:${dir}`, opts), loadImage(`oci-archive:${ociFile}`, opts), loadImage(`docker-archive:${dockerFile}`, opts)]);
}

function files(m: ContainerModel): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of m.files.all().sort((a, b) => a.path.localeCompare(b.path))) {
    out[f.path] = `${f.type}${f.mode !== undefined ? ` ${f.mode.toString(8)}` : ''}${f.linkTarget ? ` -> ${f.linkTarget}` : ''}`;
  }
  return out;
}

const base: ImageSpec['layers'][number] = {
  entries: [
    { name: 'etc/', type: 'directory' },
    { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
    { name: 'opt/', type: 'directory' },
    { name: 'opt/app/', type: 'directory' },
    { name: 'opt/app/a.txt', content: 'a' },
    { name: 'opt/app/sub/', type: 'directory' },
    { name: 'opt/app/sub/b.txt', content: 'b' },
    { name: 'opt/keep/', type: 'directory' },
    { name: 'opt/keep/k.txt', content: 'k' },
    { name: 'usr/local/bin/serve', content: '#!/bin/sh\nexec python -m server\n', mode: 0o755 },
    { name: 'usr/local/bin/notexec', content: '#!/bin/sh\n', mode: 0o644 },
    { name: 'data/big.bin', content: Buffer.alloc(2 * 1024 * 1024, 0x41) },
  ],
};

describe('layers applied in order (OCI layout, oci-archive, docker-archive)', () => {
  it('applies whiteouts, opaque dirs, hard links and symlinks the same from every source', async () => {
    const models = await loadAll(
      {
        layers: [
          base,
          {
            entries: [
              { name: 'opt/app/.wh.a.txt' },
              { name: 'opt/.wh..wh..opq' },
              { name: 'opt/new.txt', content: 'new' },
              { name: 'etc/.wh.passwd' },
              { name: 'etc/passwd', content: 'same-layer file survives its own whiteout\n' },
              { name: 'usr/local/bin/serve-link', type: 'link', linkname: 'usr/local/bin/serve' },
              { name: 'usr/bin/python', type: 'symlink', linkname: '../local/bin/serve' },
              { name: 'loop1', type: 'symlink', linkname: 'loop2' },
              { name: 'loop2', type: 'symlink', linkname: 'loop1' },
            ],
          },
        ],
        config: { Labels: { 'com.amazonaws.sagemaker.capabilities.accept-bind-to-port': 'true' } },
      },
      { wantedGlobs: ['/usr/local/bin/*', '/etc/passwd', '/data/**'] },
    );
    const expected = files(models[0]);
    expect(expected['/opt']).toBe('dir 755');
    expect(expected['/opt/app/a.txt']).toBeUndefined();
    expect(expected['/opt/keep/k.txt']).toBeUndefined();
    expect(expected['/opt/new.txt']).toBe('file 644');
    expect(expected['/usr/local/bin/serve']).toBe('file 755');
    expect(expected['/usr/local/bin/serve-link']).toBe('file 755');
    expect(expected['/usr/bin/python']).toBe('symlink 644 -> ../local/bin/serve');
    for (const m of models) {
      expect(files(m)).toEqual(expected);
      expect(m.source).toBe('image');
      expect(m.files.get('/etc/passwd')!.text()).toBe('same-layer file survives its own whiteout\n');
      expect(m.files.get('/usr/local/bin/serve')!.text()).toContain('exec python');
      expect(m.files.get('/usr/local/bin/serve-link')!.text()).toContain('exec python');
      expect(m.files.get('/usr/bin/python')!.text()).toContain('exec python');
      expect(m.files.isExecutable('/usr/local/bin/serve')).toBe(true);
      expect(m.files.isExecutable('/usr/local/bin/notexec')).toBe(false);
      expect(m.files.get('/loop1')).toBeUndefined();
      // Over the per-file cap: metadata only, and a gap says so.
      const big = m.files.get('/data/big.bin')!;
      expect(big.size).toBe(2 * 1024 * 1024);
      expect(big.text()).toBeUndefined();
      expect(m.gaps.some((g) => g.message.includes('/data/big.bin') && g.message.includes('cap'))).toBe(true);
      // Not wanted: no content kept.
      expect(m.files.get('/opt/new.txt')!.text()).toBeUndefined();
      expect(m.labels.get('com.amazonaws.sagemaker.capabilities.accept-bind-to-port')?.value).toBe('true');
    }
  });

  it('gives each file the layer it came from and image locations', async () => {
    const [m] = await loadAll({ layers: [base, { entries: [{ name: 'usr/local/bin/serve', content: 'line1\nline2\n', mode: 0o755 }] }] }, { wantedGlobs: ['/usr/local/bin/serve'] });
    const image = await buildImage({ layers: [base, { entries: [{ name: 'usr/local/bin/serve', content: 'line1\nline2\n', mode: 0o755 }] }] });
    const f = m.files.get('/usr/local/bin/serve')!;
    expect(f.origin).toEqual({ kind: 'layer', image: m.name, layer: image.layers[1].digest });
    expect(m.files.get('/etc/passwd')!.origin).toMatchObject({ layer: image.layers[0].digest });
    const loc = locateInFile(f, 2);
    expect(loc).toMatchObject({ file: `${m.name}//usr/local/bin/serve`, line: 2, image: { ref: m.name, layer: image.layers[1].digest, path: '/usr/local/bin/serve' } });
    expect(m.subjectLocation).toEqual({ file: m.name, image: { ref: m.name } });
  });

  it('a file replacing a directory drops the whole tree; a dir replacing a file works', async () => {
    const [m] = await loadAll({
      layers: [base, { entries: [{ name: 'opt/app', content: 'now a file' }, { name: 'etc/passwd/', type: 'directory' }, { name: 'etc/passwd/x', content: 'x' }] }],
    });
    expect(m.files.get('/opt/app')!.type).toBe('file');
    expect(m.files.get('/opt/app/sub/b.txt')).toBeUndefined();
    expect(m.files.get('/etc/passwd')!.type).toBe('dir');
    expect(m.files.get('/etc/passwd/x')!.type).toBe('file');
  });

  it('whiteout of a directory removes its subtree; later layer can recreate it', async () => {
    const [m] = await loadAll({ layers: [base, { entries: [{ name: 'opt/.wh.app' }] }, { entries: [{ name: 'opt/app/c.txt', content: 'c' }] }] });
    expect(m.files.get('/opt/app/sub/b.txt')).toBeUndefined();
    expect(m.files.get('/opt/app/a.txt')).toBeUndefined();
    expect(m.files.get('/opt/app/c.txt')).toBeDefined();
    expect(m.files.get('/opt/keep/k.txt')).toBeDefined();
  });

  it('never writes ".." entries anywhere and reports them as gaps', async () => {
    const models = await loadAll({
      layers: [{ entries: [{ name: '../../escape.txt', content: 'evil' }, { name: 'ok/../../../etc/evil', content: 'evil' }, { name: 'fine.txt', content: 'ok' }, { name: 'hl', type: 'link', linkname: '../../etc/shadow' }] }],
    });
    for (const m of models) {
      expect(m.files.all().map((f) => f.path).sort()).toEqual(['/fine.txt']);
      expect(m.gaps.filter((g) => g.message.includes('..') || g.message.includes('outside')).length).toBe(3);
    }
    await expect(fs.access(path.join(tmp, '..', 'escape.txt'))).rejects.toThrow();
  });

  it('keeps content only for wanted globs, within the total cap', async () => {
    const entries = Array.from({ length: 10 }, (_, i) => ({ name: `code/f${i}.py`, content: 'x'.repeat(100) }));
    const [m] = await loadAll({ layers: [{ entries }] }, { wantedGlobs: ['/code/*.py'], maxTextBytes: 450 });
    const kept = m.files.glob('/code/*.py').filter((f) => f.text() !== undefined);
    expect(kept.length).toBe(4);
    expect(m.gaps.some((g) => g.message.includes('total content cap'))).toBe(true);
  });

  it('treats binary wanted files as having no text', async () => {
    const [m] = await loadAll({ layers: [{ entries: [{ name: 'bin/tool', content: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]), mode: 0o755 }] }] }, { wantedGlobs: ['/bin/*'] });
    expect(m.files.get('/bin/tool')!.text()).toBeUndefined();
    expect(m.files.isExecutable('/bin/tool')).toBe(true);
  });

  it('reads uncompressed layers too', async () => {
    const [m] = await loadAll({ layers: [{ ...base, compression: 'none' }] }, { wantedGlobs: ['/etc/passwd'] });
    expect(m.files.get('/etc/passwd')!.text()).toContain('root');
  });

  it('labels-only reads no layer', async () => {
    const models = await loadAll({ layers: [base], config: { Labels: { a: 'b' } } }, { labelsOnly: true });
    for (const m of models) {
      expect(m.labels.get('a')!.value).toBe('b');
      expect(m.files.all()).toEqual([]);
      expect(m.gaps.some((g) => g.message.includes('labels-only'))).toBe(true);
    }
  });
});

describe('image config', () => {
  it('maps labels, env, ports, entrypoint, cmd, user, workdir, platform, healthcheck, history', async () => {
    const models = await loadAll({
      layers: [base],
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      config: {
        Labels: { 'com.amazonaws.sagemaker.capabilities.multi-models': 'true' },
        Env: ['PATH=/opt/bin:/usr/bin', 'SAGEMAKER_BIND_TO_PORT=8080', 'EMPTY='],
        ExposedPorts: { '8080/tcp': {}, '9000/udp': {} },
        Entrypoint: ['/usr/local/bin/serve'],
        Cmd: ['/bin/sh', '-c', 'python app.py'],
        User: '1000:1000',
        WorkingDir: '/opt/app',
        Healthcheck: { Test: ['CMD-SHELL', 'curl -f http://localhost:8080/ping'] },
      },
      history: [
        { created_by: '/bin/sh -c #(nop) ADD file:abc in / ' },
        { created_by: '/bin/sh -c apt-get update && apt-get install -y curl' },
        { created_by: 'RUN /bin/sh -c pip install flask # buildkit' },
        { created_by: 'COPY serve /usr/local/bin/ # buildkit' },
        { created_by: '|2 A=1 B="x y" /bin/sh -c make install' },
        { created_by: 'ENV X=1', empty_layer: true },
      ],
    }, { platform: 'linux/arm64' });
    for (const m of models) {
      const ref = m.name;
      expect(m.labels.get('com.amazonaws.sagemaker.capabilities.multi-models')).toEqual({
        value: 'true',
        raw: 'true',
        location: { file: ref, image: { ref, path: 'config.Labels' } },
      });
      expect(m.env.get('SAGEMAKER_BIND_TO_PORT')!.value).toBe('8080');
      expect(m.env.get('EMPTY')!.value).toBe('');
      expect(m.env.get('PATH')!.location.image?.path).toBe('config.Env');
      expect(m.exposedPorts.map((p) => `${p.port}/${p.protocol}`)).toEqual(['8080/tcp', '9000/udp']);
      expect(m.entrypoint).toMatchObject({ form: 'exec', args: ['/usr/local/bin/serve'] });
      expect(m.cmd).toMatchObject({ form: 'shell', args: ['python app.py'] });
      expect(m.user!.value).toBe('1000:1000');
      expect(m.workdir!.value).toBe('/opt/app');
      expect(m.platform).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
      expect(m.healthcheck).toMatchObject({ form: 'shell', args: ['curl -f http://localhost:8080/ping'] });
      expect(m.buildSteps.map((s) => s.script)).toEqual(['apt-get update && apt-get install -y curl', 'pip install flask', 'make install']);
      expect(m.buildSteps[0].location).toEqual({ file: ref, image: { ref, path: 'history[1].created_by' } });
      expect(m.gaps).toEqual([]);
    }
  });
});

describe('bad input is one clear InputError naming the image and layer', () => {
  async function expectError(spec: ImageSpec, pattern: RegExp, sources: Array<'oci' | 'oci-archive' | 'docker-archive'> = ['oci', 'oci-archive'], mutate?: (dir: string) => Promise<void>) {
    const image = await buildImage(spec);
    const n = counter++;
    for (const kind of sources) {
      let ref: string;
      if (kind === 'oci') {
        const dir = path.join(tmp, `bad-${n}`);
        await writeOciLayout(dir, image);
        await mutate?.(dir);
        ref = `oci:${dir}`;
      } else if (kind === 'oci-archive') {
        const f = path.join(tmp, `bad-${n}.tar`);
        await fs.writeFile(f, await ociArchive(image));
        ref = `oci-archive:${f}`;
      } else {
        const f = path.join(tmp, `bad-${n}-docker.tar`);
        await fs.writeFile(f, await dockerArchive(image));
        ref = `docker-archive:${f}`;
      }
      const err = await loadImage(ref).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, kind).toBeInstanceOf(InputError);
      expect((err as Error).message, kind).toMatch(pattern);
      expect((err as Error).message, kind).toContain(ref);
    }
    return image;
  }

  it('corrupt gzip', async () => {
    const gz = zlib.gzipSync(await tarOf([{ name: 'a', content: 'a'.repeat(10000) }]));
    gz.fill(0x55, 20, 60);
    const image = await expectError({ layers: [{ raw: gz, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }] }, /layer sha256:[0-9a-f]{64}.*corrupt or truncated gzip/);
    expect(image.layers[0].digest).toMatch(/^sha256:/);
  });

  it('truncated gzip', async () => {
    const gz = zlib.gzipSync(await tarOf([{ name: 'a', content: 'hello'.repeat(5000) }]));
    await expectError({ layers: [{ raw: gz.subarray(0, gz.length - 100), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }] }, /layer sha256:.*(corrupt or truncated gzip|unexpected end)/i);
  });

  it('truncated uncompressed tar', async () => {
    const t = await tarOf([{ name: 'a', content: 'x'.repeat(5000) }]);
    await expectError({ layers: [{ raw: t.subarray(0, 1500), mediaType: 'application/vnd.oci.image.layer.v1.tar' }] }, /layer .*not a valid tar archive/, ['oci', 'oci-archive', 'docker-archive']);
  });

  it('zstd layers', async () => {
    const zstdMagic = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(100)]);
    await expectError({ layers: [{ raw: zstdMagic, mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' }] }, /zstd layers not supported yet/);
  });

  it('a blob whose content does not match its digest', async () => {
    await expectError({ layers: [base] }, /does not match expected sha256:/, ['oci'], async (dir) => {
      const blobs = await fs.readdir(path.join(dir, 'blobs/sha256'));
      for (const b of blobs) {
        const p = path.join(dir, 'blobs/sha256', b);
        const buf = await fs.readFile(p);
        if (buf[0] === 0x1f) {
          buf[buf.length - 20] ^= 0xff;
          await fs.writeFile(p, buf);
        }
      }
    });
  });

  it('a layer whose uncompressed content does not match rootfs.diff_ids (docker-archive)', async () => {
    const image = await buildImage({ layers: [base] });
    const f = path.join(tmp, `tampered-${counter++}.tar`);
    await fs.writeFile(f, await dockerArchive(image, { layerOverride: new Map([[0, await tarOf([{ name: 'evil', content: 'x' }])]]) }));
    await expect(loadImage(`docker-archive:${f}`)).rejects.toThrow(/rootfs\.diff_ids\[0\]/);
  });

  it('gzip bomb: decompressed size cap', async () => {
    const bomb = zlib.gzipSync(await tarOf([{ name: 'zeros', content: Buffer.alloc(20 * 1024 * 1024) }]));
    expect(bomb.length).toBeLessThan(100 * 1024);
    const image = await buildImage({ layers: [{ raw: bomb, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }] });
    const dir = path.join(tmp, `bomb-${counter++}`);
    await writeOciLayout(dir, image);
    await expect(loadImage(`oci:${dir}`, { maxDecompressedBytes: 1024 * 1024 })).rejects.toThrow(/decompresses to more than 1048576 bytes/);
  });

  it('missing blob, missing layout, unknown platform', async () => {
    const image = await buildImage({ layers: [base] });
    const dir = path.join(tmp, `missing-${counter++}`);
    await writeOciLayout(dir, image);
    await fs.rm(path.join(dir, 'blobs/sha256', image.layers[0].digest.slice(7)));
    await expect(loadImage(`oci:${dir}`)).rejects.toThrow(new RegExp(`blob ${image.layers[0].digest} is missing`));
    await expect(loadImage(`oci:${tmp}/nope`)).rejects.toThrow(/is not a directory/);
    await expect(loadImage(`docker-archive:${tmp}/nope.tar`)).rejects.toThrow(/is not a file/);
    const junk = path.join(tmp, 'junk.tar');
    await fs.writeFile(junk, 'this is not a tar file at all'.repeat(40));
    await expect(loadImage(`oci-archive:${junk}`)).rejects.toThrow(InputError);
  });
});
