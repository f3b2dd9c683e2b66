import type { Location } from '../model/location.js';
import {
  INVOKE_ENDPOINT_ACTION,
  sameKey,
  TARGET_CONTAINER_HOSTNAME_KEY,
  type EValue,
  type PolicyCondition,
  type PolicyDocument,
  type PolicyStatement,
  type StringList,
} from './model.js';

/**
 * Identity-based IAM policy evaluation for one `sagemaker:InvokeEndpoint` request, enough to
 * reason about `sagemaker:TargetContainerHostname`. Values the input does not fix (CloudFormation
 * intrinsics, policy variables, other condition keys) make results `unknown` rather than guessed.
 */

/** Three-valued logic: `null` is "cannot tell". */
export type Tri = boolean | null;

const and = (a: Tri, b: Tri): Tri => (a === false || b === false ? false : a === null || b === null ? null : true);
const or = (a: Tri, b: Tri): Tri => (a === true || b === true ? true : a === null || b === null ? null : false);
const not = (a: Tri): Tri => (a === null ? null : !a);
const some = <T>(xs: T[], f: (x: T) => Tri): Tri => xs.reduce<Tri>((acc, x) => or(acc, f(x)), false);
const every = <T>(xs: T[], f: (x: T) => Tri): Tri => xs.reduce<Tri>((acc, x) => and(acc, f(x)), true);

export interface InvokeRequest {
  policies: PolicyDocument[];
  /**
   * `arn:aws:sagemaker:<region>:<account>:endpoint/<name>`. Empty partition, region or account
   * segments mean "not known" and match any pattern segment. Undefined: the endpoint is not known,
   * and any Resource that can name a SageMaker endpoint matches.
   */
  endpointArn: string | undefined;
  /** The `TargetContainerHostname` of the request; undefined for an endpoint without direct invocation (key absent). */
  targetContainerHostname: string | undefined;
  /** Values of other condition keys (lower- or mixed-case names). */
  context?: Record<string, string | string[] | undefined>;
  /** Other condition keys not in `context`: `unknown` (default, a linter cannot know them) or `absent` (an emulator). */
  otherKeys?: 'unknown' | 'absent';
  /** Action to evaluate; `sagemaker:InvokeEndpoint` by default. */
  action?: string;
}

export interface StatementRef {
  policy: string;
  index: number;
  sid?: string;
  effect?: 'Allow' | 'Deny';
  location: Location;
}

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny' | 'unknown';

export interface InvokeDecision {
  decision: Decision;
  /** The statement that decided: the matching Deny, the matching Allow, or the statement whose outcome is unknown. */
  statement?: StatementRef;
  /** One line explaining the decision. */
  reason: string;
}

export function statementRef(policy: PolicyDocument, s: PolicyStatement): StatementRef {
  return { policy: policy.name, index: s.index, sid: s.sid, effect: s.effect, location: s.location };
}

export function formatStatementRef(ref: StatementRef): string {
  return `${ref.policy} ${ref.sid !== undefined ? `"${ref.sid}"` : `#${ref.index}`}`;
}

/** Evaluates an `InvokeEndpoint` request: explicit Deny wins over Allow; nothing matching is an implicit deny. */
export function evaluateInvoke(req: InvokeRequest): InvokeDecision {
  let denyUnknown: StatementRef | undefined;
  let allowTrue: StatementRef | undefined;
  let allowUnknown: StatementRef | undefined;
  for (const policy of req.policies) {
    if (policy.unknown !== undefined) {
      denyUnknown ??= { policy: policy.name, index: -1, location: policy.location };
      allowUnknown ??= { policy: policy.name, index: -1, location: policy.location };
      continue;
    }
    for (const s of policy.statements) {
      const applies = statementApplies(s, req);
      if (applies === false) continue;
      const ref = statementRef(policy, s);
      if (s.effect === 'Deny' && applies === true) {
        return { decision: 'explicit-deny', statement: ref, reason: `denied by ${formatStatementRef(ref)}` };
      }
      if (s.effect !== 'Allow') denyUnknown ??= ref;
      if (s.effect !== 'Deny') {
        if (applies === true && s.effect === 'Allow') allowTrue ??= ref;
        else allowUnknown ??= ref;
      }
    }
  }
  if (!allowTrue && !allowUnknown) return { decision: 'implicit-deny', reason: 'no Allow statement applies' };
  if (denyUnknown) return { decision: 'unknown', statement: denyUnknown, reason: `depends on ${formatStatementRef(denyUnknown)}, whose outcome is not known` };
  if (allowTrue) return { decision: 'allow', statement: allowTrue, reason: `allowed by ${formatStatementRef(allowTrue)}` };
  return { decision: 'unknown', statement: allowUnknown, reason: `depends on ${formatStatementRef(allowUnknown!)}, whose outcome is not known` };
}

