import { describe, expect, it } from 'vitest';
import { brief, ruleFindings } from '../../test/endpoint/harness.js';

const ID = 'endpoint-hostnames';

describe(ID, () => {
  it('reports a container without ContainerHostname in Direct mode', async () => {
    const got = await ruleFindings(ID, ['bad-missing-hostname.json']);
    expect(brief(got)).toEqual([[ID, 'bad-missing-hostname.json', 6, 'error']]);
    expect(got[0].message).toContain('container #1');
  });

  it('reports hostnames that do not match the AWS pattern', async () => {
    const got = await ruleFindings(ID, ['bad-invalid-hostnames.yaml']);
    expect(brief(got)).toEqual([
      [ID, 'bad-invalid-hostnames.yaml', 5, 'error'],
      [ID, 'bad-invalid-hostnames.yaml', 7, 'error'],
      [ID, 'bad-invalid-hostnames.yaml', 9, 'error'],
      [ID, 'bad-invalid-hostnames.yaml', 11, 'error'],
    ]);
    expect(got[0].message).toContain('"model_a"');
  });

  it('reports duplicates, including case-only differences', async () => {
    const got = await ruleFindings(ID, ['bad-duplicate-hostnames.template.yaml']);
    expect(brief(got)).toEqual([
      [ID, 'bad-duplicate-hostnames.template.yaml', 11, 'error'],
      [ID, 'bad-duplicate-hostnames.template.yaml', 13, 'error'],
    ]);
    expect(got[0].message).toContain('duplicate ContainerHostname "ranker"');
    expect(got[1].message).toContain('only in case');
  });

  it('is quiet on good inputs', async () => {
    expect(await ruleFindings(ID, ['good-direct.json'])).toEqual([]);
    expect(await ruleFindings(ID, ['good-serial-without-hostnames.yaml'])).toEqual([]);
    expect(await ruleFindings(ID, ['good-intrinsic-hostnames.template.yaml'])).toEqual([]);
  });
});
