import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/engine/types.js';
import { loadImage, parseImageSource, type ProgressEvent } from '../../../src/sources/image/index.js';
import { buildImage, buildIndex, dockerArchive, hexOf, ociArchive, tarFiles, writeOciLayout } from '../../support/synthetic-image.js';

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'smcl-sources-test-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('source syntax', () => {
  it('parses transports', () => {
    expect(parseImageSource('oci:/x/y')).toEqual({ kind: 'oci-dir', path: '/x/y' });
    expect(parseImageSource('podman:localhost/a:b')).toEqual({ kind: 'engine', engine: 'podman', image: 'localhost/a:b' });
    expect(parseImageSource('containers-storage:a')).toMatchObject({ engine: 'podman' });
    expect(parseImageSource('docker:a:1')).toEqual({ kind: 'engine', engine: 'docker', image: 'a:1' });
    expect(parseImageSource('docker://ghcr.io/a/b:1')).toMatchObject({ kind: 'registry', ref: { domain: 'ghcr.io', repository: 'a/b', tag: '1' } });
    expect(parseImageSource('localhost:5000/a')).toMatchObject({ kind: 'registry', ref: { registry: 'localhost:5000', tag: 'latest' } });
  });
});

describe('layer application details', () => {
  it('resolves symlinked parent directories inside the image (merged /usr)', async () => {
    const image = await buildImage({
      layers: [
        { entries: [{ name: 'usr/lib/', type: 'directory' }, { name: 'lib', type: 'symlink', linkname: 'usr/lib' }, { name: 'usr/lib/old.so', content: 'o' }] },
        { entries: [{ name: 'lib/new.so', content: 'n' }, { name: 'lib/.wh.old.so' }] },
      ],
    });
    const dir = path.join(tmp, 'merged-usr');
    await writeOciLayout(dir, image);
    const m = await loadImage(`oci:${dir}`);
    expect(m.files.get('/usr/lib/new.so')?.type).toBe('file');
    expect(m.files.get('/usr/lib/old.so')).toBeUndefined();
    expect(m.files.get('/lib')?.type).toBe('dir'); // get() follows the symlink
    expect(m.files.all().find((f) => f.path === '/lib')?.type).toBe('symlink');
  });

  it('hard links to files of lower layers; dangling hard links are gaps', async () => {
    const image = await buildImage({
      layers: [
        { entries: [{ name: 'bin/python3.11', content: '#!/bin/sh\necho py\n', mode: 0o755 }] },
        { entries: [{ name: 'bin/python3', type: 'link', linkname: 'bin/python3.11' }, { name: 'bin/ghost', type: 'link', linkname: 'bin/nothing' }] },
      ],
    });
    const dir = path.join(tmp, 'hardlinks');
    await writeOciLayout(dir, image);
    const m = await loadImage(`oci:${dir}`, { wantedGlobs: ['/bin/*'] });
    expect(m.files.get('/bin/python3')).toMatchObject({ type: 'file', mode: 0o755 });
    expect(m.files.get('/bin/python3')?.text()).toBe('#!/bin/sh\necho py\n');
    expect(m.files.get('/bin/python3')?.origin).toMatchObject({ layer: image.layers[1].digest });
    expect(m.files.get('/bin/ghost')).toBeUndefined();
    expect(m.gaps.map((g) => g.message).join('\n')).toMatch(/hard link \/bin\/ghost points to \/bin\/nothing/);
  });

  it('reports progress per layer', async () => {
    const image = await buildImage({ layers: [{ entries: [{ name: 'a', content: 'a' }] }, { entries: [{ name: 'b', content: 'b' }] }] });
    const dir = path.join(tmp, 'progress');
    await writeOciLayout(dir, image);
    const events: ProgressEvent[] = [];
    await loadImage(`oci:${dir}`, { onProgress: (e) => events.push(e) });
    expect(events.filter((e) => e.phase === 'layer' && e.state === 'done').map((e) => (e as { digest: string }).digest)).toEqual(image.layers.map((l) => l.digest));
  });
});

