/**
 * The image sources against real components: a podman-built FROM-scratch image, pushed to
 * Debian's docker-registry, read back through every source. Under CI=true a missing podman or
 * registry fails these tests (requirePodman throws; startRegistry throws).
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerModel } from '../../../src/model/container-model.js';
import { loadImage } from '../../../src/sources/image/index.js';
import { buildFixtureImage } from '../../support/fixture-images.js';
import { requirePodman } from '../../support/podman.js';
import { pushImage, startRegistry, type TestRegistry } from '../../support/registry.js';

const execFileP = promisify(execFile);

const spec = {
  files: {
    'serve': { content: '#!/bin/busybox sh\nexec /bin/busybox httpd -f -p 8080 -h /www\n', mode: 0o755 },
    'www/ping': 'ok\n',
  },
  containerfile: [
    'FROM scratch',
    'COPY busybox /bin/busybox',
    'COPY serve /usr/local/bin/serve',
    'COPY www /www',
    'LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true',
    'ENV SAGEMAKER_BIND_TO_PORT=8080 APP_HOME=/www',
    'EXPOSE 8080',
    'ENTRYPOINT ["/usr/local/bin/serve"]',
    '',
  ].join('\n'),
};

const wantedGlobs = ['/usr/local/bin/*', '/www/**'];

function summary(m: ContainerModel) {
  return {
    labels: Object.fromEntries([...m.labels].map(([k, v]) => [k, v.value])),
    env: Object.fromEntries([...m.env].map(([k, v]) => [k, v.value])),
    ports: m.exposedPorts.map((p) => `${p.port}/${p.protocol}`),
    entrypoint: m.entrypoint?.args,
    platform: m.platform,
    files: m.files
      .all()
      .map((f) => ({ path: f.path, type: f.type, mode: f.mode, size: f.type === 'file' ? f.size : undefined, text: f.text() }))
      .sort((a, b) => a.path.localeCompare(b.path)),
  };
}

describe.skipIf(!requirePodman())('image sources with podman and a real registry', () => {
  let registry: TestRegistry;
  let tag: string;
  let tmp: string;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'smcl-real-image-'));
    tag = await buildFixtureImage('image-source', spec);
    registry = await startRegistry();
  }, 180_000);

  afterAll(async () => {
    await registry?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('loads the same model from the registry, the podman store, oci-archive and docker-archive', async () => {
    const pushed = await pushImage(tag, registry.host, 'smcl/image-source:v1');
    const ociFile = path.join(tmp, 'image.oci.tar');
    const dockerFile = path.join(tmp, 'image.docker.tar');
    await execFileP('podman', ['save', '--quiet', '--format', 'oci-archive', '-o', ociFile, tag], { timeout: 120_000 });
    await execFileP('podman', ['save', '--quiet', '--format', 'docker-archive', '-o', dockerFile, tag], { timeout: 120_000 });

    const refs = [pushed, `podman:${tag}`, `oci-archive:${ociFile}`, `docker-archive:${dockerFile}`];
    const models = await Promise.all(refs.map((r) => loadImage(r, { wantedGlobs })));
    const first = summary(models[0]);
    expect(first.labels['com.amazonaws.sagemaker.capabilities.accept-bind-to-port']).toBe('true');
    expect(first.env.SAGEMAKER_BIND_TO_PORT).toBe('8080');
    expect(first.env.APP_HOME).toBe('/www');
    expect(first.ports).toEqual(['8080/tcp']);
    expect(first.entrypoint).toEqual(['/usr/local/bin/serve']);
    expect(first.platform?.os).toBe('linux');
    const serve = first.files.find((f) => f.path === '/usr/local/bin/serve');
    expect(serve).toMatchObject({ type: 'file', mode: 0o755, text: spec.files.serve.content });
    expect(first.files.find((f) => f.path === '/www/ping')?.text).toBe('ok\n');
    expect(first.files.find((f) => f.path === '/bin/busybox')).toMatchObject({ type: 'file', text: undefined });
    models.forEach((m, i) => {
      expect(m.name).toBe(refs[i]);
      expect(summary(m), refs[i]).toEqual(first);
      for (const f of m.files.all()) {
        expect(f.origin.kind).toBe('layer');
        if (f.origin.kind === 'layer') expect(f.origin.layer).toMatch(/^sha256:[0-9a-f]{64}$/);
      }
      expect(m.gaps).toEqual([]);
    });
  }, 240_000);

  it('labels-only from the registry and a clear error for a missing tag', async () => {
    const pushed = await pushImage(tag, registry.host, 'smcl/image-source:labels');
    const m = await loadImage(pushed, { labelsOnly: true });
    expect(m.labels.get('com.amazonaws.sagemaker.capabilities.accept-bind-to-port')?.value).toBe('true');
    expect(m.files.all()).toEqual([]);
    await expect(loadImage(`${registry.host}/smcl/image-source:nope`, { retry: { retries: 0 } })).rejects.toThrow(/smcl\/image-source:nope.*not found \(HTTP 404\)/);
    await expect(loadImage('podman:localhost/smcl-does-not-exist:latest')).rejects.toThrow(/podman save failed/);
  }, 240_000);
});
