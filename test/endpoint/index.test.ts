import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { endpointRules, evaluateInvoke, isEndpointFile, lintEndpointFiles, policyFromObject } from '../../src/endpoint/index.js';
import { ROOT } from './harness.js';

const fx = (rule: string, file: string): string => path.relative(process.cwd(), path.join(ROOT, 'rules', rule, 'fixtures', file));

describe('lintEndpointFiles', () => {
  it('lints files as one input and splits findings per file, with source texts', async () => {
    const model = fx('endpoint-direct-mode', 'bad-mode-missing-create-model.json');
    const policy = fx('endpoint-direct-mode', 'invoke-churn-policy.json');
    const { results, matrix } = await lintEndpointFiles([model, policy]);
    expect(results.map((r) => r.subject)).toEqual([model, policy]);
    expect(results[0].findings.map((f) => [f.ruleId, f.subject, f.location.file, f.location.line])).toEqual([['endpoint-direct-mode', model, model, 4]]);
    expect(results[0].findings[0].docsUrl).toMatch(/rules\/endpoint-direct-mode\/README\.md$/);
    // The same mistake, seen from the policy: its Allow needs a key Serial endpoints never send.
    expect(results[1].findings.map((f) => [f.ruleId, f.subject, f.location.line])).toEqual([['iam-target-container-hostname', policy, 8]]);
    expect([...results[0].sourceTexts.keys()]).toEqual([model]);
    expect(results[0].sourceTexts.get(model)).toContain('"two-models"');
    expect(matrix.tables).toEqual([]); // Serial model: no direct invocation
  });

  it('applies severity settings', async () => {
    const file = fx('endpoint-container-env', 'bad-sets-provided-vars.json');
    const { results } = await lintEndpointFiles([file], { severity: { 'endpoint-container-env': 'warning' } });
    expect(results[0].findings.map((f) => f.severity)).toEqual(['warning', 'warning']);
  });

  it('throws InputError for missing files', async () => {
    await expect(lintEndpointFiles(['nope.json'])).rejects.toThrow(/^nope\.json: cannot read file: ENOENT$/);
  });

  it('exports the rules with endpoint target, docs and README', async () => {
    const fs = await import('node:fs');
    expect(endpointRules.map((r) => r.meta.id)).toEqual(['endpoint-container-count', 'endpoint-hostnames', 'endpoint-direct-mode', 'endpoint-container-env', 'iam-target-container-hostname']);
    for (const r of endpointRules) {
      expect(r.meta.target).toBe('endpoint');
      expect(fs.existsSync(path.join(ROOT, 'rules', r.meta.id, 'README.md'))).toBe(true);
    }
  });

  it('evaluateInvoke works on plain policy objects (for the emulator)', () => {
    const policies = [policyFromObject({ Statement: [{ Effect: 'Allow', Action: 'sagemaker:InvokeEndpoint', Resource: '*', Condition: { StringLike: { 'sagemaker:TargetContainerHostname': 'a*' } } }] }, 'inline')];
    expect(evaluateInvoke({ policies, endpointArn: 'arn:aws:sagemaker:us-east-1:1:endpoint/e', targetContainerHostname: 'ab' }).decision).toBe('allow');
    expect(evaluateInvoke({ policies, endpointArn: 'arn:aws:sagemaker:us-east-1:1:endpoint/e', targetContainerHostname: undefined }).decision).toBe('implicit-deny');
    expect(isEndpointFile('x.yaml', 'Containers: []')).toBe(true);
  });
});