/** Whether a statement applies to the request (Action, Resource and every Condition). */
export function statementApplies(s: PolicyStatement, req: InvokeRequest): Tri {
  const action = req.action ?? INVOKE_ENDPOINT_ACTION;
  let r: Tri = s.action ? listMatches(s.action, (p) => actionMatches(p, action)) : not(listMatches(s.notAction!, (p) => actionMatches(p, action)));
  if (r === false) return false;
  if (s.resource) r = and(r, listMatches(s.resource, (p) => resourceMatches(p, req.endpointArn)));
  else if (s.notResource) r = and(r, not(listMatches(s.notResource, (p) => resourceMatches(p, req.endpointArn))));
  else r = false; // an identity policy statement without Resource is invalid and never applies
  if (r === false) return false;
  if (s.conditionUnknown !== undefined) r = and(r, null);
  for (const c of s.conditions) {
    r = and(r, conditionMatches(c, req));
    if (r === false) return false;
  }
  return r;
}

/** Whether a statement can apply to `sagemaker:InvokeEndpoint` at all (Action/NotAction only). */
export function coversInvoke(s: PolicyStatement): Tri {
  return s.action ? listMatches(s.action, (p) => actionMatches(p, INVOKE_ENDPOINT_ACTION)) : not(listMatches(s.notAction!, (p) => actionMatches(p, INVOKE_ENDPOINT_ACTION)));
}

function listMatches(list: StringList, f: (pattern: string) => Tri): Tri {
  const r = some(list.values, (v) => (v.value === undefined ? null : f(v.value)));
  return list.unknown !== undefined ? or(r, null) : r;
}

// ---------------------------------------------------------------- matching

/** Compiles an IAM wildcard pattern (`*`, `?`, `${*}`, `${?}`, `${$}`); undefined when it uses other policy variables. */
export function likeRegex(pattern: string, ignoreCase: boolean): RegExp | undefined {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '$' && pattern[i + 1] === '{') {
      const end = pattern.indexOf('}', i);
      const inner = end < 0 ? undefined : pattern.slice(i + 2, end);
      if (inner === '*' || inner === '?' || inner === '$') {
        re += escapeRe(inner);
        i = end;
        continue;
      }
      return undefined;
    }
    re += c === '*' ? '.*' : c === '?' ? '.' : escapeRe(c);
  }
  return new RegExp(`^${re}$`, ignoreCase ? 'is' : 's');
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

export function likeMatch(pattern: string, value: string, ignoreCase = false): Tri {
  const re = likeRegex(pattern, ignoreCase);
  return re ? re.test(value) : null;
}

/** Actions are case-insensitive; `*` and `?` are wildcards. */
export function actionMatches(pattern: string, action: string): Tri {
  return likeMatch(pattern, action, true);
}

/**
 * Matches a Resource pattern against the endpoint ARN, segment by segment (a wildcard does not
 * cross `:`). SageMaker ARNs lower-case the endpoint name, so the resource segment compares
 * case-insensitively. Unknown (empty) ARN segments match.
 */
export function resourceMatches(pattern: string, arn: string | undefined): Tri {
  if (pattern === '*') return true;
  const p = splitArn(pattern);
  if (!p) return false;
  if (arn === undefined) {
    // Any SageMaker endpoint: service must match, resource must be able to start with `endpoint/`.
    return and(likeMatch(p[2], 'sagemaker'), canStartWith(p[5], 'endpoint/'));
  }
  const a = splitArn(arn);
  if (!a) return false;
  let r: Tri = true;
  for (let i = 0; i < 6; i++) {
    if (a[i] === '' && i >= 1 && i <= 4 && i !== 2) continue; // unknown partition/region/account
    r = and(r, likeMatch(p[i], a[i], i === 5));
  }
  return r;
}

