import { describeRuleFixtures } from '../../test/support/rule-fixtures.js';

describeRuleFixtures('ping-invocations-handlers', { minBad: 9, minGood: 9 });
