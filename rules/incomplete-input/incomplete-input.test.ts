import { describeRuleFixtures } from '../../test/support/rule-fixtures.js';

describeRuleFixtures('incomplete-input', { minBad: 3, minGood: 3 });