function splitArn(s: string): string[] | undefined {
  const parts = s.split(':');
  if (parts.length < 6 || parts[0] !== 'arn' && !/[*?]/.test(parts[0])) return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

/** Whether some string matching the wildcard `pattern` starts with `prefix` (case-insensitive). */
function canStartWith(pattern: string, prefix: string): Tri {
  let i = 0;
  for (const c of prefix) {
    if (i >= pattern.length) return false;
    const p = pattern[i];
    if (p === '*') return true;
    if (p === '$') return null;
    if (p !== '?' && p.toLowerCase() !== c) return false;
    i++;
  }
  return true;
}

// ---------------------------------------------------------------- conditions

export interface ParsedOperator {
  qualifier?: 'ForAnyValue' | 'ForAllValues';
  base: string;
  ifExists: boolean;
}

export function parseOperator(op: string): ParsedOperator {
  let rest = op;
  let qualifier: ParsedOperator['qualifier'];
  const m = /^(ForAnyValue|ForAllValues):(.*)$/i.exec(rest);
  if (m) {
    qualifier = m[1].toLowerCase() === 'foranyvalue' ? 'ForAnyValue' : 'ForAllValues';
    rest = m[2];
  }
  const ifExists = /IfExists$/.test(rest);
  if (ifExists) rest = rest.slice(0, -'IfExists'.length);
  return { qualifier, base: rest, ifExists };
}

const STRING_OPS: Record<string, { negated: boolean; cmp: (pattern: string, value: string) => Tri }> = {
  StringEquals: { negated: false, cmp: (p, v) => equalsWithVars(p, v, false) },
  StringNotEquals: { negated: true, cmp: (p, v) => equalsWithVars(p, v, false) },
  StringEqualsIgnoreCase: { negated: false, cmp: (p, v) => equalsWithVars(p, v, true) },
  StringNotEqualsIgnoreCase: { negated: true, cmp: (p, v) => equalsWithVars(p, v, true) },
  StringLike: { negated: false, cmp: (p, v) => likeMatch(p, v, false) },
  StringNotLike: { negated: true, cmp: (p, v) => likeMatch(p, v, false) },
};

/** Exact comparison; `${*}`, `${?}`, `${$}` are the only policy variables whose value is known. */
function equalsWithVars(p: string, v: string, ignoreCase: boolean): Tri {
  if (p.includes('${')) {
    const r = p.replace(/\$\{([*?$])\}/g, '$1');
    if (r.includes('${')) return null;
    p = r;
  }
  return ignoreCase ? p.toLowerCase() === v.toLowerCase() : p === v;
}

export function isNegatedOperator(op: string): boolean {
  return STRING_OPS[parseOperator(op).base]?.negated ?? false;
}

/** True for string operators whose values are wildcard patterns. */
export function isLikeOperator(op: string): boolean {
  const b = parseOperator(op).base;
  return b === 'StringLike' || b === 'StringNotLike';
}

/** The request's values for a condition key; `absent` when not in the request; null when not known. */
function requestValues(key: string, req: InvokeRequest): string[] | 'absent' | null {
  if (sameKey(key, TARGET_CONTAINER_HOSTNAME_KEY)) return req.targetContainerHostname === undefined ? 'absent' : [req.targetContainerHostname];
  if (req.context) {
    const hit = Object.entries(req.context).find(([k]) => sameKey(k, key));
    if (hit) return hit[1] === undefined ? 'absent' : Array.isArray(hit[1]) ? hit[1] : [hit[1]];
  }
  return req.otherKeys === 'absent' ? 'absent' : null;
}

/** Evaluates one condition (operator + key + values) against the request. */
export function conditionMatches(c: PolicyCondition, req: InvokeRequest): Tri {
  return conditionMatchesValues(c.operator, c.values, c.unknown !== undefined, requestValues(c.key, req));
}

export function conditionMatchesValues(operator: string, values: EValue[], listUnknown: boolean, reqValues: string[] | 'absent' | null): Tri {
  const op = parseOperator(operator);
  if (op.base === 'Null') {
    if (reqValues === null || listUnknown) return null;
    const want = values[0]?.value?.toLowerCase();
    if (want !== 'true' && want !== 'false') return null;
    return (reqValues === 'absent') === (want === 'true');
  }
  const spec = STRING_OPS[op.base];
  if (reqValues === null) return null;
  if (reqValues === 'absent' || reqValues.length === 0) {
    // IAM: a condition on a key missing from the request is false, except ...IfExists, ForAllValues
    // (vacuously true) and the negated operators (nothing to contradict them).
    if (op.ifExists) return true;
    if (op.qualifier === 'ForAllValues') return true;
    if (op.qualifier === 'ForAnyValue') return false;
    return spec ? spec.negated : false;
  }
  if (!spec) return null; // Arn*, Numeric*, Date*, Bool, IpAddress...: not modelled
  const matchesAny = (v: string): Tri => {
    const r = some(values, (cv) => (cv.value === undefined ? null : spec.cmp(cv.value, v)));
    return listUnknown ? or(r, null) : r;
  };
  const one = (v: string): Tri => (spec.negated ? not(matchesAny(v)) : matchesAny(v));
  return op.qualifier === 'ForAllValues' ? every(reqValues, one) : some(reqValues, one);
}

/** Statements of `policies` that can apply to InvokeEndpoint and test `sagemaker:TargetContainerHostname`. */
export function hostnameConditions(s: PolicyStatement): PolicyCondition[] {
  return s.conditions.filter((c) => sameKey(c.key, TARGET_CONTAINER_HOSTNAME_KEY));
}

/** Whether a statement's Resource / NotResource can match the endpoint ARN (conditions and actions ignored). */
export function resourceApplies(s: PolicyStatement, endpointArn: string | undefined): Tri {
  if (s.resource) return listMatches(s.resource, (p) => resourceMatches(p, endpointArn));
  if (s.notResource) return not(listMatches(s.notResource, (p) => resourceMatches(p, endpointArn)));
  return false;
}
