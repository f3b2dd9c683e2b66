import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lintEndpointFiles, type EndpointLintSettings } from '../../src/endpoint/index.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Got {
  ruleId: string;
  file: string;
  line: number | undefined;
  severity: string;
  message: string;
}

/**
 * Lints fixture files of `rules/<ruleId>/fixtures/` together as one input and returns this
 * rule's findings as { ruleId, file (name inside fixtures/), line, severity, message }.
 */
export async function ruleFindings(ruleId: string, files: string[], settings: EndpointLintSettings = {}): Promise<Got[]> {
  const dir = path.join(ROOT, 'rules', ruleId, 'fixtures');
  const paths = files.map((f) => path.relative(process.cwd(), path.join(dir, f)));
  const { results } = await lintEndpointFiles(paths, settings);
  return results
    .flatMap((r) => r.findings)
    .filter((f) => f.ruleId === ruleId)
    .map((f) => ({ ruleId: f.ruleId, file: path.relative(dir, path.resolve(f.location.file)), line: f.location.line, severity: f.severity, message: f.message }));
}

/** The comparable part of findings. */
export const brief = (got: Got[]): Array<[string, string, number | undefined, string]> => got.map((g) => [g.ruleId, g.file, g.line, g.severity]);
