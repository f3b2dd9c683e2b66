import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Finding, Severity } from '../engine/types.js';
import type { Reporter } from './types.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

/**
 * SARIF 2.1.0, as GitHub code scanning reads it: one run, the rule table with helpUri, results
 * with physical locations relative to the working directory (`%SRCROOT%`). Findings inside an
 * image get an `oci://` URI and the layer digest in the result's property bag.
 */
export const sarif: Reporter = (results, { rules, toolVersion }) => {
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));
  const out = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'sagemaker-container-lint',
            version: toolVersion,
            informationUri: 'https://github.com/sagemaker-container-lint/sagemaker-container-lint',
            rules: rules.map((r) => ({
              id: r.id,
              name: r.id.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase()),
              shortDescription: { text: r.description },
              fullDescription: { text: r.description },
              helpUri: r.docsUrl,
              help: { text: `See ${r.docsUrl}` },
              defaultConfiguration: { level: LEVEL[r.defaultSeverity] },
            })),
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(process.cwd() + path.sep).href } },
        results: results.flatMap((r) => r.findings.map((f) => result(f, ruleIndex))),
      },
    ],
  };
  return JSON.stringify(out, null, 2) + '\n';
};

function result(f: Finding, ruleIndex: Map<string, number>) {
  const region =
    f.location.line !== undefined
      ? {
          startLine: f.location.line,
          ...(f.location.column !== undefined ? { startColumn: f.location.column } : {}),
          ...(f.location.endLine !== undefined ? { endLine: f.location.endLine } : {}),
          ...(f.location.endColumn !== undefined && (f.location.endLine === undefined || f.location.endLine >= f.location.line) ? { endColumn: f.location.endColumn } : {}),
        }
      : undefined;
  const artifactLocation = f.location.image
    ? { uri: encodeURI(`oci://${f.location.image.ref}${f.location.image.path?.startsWith('/') ? f.location.image.path : '/'}`) }
    : { uri: toUri(f.location.file), uriBaseId: '%SRCROOT%' };
  return {
    ruleId: f.ruleId,
    ...(ruleIndex.has(f.ruleId) ? { ruleIndex: ruleIndex.get(f.ruleId) } : {}),
    level: LEVEL[f.severity],
    message: { text: f.help ? `${f.message}\nFix: ${f.help}` : f.message },
    locations: [{ physicalLocation: { artifactLocation, ...(region ? { region } : {}) } }],
    ...(f.location.image ? { properties: { image: f.location.image.ref, layer: f.location.image.layer, pathInImage: f.location.image.path } } : {}),
  };
}

function toUri(file: string): string {
  const rel = path.isAbsolute(file) ? path.relative(process.cwd(), file) : file;
  return rel.split(path.sep).map(encodeURIComponent).join('/');
}
