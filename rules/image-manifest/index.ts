import { defineRule, docsUrl, type FindingInput } from '../../src/engine/types.js';
import type { ContainerModel } from '../../src/model/container-model.js';
import type { Location } from '../../src/model/location.js';

const ID = 'image-manifest';

const GIB = 1024 ** 3;

/** Layer media types every engine that pulls from a registry understands. */
const PLAIN_LAYERS = new Set([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
]);

export type LayerProblem = { kind: 'zstd' | 'non-distributable' | 'encrypted' | 'unknown'; why: string; fix: string };

/** Why a layer media type may not be pullable where SageMaker runs the container, or undefined. */
export function layerProblem(mediaType: string): LayerProblem | undefined {
  if (mediaType === '' || PLAIN_LAYERS.has(mediaType)) return undefined;
  if (/encrypted/.test(mediaType)) {
    return { kind: 'encrypted', why: 'an encrypted layer needs the decryption key at pull time, which SageMaker does not provide', fix: 'push the image without layer encryption (encrypt the ECR repository at rest instead)' };
  }
  if (/nondistributable|foreign/.test(mediaType)) {
    return {
      kind: 'non-distributable',
      why: 'a non-distributable (foreign) layer is often not stored in the registry: pullers fetch it from the URLs in its descriptor, outside the registry, and the OCI image spec deprecates these media types',
      fix: 'rebuild so that every layer is a regular layer (e.g. docker buildx build --output type=image,oci-mediatypes=true,compression=gzip,force-compression=true)',
    };
  }
  if (/zstd/.test(mediaType)) {
    return {
      kind: 'zstd',
      why: `AWS does not document zstd layer support for SageMaker hosting, and engines without zstd fail to pull such layers${/^application\/vnd\.docker\./.test(mediaType) ? ' (and this Docker media type is not part of the Docker image manifest v2 specification)' : ''}`,
      fix: 'push with gzip layers: docker buildx build --output type=image,compression=gzip,force-compression=true,push=true ... (or podman push --compression-format gzip)',
    };
  }
  return { kind: 'unknown', why: 'it is not a container layer media type that container engines pull', fix: 'rebuild and push the image with a current Docker or podman' };
}

function layerLocation(model: ContainerModel, digest: string | undefined): Location {
  return { file: model.name, image: { ref: model.name, ...(digest ? { layer: digest } : {}) } };
}

function gib(bytes: number): string {
  return `${(bytes / GIB).toFixed(1)} GiB`;
}

export default defineRule({
  meta: {
    id: ID,
    target: 'container',
    defaultSeverity: 'warning',
    description: 'The image layers use media types SageMaker can pull (gzip or uncompressed, distributable, unencrypted); large images are reported with their size.',
    docsUrl: docsUrl(ID),
    defaultOptions: { maxSizeGiB: 10 },
  },
  check({ model, options, report }) {
    const image = model.image;
    if (!image) return; // Dockerfile sources: only a built image has a manifest.
    const seen = new Set<string>();
    (image.layerMediaTypes ?? []).forEach((mediaType, i) => {
      const problem = layerProblem(mediaType);
      if (!problem) return;
      const digest = image.layerDigests[i];
      // One finding per media type and problem: a 40-layer zstd image is one fix.
      const key = `${problem.kind} ${mediaType}`;
      if (seen.has(key)) return;
      seen.add(key);
      const same = image.layerMediaTypes!.filter((m) => m === mediaType).length;
      const finding: FindingInput = {
        message: `layer ${i + 1}/${image.layerMediaTypes!.length}${same > 1 ? ` (and ${same - 1} more)` : ''} has media type ${mediaType}: ${problem.why}`,
        location: layerLocation(model, digest),
        help: problem.fix,
      };
      report(finding);
    });

    const max = Number(options.maxSizeGiB);
    if (!Number.isFinite(max) || max <= 0) return;
    const size = image.uncompressedSizeBytes ?? image.sizeBytes;
    if (size > max * GIB) {
      const what = image.uncompressedSizeBytes !== undefined ? 'uncompressed' : 'as stored (compressed layers)';
      report({
        severity: 'info',
        message: `the image is ${gib(size)} ${what}, above the ${max} GiB threshold: every new instance downloads and extracts it before the container starts, which slows endpoint creation and scale-out and needs room on the instance's storage volume`,
        location: model.subjectLocation,
        help: 'keep model weights out of the image (ModelDataUrl / S3), use a slimmer base image and multi-stage builds; or raise the threshold: "image-manifest": ["warning", { "maxSizeGiB": 20 }]',
      });
    }
  },
});