describe('choosing the image inside a layout or archive', () => {
  it('OCI layout: by ref name, and by platform through a nested index', async () => {
    const amd = await buildImage({ layers: [{ entries: [{ name: 'amd', content: 'x' }] }] });
    const arm = await buildImage({ layers: [{ entries: [{ name: 'arm', content: 'x' }] }], platform: { os: 'linux', architecture: 'arm64' } });
    const other = await buildImage({ layers: [{ entries: [{ name: 'other', content: 'x' }] }] });
    const idx = buildIndex([
      { image: amd, platform: { os: 'linux', architecture: 'amd64' } },
      { image: arm, platform: { os: 'linux', architecture: 'arm64' } },
    ]);
    const top = buildIndex([
      { image: { ...amd, manifestDigest: idx.digest, manifest: idx.bytes, manifestMediaType: idx.mediaType }, annotations: { 'org.opencontainers.image.ref.name': 'multi' } },
      { image: other, annotations: { 'org.opencontainers.image.ref.name': 'other' } },
    ]);
    const extra = new Map([...arm.blobs, ...other.blobs, [idx.digest, idx.bytes]]);
    const dir = path.join(tmp, 'multi-layout');
    await writeOciLayout(dir, amd, { index: top.bytes, extraBlobs: extra });
    expect((await loadImage(`oci:${dir}:multi`)).files.has('/amd')).toBe(true);
    expect((await loadImage(`oci:${dir}:multi`, { platform: 'linux/arm64' })).files.has('/arm')).toBe(true);
    expect((await loadImage(`oci:${dir}:other`)).files.has('/other')).toBe(true);
    await expect(loadImage(`oci:${dir}`)).rejects.toThrow(/holds 2 images \(multi, other\)/);
    await expect(loadImage(`oci:${dir}:nope`)).rejects.toThrow(/no image named "nope"; names: multi, other/);
    await expect(loadImage(`oci:${dir}:multi`, { platform: 'linux/s390x' })).rejects.toThrow(/no image for platform linux\/s390x; available: linux\/amd64, linux\/arm64/);
    // Same thing packed as an oci-archive (index.json last): other platforms' layers are scanned but unused.
    const file = path.join(tmp, 'multi.oci.tar');
    await fs.writeFile(file, await ociArchive(amd, { index: top.bytes, extraBlobs: extra, indexLast: true }));
    expect((await loadImage(`oci-archive:${file}:multi`, { platform: 'linux/arm64' })).files.has('/arm')).toBe(true);
  });

  it('docker-archive: by repo:tag when it holds several images', async () => {
    const a = await buildImage({ layers: [{ entries: [{ name: 'a', content: 'a' }] }] });
    const b = await buildImage({ layers: [{ entries: [{ name: 'b', content: 'b' }] }] });
    // Two images in one archive: concatenate the entries and write a combined manifest.json.
    const files: Array<{ name: string; content?: Buffer }> = [];
    const manifest: unknown[] = [];
    for (const [img, tag] of [[a, 'localhost/a:1'], [b, 'localhost/b:2']] as const) {
      for (const l of img.layers) files.push({ name: `${hexOf(l.diffId)}.tar`, content: l.tar });
      files.push({ name: `${hexOf(img.configDigest)}.json`, content: img.config });
      manifest.push({ Config: `${hexOf(img.configDigest)}.json`, RepoTags: [tag], Layers: img.layers.map((l) => `${hexOf(l.diffId)}.tar`) });
    }
    files.unshift({ name: 'manifest.json', content: Buffer.from(JSON.stringify(manifest)) });
    const file = path.join(tmp, 'two.docker.tar');
    await fs.writeFile(file, await tarFiles(files));
    expect((await loadImage(`docker-archive:${file}:localhost/b:2`)).files.has('/b')).toBe(true);
    expect((await loadImage(`docker-archive:${file}:a:1`)).files.has('/a')).toBe(true);
    await expect(loadImage(`docker-archive:${file}`)).rejects.toThrow(/holds 2 images/);
    // A single-image archive needs no name.
    const single = path.join(tmp, 'one.docker.tar');
    await fs.writeFile(single, await dockerArchive(a));
    expect((await loadImage(`docker-archive:${single}`)).files.has('/a')).toBe(true);
  });
});

describe('engines', () => {
  it('a missing engine binary is a clear InputError', async () => {
    const err = await loadImage('podman:localhost/x:1', { engine: path.join(tmp, 'no-such-podman') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/podman:localhost\/x:1: .*no-such-podman is not installed/);
  });

  it('streams `save` output from a pipe (fake engine writing a docker-archive)', async () => {
    const image = await buildImage({ layers: [{ entries: [{ name: 'usr/local/bin/serve', content: '#!/bin/sh\n', mode: 0o755 }] }], config: { Labels: { x: 'y' } } });
    const archive = path.join(tmp, 'engine.tar');
    await fs.writeFile(archive, await dockerArchive(image));
    const fake = path.join(tmp, 'fake-engine');
    // Checks its arguments (no shell was involved: the image name arrives as one word) and cats the archive.
    await fs.writeFile(fake, `#!/bin/sh\n[ "$1 $2 $3 $4" = "save --quiet --format docker-archive" ] || { echo "bad args: $*" >&2; exit 3; }\n[ "$5" = 'img;$(touch ${tmp}/pwned)' ] || { echo "bad image: $5" >&2; exit 4; }\nexec cat ${archive}\n`, { mode: 0o755 });
    const m = await loadImage('podman:img;$(touch ' + tmp + '/pwned)', { engine: fake, wantedGlobs: ['/usr/local/bin/*'] });
    expect(m.labels.get('x')?.value).toBe('y');
    expect(m.files.get('/usr/local/bin/serve')?.text()).toBe('#!/bin/sh\n');
    await expect(fs.access(path.join(tmp, 'pwned'))).rejects.toThrow();
    const failing = path.join(tmp, 'failing-engine');
    await fs.writeFile(failing, '#!/bin/sh\necho "Error: localhost/nope: image not known" >&2\nexit 125\n', { mode: 0o755 });
    await expect(loadImage('podman:localhost/nope', { engine: failing })).rejects.toThrow(/save failed \(exit 125\): Error: localhost\/nope: image not known/);
  });
});
