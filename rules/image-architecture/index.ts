import { defineRule, docsUrl } from '../../src/engine/types.js';

const ID = 'image-architecture';

/** Instance families that run on AWS Graviton (arm64); every other ml.* family is x86_64. */
const ARM_FAMILIES = /^ml\.(c6g|c6gd|c6gn|c7g|m6g|m6gd|m7g|r6g|r6gd|r7g|t4g|g5g)\./;

export function architectureFor(instanceType: string): 'arm64' | 'amd64' {
  return ARM_FAMILIES.test(instanceType) ? 'arm64' : 'amd64';
}

export default defineRule({
  meta: {
    id: ID,
    target: 'container',
    defaultSeverity: 'error',
    description: 'The image is built for the CPU architecture of the instance type it will run on (Graviton ml.*g instances are arm64).',
    docsUrl: docsUrl(ID),
    defaultOptions: { instanceType: '' },
  },
  check({ model, options, report }) {
    const instanceType = String(options.instanceType ?? '');
    if (!instanceType || !model.platform) return;
    const want = architectureFor(instanceType);
    const have = model.platform.architecture === 'x86_64' ? 'amd64' : model.platform.architecture === 'aarch64' ? 'arm64' : model.platform.architecture;
    if (have === want) return;
    report({
      message: `the image is ${model.platform.os}/${model.platform.architecture}${model.platform.variant ? '/' + model.platform.variant : ''}, but ${instanceType} runs ${want}: the container will fail to start with "exec format error"`,
      location: model.subjectLocation,
      help: `build for linux/${want} (docker buildx build --platform linux/${want}), or pick a ${have === 'arm64' ? 'Graviton (ml.*g)' : 'non-Graviton'} instance type`,
    });
  },
});
