import { describe, expect, it } from 'vitest';
import { brief, ruleFindings } from '../../test/endpoint/harness.js';

const ID = 'iam-target-container-hostname';
const e = (file: string, line: number, severity = 'error'): [string, string, number, string] => [ID, file, line, severity];

describe(ID, () => {
  describe('the AWS reference policies', () => {
    it('allow customIps*/common*: the other containers are reached by no Allow', async () => {
      const got = await ruleFindings(ID, ['direct-model.json', 'reference-allow-prefixes.json']);
      expect(brief(got)).toEqual([e('direct-model.json', 8), e('direct-model.json', 9)]);
      expect(got[0].message).toContain('"special-x"');
      expect(got[1].message).toContain('"other"');
    });

    it('allow * + deny special*: special-x is denied', async () => {
      const got = await ruleFindings(ID, ['direct-model.json', 'reference-allow-all-deny-special.json']);
      expect(brief(got)).toEqual([e('direct-model.json', 8)]);
      expect(got[0].message).toMatch(/denied by .*reference-allow-all-deny-special\.json #1/);
    });

    it('both principals together still leave special-x unreachable', async () => {
      const got = await ruleFindings(ID, ['direct-model.json', 'reference-allow-prefixes.json', 'reference-allow-all-deny-special.json']);
      expect(brief(got)).toEqual([e('direct-model.json', 8)]);
    });

    it('is quiet when every hostname is allowed and every pattern is used', async () => {
      expect(await ruleFindings(ID, ['good-model.json', 'reference-allow-prefixes.json'])).toEqual([]);
      expect(await ruleFindings(ID, ['good-model.json', 'reference-allow-prefixes.json'], { endpointName: 'endpoint_name' })).toEqual([]);
    });

    it('reports a Resource that cannot match the endpoint named by the option', async () => {
      const got = await ruleFindings(ID, ['good-model.json', 'reference-allow-prefixes.json'], { options: { [ID]: { endpointName: 'other' } } });
      expect(brief(got)).toEqual([e('good-model.json', 6), e('good-model.json', 7), e('reference-allow-prefixes.json', 9)]);
      expect(got[2].message).toContain('Resource cannot match endpoint other');
    });
  });

  it('reports patterns that match no hostname (case-sensitive) and literal wildcards in StringEquals', async () => {
    const got = await ruleFindings(ID, ['direct-model.json', 'bad-dead-patterns.json']);
    const policy = got.filter((g) => g.file === 'bad-dead-patterns.json');
    expect(brief(policy)).toEqual([e('bad-dead-patterns.json', 11), e('bad-dead-patterns.json', 11), e('bad-dead-patterns.json', 14, 'warning'), e('bad-dead-patterns.json', 14)]);
    expect(policy[0].message).toContain('"CustomIps*" matches no container hostname');
    expect(policy[1].message).toContain('"legacy-*"');
    expect(policy[2].message).toContain('compares literally');
    expect(policy[3].message).toContain('"common*" matches no container hostname');
    // The two conditions are ANDed and the StringEquals one never matches: nothing is reachable.
    expect(brief(got.filter((g) => g.file === 'direct-model.json'))).toEqual([6, 7, 8, 9].map((l) => e('direct-model.json', l)));
  });

  it('reports an Allow that names a hostname a Deny removes, with or without a model', async () => {
    const alone = await ruleFindings(ID, ['bad-deny-removes-allowed.json']);
    expect(brief(alone)).toEqual([e('bad-deny-removes-allowed.json', 11)]);
    expect(alone[0].message).toContain('names "special-x" explicitly, but');
    expect(alone[0].message).toContain('"DenySpecial" (line 15)');
    const got = await ruleFindings(ID, ['direct-model.json', 'bad-deny-removes-allowed.json']);
    expect(brief(got)).toEqual([e('direct-model.json', 8), e('bad-deny-removes-allowed.json', 11)]);
  });

  it('reports conditions on the key for a model without direct invocation', async () => {
    const got = await ruleFindings(ID, ['bad-serial-endpoint.template.yaml']);
    expect(brief(got)).toEqual([e('bad-serial-endpoint.template.yaml', 28), e('bad-serial-endpoint.template.yaml', 35, 'warning')]);
    expect(got[0].message).toContain('"OnlyModel": this Allow requires sagemaker:TargetContainerHostname');
    expect(got[1].message).toContain('this Deny blocks every request');
  });

  it('reports a Resource for another endpoint and ForAllValues on the single-valued key', async () => {
    const got = await ruleFindings(ID, ['bad-resource.template.yaml']);
    expect(brief(got)).toEqual([e('bad-resource.template.yaml', 30), e('bad-resource.template.yaml', 38, 'warning')]);
    expect(got[0].message).toContain('"WrongEndpoint": Resource cannot match endpoint fraud-endpoint');
    expect(got[1].message).toContain('ForAllValues');
  });

  it('is quiet on a template where roles split the containers and unknown keys leave the outcome open', async () => {
    expect(await ruleFindings(ID, ['good-direct.template.yaml'])).toEqual([]);
  });
});
