import { defineRule, docsUrl } from '../../src/engine/types.js';
import {
  conditionMatches,
  coversInvoke,
  evaluateInvoke,
  formatStatementRef,
  hostnameConditions,
  isLikeOperator,
  likeMatch,
  parseOperator,
  resourceApplies,
  statementApplies,
} from '../../src/endpoint/iam.js';
import { endpointArnFor, endpointArnsForModel, invokePolicySets } from '../../src/endpoint/matrix.js';
import type { EndpointModel, PolicyDocument, PolicyStatement, SageMakerModel } from '../../src/endpoint/model.js';
import { statementLabel } from '../../src/endpoint/model.js';

const ID = 'iam-target-container-hostname';
const POSITIVE = new Set(['StringEquals', 'StringLike', 'StringEqualsIgnoreCase']);
const STRING_BASES = new Set(['StringEquals', 'StringLike', 'StringEqualsIgnoreCase', 'StringNotEquals', 'StringNotLike', 'StringNotEqualsIgnoreCase']);

interface KeyStatement {
  policy: PolicyDocument;
  s: PolicyStatement;
}

export default defineRule<EndpointModel>({
  meta: {
    id: ID,
    target: 'endpoint',
    defaultSeverity: 'error',
    description: 'IAM conditions on sagemaker:TargetContainerHostname match the containers of the endpoint and take effect.',
    docsUrl: docsUrl(ID),
    defaultOptions: { endpointName: '' },
  },
  check({ model, options, report }) {
    const input: EndpointModel = typeof options.endpointName === 'string' && options.endpointName !== '' ? { ...model, endpointName: options.endpointName } : model;
    const keyStatements: KeyStatement[] = input.policies.flatMap((policy) =>
      policy.statements.filter((s) => coversInvoke(s) !== false && hostnameConditions(s).length > 0).map((s) => ({ policy, s })),
    );
    if (keyStatements.length === 0) return;

    const direct = input.models.filter((m) => m.effectiveMode === 'Direct');
    const known = (m: SageMakerModel): boolean => m.containersUnknown === undefined && m.containers.every((c) => c.hostname?.value !== undefined);
    const allKnown = direct.length > 0 && direct.every(known);
    const declared = direct.flatMap((m) => m.containers.map((c) => c.hostname?.value).filter((h): h is string => h !== undefined));
    const arns = direct.length > 0 ? direct.flatMap((m) => endpointArnsForModel(m, input).map((e) => e.arn)) : [input.endpointName !== undefined ? endpointArnFor(input.endpointName) : undefined];

    for (const { policy, s } of keyStatements) {
      const label = statementLabel(policy, s);

      // Resource that cannot match the (known) endpoint.
      const knownArns = arns.filter((a): a is string => a !== undefined);
      const resourceList = s.resource ?? s.notResource;
      if (knownArns.length > 0 && knownArns.length === arns.length && resourceList && knownArns.every((a) => resourceApplies(s, a) === false)) {
        report({
          message: `${label}: ${s.resource ? 'Resource' : 'NotResource'} cannot match endpoint ${knownArns.map((a) => a.replace(/^.*endpoint\//, '')).join(', ')}, so its TargetContainerHostname condition never takes effect`,
          location: resourceList.location,
          help: 'Use `arn:aws:sagemaker:<region>:<account>:endpoint/<endpoint-name>` (SageMaker lower-cases endpoint names in ARNs).',
        });
      }

      for (const c of hostnameConditions(s)) {
        const op = parseOperator(c.operator);
        if (!STRING_BASES.has(op.base) && op.base !== 'Null') {
          report({ message: `${label}: ${c.operator} cannot compare sagemaker:TargetContainerHostname, a string key; use StringEquals or StringLike`, location: c.operatorLocation });
          continue;
        }

        // Suspicious operator choices.
        if (op.qualifier === 'ForAllValues' && s.effect === 'Allow') {
          report({
            severity: 'warning',
            message: `${label}: ForAllValues is true when sagemaker:TargetContainerHostname is absent, so this Allow also grants requests without a target container; the key is single-valued, drop the qualifier`,
            location: c.operatorLocation,
          });
        }
        if ((op.base === 'StringEquals' || op.base === 'StringNotEquals' || op.base.endsWith('IgnoreCase')) && c.values.some((v) => v.value !== undefined && /[*?]/.test(v.value.replace(/\$\{[*?$]\}/g, '')))) {
          report({
            severity: 'warning',
            message: `${label}: ${c.operator} compares literally, so "*" and "?" in its values are not wildcards; use ${op.base.includes('Not') ? 'StringNotLike' : 'StringLike'}`,
            location: c.location,
          });
        }

        // On endpoints without direct invocation the key is absent.
        if (input.models.length > 0 && direct.length === 0 && input.models.every((m) => m.effectiveMode === 'Serial')) {
          const whenAbsent = conditionMatches(c, { policies: [], endpointArn: undefined, targetContainerHostname: undefined });
          if (s.effect === 'Allow' && whenAbsent === false) {
            report({
              message: `${label}: this Allow requires sagemaker:TargetContainerHostname, which requests to ${input.models.map((m) => m.name).join(', ')} never carry (InferenceExecutionConfig.Mode is ${input.models.some((m) => m.mode) ? 'Serial' : 'not set, so Serial'}); the statement never applies`,
              location: c.location,
              help: 'Set `InferenceExecutionConfig: { Mode: Direct }` on the model, or drop the condition.',
            });
          } else if (s.effect === 'Deny' && whenAbsent === true && op.base !== 'Null') {
            report({
              severity: 'warning',
              message: `${label}: ${c.operator} is true when sagemaker:TargetContainerHostname is absent, so this Deny blocks every request to ${input.models.map((m) => m.name).join(', ')} (not in Direct mode)`,
              location: c.location,
            });
          }
        }

        // Values that match no declared hostname.
        if (allKnown && op.base !== 'Null') {
          for (const v of c.values) {
            if (v.value === undefined) continue;
            const pattern = v.value;
            const matchOne = (h: string, ignoreCase: boolean): boolean | null =>
              isLikeOperator(c.operator) ? likeMatch(pattern, h, ignoreCase) : ignoreCase || op.base.endsWith('IgnoreCase') ? pattern.toLowerCase() === h.toLowerCase() : pattern === h;
            const hits = declared.map((h) => matchOne(h, false));
            if (hits.some((x) => x !== false)) continue;
            const caseHit = declared.find((h) => matchOne(h, true) === true);
            report({
              message: `${label}: ${c.operator} value ${JSON.stringify(pattern)} matches no container hostname (${declared.join(', ')})`,
              location: v.location,
              help: caseHit ? `String comparison is case-sensitive: ${JSON.stringify(pattern)} matches ${JSON.stringify(caseHit)} only ignoring case.` : 'Fix the value or remove it.',
            });
          }
        }

        // Explicitly allowed hostnames that a Deny removes.
        if (s.effect === 'Allow' && POSITIVE.has(op.base) && !op.qualifier) {
          const sets = invokePolicySets(input.policySets).filter((set) => set.policies.includes(policy));
          for (const v of c.values) {
            if (v.value === undefined) continue;
            if (isLikeOperator(c.operator) && /[*?]/.test(v.value)) continue;
            const hostname = v.value;
            for (const arn of arns) {
              const req = { policies: [policy], endpointArn: arn, targetContainerHostname: hostname };
              if (statementApplies(s, req) !== true) continue;
              const set = sets.find((st) => evaluateInvoke({ ...req, policies: st.policies }).decision === 'explicit-deny');
              if (!set) continue;
              const d = evaluateInvoke({ ...req, policies: set.policies });
              report({
                message: `${label} names ${JSON.stringify(hostname)} explicitly, but ${formatStatementRef(d.statement!)} (line ${d.statement!.location.line ?? '?'}) denies it: the Allow has no effect for that hostname`,
                location: v.location,
                help: 'Narrow the Deny pattern, or remove the hostname from the Allow if it is meant to be denied.',
              });
              break;
            }
          }
        }
      }
    }

    // Hostnames no Allow reaches.
    const sets = invokePolicySets(input.policySets);
    for (const m of direct) {
      if (m.containersUnknown !== undefined) continue;
      for (const c of m.containers) {
        const h = c.hostname?.value;
        if (h === undefined) continue;
        const reached = endpointArnsForModel(m, input).some((ep) =>
          sets.some((set) => {
            const d = evaluateInvoke({ policies: set.policies, endpointArn: ep.arn, targetContainerHostname: h }).decision;
            return d === 'allow' || d === 'unknown';
          }),
        );
        if (!reached) {
          const denied = sets
            .map((set) => evaluateInvoke({ policies: set.policies, endpointArn: endpointArnsForModel(m, input)[0].arn, targetContainerHostname: h }))
            .find((d) => d.decision === 'explicit-deny');
          report({
            message: `no policy in the input allows invoking container ${JSON.stringify(h)} of model ${m.name}${denied ? ` (${denied.reason})` : ' (no Allow statement matches it)'}`,
            location: c.hostname!.location,
            help: 'Add the hostname to an Allow condition, or remove the container if nobody should call it.',
          });
        }
      }
    }
  },
});
