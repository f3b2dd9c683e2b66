import type { ContainerModel } from '../model/container-model.js';
import type { Location } from '../model/location.js';
import { locateInFile } from '../model/vfs.js';
import { appFiles } from './app-files.js';

/**
 * Serving toolkits that keep SageMaker's contract themselves: they answer /ping and
 * /invocations, and (where `bindsToPortEnv` says so) read SAGEMAKER_BIND_TO_PORT. When one of
 * them is installed, the team's code has no bind of its own to check.
 * Evidence for each entry is cited in rules/bind-to-port-env/README.md.
 */
export interface Toolkit {
  name: string;
  /** Package names as they appear in pip/npm/apt install lines and requirement files. */
  packages: RegExp;
  /** Python module whose import shows the toolkit is used (`from sagemaker_inference import model_server`). */
  module?: RegExp;
  /**
   * Reads SAGEMAKER_BIND_TO_PORT itself: 'yes'; 'no' (its port comes from a config the team
   * writes, which the bind analysis reads); 'unknown' (then the rules say so at info).
   */
  bindsToPortEnv: 'yes' | 'no' | 'unknown';
  providesRoutes: boolean;
  /** First version known to read the variable, when the toolkit did not always. */
  sinceVersion?: string;
}

/*
 * Evidence (repository, path @ commit: what the code does), also in rules/bind-to-port-env/README.md:
 * - aws/sagemaker-inference-toolkit src/sagemaker_inference/environment.py:64 @1285ad5 (the
 *   earliest stored version, the package's initial import): Environment.http_port is read from
 *   SAGEMAKER_BIND_TO_PORT (parameters.BIND_TO_PORT_ENV), default '8080'.
 *   src/sagemaker_inference/model_server.py:127 @018bd9d: the generated MMS config sets
 *   inference_address=http://0.0.0.0:{that port}. So every version honours it.
 * - aws/sagemaker-pytorch-inference-toolkit src/sagemaker_pytorch_serving_container/torchserve.py:158
 *   @0138d35: the TorchServe config it writes takes inference_address (and management_address)
 *   from sagemaker_inference's Environment, which reads SAGEMAKER_BIND_TO_PORT.
 * - aws/sagemaker-huggingface-inference-toolkit src/sagemaker_huggingface_inference_toolkit/
 *   mms_model_server.py:91-95 @0a0cc3d: builds sagemaker_inference's Environment and writes the
 *   MMS config with sagemaker_inference.model_server._create_model_server_config_file.
 * - aws/sagemaker-mxnet-inference-toolkit src/sagemaker_mxnet_serving_container/serving.py:49
 *   @1b59c38: starts the server through sagemaker_inference.model_server.start_model_server.
 * - awslabs/multi-model-server frontend/server/src/main/java/com/amazonaws/ml/mms/util/
 *   ConfigManager.java @715f09f: no read of SAGEMAKER_BIND_TO_PORT; inference_address defaults to
 *   http://127.0.0.1:8080 (getListener); a property whose whole value is $$NAME$$ is replaced with
 *   the environment variable NAME (pattern at :101, resolveEnvVarVals). Its port is the config's.
 * - TorchServe (pytorch/serve): no read of SAGEMAKER_BIND_TO_PORT was found in what was searched;
 *   the port is the config's inference_address (unknown when no config is seen).
 */
export const TOOLKITS: Toolkit[] = [
  { name: 'SageMaker Inference Toolkit', packages: /^sagemaker[-_]inference$/i, module: /\b(?:from|import)\s+sagemaker_inference\b/, bindsToPortEnv: 'yes', providesRoutes: true },
  { name: 'SageMaker PyTorch Inference Toolkit', packages: /^sagemaker[-_]pytorch[-_](?:inference|serving[-_]container)$/i, module: /\b(?:from|import)\s+sagemaker_pytorch_serving_container\b/, bindsToPortEnv: 'yes', providesRoutes: true },
  { name: 'SageMaker Hugging Face Inference Toolkit', packages: /^sagemaker[-_]huggingface[-_]inference[-_]toolkit$/i, module: /\b(?:from|import)\s+sagemaker_huggingface_inference_toolkit\b/, bindsToPortEnv: 'yes', providesRoutes: true },
  { name: 'SageMaker MXNet Inference Toolkit', packages: /^sagemaker[-_]mxnet[-_](?:inference|serving[-_]container)$/i, module: /\b(?:from|import)\s+sagemaker_mxnet_serving_container\b/, bindsToPortEnv: 'yes', providesRoutes: true },
  { name: 'Multi Model Server', packages: /^(?:multi|mxnet)[-_]model[-_]server$/i, bindsToPortEnv: 'no', providesRoutes: true },
  { name: 'TorchServe', packages: /^torchserve$/i, bindsToPortEnv: 'unknown', providesRoutes: true },
];

