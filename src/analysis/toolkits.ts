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
  /** Reads SAGEMAKER_BIND_TO_PORT itself: 'yes', or 'unknown' (then the rules say so at info). */
  bindsToPortEnv: 'yes' | 'unknown';
  providesRoutes: boolean;
  /** First version known to read the variable, when the toolkit did not always. */
  sinceVersion?: string;
}

export const TOOLKITS: Toolkit[] = [
  { name: 'SageMaker Inference Toolkit', packages: /^sagemaker[-_]inference$/i, bindsToPortEnv: 'yes', providesRoutes: true },
  { name: 'SageMaker PyTorch Inference Toolkit', packages: /^sagemaker[-_]pytorch[-_]inference$/i, bindsToPortEnv: 'yes', providesRoutes: true },
  { name: 'SageMaker Hugging Face Inference Toolkit', packages: /^sagemaker[-_]huggingface[-_]inference[-_]toolkit$/i, bindsToPortEnv: 'yes', providesRoutes: true },
  { name: 'SageMaker MXNet Inference Toolkit', packages: /^sagemaker[-_]mxnet[-_]inference$/i, bindsToPortEnv: 'yes', providesRoutes: true },
  { name: 'Multi Model Server', packages: /^multi[-_]model[-_]server$/i, bindsToPortEnv: 'unknown', providesRoutes: true },
  { name: 'TorchServe', packages: /^torchserve$/i, bindsToPortEnv: 'unknown', providesRoutes: true },
];

export interface InstalledToolkit {
  toolkit: Toolkit;
  version?: string;
  location: Location;
}

/** Toolkits installed by RUN lines (pip/conda install) or listed in requirement files. */
export function installedToolkits(model: ContainerModel): InstalledToolkit[] {
  const out: InstalledToolkit[] = [];
  const consider = (spec: string, location: Location) => {
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?:(==|>=|~=|<=|<|>)\s*([\w.]+))?/.exec(spec.trim().replace(/^['"]|['"]$/g, ''));
    if (!m) return;
    const toolkit = TOOLKITS.find((t) => t.packages.test(m[1]));
    if (toolkit && !out.some((o) => o.toolkit === toolkit)) out.push({ toolkit, version: m[2] === '==' ? m[3] : undefined, location });
  };
  for (const step of model.buildSteps) {
    for (const install of step.script.matchAll(/\b(?:pip3?|python3?\s+-m\s+pip|conda|mamba|uv\s+pip)\s+install\s+([^&;|\n]+)/g)) {
      for (const word of install[1].split(/\s+/)) if (word && !word.startsWith('-')) consider(word, step.location);
    }
  }
  for (const f of appFiles(model)) {
    if (!/requirements[^/]*\.txt$/.test(f.path)) continue;
    const text = model.files.readText(f);
    text?.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() && !line.trim().startsWith('#') && !line.trim().startsWith('-')) consider(line, locateInFile(f, i + 1, 1));
    });
  }
  return out;
}
