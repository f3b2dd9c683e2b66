import { runRules, type RuleSettings } from '../engine/run.js';
import type { Finding, Rule } from '../engine/types.js';
import { endpointRules } from '../../rules/index.js';
import { loadEndpointFile, loadEndpointText } from './load.js';
import { buildAccessMatrix, type AccessMatrix } from './matrix.js';
import { mergeEndpointModels, type EndpointModel } from './model.js';

export { isEndpointFile, loadEndpointFile, loadEndpointText, policyFromObject } from './load.js';
export { evaluateInvoke } from './iam.js';
export type { InvokeDecision, InvokeRequest, StatementRef, Decision } from './iam.js';
export { accessMatrixToJson, buildAccessMatrix, computeAccessTable, renderAccessMatrixText } from './matrix.js';
export type { AccessMatrix, AccessMatrixJson, AccessTable } from './matrix.js';
export type { EndpointModel } from './model.js';

export { endpointRules };

export interface EndpointLintSettings extends RuleSettings {
  /** Endpoint name (or ARN) to check Resource ARNs against when the input does not name the endpoint. */
  endpointName?: string;
  /** Extra hostnames for the access matrix (useful when only policies are given). */
  hostnames?: string[];
  /** Rules to run instead of `endpointRules` (e.g. from the global registry). */
  rules?: Rule<EndpointModel>[];
}

export interface EndpointLintResult {
  /** The input file. */
  subject: string;
  findings: Finding[];
  sourceTexts: Map<string, string>;
}

/**
 * Loads the files as one input (policies in one file apply to models in another), runs the endpoint
 * rules and returns the findings per file, plus the access matrix. Bad input throws `InputError`.
 */
export async function lintEndpointFiles(paths: string[], settings: EndpointLintSettings = {}): Promise<{ results: EndpointLintResult[]; matrix: AccessMatrix }> {
  const parts: EndpointModel[] = [];
  for (const p of paths) parts.push(await loadEndpointFile(p));
  return lintEndpointModels(parts, settings);
}

/** Same as `lintEndpointFiles` for texts already in memory. */
export function lintEndpointTexts(files: Array<{ path: string; text: string }>, settings: EndpointLintSettings = {}): { results: EndpointLintResult[]; matrix: AccessMatrix } {
  return lintEndpointModels(files.map((f) => loadEndpointText(f.text, f.path)), settings);
}

function lintEndpointModels(parts: EndpointModel[], settings: EndpointLintSettings): { results: EndpointLintResult[]; matrix: AccessMatrix } {
  const optionName = settings.options?.['iam-target-container-hostname']?.endpointName;
  const endpointName = settings.endpointName ?? (typeof optionName === 'string' ? optionName : undefined);
  const model = mergeEndpointModels(parts, endpointName);
  const subject = model.sources.map((s) => s.file).join(', ');
  const findings = runRules({ rules: settings.rules ?? endpointRules, model, subject, settings });
  const results: EndpointLintResult[] = model.sources.map((s) => ({ subject: s.file, findings: [], sourceTexts: new Map([[s.file, s.text]]) }));
  for (const f of findings) {
    const r = results.find((x) => x.subject === f.location.file) ?? results[0];
    r.findings.push({ ...f, subject: r.subject });
  }
  return { results, matrix: buildAccessMatrix(model, { hostnames: settings.hostnames }) };
}
