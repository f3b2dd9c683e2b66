/**
 * Every rule smcl knows, composed in one place (like hadolint's rule list): adding a rule means
 * adding its folder under rules/ and one line here. The order is the order of `smcl rules`.
 */
import type { ContainerModel } from '../src/model/container-model.js';
import type { Rule } from '../src/engine/types.js';
import acceptBindToPortLabel from './accept-bind-to-port-label/index.js';

export const containerRules: Rule<ContainerModel>[] = [acceptBindToPortLabel];

/** Rules over endpoint definitions (CreateModel, CloudFormation, IAM): typed by their own model. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const endpointRules: Rule<any>[] = [];

export const allRules = (): Array<Rule<unknown>> => [...containerRules, ...endpointRules] as Array<Rule<unknown>>;
