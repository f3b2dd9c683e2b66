import { defineRule, docsUrl, type Fix } from '../../src/engine/types.js';
import type { ContainerModel } from '../../src/model/container-model.js';
import { offsetAt, type Location } from '../../src/model/location.js';

export const LABEL_KEY = 'com.amazonaws.sagemaker.capabilities.accept-bind-to-port';
const ID = 'accept-bind-to-port-label';

/** Base images published by AWS for SageMaker inference carry the label themselves. */
const AWS_INFERENCE_BASE = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/[^:@]*inference/;

function sagemakerError(image: string): string {
  return `"Your Ecr Image ${image} does not contain required ${LABEL_KEY}=true Docker label(s)."`;
}

export default defineRule({
  meta: {
    id: ID,
    target: 'container',
    defaultSeverity: 'error',
    description: `The image must carry LABEL ${LABEL_KEY}=true to join a multi-container endpoint.`,
    docsUrl: docsUrl(ID),
    fixable: true,
  },
  check({ model, report }) {
    const label = model.labels.get(LABEL_KEY);
    const fix = `add to the final stage: LABEL ${LABEL_KEY}=true`;

    if (label) {
      if (label.unresolved?.length) {
        report({
          message: `label ${LABEL_KEY} is set from ${label.unresolved.map((v) => '$' + v).join(', ')}, which has no value at build time (no default, no --build-arg): the label will be "${label.value}", and SageMaker will answer ${sagemakerError(model.name)}`,
          location: label.location,
          help: `give the ARG a default (ARG ${label.unresolved[0]}=true), pass --build-arg, or write the literal: LABEL ${LABEL_KEY}=true`,
        });
        return;
      }
      if (label.value === 'true') return;
      const caseOnly = label.value.toLowerCase() === 'true';
      report({
        message: `label ${LABEL_KEY} is "${label.value}", not "true"${caseOnly ? ' (the value is compared as written: use lower case)' : ''}; SageMaker will answer ${sagemakerError(model.name)}`,
        location: label.location,
        help: `write LABEL ${LABEL_KEY}=true`,
        // Only a label written in this stage: changing a parent stage's would change that image too.
        fix: label.inheritedFrom === undefined ? replaceFix(model, label.location, `${LABEL_KEY}=true`, `set ${LABEL_KEY}=true`) : undefined,
      });
      return;
    }

    const elsewhere = model.otherStages.find((s) => s.labels.has(LABEL_KEY));
    if (elsewhere) {
      const where = elsewhere.labels.get(LABEL_KEY)!.location;
      report({
        message: `label ${LABEL_KEY} is set in stage "${elsewhere.name ?? elsewhere.index}" but not in stage "${model.target}", the image that is built and deployed; SageMaker will answer ${sagemakerError(model.name)}`,
        location: where,
        help: `move the LABEL into the final stage, or build FROM the stage that has it`,
      });
      return;
    }

    if (model.baseImage?.kind === 'external' && !model.baseImage.resolved && AWS_INFERENCE_BASE.test(model.baseImage.ref)) {
      report({
        severity: 'info',
        message: `label ${LABEL_KEY} is not set here; the AWS inference base image ${model.baseImage.ref} normally carries it (not checked: run \`smcl image\` on the built image to confirm)`,
        location: model.baseImage.location ?? model.subjectLocation,
        help: fix,
      });
      return;
    }

    report({
      message: `label ${LABEL_KEY}=true is missing; in a multi-container endpoint SageMaker will answer ${sagemakerError(model.name)}`,
      location: model.subjectLocation,
      help: fix,
      fix: insertAfterFix(model, model.subjectLocation, `LABEL ${LABEL_KEY}=true`),
    });
  },
});

/** The Dockerfile's text when `loc` is in a Dockerfile read from disk (not stdin, not an image). */
function dockerfileText(model: ContainerModel, loc: Location): string | undefined {
  if (model.source !== 'dockerfile' || loc.image || loc.file === '<stdin>' || loc.line === undefined) return undefined;
  return model.sourceTexts.get(loc.file);
}

/** Replaces the text at `loc` (a LABEL's key=value) with `text`. */
function replaceFix(model: ContainerModel, loc: Location, text: string, description: string): Fix | undefined {
  const source = dockerfileText(model, loc);
  if (source === undefined || loc.endLine === undefined || loc.endColumn === undefined) return undefined;
  const start = offsetAt(source, loc.line!, loc.column);
  const end = offsetAt(source, loc.endLine, loc.endColumn);
  return { file: loc.file, description: `${description} (line ${loc.line})`, edits: [{ start, end, text }] };
}

/** Adds `line` as a new line after the instruction at `loc` (the target stage's FROM). */
function insertAfterFix(model: ContainerModel, loc: Location, line: string): Fix | undefined {
  const source = dockerfileText(model, loc);
  if (source === undefined || loc.endLine === undefined || loc.endColumn === undefined) return undefined;
  const at = offsetAt(source, loc.endLine, loc.endColumn);
  const eol = source.includes('\r\n') ? '\r\n' : '\n';
  return { file: loc.file, description: `add ${line} after line ${loc.endLine}`, edits: [{ start: at, end: at, text: `${eol}${line}` }] };
}
