import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/engine/types.js';
import { loadImage, parseRegistryReference, parseWwwAuthenticate, RegistryClient, type LoadImageOptions } from '../../../src/sources/image/index.js';
import { startFaultRegistry, type FaultRegistry } from '../../support/fault-registry.js';
import { buildImage, buildIndex, type BuiltImage } from '../../support/synthetic-image.js';

let reg: FaultRegistry;
let image: BuiltImage;
let armImage: BuiltImage;
let tmp: string;

/** Fast, bounded settings so faults end in well under a second. */
const fast: LoadImageOptions = {
  retry: { retries: 2, baseDelayMs: 10, maxDelayMs: 50 },
  timeouts: { headersMs: 1500, documentMs: 1500, idleMs: 1000, lowSpeedBytes: 1000, lowSpeedWindowMs: 400 },
  wantedGlobs: ['/usr/local/bin/serve'],
  env: { HOME: '/nonexistent' },
};

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'smcl-reg-test-'));
  image = await buildImage({
    layers: [
      { entries: [{ name: 'usr/local/bin/serve', content: '#!/bin/sh\necho serving\n', mode: 0o755 }, { name: 'etc/os-release', content: 'ID=test\n' }] },
      { entries: [{ name: 'etc/.wh.os-release' }, { name: 'app/x.py', content: 'print(1)\n' }] },
    ],
    config: { Labels: { 'com.amazonaws.sagemaker.capabilities.accept-bind-to-port': 'true' }, Env: ['A=1'] },
  });
  armImage = await buildImage({ layers: [{ entries: [{ name: 'arm', content: 'arm' }] }], platform: { os: 'linux', architecture: 'arm64' } });
  reg = await startFaultRegistry();
  reg.addImage('team/model', 'v1', image);
  const docker = await buildImage({ layers: [{ entries: [{ name: 'd', content: 'd' }] }], docker: true });
  reg.addImage('team/docker', 'v1', docker);
  reg.addIndex('team/multi', 'v1', buildIndex([
    { image: armImage, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    { image, platform: { os: 'linux', architecture: 'amd64' } },
    { image: armImage, platform: { os: 'unknown', architecture: 'unknown' } },
  ]), [image, armImage]);
  reg.addIndex('team/armonly', 'v1', buildIndex([
    { image: armImage, platform: { os: 'linux', architecture: 'arm64' } },
    { image: armImage, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
  ], true), [armImage]);
});
afterAll(async () => {
  await reg.stop();
  await fs.rm(tmp, { recursive: true, force: true });
});
afterEach(() => {
  reg.faults = {};
  reg.log.length = 0;
});

