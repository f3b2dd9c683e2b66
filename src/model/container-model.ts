import type { Location } from './location.js';
import { VirtualFileSystem } from './vfs.js';

/**
 * One value of the model (a label, an env var, the user...), with where it was set.
 * `unresolved` lists variables that had no value when the source expanded it
 * (e.g. `LABEL x=$FLAG` with `ARG FLAG` and no default): the value is then not known.
 */
export interface ModelValue {
  value: string;
  /** As written, before variable expansion. */
  raw: string;
  location: Location;
  unresolved?: string[];
  /** Set when the value came from an earlier stage (`FROM stage`) or from the base image config. */
  inheritedFrom?: string;
}

export interface CommandSpec {
  /** exec form `["a","b"]` or shell form `a b` (run by `/bin/sh -c`). */
  form: 'exec' | 'shell';
  /** exec form: the words; shell form: a single element holding the script. */
  args: string[];
  location: Location;
}

export interface ExposedPort {
  port: number;
  protocol: 'tcp' | 'udp';
  raw: string;
  location: Location;
}

/** A step that ran at build time: a Dockerfile RUN, or an image history entry's `created_by`. */
export interface BuildStep {
  instruction: string;
  /** The shell script (or exec words joined by spaces) of the step. */
  script: string;
  location: Location;
}

export interface StageSummary {
  index: number;
  name?: string;
  baseImage: string;
  location: Location;
  labels: Map<string, ModelValue>;
  env: Map<string, ModelValue>;
}

/** `# smcl-ignore rule-id` pragmas: findings of `ruleIds` in `file` between the lines are dropped. */
export interface Suppression {
  file: string;
  ruleIds: string[] | 'all';
  fromLine: number;
  toLine: number;
}

export interface BaseImageInfo {
  ref: string;
  /** `scratch`: nothing inherited; `stage`: an earlier stage (already merged); `external`: a registry image whose config we have not seen. */
  kind: 'scratch' | 'stage' | 'external';
  location?: Location;
  /** True when the external base's config was fetched and merged (`--resolve-base`). */
  resolved?: boolean;
}

/** What only a built image shows: its size and the media types a puller must understand. */
export interface ImageManifestInfo {
  /** Sum of the layer blobs as the source stores them (compressed in registries and OCI layouts). */
  sizeBytes: number;
  /** Sum of the uncompressed layers (what an instance extracts to disk), when the layers were read. */
  uncompressedSizeBytes?: number;
  /** Media type of the image manifest; undefined for docker-archive (its manifest.json has none). */
  manifestMediaType?: string;
  /** Layer media types in manifest order; undefined when the source has none (docker-archive). */
  layerMediaTypes?: string[];
  /** Layer digests in manifest order (for locations). */
  layerDigests: string[];
}

/**
 * What a container will be when SageMaker runs it, whichever source it was read from.
 * Rules read only this: they cannot tell a Dockerfile from a pulled image.
 */
export interface ContainerModel {
  source: 'dockerfile' | 'image';
  /** Dockerfile path or image reference, for messages. */
  name: string;
  /** The build stage the model describes (Dockerfile sources). */
  target?: string;
  baseImage?: BaseImageInfo;
  labels: Map<string, ModelValue>;
  env: Map<string, ModelValue>;
  exposedPorts: ExposedPort[];
  entrypoint?: CommandSpec;
  cmd?: CommandSpec;
  user?: ModelValue;
  workdir?: ModelValue;
  platform?: { os: string; architecture: string; variant?: string };
  healthcheck?: CommandSpec;
  buildSteps: BuildStep[];
  files: VirtualFileSystem;
  /** Stages of the Dockerfile other than the one linted (for "label only in another stage"). */
  otherStages: StageSummary[];
  suppressions: Suppression[];
  /** Location of the whole subject (first line of the final stage, or the image config). */
  subjectLocation: Location;
  /** Source texts by printable file name (the Dockerfile itself), for code frames. */
  sourceTexts: Map<string, string>;
  /**
   * True when the source did not read the file system at all (`--labels-only`): rules that
   * declare `files` are skipped instead of reporting missing files.
   */
  filesUnknown?: boolean;
  /** Image sources only: size and media types (a Dockerfile cannot tell them). */
  image?: ImageManifestInfo;
  /** Facts the source could not establish, with why (e.g. a COPY source missing from the context). */
  gaps: Array<{ message: string; location: Location }>;
}

export function emptyModel(source: ContainerModel['source'], name: string, subjectLocation: Location): ContainerModel {
  return {
    source,
    name,
    labels: new Map(),
    env: new Map(),
    exposedPorts: [],
    buildSteps: [],
    files: new VirtualFileSystem(),
    otherStages: [],
    suppressions: [],
    subjectLocation,
    sourceTexts: new Map(),
    gaps: [],
  };
}

/** Env value as the container will see it at run time, or undefined if not set. */
export function envValue(model: ContainerModel, key: string): string | undefined {
  return model.env.get(key)?.value;
}

/** PATH of the container (Docker's default when not set). */
export function containerPath(model: ContainerModel): string[] {
  const p = model.env.get('PATH')?.value ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  return p.split(':').filter(Boolean);
}
