/**
 * Every rule smcl knows, composed in one place (like hadolint's rule list): adding a rule means
 * adding its folder under rules/ and one line here. The order is the order of `smcl rules`.
 */
import type { ContainerModel } from '../src/model/container-model.js';
import type { Rule, RuleMeta } from '../src/engine/types.js';
import acceptBindToPortLabel from './accept-bind-to-port-label/index.js';
import bindToPortEnv from './bind-to-port-env/index.js';
import pingInvocationsHandlers from './ping-invocations-handlers/index.js';
import secondPortSafeRange from './second-port-safe-range/index.js';
import serveEntrypoint from './serve-entrypoint/index.js';
import imageArchitecture from './image-architecture/index.js';
import imageManifest from './image-manifest/index.js';
import incompleteInput from './incomplete-input/index.js';
import targetStage from './target-stage/index.js';
import endpointContainerCount from './endpoint-container-count/index.js';
import endpointContainerEnv from './endpoint-container-env/index.js';
import endpointDirectMode from './endpoint-direct-mode/index.js';
import endpointHostnames from './endpoint-hostnames/index.js';
import iamTargetContainerHostname from './iam-target-container-hostname/index.js';
import type { EndpointModel } from '../src/endpoint/model.js';

export const containerRules: Rule<ContainerModel>[] = [acceptBindToPortLabel, bindToPortEnv, secondPortSafeRange, pingInvocationsHandlers, serveEntrypoint, imageArchitecture, imageManifest, targetStage, incompleteInput];

/** Rules over endpoint definitions (CreateModel, CloudFormation, IAM), in the order they run. */
export const endpointRules: Rule<EndpointModel>[] = [endpointContainerCount, endpointHostnames, endpointDirectMode, endpointContainerEnv, iamTargetContainerHostname];

export const allRules = (): Array<Rule<unknown>> => [...containerRules, ...endpointRules] as Array<Rule<unknown>>;

/** Metadata of every rule: what config validation and SARIF rule tables need, for any command. */
export const ruleMetas = (): RuleMeta[] => allRules().map((r) => r.meta);

/** Union of the files that container rules read: image sources keep only these in memory. */
export const wantedFileGlobs = (): string[] => [...new Set(containerRules.flatMap((r) => r.meta.files ?? []))];
