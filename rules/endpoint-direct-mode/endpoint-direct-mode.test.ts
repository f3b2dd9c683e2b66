import { describe, expect, it } from 'vitest';
import { brief, ruleFindings } from '../../test/endpoint/harness.js';

const ID = 'endpoint-direct-mode';

describe(ID, () => {
  it('warns when Mode is missing but a policy in the template uses TargetContainerHostname', async () => {
    const got = await ruleFindings(ID, ['bad-mode-missing.template.yaml']);
    expect(brief(got)).toEqual([[ID, 'bad-mode-missing.template.yaml', 7, 'warning']]);
    expect(got[0].message).toContain('CallerRole/invoke-churn');
  });

  it('warns across files: a CreateModel request and a policy given together', async () => {
    const got = await ruleFindings(ID, ['bad-mode-missing-create-model.json', 'invoke-churn-policy.json']);
    expect(brief(got)).toEqual([[ID, 'bad-mode-missing-create-model.json', 4, 'warning']]);
    // Alone, the model gives no reason to want Direct mode.
    expect(await ruleFindings(ID, ['bad-mode-missing-create-model.json'])).toEqual([]);
  });

  it('warns when a Direct model looks like an inference pipeline', async () => {
    const got = await ruleFindings(ID, ['bad-pipeline-in-direct-mode.yaml']);
    expect(brief(got)).toEqual([[ID, 'bad-pipeline-in-direct-mode.yaml', 4, 'warning']]);
    expect(got[0].message).toContain('preprocess → … → postprocess');
    const env = await ruleFindings(ID, ['bad-pipeline-env-chain.json']);
    expect(brief(env)).toEqual([[ID, 'bad-pipeline-env-chain.json', 4, 'warning']]);
    expect(env[0].message).toContain('SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT');
  });

  it('is quiet on good inputs', async () => {
    expect(await ruleFindings(ID, ['good-direct-independent-models.json', 'invoke-churn-policy.json'])).toEqual([]);
    expect(await ruleFindings(ID, ['good-serial-pipeline.yaml'])).toEqual([]);
  });
});
