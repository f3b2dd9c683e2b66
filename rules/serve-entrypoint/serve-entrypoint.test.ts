import { describeRuleFixtures } from '../../test/support/rule-fixtures.js';

describeRuleFixtures('serve-entrypoint', { minBad: 9, minGood: 9 });
