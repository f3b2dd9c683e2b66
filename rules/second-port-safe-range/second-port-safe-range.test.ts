import { describe, expect, it } from 'vitest';
import { describeRuleFixtures } from '../../test/support/rule-fixtures.js';
import { safeRangeProblem } from './index.js';

describeRuleFixtures('second-port-safe-range', { minBad: 9, minGood: 9 });

describe('safeRangeProblem', () => {
  it.each([
    ['9000-9999', undefined],
    ['10-99', undefined],
    ['9000', 'not an inclusive range'],
    ['9-99', 'multi-digit'],
    ['9999-9000', 'low end is above'],
    ['60000-70000', '1-65535'],
    [' 9000-9100 ', undefined],
  ])('%s', (value, problem) => {
    const got = safeRangeProblem(value);
    if (problem === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(problem);
  });
});
