import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtureImage } from '../support/fixture-images.js';
import { requirePodman } from '../support/podman.js';
import { pushImage, startRegistry, type TestRegistry } from '../support/registry.js';
import { smcl } from '../support/cli.js';
import { tempTree } from '../support/tmp.js';

/**
 * --resolve-base reads the base image's config from a real registry (Debian's docker-registry on
 * 127.0.0.1) so labels, env and PATH that the base sets are known instead of guessed.
 */
describe.skipIf(!requirePodman())('smcl lint --resolve-base', () => {
  let registry: TestRegistry;
  let baseRef: string;

  beforeAll(async () => {
    registry = await startRegistry();
    const tag = await buildFixtureImage('resolve-base-parent', {
      files: { 'serve': { content: '#!/bin/busybox sh\nexec /bin/busybox httpd -f -p "${SAGEMAKER_BIND_TO_PORT:-8080}" -h /www\n', mode: 0o755 } },
      containerfile: [
        'FROM scratch',
        'COPY busybox /bin/busybox',
        'COPY serve /opt/base/serve',
        'ENV PATH=/opt/base:/bin',
        'LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true',
        '',
      ].join('\n'),
    });
    baseRef = `${registry.host}/smcl/base:1`;
    await pushImage(tag, registry.host, 'smcl/base:1');
  }, 300_000);

  afterAll(async () => {
    await registry?.stop();
  });

  it('without it the inherited label is unknown and reported; with it the label is inherited', () => {
    const dir = tempTree({ Dockerfile: `FROM ${baseRef}\nCOPY www /www\n`, 'www/cgi-bin/ping': '#!/bin/busybox sh\necho ok\n' });
    const file = path.join(dir, 'Dockerfile');
    const without = smcl(['lint', file, '--format', 'json']);
    const withoutIds = JSON.parse(without.stdout).results[0].findings.map((f: { ruleId: string }) => f.ruleId);
    expect(withoutIds).toContain('accept-bind-to-port-label');
    const resolved = smcl(['lint', file, '--resolve-base', '--format', 'json']);
    expect(resolved.stderr).toBe('');
    const resolvedIds = JSON.parse(resolved.stdout).results[0].findings.map((f: { ruleId: string }) => f.ruleId);
    expect(resolvedIds).not.toContain('accept-bind-to-port-label');
  });

  it('names the base image when it cannot be read, exit 2', () => {
    const dir = tempTree({ Dockerfile: `FROM ${registry.host}/smcl/missing:1\n` });
    const r = smcl(['lint', path.join(dir, 'Dockerfile'), '--resolve-base']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`could not read base image ${registry.host}/smcl/missing:1`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