async function failure(ref: string, opts: LoadImageOptions = {}): Promise<InputError> {
  const t0 = Date.now();
  const err = await loadImage(ref, { ...fast, ...opts }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(err).toBeInstanceOf(InputError);
  expect((err as Error).message).toContain(ref);
  return err as InputError;
}

describe('registry source', () => {
  it('pulls anonymously over plain http on loopback and builds the model', async () => {
    const ref = `${reg.host}/team/model:v1`;
    const m = await loadImage(ref, fast);
    expect(m.name).toBe(ref);
    expect(m.labels.get('com.amazonaws.sagemaker.capabilities.accept-bind-to-port')?.location).toEqual({ file: ref, image: { ref, path: 'config.Labels' } });
    expect(m.env.get('A')?.value).toBe('1');
    expect(m.files.get('/usr/local/bin/serve')?.text()).toContain('echo serving');
    expect(m.files.get('/usr/local/bin/serve')?.origin).toEqual({ kind: 'layer', image: ref, layer: image.layers[0].digest });
    expect(m.files.get('/etc/os-release')).toBeUndefined();
    expect(m.files.get('/app/x.py')?.text()).toBeUndefined();
    expect(reg.log.every((r) => r.authorization === undefined)).toBe(true);
  });

  it('pulls by digest and docker media types', async () => {
    const m = await loadImage(`${reg.host}/team/model@${image.manifestDigest}`, fast);
    expect(m.files.has('/usr/local/bin/serve')).toBe(true);
    const d = await loadImage(`${reg.host}/team/docker:v1`, fast);
    expect(d.files.has('/d')).toBe(true);
  });

  it('labels-only fetches manifest and config, no layer', async () => {
    const m = await loadImage(`${reg.host}/team/model:v1`, { ...fast, labelsOnly: true });
    expect(m.labels.size).toBe(1);
    expect(reg.log.filter((r) => r.path.includes('/blobs/')).map((r) => r.path)).toEqual([`/v2/team/model/blobs/${image.configDigest}`]);
  });

  it('chooses the platform from an index (default linux/amd64), skipping attestations', async () => {
    const m = await loadImage(`${reg.host}/team/multi:v1`, fast);
    expect(m.files.has('/usr/local/bin/serve')).toBe(true);
    const a = await loadImage(`${reg.host}/team/multi:v1`, { ...fast, platform: 'linux/arm64' });
    expect(a.files.has('/arm')).toBe(true);
    expect(a.platform).toEqual({ os: 'linux', architecture: 'arm64' });
  });

  it('index with other platforms only: error lists the available ones', async () => {
    const ref = `${reg.host}/team/armonly:v1`;
    const err = await failure(ref);
    expect(err.message).toMatch(/no image for platform linux\/amd64; available: linux\/arm64, linux\/arm\/v7/);
  });

  it('Bearer challenge + token endpoint with the right credentials', async () => {
    reg.faults = { auth: { scheme: 'bearer', username: 'u', password: 'p' } };
    const m = await loadImage(`${reg.host}/team/model:v1`, { ...fast, username: 'u', password: 'p' });
    expect(m.files.has('/usr/local/bin/serve')).toBe(true);
    const tokenReq = reg.log.find((r) => r.path.startsWith('/token'))!;
    expect(tokenReq.path).toContain('scope=repository%3Ateam%2Fmodel%3Apull');
    expect(tokenReq.path).toContain('service=fault-registry');
    expect(tokenReq.authorization).toBe('Basic ' + Buffer.from('u:p').toString('base64'));
    // One token fetch serves all requests of the image.
    expect(reg.log.filter((r) => r.path.startsWith('/token')).length).toBe(1);
  });

  it('Bearer with wrong credentials / no credentials', async () => {
    reg.faults = { auth: { scheme: 'bearer', username: 'u', password: 'p' } };
    const ref = `${reg.host}/team/model:v1`;
    expect((await failure(ref, { username: 'u', password: 'wrong' })).message).toMatch(/authentication failed .*rejected the credentials for user "u"/);
    expect((await failure(ref)).message).toMatch(/authentication required .*no credentials found/);
  });

  it('Basic auth with credentials from $REGISTRY_AUTH_FILE', async () => {
    reg.faults = { auth: { scheme: 'basic', username: 'bob', password: 's3cret' } };
    const file = path.join(tmp, 'auth.json');
    await fs.writeFile(file, JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('bob:s3cret').toString('base64') } } }));
    const m = await loadImage(`${reg.host}/team/model:v1`, { ...fast, env: { HOME: '/nonexistent', REGISTRY_AUTH_FILE: file } });
    expect(m.files.has('/usr/local/bin/serve')).toBe(true);
    // Docker's config.json under $HOME also works.
    await fs.mkdir(path.join(tmp, 'home/.docker'), { recursive: true });
    await fs.writeFile(path.join(tmp, 'home/.docker/config.json'), JSON.stringify({ auths: { [`http://${reg.host}`]: { auth: Buffer.from('bob:s3cret').toString('base64') } } }));
    await loadImage(`${reg.host}/team/model:v1`, { ...fast, env: { HOME: path.join(tmp, 'home') } });
    // XDG_RUNTIME_DIR/containers/auth.json, wrong password → error.
    await fs.mkdir(path.join(tmp, 'run/containers'), { recursive: true });
    await fs.writeFile(path.join(tmp, 'run/containers/auth.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('bob:nope').toString('base64') } } }));
    expect((await failure(`${reg.host}/team/model:v1`, { env: { HOME: '/nonexistent', XDG_RUNTIME_DIR: path.join(tmp, 'run') } })).message).toMatch(/authentication failed/);
  });

  it('manifest 404 and blob 404', async () => {
    reg.faults = { manifest404: true };
    expect((await failure(`${reg.host}/team/model:v1`)).message).toMatch(/not found \(HTTP 404\): MANIFEST_UNKNOWN/);
    reg.faults = { blob404: image.layers[1].digest };
    const err = await failure(`${reg.host}/team/model:v1`);
    expect(err.message).toContain(image.layers[1].digest);
    expect(err.message).toMatch(/not found \(HTTP 404\)/);
  });

  it('429 then success', async () => {
    reg.faults = { tooManyRequests: 1 };
    const m = await loadImage(`${reg.host}/team/model:v1`, fast);
    expect(m.files.has('/usr/local/bin/serve')).toBe(true);
    expect(reg.log.length).toBeGreaterThan(4);
  });

  it('500 always: bounded retries, then one error', async () => {
    reg.faults = { serverError: true };
    const err = await failure(`${reg.host}/team/model:v1`);
    expect(err.message).toMatch(/server error \(HTTP 500 after 3 attempts\)/);
    expect(reg.log.length).toBe(3);
  });

  it('a blob whose content does not match its digest', async () => {
    reg.faults = { lyingBlob: image.layers[0].digest };
    const err = await failure(`${reg.host}/team/model:v1`);
    expect(err.message).toContain(`layer ${image.layers[0].digest} (1/2)`);
    expect(err.message).toMatch(/does not match expected/);
  });

  it('slow byte-by-byte manifest: document deadline', async () => {
    reg.faults = { slowManifestMs: 50 };
    const err = await failure(`${reg.host}/team/model:v1`, { retry: { retries: 0 } });
    expect(err.message).toMatch(/no complete answer within 1500 ms/);
  });

  it('slow byte-by-byte blob: minimum speed', async () => {
    reg.faults = { slowBlobMs: 20 };
    const err = await failure(`${reg.host}/team/model:v1`, { retry: { retries: 0 } });
    expect(err.message).toMatch(/too slow/);
    expect(err.message).toContain(`blob ${image.configDigest}`);
    // Slow layers only (config served normally): the error names the layer.
    reg.faults = { slowBlobMs: 20, slowBlobDigest: image.layers[1].digest };
    const slowLayer = await failure(`${reg.host}/team/model:v1`, { retry: { retries: 0 } });
    expect(slowLayer.message).toMatch(/layer sha256:[0-9a-f]{64} \(\d\/2\)/);
  });

  it('no answer at all: headers timeout', async () => {
    reg.faults = { hangManifest: true };
    const err = await failure(`${reg.host}/team/model:v1`, { retry: { retries: 0 }, timeouts: { headersMs: 300, documentMs: 5000 } });
    expect(err.message).toMatch(/no response within 300 ms/);
  });

  it('follows blob redirects to another host without the Authorization header', async () => {
    reg.faults = { auth: { scheme: 'bearer', username: 'u', password: 'p' }, redirectBlobs: true };
    const m = await loadImage(`${reg.host}/team/model:v1`, { ...fast, username: 'u', password: 'p' });
    expect(m.files.has('/usr/local/bin/serve')).toBe(true);
    const storage = reg.log.filter((r) => r.server === 'storage');
    expect(storage.length).toBe(3); // config + 2 layers
    expect(storage.every((r) => r.authorization === undefined)).toBe(true);
    expect(reg.log.filter((r) => r.server === 'registry' && r.path.includes('/blobs/')).every((r) => r.authorization?.startsWith('Bearer '))).toBe(true);
  });

  it('aborts on the caller signal', async () => {
    reg.faults = { hangManifest: true };
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(), 100);
    await expect(loadImage(`${reg.host}/team/model:v1`, { ...fast, signal: ctrl.signal })).rejects.toThrow(/aborted/);
  });
});

