import { readFile } from 'node:fs/promises';
import { InputError } from '../engine/types.js';
import type { Location } from '../model/location.js';
import {
  emptyEndpointModel,
  type EndpointContainer,
  type EndpointModel,
  type EndpointResource,
  type EValue,
  type PolicyCondition,
  type PolicyDocument,
  type PolicySet,
  type PolicyStatement,
  type SageMakerModel,
  type SourceKind,
  type StringList,
} from './model.js';
import { describeIntrinsic, get, getEntry, parseTree, treeFromValue, type SIntrinsic, type SNode } from './tree.js';

const where = (loc: Location): string => `${loc.file}:${loc.line ?? 1}`;

function inputError(loc: Location, message: string): InputError {
  return new InputError(`${where(loc)}: ${message}`);
}

/** Tells what kind of endpoint input a parsed document is, if any. */
export function detectKind(root: SNode): SourceKind | undefined {
  if (root.kind !== 'map') return undefined;
  const resources = get(root, 'Resources');
  if (resources?.kind === 'map' && (get(root, 'AWSTemplateFormatVersion') || get(root, 'Transform') || resources.entries.some((e) => get(e.value, 'Type')))) {
    return 'cloudformation';
  }
  if (get(root, 'Statement') !== undefined) return 'iam-policy';
  if (get(root, 'Containers') !== undefined || get(root, 'PrimaryContainer') !== undefined) return 'create-model';
  return undefined;
}

const CFN_TYPES = /^AWS::(SageMaker::(Model|EndpointConfig|Endpoint)|IAM::(Policy|ManagedPolicy|Role))$/;

/**
 * Cheap detection for `smcl lint <dir>`: a JSON/YAML file that is a CreateModel request,
 * a CloudFormation/SAM template with SageMaker model/endpoint or IAM resources, or an IAM
 * policy that mentions SageMaker. Never throws.
 */
export function isEndpointFile(path: string, text: string): boolean {
  if (!/\.(json|ya?ml|template)$/i.test(path)) return false;
  if (!/Containers|PrimaryContainer|Resources|Statement/.test(text)) return false;
  let root: SNode;
  try {
    root = parseTree(text, path);
  } catch {
    return false;
  }
  const kind = detectKind(root);
  if (kind === 'create-model') return true;
  if (kind === 'iam-policy') return /sagemaker:/i.test(text);
  if (kind === 'cloudformation') {
    const resources = get(root, 'Resources');
    return resources?.kind === 'map' && resources.entries.some((e) => {
      const t = get(e.value, 'Type');
      return t?.kind === 'scalar' && typeof t.value === 'string' && CFN_TYPES.test(t.value) && (!t.value.startsWith('AWS::IAM') || /sagemaker:/i.test(text));
    });
  }
  return false;
}

