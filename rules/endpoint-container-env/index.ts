import { defineRule, docsUrl } from '../../src/engine/types.js';
import type { EndpointModel } from '../../src/endpoint/model.js';

const ID = 'endpoint-container-env';
const PROVIDED = ['SAGEMAKER_BIND_TO_PORT', 'SAGEMAKER_SAFE_PORT_RANGE'];

/** Why a `SAGEMAKER_SAFE_PORT_RANGE` value is malformed, or undefined when it is `XXXX-YYYY` with low ≤ high ≤ 65535. */
export function portRangeProblem(v: string): string | undefined {
  const m = /^(\d+)-(\d+)$/.exec(v);
  if (!m) return 'expected XXXX-YYYY (two multi-digit integers joined by "-")';
  if (m[1].length < 2 || m[2].length < 2) return 'both ends must be multi-digit integers';
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  if (lo > 65535 || hi > 65535) return 'ports must be at most 65535';
  if (lo > hi) return `the low end ${lo} is greater than the high end ${hi}`;
  return undefined;
}

export function portProblem(v: string): string | undefined {
  if (!/^\d+$/.test(v)) return 'expected a port number';
  const n = Number(v);
  return n < 1 || n > 65535 ? 'ports must be between 1 and 65535' : undefined;
}

export default defineRule<EndpointModel>({
  meta: {
    id: ID,
    target: 'endpoint',
    defaultSeverity: 'error',
    description: 'Container Environment does not set SAGEMAKER_BIND_TO_PORT / SAGEMAKER_SAFE_PORT_RANGE, which SageMaker provides, and any value given is well-formed.',
    docsUrl: docsUrl(ID),
  },
  check({ model, report }) {
    for (const m of model.models) {
      for (const c of m.containers) {
        for (const e of c.environment) {
          if (!PROVIDED.includes(e.name)) continue;
          const who = `container ${c.hostname?.value ?? `#${c.index}`} of model ${m.name}`;
          report({
            message: `${who} sets ${e.name}; SageMaker provides it in a multi-container endpoint and the container must read it, not set it`,
            location: e.nameLocation,
            help: `Remove ${e.name} from Environment and have the container listen on $SAGEMAKER_BIND_TO_PORT (8080 when unset).`,
          });
          const v = e.value.value;
          if (v === undefined) continue;
          const problem = e.name === 'SAGEMAKER_SAFE_PORT_RANGE' ? portRangeProblem(v) : portProblem(v);
          if (problem) {
            report({ message: `${who}: ${e.name} value ${JSON.stringify(v)} is malformed: ${problem}`, location: e.value.location });
          }
        }
      }
    }
  },
});
