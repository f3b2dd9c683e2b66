import { defineRule, docsUrl } from '../../src/engine/types.js';
import { LABEL_KEY } from '../accept-bind-to-port-label/index.js';

const ID = 'target-stage';

/**
 * Multi-stage Dockerfiles often build the SageMaker image in a stage named for it while the last
 * stage is something else (tests, a local dev server). `docker build` without `--target` ships
 * the last stage; smcl lints the same one. Say so, and name the target to use.
 */
export default defineRule({
  meta: {
    id: ID,
    target: 'container',
    defaultSeverity: 'info',
    description: 'The linted (last) stage looks unlike the serving image while a stage named like *sagemaker* exists: name the --target.',
    docsUrl: docsUrl(ID),
  },
  check({ model, report }) {
    if (model.source !== 'dockerfile' || model.otherStages.length === 0) return;
    if (/sagemaker|serv(e|ing)|infer/i.test(model.target ?? '')) return;
    const candidate = model.otherStages.find((s) => s.name && /sagemaker/i.test(s.name));
    if (!candidate) return;
    const servingLooking = model.labels.has(LABEL_KEY) || model.files.has('/usr/local/bin/serve') || model.files.has('/usr/bin/serve');
    if (servingLooking) return;
    report({
      severity: 'info',
      message: `the last stage "${model.target}" is what \`docker build\` ships and what smcl lints, but stage "${candidate.name}" looks like the SageMaker image; lint it with --target ${candidate.name}`,
      location: model.subjectLocation,
      help: `smcl lint --target ${candidate.name} (and docker build --target ${candidate.name}), or --target all`,
    });
  },
});
