import { describeRuleFixtures } from '../../test/support/rule-fixtures.js';

describeRuleFixtures('bind-to-port-env', { minBad: 10, minGood: 9 });
