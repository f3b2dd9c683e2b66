import { countBySeverity, type Reporter } from './types.js';

/** Stable machine output: `{ version, summary, results: [{ subject, findings }] }`. */
export const json: Reporter = (results, { toolVersion }) =>
  JSON.stringify(
    {
      tool: 'sagemaker-container-lint',
      version: toolVersion,
      summary: countBySeverity(results),
      results: results.map((r) => ({ subject: r.subject, findings: r.findings })),
    },
    null,
    2,
  ) + '\n';
