import { describe, expect, it } from 'vitest';
import { brief, ruleFindings } from '../../test/endpoint/harness.js';
import { portRangeProblem } from './index.js';

const ID = 'endpoint-container-env';

describe(ID, () => {
  it('reports Environment that sets the variables SageMaker provides', async () => {
    const got = await ruleFindings(ID, ['bad-sets-provided-vars.json']);
    expect(brief(got)).toEqual([
      [ID, 'bad-sets-provided-vars.json', 9, 'error'],
      [ID, 'bad-sets-provided-vars.json', 16, 'error'],
    ]);
    expect(got[0].message).toContain('sets SAGEMAKER_BIND_TO_PORT');
    expect(got[1].message).toContain('sets SAGEMAKER_SAFE_PORT_RANGE');
  });

  it('also reports malformed values', async () => {
    const got = await ruleFindings(ID, ['bad-malformed-values.template.yaml']);
    expect(brief(got)).toEqual([
      [ID, 'bad-malformed-values.template.yaml', 10, 'error'],
      [ID, 'bad-malformed-values.template.yaml', 10, 'error'],
      [ID, 'bad-malformed-values.template.yaml', 14, 'error'],
      [ID, 'bad-malformed-values.template.yaml', 14, 'error'],
      [ID, 'bad-malformed-values.template.yaml', 15, 'error'],
      [ID, 'bad-malformed-values.template.yaml', 15, 'error'],
      [ID, 'bad-malformed-values.template.yaml', 19, 'error'],
    ]);
    const malformed = got.filter((g) => g.message.includes('malformed')).map((g) => g.message);
    expect(malformed).toHaveLength(3);
    expect(malformed[0]).toContain('low end 9000 is greater than the high end 8000');
    expect(malformed[1]).toContain('multi-digit');
    expect(malformed[2]).toContain('expected a port number');
  });

  it('checks the XXXX-YYYY format', () => {
    expect(portRangeProblem('20000-20999')).toBeUndefined();
    expect(portRangeProblem('10-10')).toBeUndefined();
    expect(portRangeProblem('8080')).toMatch(/XXXX-YYYY/);
    expect(portRangeProblem('1000-2000-3000')).toMatch(/XXXX-YYYY/);
    expect(portRangeProblem(' 1000-2000')).toMatch(/XXXX-YYYY/);
    expect(portRangeProblem('5-2000')).toMatch(/multi-digit/);
    expect(portRangeProblem('60000-65536')).toMatch(/65535/);
    expect(portRangeProblem('3000-2000')).toMatch(/greater/);
  });

  it('is quiet on good inputs', async () => {
    expect(await ruleFindings(ID, ['good-environment.yaml'])).toEqual([]);
    expect(await ruleFindings(ID, ['good-environment-intrinsic.template.yaml'])).toEqual([]);
  });
});
