import { describe, expect, it } from 'vitest';
import { policyFromObject } from '../../src/endpoint/load.js';
import { actionMatches, conditionMatchesValues, evaluateInvoke, likeMatch, resourceMatches } from '../../src/endpoint/iam.js';
import type { EValue } from '../../src/endpoint/model.js';

const ARN = 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/my-endpoint';
const KEY = 'sagemaker:TargetContainerHostname';
const vals = (...v: string[]): EValue[] => v.map((value) => ({ value, location: { file: 't' } }));

function policy(...statements: object[]): ReturnType<typeof policyFromObject> {
  return policyFromObject({ Version: '2012-10-17', Statement: statements }, 'p.json');
}
const allow = (extra: object = {}): object => ({ Effect: 'Allow', Action: 'sagemaker:InvokeEndpoint', Resource: ARN, ...extra });
const deny = (extra: object = {}): object => ({ Effect: 'Deny', Action: 'sagemaker:InvokeEndpoint', Resource: ARN, ...extra });
const decide = (p: ReturnType<typeof policyFromObject>, host: string | undefined, arn: string | undefined = ARN): string =>
  evaluateInvoke({ policies: [p], endpointArn: arn, targetContainerHostname: host }).decision;

describe('matching primitives', () => {
  it('StringLike wildcards are case-sensitive; * and ? work; ${*} escapes', () => {
    expect(likeMatch('customIps*', 'customIps1')).toBe(true);
    expect(likeMatch('customIps*', 'CustomIps1')).toBe(false);
    expect(likeMatch('model-?', 'model-a')).toBe(true);
    expect(likeMatch('model-?', 'model-ab')).toBe(false);
    expect(likeMatch('a${*}', 'a*')).toBe(true);
    expect(likeMatch('a${*}', 'ab')).toBe(false);
    expect(likeMatch('${aws:username}', 'x')).toBeNull();
    expect(likeMatch('a.b', 'axb')).toBe(false);
  });

  it('actions: case-insensitive wildcards', () => {
    for (const p of ['sagemaker:InvokeEndpoint', 'sagemaker:*', 'sagemaker:Invoke*', '*', 'SageMaker:invokeendpoint']) expect(actionMatches(p, 'sagemaker:InvokeEndpoint')).toBe(true);
    for (const p of ['sagemaker:InvokeEndpointAsync', 's3:*', 'sagemaker:Create*']) expect(actionMatches(p, 'sagemaker:InvokeEndpoint')).toBe(false);
  });

  it('resources: per segment, case-insensitive endpoint name, unknown segments match', () => {
    expect(resourceMatches('*', ARN)).toBe(true);
    expect(resourceMatches('arn:aws:sagemaker:*:*:endpoint/*', ARN)).toBe(true);
    expect(resourceMatches('arn:aws:sagemaker:us-east-1:123456789012:endpoint/My-Endpoint', ARN)).toBe(true);
    expect(resourceMatches('arn:aws:sagemaker:us-west-2:123456789012:endpoint/my-endpoint', ARN)).toBe(false);
    expect(resourceMatches('arn:aws:sagemaker:us-east-1:123456789012:endpoint/other', ARN)).toBe(false);
    expect(resourceMatches('arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/my-endpoint', ARN)).toBe(false);
    expect(resourceMatches('arn:aws:s3:::bucket/*', ARN)).toBe(false);
    expect(resourceMatches('arn:aws:sagemaker:region:account-id:endpoint/my-endpoint', 'arn::sagemaker:::endpoint/my-endpoint')).toBe(true);
    // Endpoint not known: anything that can name a SageMaker endpoint.
    expect(resourceMatches('arn:aws:sagemaker:region:account-id:endpoint/endpoint_name', undefined)).toBe(true);
    expect(resourceMatches('arn:aws:sagemaker:*:*:model/*', undefined)).toBe(false);
    expect(resourceMatches('arn:aws:sagemaker:*:*:*', undefined)).toBe(true);
  });

  it('conditions on an absent key follow IAM', () => {
    const absent = (op: string): boolean | null => conditionMatchesValues(op, vals('a*'), false, 'absent');
    expect(absent('StringLike')).toBe(false);
    expect(absent('StringEquals')).toBe(false);
    expect(absent('StringEqualsIgnoreCase')).toBe(false);
    expect(absent('StringLikeIfExists')).toBe(true);
    expect(absent('StringNotLike')).toBe(true);
    expect(absent('StringNotEquals')).toBe(true);
    expect(absent('ForAnyValue:StringLike')).toBe(false);
    expect(absent('ForAllValues:StringLike')).toBe(true);
    expect(conditionMatchesValues('Null', vals('true'), false, 'absent')).toBe(true);
    expect(conditionMatchesValues('Null', vals('false'), false, 'absent')).toBe(false);
    expect(conditionMatchesValues('Null', vals('true'), false, ['x'])).toBe(false);
  });

  it('conditions on a present key', () => {
    const present = (op: string, v: string[], host: string): boolean | null => conditionMatchesValues(op, vals(...v), false, [host]);
    expect(present('StringEquals', ['a', 'b'], 'b')).toBe(true);
    expect(present('StringEquals', ['a*'], 'ab')).toBe(false);
    expect(present('StringEqualsIgnoreCase', ['MODEL'], 'model')).toBe(true);
    expect(present('StringNotEquals', ['a', 'b'], 'b')).toBe(false);
    expect(present('StringNotEquals', ['a', 'b'], 'c')).toBe(true);
    expect(present('StringNotLike', ['spec*'], 'special')).toBe(false);
    expect(present('StringNotEqualsIgnoreCase', ['A'], 'a')).toBe(false);
    expect(present('ForAnyValue:StringLike', ['a*'], 'ab')).toBe(true);
    expect(present('ForAllValues:StringLike', ['a*'], 'b')).toBe(false);
    expect(present('StringLikeIfExists', ['a*'], 'b')).toBe(false);
    expect(present('NumericEquals', ['1'], '1')).toBeNull();
    expect(conditionMatchesValues('StringLike', vals('a'), true, ['b'])).toBeNull();
  });
});

