import type { ContainerModel, ModelValue } from '../model/container-model.js';
import { InputError } from '../engine/types.js';

/**
 * `--resolve-base`: what a Dockerfile inherits from an external base image (labels, env,
 * entrypoint, cmd, user, workdir, platform) is unknown until the base image's config is read.
 * Fetches the config only (no layers) through the image sources and merges it under what the
 * Dockerfile sets itself: Dockerfile values win, as they do in the built image.
 */
export async function resolveBaseImage(model: ContainerModel, opts: { insecure?: boolean; platform?: string } = {}): Promise<ContainerModel> {
  const base = model.baseImage;
  if (!base || base.kind !== 'external' || base.resolved) return model;
  const { loadImage } = await import('../sources/image/index.js');
  let baseModel: ContainerModel;
  try {
    baseModel = await loadImage(base.ref, { labelsOnly: true, insecure: opts.insecure || undefined, platform: opts.platform ?? (model.platform ? `${model.platform.os}/${model.platform.architecture}` : undefined) });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new InputError(`${model.name}: --resolve-base could not read base image ${base.ref}: ${why}`);
  }
  const inherit = (mine: Map<string, ModelValue>, theirs: Map<string, ModelValue>): Map<string, ModelValue> => {
    const merged = new Map<string, ModelValue>();
    for (const [k, v] of theirs) merged.set(k, { ...v, inheritedFrom: base.ref });
    for (const [k, v] of mine) merged.set(k, v);
    return merged;
  };
  model.labels = inherit(model.labels, baseModel.labels);
  model.env = inherit(model.env, baseModel.env);
  model.exposedPorts = [...baseModel.exposedPorts, ...model.exposedPorts];
  // An ENTRYPOINT set in the Dockerfile resets the base's CMD (Docker semantics).
  if (!model.entrypoint) {
    model.entrypoint = baseModel.entrypoint;
    model.cmd ??= baseModel.cmd;
  }
  model.user ??= baseModel.user;
  model.workdir ??= baseModel.workdir;
  model.platform ??= baseModel.platform;
  model.baseImage = { ...base, resolved: true };
  return model;
}
