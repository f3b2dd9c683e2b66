import { InputError } from '../../engine/types.js';
import { loadEndpointFile } from '../load.js';
import type { EndpointModel, InferenceMode, PolicyDocument } from '../model.js';
import { mergeEndpointModels } from '../model.js';

/** One container of the emulated endpoint, as SageMaker would run it. */
export interface PlannedContainer {
  /** `ContainerHostname` (also the container's UTS hostname and the metrics' ContainerName). */
  hostname: string;
  image: string;
  env: Record<string, string>;
}

/** What `smcl endpoint up` runs: one variant of one endpoint on one instance. */
export interface EndpointPlan {
  endpointName: string;
  variantName: string;
  /** `Direct`: each request names its container; `Serial`: the containers form a pipeline. */
  mode: InferenceMode;
  containers: PlannedContainer[];
  /** Where the plan came from (file names or `images`). */
  source: string;
}

export interface PlanInputOptions {
  /** `--endpoint-name`; default: the endpoint serving the model in the input, else the model name, else `local-endpoint`. */
  endpointName?: string;
  variantName?: string;
  /** Only for image lists (a CreateModel file has its own mode); default Direct. */
  mode?: InferenceMode;
}

/** SageMaker's pattern for endpoint names and container hostnames. */
export const NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;

const looksLikeFile = (s: string): boolean => /\.(json|ya?ml|template)$/i.test(s);

/**
 * Turns `smcl endpoint up` inputs into a plan: either files (a CreateModel request or a
 * CloudFormation template with one model, optionally with IAM policies) or a list of images,
 * each `image` or `hostname=image` (hostnames default to `container-1`, `container-2`, ...).
 */
export async function planFromInputs(inputs: string[], opts: PlanInputOptions = {}): Promise<{ plan: EndpointPlan; policies: PolicyDocument[] }> {
  if (inputs.length === 0) throw new InputError('name a CreateModel file or one or more images');
  const files = inputs.filter(looksLikeFile);
  if (files.length > 0 && files.length !== inputs.length) {
    throw new InputError('give either CreateModel/CloudFormation files or images, not both');
  }
  if (files.length > 0) {
    const parts: EndpointModel[] = [];
    for (const f of files) parts.push(await loadEndpointFile(f));
    const model = mergeEndpointModels(parts);
    return { plan: planFromModel(model, opts, files.join(', ')), policies: model.policies };
  }
  return { plan: planFromImages(inputs, opts), policies: [] };
}

export function planFromImages(images: string[], opts: PlanInputOptions = {}): EndpointPlan {
  const containers: PlannedContainer[] = images.map((item, i) => {
    const eq = item.indexOf('=');
    const hostname = eq > 0 ? item.slice(0, eq) : `container-${i + 1}`;
    const image = eq > 0 ? item.slice(eq + 1) : item;
    if (!image || /\s/.test(image)) throw new InputError(`invalid image reference "${image}"`);
    return { hostname, image, env: {} };
  });
  return finish({ endpointName: opts.endpointName ?? 'local-endpoint', variantName: opts.variantName ?? 'AllTraffic', mode: opts.mode ?? 'Direct', containers, source: 'images' });
}

export function planFromModel(model: EndpointModel, opts: PlanInputOptions, source: string): EndpointPlan {
  if (model.models.length === 0) throw new InputError(`${source}: no SageMaker model (CreateModel request or AWS::SageMaker::Model) found`);
  if (model.models.length > 1) throw new InputError(`${source}: ${model.models.length} models found; endpoint up runs one`);
  const m = model.models[0];
  if (m.containersUnknown) throw new InputError(`${source}: the container list is not known statically (${m.containersUnknown})`);
  if (m.effectiveMode === 'unknown') throw new InputError(`${source}: InferenceExecutionConfig.Mode is not known statically`);
  const containers: PlannedContainer[] = m.containers.map((c) => {
    const where = `${source}: container ${c.index + 1}`;
    if (!c.image?.value) throw new InputError(`${where}: Image is ${c.image?.unknown ?? 'missing'}`);
    if (c.hostname && c.hostname.value === undefined) throw new InputError(`${where}: ContainerHostname is ${c.hostname.unknown ?? 'not a string'}`);
    if (c.environmentUnknown) throw new InputError(`${where}: Environment is not known statically (${c.environmentUnknown})`);
    const env: Record<string, string> = {};
    for (const e of c.environment) {
      if (e.value.value === undefined) throw new InputError(`${where}: Environment ${e.name} is ${e.value.unknown ?? 'not a string'}`);
      env[e.name] = e.value.value;
    }
    // SageMaker names unnamed containers; keep that recognisable.
    return { hostname: c.hostname?.value ?? `container-${c.index + 1}`, image: c.image.value, env };
  });
  const endpointName = opts.endpointName ?? m.endpointNames.find((n) => n.value)?.value ?? model.endpoints.find((e) => e.endpointName?.value)?.endpointName?.value ?? m.modelName?.value ?? 'local-endpoint';
  return finish({ endpointName, variantName: opts.variantName ?? 'AllTraffic', mode: m.effectiveMode, containers, source });
}

function finish(plan: EndpointPlan): EndpointPlan {
  if (!NAME_PATTERN.test(plan.endpointName) || plan.endpointName.length > 63) throw new InputError(`invalid endpoint name "${plan.endpointName}" (letters, digits and hyphens, up to 63)`);
  if (plan.containers.length === 0) throw new InputError('the endpoint has no container');
  if (plan.containers.length > 15) throw new InputError(`${plan.containers.length} containers: SageMaker allows up to 15 (5 with direct invocation)`);
  const seen = new Set<string>();
  for (const c of plan.containers) {
    if (!NAME_PATTERN.test(c.hostname) || c.hostname.length > 63) throw new InputError(`invalid ContainerHostname "${c.hostname}" (letters, digits and hyphens, up to 63)`);
    if (seen.has(c.hostname)) throw new InputError(`ContainerHostname "${c.hostname}" is used twice`);
    seen.add(c.hostname);
  }
  return plan;
}
