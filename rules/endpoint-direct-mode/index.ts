import { defineRule, docsUrl } from '../../src/engine/types.js';
import { coversInvoke, hostnameConditions } from '../../src/endpoint/iam.js';
import type { EndpointContainer, EndpointModel } from '../../src/endpoint/model.js';

const ID = 'endpoint-direct-mode';

/** Words that mark a container as the first stage of an inference pipeline. */
export const PRE_STAGE = /(^|[^a-z])(pre-?process|preproc|featuri[sz]|feature-?(eng|transform)|data-?prep)/i;
/** Words that mark a container as the last stage of an inference pipeline. */
export const POST_STAGE = /(^|[^a-z])(post-?process|postproc)/i;
/** Set on a pipeline stage so its output is the next stage's input format. */
export const CHAIN_ENV = 'SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT';

export default defineRule<EndpointModel>({
  meta: {
    id: ID,
    target: 'endpoint',
    defaultSeverity: 'warning',
    description: 'InferenceExecutionConfig.Mode matches how the containers are used: Direct when policies target container hostnames, Serial for an inference pipeline.',
    docsUrl: docsUrl(ID),
  },
  check({ model, report }) {
    const keyStatement = model.policies
      .flatMap((p) => p.statements.map((s) => ({ p, s })))
      .find(({ s }) => coversInvoke(s) !== false && hostnameConditions(s).length > 0);
    for (const m of model.models) {
      if (!m.mode && keyStatement && (m.containersUnknown !== undefined || m.containers.length >= 2)) {
        report({
          message: `model ${m.name} has no InferenceExecutionConfig, so it runs as a Serial inference pipeline, but ${keyStatement.p.name} (line ${keyStatement.s.location.line ?? '?'}) restricts InvokeEndpoint by sagemaker:TargetContainerHostname, which only direct invocation sends`,
          location: m.containersLocation,
          help: 'Add `InferenceExecutionConfig: { Mode: Direct }` to the model.',
        });
      }
      if (m.effectiveMode === 'Direct' && m.mode && m.containers.length >= 2) {
        const hint = pipelineHint(m.containers);
        if (hint) {
          report({
            message: `model ${m.name} uses Mode Direct but its containers look like an inference pipeline (${hint}); in Direct mode each request goes to one container and nothing is passed on to the next`,
            location: m.mode.location,
            help: 'Use Mode Serial (the default) for a preprocess → model → postprocess chain, or rename the containers if they are independent models.',
          });
        }
      }
    }
  },
});

function words(c: EndpointContainer): string[] {
  const out: string[] = [];
  if (c.hostname?.value) out.push(c.hostname.value);
  if (c.image?.value) {
    const repo = c.image.value.split('@')[0].split('/').pop() ?? '';
    out.push(repo.replace(/:[^:]*$/, ''));
  }
  const program = c.environment.find((e) => e.name === 'SAGEMAKER_PROGRAM')?.value.value;
  if (program) out.push(program.replace(/\.py$/, ''));
  return out;
}

function label(c: EndpointContainer): string {
  return c.hostname?.value ?? `#${c.index}`;
}

/** Describes why the containers look like a pipeline, or undefined. */
export function pipelineHint(containers: EndpointContainer[]): string | undefined {
  const pre = containers.find((c) => words(c).some((w) => PRE_STAGE.test(w)));
  const post = containers.find((c) => words(c).some((w) => POST_STAGE.test(w)));
  if (pre && post && pre !== post) return `${label(pre)} → … → ${label(post)}`;
  if (pre && pre.index === 0) return `${label(pre)} looks like a preprocessing stage`;
  if (post && post.index === containers.length - 1) return `${label(post)} looks like a postprocessing stage`;
  const chained = containers.find((c) => c.index < containers.length - 1 && c.environment.some((e) => e.name === CHAIN_ENV));
  if (chained) return `${label(chained)} sets ${CHAIN_ENV}, which chains its output to the next container`;
  return undefined;
}
