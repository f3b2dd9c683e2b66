import { describeRuleFixtures } from '../../test/support/rule-fixtures.js';

describeRuleFixtures('accept-bind-to-port-label', { minBad: 6, minGood: 6 });