/** -1, 0, 1 for dotted numeric versions (`1.10.2` > `1.9`); non-numeric parts compare as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map((x) => parseInt(x, 10) || 0);
  const pb = b.split(/[.+-]/).map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) < (pb[i] ?? 0) ? -1 : 1;
  return 0;
}

/**
 * The toolkit as the rules should see it at this install: a version older than the first one
 * that reads the variable does not honour it ('no'); an unknown version of a toolkit that
 * started to at some version is 'unknown'.
 */
function atVersion(toolkit: Toolkit, version: string | undefined): Toolkit {
  if (toolkit.bindsToPortEnv !== 'yes' || !toolkit.sinceVersion) return toolkit;
  if (version === undefined) return { ...toolkit, bindsToPortEnv: 'unknown' };
  return compareVersions(version, toolkit.sinceVersion) < 0 ? { ...toolkit, bindsToPortEnv: 'no' } : toolkit;
}

export interface InstalledToolkit {
  toolkit: Toolkit;
  version?: string;
  location: Location;
}

const toolkitCache = new WeakMap<ContainerModel, InstalledToolkit[]>();

/**
 * Toolkits installed by RUN lines (pip/conda/uv, including local wheels and sdists such as
 * `/sagemaker_inference.tar.gz`), listed in requirement files or pyproject dependencies, or
 * imported by the team's Python code (version unknown then). Computed once per model.
 */
export function installedToolkits(model: ContainerModel): InstalledToolkit[] {
  let found = toolkitCache.get(model);
  if (!found) {
    found = findInstalledToolkits(model);
    toolkitCache.set(model, found);
  }
  return found;
}

function findInstalledToolkits(model: ContainerModel): InstalledToolkit[] {
  const out: InstalledToolkit[] = [];
  const add = (toolkit: Toolkit, version: string | undefined, location: Location) => {
    if (out.some((o) => o.toolkit.name === toolkit.name)) return;
    out.push({ toolkit: atVersion(toolkit, version), version, location });
  };
  const consider = (spec: string, location: Location) => {
    let word = spec.trim().replace(/^['"]|['"]$/g, '');
    // A local or downloaded archive: its file name carries the package name (and version).
    const archive = /(?:^|\/)([A-Za-z0-9][A-Za-z0-9._]*?)(?:-(\d[\w.]*?))?(?:-py\w.*)?\.(?:tar\.gz|zip|whl)$/.exec(word);
    if (archive) word = archive[2] ? `${archive[1]}==${archive[2]}` : archive[1];
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?:(==|>=|~=|<=|<|>)\s*([\w.]+))?/.exec(word);
    if (!m) return;
    const toolkit = TOOLKITS.find((t) => t.packages.test(m[1]));
    // `==` pins the version; `>=`/`~=` give the lowest version that can be installed.
    if (toolkit) add(toolkit, m[2] === '==' || m[2] === '>=' || m[2] === '~=' ? m[3] : undefined, location);
  };
  for (const step of model.buildSteps) {
    for (const install of step.script.matchAll(/(?:\b(?:pip3?|python3?\s+-m\s+pip|conda|mamba|uv\s+pip)|\$\{?PIP\}?)\s+install\s+([^&;|\n]+)/g)) {
      for (const word of install[1].split(/\s+/)) if (word && !word.startsWith('-') && word !== '\\') consider(word, step.location);
    }
  }
  for (const f of appFiles(model)) {
    const text = model.files.readText(f);
    if (text === undefined) continue;
    if (/requirements[^/]*\.txt$/.test(f.path)) {
      text.split(/\r?\n/).forEach((line, i) => {
        if (line.trim() && !line.trim().startsWith('#') && !line.trim().startsWith('-')) consider(line, locateInFile(f, i + 1, 1));
      });
    } else if (/pyproject\.toml$/.test(f.path)) {
      // [project] dependencies = ["sagemaker-inference>=1.10", ...] (one per line or inline).
      const deps = /^\s*dependencies\s*=\s*\[([\s\S]*?)\]/m.exec(text);
      if (deps) for (const d of deps[1].matchAll(/['"]([^'"]+)['"]/g)) consider(d[1], locateInFile(f, text.slice(0, deps.index! + deps[0].indexOf(d[0])).split('\n').length, 1));
    } else if (/\.py$/.test(f.path) || /^#!.*python/.test(text)) {
      const lines = text.split(/\r?\n/);
      for (const t of TOOLKITS) {
        const i = t.module ? lines.findIndex((l) => t.module!.test(l)) : -1;
        if (i >= 0) add(t, undefined, locateInFile(f, i + 1, 1));
      }
    }
  }
  return out;
}
