import { describe, expect, it } from 'vitest';
import { runContainerRules } from '../../src/engine/run.js';
import { emptyModel, type ImageManifestInfo } from '../../src/model/container-model.js';
import rule, { layerProblem } from './index.js';

const REF = 'registry.example/model:1';
const GIB = 1024 ** 3;
const digest = (n: number): string => `sha256:${String(n).repeat(64).slice(0, 64)}`;

function modelWith(image?: Partial<ImageManifestInfo> & { layerMediaTypes?: string[] }) {
  const m = emptyModel('image', REF, { file: REF, image: { ref: REF } });
  if (image) {
    const types = image.layerMediaTypes ?? ['application/vnd.oci.image.layer.v1.tar+gzip'];
    m.image = { sizeBytes: 1000, manifestMediaType: 'application/vnd.oci.image.manifest.v1+json', layerDigests: types.map((_, i) => digest(i + 1)), ...image, layerMediaTypes: types };
  }
  return m;
}

describe('image-manifest', () => {
  it('is silent for Dockerfile models (no image facts) and for gzip / uncompressed layers', () => {
    expect(runContainerRules([rule], modelWith())).toEqual([]);
    expect(
      runContainerRules([rule], modelWith({ layerMediaTypes: ['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.docker.image.rootfs.diff.tar.gzip', 'application/vnd.oci.image.layer.v1.tar'] })),
    ).toEqual([]);
    // docker-archive: no media types at all.
    expect(runContainerRules([rule], modelWith({ layerMediaTypes: undefined, layerDigests: [digest(1)] }))).toEqual([]);
  });

  it('warns once per zstd media type, pointing at the first such layer', () => {
    const findings = runContainerRules(
      [rule],
      modelWith({ layerMediaTypes: ['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar+zstd', 'application/vnd.oci.image.layer.v1.tar+zstd'] }),
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ ruleId: 'image-manifest', severity: 'warning', location: { file: REF, image: { ref: REF, layer: digest(2) } } });
    expect(findings[0].message).toMatch(/layer 2\/3 \(and 1 more\) has media type application\/vnd\.oci\.image\.layer\.v1\.tar\+zstd/);
    expect(findings[0].help).toMatch(/compression=gzip/);
  });

  it('flags docker zstd, non-distributable, foreign, encrypted and unknown layer types', () => {
    expect(layerProblem('application/vnd.docker.image.rootfs.diff.tar.zstd')?.why).toMatch(/not part of the Docker image manifest v2/);
    expect(layerProblem('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip')?.kind).toBe('non-distributable');
    expect(layerProblem('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip')?.kind).toBe('non-distributable');
    expect(layerProblem('application/vnd.oci.image.layer.v1.tar+gzip+encrypted')?.kind).toBe('encrypted');
    expect(layerProblem('application/vnd.cncf.helm.chart.content.v1.tar+gzip')?.kind).toBe('unknown');
    expect(layerProblem('application/vnd.oci.image.layer.v1.tar+gzip')).toBeUndefined();
    const findings = runContainerRules([rule], modelWith({ layerMediaTypes: ['application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', 'application/vnd.oci.image.layer.v1.tar+gzip+encrypted'] }));
    expect(findings.map((f) => f.severity)).toEqual(['warning', 'warning']);
  });

  it('reports the size as info above the threshold, preferring the uncompressed size; the threshold is an option', () => {
    expect(runContainerRules([rule], modelWith({ sizeBytes: 9 * GIB }))).toEqual([]);
    const big = runContainerRules([rule], modelWith({ sizeBytes: 4 * GIB, uncompressedSizeBytes: 12.5 * GIB }));
    expect(big).toMatchObject([{ severity: 'info', location: { file: REF } }]);
    expect(big[0].message).toMatch(/12\.5 GiB uncompressed, above the 10 GiB threshold/);
    const stored = runContainerRules([rule], modelWith({ sizeBytes: 11 * GIB }));
    expect(stored[0].message).toMatch(/11\.0 GiB as stored/);
    expect(runContainerRules([rule], modelWith({ sizeBytes: 11 * GIB }), { options: { 'image-manifest': { maxSizeGiB: 20 } } })).toEqual([]);
    expect(runContainerRules([rule], modelWith({ sizeBytes: 3 * GIB }), { options: { 'image-manifest': { maxSizeGiB: 2 } } })).toHaveLength(1);
    // Size stays info even when the rule is configured as error: it is a fact, not a defect.
    expect(runContainerRules([rule], modelWith({ sizeBytes: 11 * GIB }), { severity: { 'image-manifest': 'error' } })[0].severity).toBe('info');
  });
});