describe('evaluateInvoke', () => {
  it('default deny, allow, explicit deny wins', () => {
    expect(decide(policy(), 'a')).toBe('implicit-deny');
    const p = policy(allow({ Sid: 'All' }), deny({ Sid: 'NoSpecial', Condition: { StringLike: { [KEY]: 'special*' } } }));
    expect(evaluateInvoke({ policies: [p], endpointArn: ARN, targetContainerHostname: 'a' })).toMatchObject({ decision: 'allow', statement: { sid: 'All', index: 0 } });
    expect(evaluateInvoke({ policies: [p], endpointArn: ARN, targetContainerHostname: 'special-x' })).toMatchObject({ decision: 'explicit-deny', statement: { sid: 'NoSpecial', index: 1 } });
  });

  it('Deny order does not matter and spans policies', () => {
    const a = policy(allow());
    const d = policy(deny({ Condition: { StringEquals: { [KEY]: 'x' } } }));
    expect(evaluateInvoke({ policies: [a, d], endpointArn: ARN, targetContainerHostname: 'x' }).decision).toBe('explicit-deny');
    expect(evaluateInvoke({ policies: [d, a], endpointArn: ARN, targetContainerHostname: 'y' }).decision).toBe('allow');
  });

  it('NotAction and NotResource', () => {
    expect(decide(policy({ Effect: 'Allow', NotAction: 's3:*', Resource: '*' }), 'a')).toBe('allow');
    expect(decide(policy({ Effect: 'Allow', NotAction: 'sagemaker:Invoke*', Resource: '*' }), 'a')).toBe('implicit-deny');
    expect(decide(policy({ Effect: 'Allow', Action: 'sagemaker:*', NotResource: 'arn:aws:sagemaker:*:*:endpoint/other' }), 'a')).toBe('allow');
    expect(decide(policy({ Effect: 'Allow', Action: '*', NotResource: 'arn:aws:sagemaker:*:*:endpoint/my-*' }), 'a')).toBe('implicit-deny');
  });

  it('key absent (endpoint without direct invocation)', () => {
    const p = policy(allow({ Condition: { StringLike: { [KEY]: '*' } } }));
    expect(decide(p, undefined)).toBe('implicit-deny');
    expect(decide(policy(allow({ Condition: { StringLikeIfExists: { [KEY]: 'a' } } })), undefined)).toBe('allow');
    expect(decide(policy(allow(), deny({ Condition: { StringNotLike: { [KEY]: 'a*' } } })), undefined)).toBe('explicit-deny');
  });

  it('condition keys are case-insensitive; unknown keys make the outcome unknown unless absent', () => {
    expect(decide(policy(allow({ Condition: { StringEquals: { 'SageMaker:targetcontainerhostname': 'a' } } })), 'a')).toBe('allow');
    const p = policy(allow({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }));
    expect(evaluateInvoke({ policies: [p], endpointArn: ARN, targetContainerHostname: 'a' }).decision).toBe('unknown');
    expect(evaluateInvoke({ policies: [p], endpointArn: ARN, targetContainerHostname: 'a', otherKeys: 'absent' }).decision).toBe('implicit-deny');
    const q = policy(allow({ Condition: { StringEquals: { 'aws:PrincipalTag/team': 'ml' } } }));
    expect(evaluateInvoke({ policies: [q], endpointArn: ARN, targetContainerHostname: 'a', context: { 'aws:principaltag/team': 'ml' } }).decision).toBe('allow');
  });

  it('resource mismatch never applies', () => {
    expect(decide(policy(allow({ Resource: 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/other' })), 'a')).toBe('implicit-deny');
  });
});
