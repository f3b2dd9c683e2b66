import fs from 'node:fs';
import { containerRules } from '../../rules/index.js';
import type { SmclConfig } from '../engine/config.js';
import { runContainerRules } from '../engine/run.js';
import type { ContainerModel } from '../model/container-model.js';
import type { LintResult } from '../report/types.js';
import { decodeDockerfile, listStages, loadDockerfile, readDockerfileText } from '../sources/dockerfile/index.js';

export interface DockerfileLintOptions {
  config: SmclConfig;
  context?: string;
  target?: string;
  buildArgs?: Record<string, string>;
}

/** Builds the model of one Dockerfile and runs the container rules on it. */
export function lintDockerfile(file: string, opts: DockerfileLintOptions): LintResult {
  const text = file === '-' ? decodeDockerfile(fs.readFileSync(0), '<stdin>') : undefined;
  const model = loadDockerfile({
    file: file === '-' ? '<stdin>' : file,
    text,
    context: opts.context ?? (file === '-' ? process.cwd() : undefined),
    target: opts.target,
    buildArgs: { ...(opts.config.buildArgs ?? {}), ...(opts.buildArgs ?? {}) },
  });
  return lintModel(model, opts.config);
}

/**
 * `--target all`: every stage that can be built as a final image (one that other stages do not
 * only copy from), each linted as its own subject `<file> (target <stage>)`.
 */
export function lintDockerfileTargets(file: string, opts: DockerfileLintOptions): LintResult[] {
  const text = file === '-' ? decodeDockerfile(fs.readFileSync(0), '<stdin>') : readDockerfileText(file);
  const stages = listStages(text).filter((s) => !s.copiedFromOnly);
  return stages.map((s) => {
    const target = s.name ?? String(s.index);
    const model = loadDockerfile({ file: file === '-' ? '<stdin>' : file, text, context: opts.context ?? (file === '-' ? process.cwd() : undefined), target, buildArgs: { ...(opts.config.buildArgs ?? {}), ...(opts.buildArgs ?? {}) } });
    const result = lintModel(model, opts.config);
    const subject = `${result.subject} (target ${target})`;
    return { ...result, subject, findings: result.findings.map((f) => ({ ...f, subject })) };
  });
}

/** Runs the container rules on any model (Dockerfile, image, ECR) and collects texts for frames. */
export function lintModel(model: ContainerModel, config: SmclConfig): LintResult {
  const rules = model.filesUnknown ? containerRules.filter((r) => !r.meta.files) : containerRules;
  const findings = runContainerRules(rules, model, config);
  const sourceTexts = new Map([...model.sourceTexts, ...model.files.readTexts]);
  return { subject: model.name, findings, sourceTexts };
}