/** Reads and loads one file. */
export async function loadEndpointFile(path: string): Promise<EndpointModel> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`${path}: cannot read file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  return loadEndpointText(text, path);
}

/** Loads one file's text (CreateModel JSON/YAML, CloudFormation/SAM template or IAM policy). */
export function loadEndpointText(text: string, file: string): EndpointModel {
  const root = parseTree(text, file);
  const kind = detectKind(root);
  const model = emptyEndpointModel();
  if (!kind) throw inputError(root.location, 'not a SageMaker CreateModel request, CloudFormation template or IAM policy document');
  model.sources.push({ file, kind, text });
  if (kind === 'create-model') {
    model.models.push(readModel(root, 'create-model', file, undefined));
  } else if (kind === 'iam-policy') {
    const policy = readPolicy(root, file, file, false);
    model.policies.push(policy);
    model.policySets.push({ name: file, location: policy.location, policies: [policy] });
  } else {
    readTemplate(root, file, model);
  }
  return model;
}

/** Builds a policy document from a plain object (for callers such as the endpoint emulator). */
export function policyFromObject(value: unknown, name: string): PolicyDocument {
  return readPolicy(treeFromValue(value, name), name, name, false);
}

// ---------------------------------------------------------------- values

function evalue(node: SNode | undefined, fallback: Location): EValue | undefined {
  if (!node) return undefined;
  if (node.kind === 'scalar') {
    if (node.value === null) return { unknown: 'null', location: node.location };
    return { value: String(node.value), location: node.location };
  }
  if (node.kind === 'intrinsic') return { unknown: describeIntrinsic(node), location: node.location };
  return { unknown: `a ${node.kind === 'map' ? 'map' : 'list'}`, location: node.location ?? fallback };
}

function stringList(node: SNode, resolve?: (n: SIntrinsic) => string | undefined): StringList {
  const one = (n: SNode): EValue => {
    if (n.kind === 'intrinsic' && resolve) {
      const v = resolve(n);
      if (v !== undefined) return { value: v, location: n.location };
    }
    return evalue(n, n.location)!;
  };
  if (node.kind === 'seq') return { values: node.items.map(one), location: node.location };
  if (node.kind === 'intrinsic' && !(resolve && resolve(node) !== undefined) && ['Fn::If', 'Fn::Split', 'Fn::FindInMap', 'Ref', 'Fn::GetAtt', 'Fn::ImportValue'].includes(node.fn)) {
    // May expand to a list.
    return { values: [], location: node.location, unknown: describeIntrinsic(node) };
  }
  return { values: [one(node)], location: node.location };
}

// ---------------------------------------------------------------- models

function readContainer(node: SNode, index: number): EndpointContainer {
  const c: EndpointContainer = { index, environment: [], location: node.location };
  if (node.kind !== 'map') {
    c.environmentUnknown = node.kind === 'intrinsic' ? describeIntrinsic(node) : 'not a map';
    return c;
  }
  c.hostname = evalue(get(node, 'ContainerHostname'), node.location);
  c.image = evalue(get(node, 'Image'), node.location);
  c.modelDataUrl = evalue(get(node, 'ModelDataUrl'), node.location);
  c.containerMode = evalue(get(node, 'Mode'), node.location);
  const env = get(node, 'Environment');
  if (env?.kind === 'map') {
    for (const e of env.entries) c.environment.push({ name: e.key, nameLocation: e.keyLocation, value: evalue(e.value, e.keyLocation)! });
  } else if (env) {
    c.environmentUnknown = env.kind === 'intrinsic' ? describeIntrinsic(env) : 'not a map';
  }
  return c;
}

function readModel(props: SNode, source: SageMakerModel['source'], file: string, logicalId: string | undefined): SageMakerModel {
  const modelName = evalue(get(props, 'ModelName'), props.location);
  const model: SageMakerModel = {
    source,
    name: logicalId ?? modelName?.value ?? file,
    logicalId,
    modelName,
    containers: [],
    containersLocation: props.location,
    effectiveMode: 'Serial',
    location: props.location,
    endpointNames: [],
  };
  const containers = getEntry(props, 'Containers');
  const primary = getEntry(props, 'PrimaryContainer');
  if (containers) {
    model.containersLocation = containers.keyLocation;
    const v = containers.value;
    if (v.kind === 'seq') model.containers = v.items.map((n, i) => readContainer(n, i));
    else if (v.kind === 'intrinsic') model.containersUnknown = describeIntrinsic(v);
    else throw inputError(v.location, 'Containers must be a list of container definitions');
  } else if (primary) {
    model.containersLocation = primary.keyLocation;
    model.primaryContainer = true;
    model.containers = [readContainer(primary.value, 0)];
  }
  const iec = get(props, 'InferenceExecutionConfig');
  if (iec?.kind === 'intrinsic') {
    model.mode = { unknown: describeIntrinsic(iec), location: iec.location };
  } else if (iec) {
    model.mode = evalue(get(iec, 'Mode'), iec.location);
  }
  if (model.mode) {
    const v = model.mode.value;
    model.effectiveMode = v === 'Direct' || v === 'Serial' ? v : 'unknown';
  }
  return model;
}

// ---------------------------------------------------------------- policies

const EFFECTS = ['Allow', 'Deny'];

function readPolicy(root: SNode, name: string, file: string, inTemplate: boolean, resolve?: (n: SIntrinsic) => string | undefined): PolicyDocument {
  const policy: PolicyDocument = { name, file, statements: [], location: root.location };
  if (root.kind === 'intrinsic' && inTemplate) {
    policy.unknown = describeIntrinsic(root);
    return policy;
  }
  if (root.kind !== 'map') throw inputError(root.location, 'a policy document must be a JSON object');
  const st = get(root, 'Statement');
  if (st === undefined) throw inputError(root.location, 'policy document has no Statement');
  if (st.kind === 'intrinsic' && inTemplate) {
    policy.unknown = describeIntrinsic(st);
    return policy;
  }
  const items = st.kind === 'seq' ? st.items : st.kind === 'map' ? [st] : undefined;
  if (!items) throw inputError(st.location, 'Statement must be an object or a list of objects');
  items.forEach((node, index) => {
    if (node.kind === 'intrinsic' && inTemplate) return; // e.g. !If [cond, {...}, !Ref AWS::NoValue]
    if (node.kind !== 'map') throw inputError(node.location, `Statement #${index} must be an object`);
    policy.statements.push(readStatement(node, index, inTemplate, resolve));
  });
  return policy;
}

