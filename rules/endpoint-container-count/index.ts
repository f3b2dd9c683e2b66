import { defineRule, docsUrl } from '../../src/engine/types.js';
import type { EndpointModel } from '../../src/endpoint/model.js';

const ID = 'endpoint-container-count';
/** Current AWS limit of containers in a multi-container model (the older docs said 5). */
export const DEFAULT_MAX_CONTAINERS = 15;

export default defineRule<EndpointModel>({
  meta: {
    id: ID,
    target: 'endpoint',
    defaultSeverity: 'error',
    description: 'A multi-container model has at most maxContainers (15) containers, and Direct mode needs at least 2.',
    docsUrl: docsUrl(ID),
    defaultOptions: { maxContainers: DEFAULT_MAX_CONTAINERS },
  },
  check({ model, options, report }) {
    const raw = Number(options.maxContainers);
    const max = Number.isInteger(raw) && raw > 0 ? raw : DEFAULT_MAX_CONTAINERS;
    for (const m of model.models) {
      if (m.containersUnknown !== undefined) continue;
      const n = m.containers.length;
      if (n > max) {
        report({
          message: `model ${m.name} has ${n} containers; a SageMaker model can have at most ${max} (container #${max} is the first one over the limit)`,
          location: m.containers[max].location,
          help: 'Split the containers over several models and endpoints, or raise `maxContainers` if your account has a higher quota.',
        });
      }
      if (m.effectiveMode === 'Direct' && n < 2 && m.mode) {
        report({
          message: `model ${m.name} uses InferenceExecutionConfig.Mode Direct with ${n === 0 ? 'no containers' : m.primaryContainer ? 'a single PrimaryContainer' : 'a single container'}; direct invocation needs a multi-container model (2 or more Containers)`,
          location: m.mode.location,
          help: 'Put the containers in `Containers` (2 or more, each with a ContainerHostname), or drop InferenceExecutionConfig for a single-container model.',
        });
      }
    }
  },
});
