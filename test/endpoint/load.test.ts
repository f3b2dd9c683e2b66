import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/engine/types.js';
import { isEndpointFile, loadEndpointFile, loadEndpointText } from '../../src/endpoint/load.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('loadEndpointText', () => {
  it('reads a CreateModel JSON request with locations', () => {
    const text = `{
  "ModelName": "m",
  "InferenceExecutionConfig": { "Mode": "Direct" },
  "Containers": [
    { "ContainerHostname": "a", "Image": "img:1", "Environment": { "K": "v" } },
    { "ContainerHostname": "b", "Image": "img:2", "ModelDataUrl": "s3://b/m.tar.gz" }
  ]
}`;
    const m = loadEndpointText(text, 'cm.json');
    expect(m.sources[0].kind).toBe('create-model');
    const model = m.models[0];
    expect(model.name).toBe('m');
    expect(model.effectiveMode).toBe('Direct');
    expect(model.mode?.location).toMatchObject({ file: 'cm.json', line: 3, column: 41 });
    expect(model.containers.map((c) => c.hostname?.value)).toEqual(['a', 'b']);
    expect(model.containers[1].hostname?.location).toMatchObject({ line: 6, column: 28 });
    expect(model.containers[0].environment[0]).toMatchObject({ name: 'K', nameLocation: { line: 5, column: 68 }, value: { value: 'v' } });
    expect(model.containers[1].modelDataUrl?.value).toBe('s3://b/m.tar.gz');
  });

  it('defaults the mode to Serial and reads PrimaryContainer', () => {
    const m = loadEndpointText('PrimaryContainer:\n  Image: x\n', 'cm.yaml').models[0];
    expect(m.effectiveMode).toBe('Serial');
    expect(m.mode).toBeUndefined();
    expect(m.primaryContainer).toBe(true);
    expect(m.containers).toHaveLength(1);
  });

  it('parses CloudFormation YAML with !Ref/!Sub/!GetAtt, keeping intrinsics unknown', async () => {
    const m = await loadEndpointFile(fixture('template.yaml'));
    expect(m.sources[0].kind).toBe('cloudformation');
    expect(m.models).toHaveLength(1);
    const model = m.models[0];
    expect(model.logicalId).toBe('Model');
    expect(model.effectiveMode).toBe('Direct');
    expect(model.containers.map((c) => c.hostname?.value)).toEqual(['customIps1', 'common-a', undefined]);
    expect(model.containers[2].hostname?.unknown).toBe("!Sub ${AWS::StackName}-x");
    expect(model.containers[0].image).toMatchObject({ unknown: '!Ref ImageUri', location: { line: 15 } });
    expect(model.endpointNames.map((e) => e.value)).toEqual(['My-Endpoint']);
    expect(m.endpoints[0]).toMatchObject({ logicalId: 'Endpoint', modelLogicalIds: ['Model'] });
    // Role inline policy + AWS::IAM::Policy attached to the same role form one set.
    expect(m.policySets.map((s) => [s.name, s.policies.map((p) => p.name)])).toEqual([['CallerRole', ['CallerRole/invoke', 'DenyPolicy']]]);
    const invoke = m.policies[0].statements[0];
    expect(invoke.sid).toBe('InvokeIps');
    expect(invoke.resource?.values[0].value).toBe('arn:*:sagemaker:*:*:endpoint/My-Endpoint');
    const deny = m.policies[1].statements[0];
    expect(deny.conditions[0]).toMatchObject({ operator: 'StringEquals', key: 'sagemaker:TargetContainerHostname', values: [], unknown: '!Ref DeniedHost' });
  });

  it('reads long-form intrinsics in JSON templates', () => {
    const text = JSON.stringify({
      Resources: {
        M: { Type: 'AWS::SageMaker::Model', Properties: { Containers: { 'Fn::If': ['c', [], []] }, InferenceExecutionConfig: { Mode: { Ref: 'Mode' } } } },
      },
    }, null, 2);
    const model = loadEndpointText(text, 't.json').models[0];
    expect(model.containersUnknown).toBe('!If ...');
    expect(model.effectiveMode).toBe('unknown');
  });

  it('reports invalid JSON with file:line', () => {
    expect(() => loadEndpointText('{\n  "Containers": [\n    {"Image": "x",}\n  ]\n}\n', 'bad.json')).toThrow(InputError);
    expect(() => loadEndpointText('{\n  "Containers": [\n    {"Image": "x",}\n  ]\n}\n', 'bad.json')).toThrow(/^bad\.json:3: invalid JSON: unexpected "}"/);
    expect(() => loadEndpointText('{\n  "Statement": [\n', 'p.json')).toThrow(/^p\.json:3: invalid JSON: unexpected end of input/);
  });

  it('reports invalid YAML with file:line', () => {
    expect(() => loadEndpointText('Containers:\n  - Image: x\n   bad: [\n', 'bad.yaml')).toThrow(/^bad\.yaml:3: invalid YAML: /);
  });

  it('reports policies of the wrong shape with file:line', () => {
    expect(() => loadEndpointText('{\n  "Statement": [\n    { "Effect": "Permit", "Action": "*", "Resource": "*" }\n  ]\n}', 'p.json')).toThrow(
      'p.json:3: Effect must be "Allow" or "Deny", not "Permit"',
    );
    expect(() => loadEndpointText('{\n  "Statement": [\n    { "Effect": "Allow", "Resource": "*" }\n  ]\n}', 'p.json')).toThrow('p.json:3: Statement #0 has neither Action nor NotAction');
    expect(() => loadEndpointText('{"Statement": "x"}', 'p.json')).toThrow('p.json:1: Statement must be an object or a list of objects');
    expect(() => loadEndpointText('{\n"Version": "2012-10-17",\n"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringLike": ["a"]}}}', 'p.json')).toThrow(
      /^p\.json:3: condition operator StringLike/,
    );
    expect(() => loadEndpointText('{"Foo": 1}', 'x.json')).toThrow('x.json:1: not a SageMaker CreateModel request, CloudFormation template or IAM policy document');
  });
});

describe('isEndpointFile', () => {
  it('detects CreateModel, templates and SageMaker policies only', () => {
    expect(isEndpointFile('m.json', '{"Containers": []}')).toBe(true);
    expect(isEndpointFile('t.yaml', 'Resources:\n  M:\n    Type: AWS::SageMaker::Model\n')).toBe(true);
    expect(isEndpointFile('t.yaml', 'Resources:\n  B:\n    Type: AWS::S3::Bucket\n')).toBe(false);
    expect(isEndpointFile('p.json', '{"Statement": [{"Effect":"Allow","Action":"sagemaker:InvokeEndpoint","Resource":"*"}]}')).toBe(true);
    expect(isEndpointFile('p.json', '{"Statement": [{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}')).toBe(false);
    expect(isEndpointFile('package.json', '{"name": "x"}')).toBe(false);
    expect(isEndpointFile('Dockerfile', 'FROM x')).toBe(false);
    expect(isEndpointFile('broken.json', '{"Containers": [')).toBe(false);
  });
});