function readStatement(node: SNode & { kind: 'map' }, index: number, inTemplate: boolean, resolve?: (n: SIntrinsic) => string | undefined): PolicyStatement {
  const s: PolicyStatement = { index, conditions: [], location: node.location };
  const sid = get(node, 'Sid');
  if (sid?.kind === 'scalar' && sid.value !== null) s.sid = String(sid.value);
  const effect = get(node, 'Effect');
  if (!effect) throw inputError(node.location, `Statement #${index} has no Effect`);
  if (effect.kind === 'scalar') {
    if (!EFFECTS.includes(String(effect.value))) throw inputError(effect.location, `Effect must be "Allow" or "Deny", not ${JSON.stringify(effect.value)}`);
    s.effect = effect.value as 'Allow' | 'Deny';
  } else if (effect.kind !== 'intrinsic' || !inTemplate) {
    throw inputError(effect.location, 'Effect must be "Allow" or "Deny"');
  }
  const list = (key: string): StringList | undefined => {
    const n = get(node, key);
    if (!n) return undefined;
    if (n.kind === 'map') throw inputError(n.location, `${key} must be a string or a list of strings`);
    if (n.kind === 'seq') {
      const bad = n.items.find((i) => i.kind === 'map' || i.kind === 'seq');
      if (bad) throw inputError(bad.location, `${key} must be a string or a list of strings`);
    }
    return stringList(n, key.endsWith('esource') ? resolve : undefined);
  };
  s.action = list('Action');
  s.notAction = list('NotAction');
  s.resource = list('Resource');
  s.notResource = list('NotResource');
  if (!s.action && !s.notAction) throw inputError(node.location, `Statement #${index} has neither Action nor NotAction`);
  if (s.action && s.notAction) throw inputError(node.location, `Statement #${index} has both Action and NotAction`);
  if (s.resource && s.notResource) throw inputError(node.location, `Statement #${index} has both Resource and NotResource`);
  const cond = get(node, 'Condition');
  if (cond) {
    if (cond.kind === 'intrinsic') s.conditionUnknown = describeIntrinsic(cond);
    else if (cond.kind !== 'map') throw inputError(cond.location, 'Condition must be an object of operators');
    else {
      for (const op of cond.entries) {
        if (op.value.kind === 'intrinsic') {
          s.conditionUnknown = describeIntrinsic(op.value);
          continue;
        }
        if (op.value.kind !== 'map') throw inputError(op.value.location, `condition operator ${op.key} must map condition keys to values`);
        for (const k of op.value.entries) {
          const c: PolicyCondition = { operator: op.key, key: k.key, values: [], location: k.keyLocation, operatorLocation: op.keyLocation };
          const v = k.value;
          if (v.kind === 'map') throw inputError(v.location, `condition ${op.key} ${k.key} must be a string or a list of strings`);
          const sl = stringList(v);
          c.values = sl.values;
          if (sl.unknown) c.unknown = sl.unknown;
          s.conditions.push(c);
        }
      }
    }
  }
  return s;
}

// ---------------------------------------------------------------- CloudFormation

/** The logical ID an intrinsic points to (`!Ref X`, `!GetAtt X.Attr`, `!GetAtt [X, Attr]`). */
function refTarget(n: SNode | undefined): string | undefined {
  if (!n || n.kind !== 'intrinsic') return undefined;
  if (n.fn === 'Ref' && n.arg.kind === 'scalar') return String(n.arg.value);
  if (n.fn === 'Fn::GetAtt') {
    if (n.arg.kind === 'scalar') return String(n.arg.value).split('.')[0];
    if (n.arg.kind === 'seq' && n.arg.items[0]?.kind === 'scalar') return String(n.arg.items[0].value);
  }
  return undefined;
}

