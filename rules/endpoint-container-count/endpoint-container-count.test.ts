import { describe, expect, it } from 'vitest';
import { brief, ruleFindings } from '../../test/endpoint/harness.js';

const ID = 'endpoint-container-count';

describe(ID, () => {
  it('reports the first container over the default limit of 15', async () => {
    const got = await ruleFindings(ID, ['bad-16-containers.json']);
    expect(brief(got)).toEqual([[ID, 'bad-16-containers.json', 21, 'error']]);
    expect(got[0].message).toContain('16 containers');
    expect(got[0].message).toContain('at most 15');
  });

  it('accepts 15 containers by default, and honours maxContainers (e.g. the older limit of 5)', async () => {
    expect(await ruleFindings(ID, ['good-15-containers.json'])).toEqual([]);
    expect(await ruleFindings(ID, ['good-6-containers.json'])).toEqual([]);
    const got = await ruleFindings(ID, ['good-6-containers.json'], { options: { [ID]: { maxContainers: 5 } } });
    expect(brief(got)).toEqual([[ID, 'good-6-containers.json', 11, 'error']]);
  });

  it('reports Mode Direct with fewer than 2 containers at the Mode', async () => {
    expect(brief(await ruleFindings(ID, ['bad-direct-single-container.yaml']))).toEqual([[ID, 'bad-direct-single-container.yaml', 5, 'error']]);
    const got = await ruleFindings(ID, ['bad-direct-primary-container.template.yaml']);
    expect(brief(got)).toEqual([[ID, 'bad-direct-primary-container.template.yaml', 8, 'error']]);
    expect(got[0].message).toContain('PrimaryContainer');
  });

  it('is quiet on good inputs and unknown container lists', async () => {
    expect(await ruleFindings(ID, ['good-serial-single-container.yaml'])).toEqual([]);
    expect(await ruleFindings(ID, ['good-containers-from-intrinsic.template.yaml'])).toEqual([]);
  });

  it('can be turned off', async () => {
    expect(await ruleFindings(ID, ['bad-16-containers.json'], { severity: { [ID]: 'off' } })).toEqual([]);
  });
});
