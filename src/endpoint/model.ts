import type { Location } from '../model/location.js';

/**
 * What `smcl endpoint` reads: SageMaker models (CreateModel requests or `AWS::SageMaker::Model`
 * resources), the endpoints serving them, and IAM policies, from one or more input files.
 * Rules read only this; they cannot tell a CreateModel JSON from a CloudFormation template.
 */

/**
 * A string value of the input with where it was written.
 * `value` is undefined when it is not known statically: `unknown` then says why
 * (a CloudFormation intrinsic such as `!Ref X` / `Fn::Sub`, or a non-string value).
 */
export interface EValue {
  value?: string;
  unknown?: string;
  location: Location;
}

export type InferenceMode = 'Serial' | 'Direct';

export interface EnvEntry {
  name: string;
  nameLocation: Location;
  value: EValue;
}

export interface EndpointContainer {
  /** 0-based position in `Containers` (0 for `PrimaryContainer`). */
  index: number;
  hostname?: EValue;
  image?: EValue;
  modelDataUrl?: EValue;
  /** The container's own `Mode` (SingleModel / MultiModel), not the inference mode. */
  containerMode?: EValue;
  environment: EnvEntry[];
  /** Set when `Environment` is an intrinsic or otherwise not a literal map. */
  environmentUnknown?: string;
  location: Location;
}

export interface SageMakerModel {
  /** Where the model was read from. */
  source: 'create-model' | 'cloudformation';
  /** Printable name: the literal ModelName, the CloudFormation logical ID, or the file. */
  name: string;
  logicalId?: string;
  modelName?: EValue;
  containers: EndpointContainer[];
  /** Location of the `Containers` (or `PrimaryContainer`) key. */
  containersLocation: Location;
  /** Set when `Containers` is an intrinsic: the container list is not known. */
  containersUnknown?: string;
  /** True when the model uses `PrimaryContainer` instead of `Containers`. */
  primaryContainer?: boolean;
  /** `InferenceExecutionConfig.Mode` as written; absent when not set (SageMaker then uses Serial). */
  mode?: EValue;
  /** The mode SageMaker will use: Serial when not set, `unknown` when an intrinsic. */
  effectiveMode: InferenceMode | 'unknown';
  location: Location;
  /** Names of endpoints known to serve this model (CloudFormation Endpoint → EndpointConfig → Model chain). */
  endpointNames: EValue[];
}

export interface StringList {
  values: EValue[];
  location: Location;
  /** Set when the whole list is an intrinsic. */
  unknown?: string;
}

export interface PolicyCondition {
  /** As written, e.g. `ForAnyValue:StringLike`, `StringEqualsIfExists`. */
  operator: string;
  /** As written; condition keys are case-insensitive, compare with `sameKey`. */
  key: string;
  values: EValue[];
  /** Location of the condition key. */
  location: Location;
  operatorLocation: Location;
  /** Set when the value list is an intrinsic. */
  unknown?: string;
}

export type Effect = 'Allow' | 'Deny';

export interface PolicyStatement {
  /** 0-based position in `Statement`. */
  index: number;
  sid?: string;
  /** Undefined when the Effect is an intrinsic. */
  effect?: Effect;
  action?: StringList;
  notAction?: StringList;
  resource?: StringList;
  notResource?: StringList;
  conditions: PolicyCondition[];
  /** Set when `Condition` (or a part of it) is not a literal map. */
  conditionUnknown?: string;
  location: Location;
}

export interface PolicyDocument {
  /** Printable name: the policy file, `<LogicalId>` or `<RoleLogicalId>/<PolicyName>`. */
  name: string;
  file: string;
  statements: PolicyStatement[];
  location: Location;
  /** Set when the statement list is an intrinsic. */
  unknown?: string;
}

/** The policies that apply together to one principal (an IAM role, or a standalone policy file). */
export interface PolicySet {
  name: string;
  location: Location;
  policies: PolicyDocument[];
}

export interface EndpointResource {
  logicalId: string;
  endpointName?: EValue;
  /** Logical IDs of the models served (through the EndpointConfig), when known. */
  modelLogicalIds: string[];
  location: Location;
}

export type SourceKind = 'create-model' | 'cloudformation' | 'iam-policy';

export interface SourceFile {
  file: string;
  kind: SourceKind;
  text: string;
}

export interface EndpointModel {
  /** The input files, in the order given. */
  sources: SourceFile[];
  models: SageMakerModel[];
  policies: PolicyDocument[];
  /** Policies grouped by principal (role); a policy attached to several roles is in each of their sets. */
  policySets: PolicySet[];
  endpoints: EndpointResource[];
  /** Endpoint name given on the command line (`--endpoint-name`); used when the input does not name the endpoint. */
  endpointName?: string;
}

export const TARGET_CONTAINER_HOSTNAME_KEY = 'sagemaker:TargetContainerHostname';
export const INVOKE_ENDPOINT_ACTION = 'sagemaker:InvokeEndpoint';

/** IAM condition keys are case-insensitive. */
export function sameKey(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export function emptyEndpointModel(): EndpointModel {
  return { sources: [], models: [], policies: [], policySets: [], endpoints: [] };
}

/** Combines per-file models into one input (policies in one file apply to models in another). */
export function mergeEndpointModels(parts: EndpointModel[], endpointName?: string): EndpointModel {
  const out = emptyEndpointModel();
  for (const p of parts) {
    out.sources.push(...p.sources);
    out.models.push(...p.models);
    out.policies.push(...p.policies);
    out.policySets.push(...p.policySets);
    out.endpoints.push(...p.endpoints);
  }
  if (endpointName !== undefined) out.endpointName = endpointName;
  return out;
}

/** Literal value of a statement's Sid or `#index`, for messages. */
export function statementLabel(policy: PolicyDocument, s: PolicyStatement): string {
  return `${policy.name} statement ${s.sid !== undefined ? `"${s.sid}"` : `#${s.index}`}`;
}