function readTemplate(root: SNode, file: string, out: EndpointModel): void {
  const resources = get(root, 'Resources');
  if (!resources || resources.kind !== 'map') return;
  const byId = new Map<string, { type: string; props: SNode | undefined; location: Location }>();
  for (const e of resources.entries) {
    const t = get(e.value, 'Type');
    byId.set(e.key, { type: t?.kind === 'scalar' ? String(t.value) : '', props: get(e.value, 'Properties'), location: e.keyLocation });
  }

  // Endpoints → configs → models, to know endpoint names.
  const configModels = new Map<string, string[]>();
  const modelByName = new Map<string, string>();
  for (const [id, r] of byId) {
    if (r.type !== 'AWS::SageMaker::Model') continue;
    const n = get(r.props, 'ModelName');
    if (n?.kind === 'scalar') modelByName.set(String(n.value), id);
  }
  for (const [id, r] of byId) {
    if (r.type !== 'AWS::SageMaker::EndpointConfig') continue;
    const ids: string[] = [];
    const variants = get(r.props, 'ProductionVariants');
    if (variants?.kind === 'seq') {
      for (const v of variants.items) {
        const mn = get(v, 'ModelName');
        const target = refTarget(mn) ?? (mn?.kind === 'scalar' ? modelByName.get(String(mn.value)) : undefined);
        if (target) ids.push(target);
      }
    }
    configModels.set(id, ids);
  }
  const endpointNameById = new Map<string, string>();
  for (const [id, r] of byId) {
    if (r.type !== 'AWS::SageMaker::Endpoint') continue;
    const cfg = refTarget(get(r.props, 'EndpointConfigName'));
    const ep: EndpointResource = {
      logicalId: id,
      endpointName: evalue(get(r.props, 'EndpointName'), r.location),
      modelLogicalIds: cfg ? (configModels.get(cfg) ?? []) : [],
      location: r.location,
    };
    if (ep.endpointName?.value !== undefined) endpointNameById.set(id, ep.endpointName.value);
    out.endpoints.push(ep);
  }

  for (const [id, r] of byId) {
    if (r.type !== 'AWS::SageMaker::Model') continue;
    const model = readModel(r.props ?? { kind: 'map', entries: [], location: r.location }, 'cloudformation', file, id);
    model.location = r.location;
    for (const ep of out.endpoints) {
      if (ep.modelLogicalIds.includes(id)) {
        // An endpoint without EndpointName gets a generated name: unknown.
        model.endpointNames.push(ep.endpointName ?? { unknown: `generated name of ${ep.logicalId}`, location: ep.location });
      }
    }
    out.models.push(model);
  }

  // `!Sub` in Resource ARNs: pseudo parameters become wildcards, endpoint names are substituted.
  const resolve = (n: SIntrinsic): string | undefined => {
    if (n.fn !== 'Fn::Sub') return undefined;
    const tpl = n.arg.kind === 'scalar' ? String(n.arg.value) : n.arg.kind === 'seq' && n.arg.items[0]?.kind === 'scalar' && n.arg.items[1]?.kind === 'map' && n.arg.items[1].entries.length === 0 ? String(n.arg.items[0].value) : undefined;
    if (tpl === undefined) return undefined;
    let ok = true;
    const s = tpl.replace(/\$\{([^}!]+)\}/g, (_m, name: string) => {
      if (name === 'AWS::Region' || name === 'AWS::AccountId' || name === 'AWS::Partition') return '*';
      const [lid, attr] = name.split('.');
      if ((attr === 'EndpointName' || attr === undefined) && endpointNameById.has(lid)) return endpointNameById.get(lid)!;
      ok = false;
      return '';
    });
    return ok ? s.replace(/\$\{!/g, '${') : undefined;
  };

  // Policies, grouped by the role they attach to.
  const sets = new Map<string, PolicySet>();
  const setFor = (key: string, name: string, location: Location): PolicySet => {
    let s = sets.get(key);
    if (!s) {
      s = { name, location, policies: [] };
      sets.set(key, s);
    }
    return s;
  };
  for (const [id, r] of byId) {
    if (r.type !== 'AWS::IAM::Role') continue;
    const set = setFor(id, id, r.location);
    const policies = get(r.props, 'Policies');
    if (policies?.kind === 'seq') {
      policies.items.forEach((p, i) => {
        const pn = get(p, 'PolicyName');
        const doc = get(p, 'PolicyDocument');
        if (!doc) return;
        const policy = readPolicy(doc, `${id}/${pn?.kind === 'scalar' ? String(pn.value) : `Policies[${i}]`}`, file, true, resolve);
        out.policies.push(policy);
        set.policies.push(policy);
      });
    }
  }
  const managedAttached = new Map<string, string[]>();
  for (const [id, r] of byId) {
    if (r.type !== 'AWS::IAM::Role') continue;
    const arns = get(r.props, 'ManagedPolicyArns');
    if (arns?.kind !== 'seq') continue;
    for (const a of arns.items) {
      const t = refTarget(a);
      if (t) managedAttached.set(t, [...(managedAttached.get(t) ?? []), id]);
    }
  }
  for (const [id, r] of byId) {
    if (r.type !== 'AWS::IAM::Policy' && r.type !== 'AWS::IAM::ManagedPolicy') continue;
    const doc = get(r.props, 'PolicyDocument');
    if (!doc) continue;
    const policy = readPolicy(doc, id, file, true, resolve);
    out.policies.push(policy);
    const roles = get(r.props, 'Roles');
    const roleIds = [...(roles?.kind === 'seq' ? roles.items.map(refTarget).filter((x): x is string => x !== undefined && byId.get(x)?.type === 'AWS::IAM::Role') : []), ...(managedAttached.get(id) ?? [])];
    if (roleIds.length === 0) setFor(id, id, r.location).policies.push(policy);
    for (const role of roleIds) setFor(role, role, byId.get(role)!.location).policies.push(policy);
  }
  for (const s of sets.values()) if (s.policies.length > 0) out.policySets.push(s);
}