describe('RegistryClient (reused by the ECR scanner)', () => {
  it('lists tags, gets manifests and blobs with an injected Authorization provider', async () => {
    reg.faults = { auth: { scheme: 'basic', username: 'AWS', password: 'ecr-token' } };
    const header = 'Basic ' + Buffer.from('AWS:ecr-token').toString('base64');
    const client = new RegistryClient(reg.host, { authorization: () => header });
    expect(await client.listTags('team/model')).toEqual(['v1']);
    const m = await client.getManifest('team/model', 'v1');
    expect(m.digest).toBe(image.manifestDigest);
    expect(m.bytes.equals(image.manifest)).toBe(true);
    const cfg = await client.getBlobBytes('team/model', image.configDigest);
    expect(cfg.equals(image.config)).toBe(true);
    const bad = new RegistryClient(reg.host, { authorization: () => 'Basic eHg6eXk=', retry: { retries: 0 } });
    await expect(bad.listTags('team/model')).rejects.toThrow(/rejected the provided authorization/);
  });
});

describe('references and challenges', () => {
  it('normalises docker.io references', () => {
    expect(parseRegistryReference('ubuntu')).toMatchObject({ domain: 'docker.io', registry: 'registry-1.docker.io', repository: 'library/ubuntu', tag: 'latest' });
    expect(parseRegistryReference('docker.io/me/app:1')).toMatchObject({ repository: 'me/app', tag: '1' });
    expect(parseRegistryReference('localhost:5000/a/b@sha256:' + 'a'.repeat(64))).toMatchObject({ domain: 'localhost:5000', repository: 'a/b', digest: 'sha256:' + 'a'.repeat(64), tag: undefined });
    expect(parseRegistryReference('123.dkr.ecr.us-east-1.amazonaws.com/m:v2')).toMatchObject({ registry: '123.dkr.ecr.us-east-1.amazonaws.com', repository: 'm' });
    expect(() => parseRegistryReference('Bad/Name')).toThrow(InputError);
    expect(() => parseRegistryReference('a@sha256:xyz')).toThrow(/invalid digest/);
  });

  it('parses WWW-Authenticate', () => {
    expect(parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/ubuntu:pull' } },
    ]);
    expect(parseWwwAuthenticate('Basic realm="x"')).toEqual([{ scheme: 'basic', params: { realm: 'x' } }]);
  });
});
