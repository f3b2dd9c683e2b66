import { describeRuleFixtures } from '../../test/support/rule-fixtures.js';

describeRuleFixtures('target-stage', { minBad: 3, minGood: 3 });
