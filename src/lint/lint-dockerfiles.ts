import fs from 'node:fs';
import { containerRules } from '../../rules/index.js';
import type { SmclConfig } from '../engine/config.js';
import { runContainerRules } from '../engine/run.js';
import type { ContainerModel } from '../model/container-model.js';
import type { LintResult } from '../report/types.js';
import { decodeDockerfile, loadDockerfile, loadDockerfileTargets } from '../sources/dockerfile/index.js';

export interface DockerfileLintOptions {
  config: SmclConfig;
  context?: string;
  /** A stage name or index; `all` for every stage that can be built as an image. */
  target?: string;
  buildArgs?: Record<string, string>;
}

/** A model to lint and the subject name its findings are reported under. */
export interface SubjectModel {
  model: ContainerModel;
  subject: string;
}

/**
 * Builds the models of one Dockerfile: the target stage, or with `--target all` every stage that
 * can be built as a final image (one that other stages do not only copy from), each reported as
 * its own subject `<file> (target <stage>)`.
 */
export function dockerfileModels(file: string, opts: DockerfileLintOptions): SubjectModel[] {
  const stdin = file === '-';
  const name = stdin ? '<stdin>' : file;
  const input = {
    file: name,
    text: stdin ? decodeDockerfile(fs.readFileSync(0), '<stdin>') : undefined,
    context: opts.context ?? (stdin ? process.cwd() : undefined),
    buildArgs: { ...(opts.config.buildArgs ?? {}), ...(opts.buildArgs ?? {}) },
  };
  if (opts.target !== 'all') {
    const model = loadDockerfile({ ...input, target: opts.target });
    return [{ model, subject: model.name }];
  }
  return loadDockerfileTargets(input).map(({ target, model }) => ({ model, subject: `${name} (target ${target})` }));
}

/** Every subject of one Dockerfile (one, or one per buildable stage with `--target all`), linted. */
export function lintDockerfileSubjects(file: string, opts: DockerfileLintOptions): LintResult[] {
  return dockerfileModels(file, opts).map(({ model, subject }) => lintModel(model, opts.config, subject));
}

/** Builds the model of one Dockerfile and runs the container rules on it. */
export function lintDockerfile(file: string, opts: DockerfileLintOptions): LintResult {
  const [{ model }] = dockerfileModels(file, { ...opts, target: opts.target === 'all' ? undefined : opts.target });
  return lintModel(model, opts.config);
}

/** Runs the container rules on any model (Dockerfile, image, ECR) and collects texts for frames. */
export function lintModel(model: ContainerModel, config: SmclConfig, subject = model.name): LintResult {
  const rules = model.filesUnknown ? containerRules.filter((r) => !r.meta.files) : containerRules;
  const findings = runContainerRules(rules, model, config).map((f) => (subject === f.subject ? f : { ...f, subject }));
  const sourceTexts = new Map([...model.sourceTexts, ...model.files.readTexts]);
  return { subject, findings, sourceTexts };
}
