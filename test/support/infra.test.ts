import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFixtureImage } from './fixture-images.js';
import { requirePodman } from './podman.js';
import { freeLocalPort, pushImage, startRegistry } from './registry.js';

const execFileP = promisify(execFile);

describe.skipIf(!requirePodman())('test infrastructure (podman)', () => {
  const names: string[] = [];
  afterAll(async () => {
    for (const n of names) await execFileP('podman', ['rm', '-f', '-t', '0', n]).catch(() => undefined);
  });

  const spec = {
    files: {
      'www/index.html': 'hello from smcl fixture\n',
    },
    containerfile: ['FROM scratch', 'COPY busybox /bin/busybox', 'COPY www /www', 'ENTRYPOINT ["/bin/busybox", "httpd", "-f", "-h", "/www"]', ''].join('\n'),
  };

  it('builds a fixture image once (cached by content hash)', async () => {
    const tag = await buildFixtureImage('infra-smoke', spec);
    expect(tag).toMatch(/^localhost\/smcl-fixture\/infra-smoke:[0-9a-f]{20}$/);
    const t0 = Date.now();
    expect(await buildFixtureImage('infra-smoke', spec)).toBe(tag);
    expect(Date.now() - t0).toBeLessThan(5000);
  }, 120_000);

  it('runs it with host networking and gets HTTP 200 from busybox httpd', async () => {
    const tag = await buildFixtureImage('infra-smoke', spec);
    const port = await freeLocalPort();
    const name = `smcl-infra-${process.pid}-${port}`;
    names.push(name);
    await execFileP('podman', ['run', '-d', '--rm', '--network', 'host', '--name', name, tag, '-p', `127.0.0.1:${port}`]);
    let status = 0;
    let body = '';
    for (let i = 0; i < 50 && status !== 200; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/index.html`, { signal: AbortSignal.timeout(1000) });
        status = res.status;
        body = await res.text();
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(status).toBe(200);
    expect(body).toBe('hello from smcl fixture\n');
  }, 120_000);

  it('starts a registry, pushes to it, stops it', async () => {
    const tag = await buildFixtureImage('infra-smoke', spec);
    const registry = await startRegistry();
    try {
      const dest = await pushImage(tag, registry.host, 'smoke/infra:v1');
      expect(dest).toBe(`${registry.host}/smoke/infra:v1`);
      const res = await fetch(`${registry.url}/v2/smoke/infra/tags/list`);
      expect(await res.json()).toEqual({ name: 'smoke/infra', tags: ['v1'] });
    } finally {
      await registry.stop();
    }
    await expect(fetch(`${registry.url}/v2/`, { signal: AbortSignal.timeout(1000) })).rejects.toThrow();
  }, 120_000);
});
