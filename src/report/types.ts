import type { Finding, RuleMeta } from '../engine/types.js';

/** What one linted subject (Dockerfile, image, endpoint file) produced. */
export interface LintResult {
  subject: string;
  findings: Finding[];
  /** Texts of the files findings point into, for code frames (Dockerfile, serve script, nginx.conf...). */
  sourceTexts: Map<string, string>;
}

export interface ReportOptions {
  color: boolean;
  /** Metadata of every rule that ran, for SARIF's rule table. */
  rules: RuleMeta[];
  toolVersion: string;
}

export type Reporter = (results: LintResult[], options: ReportOptions) => string;

export function countBySeverity(results: LintResult[]): { error: number; warning: number; info: number; total: number } {
  const c = { error: 0, warning: 0, info: 0, total: 0 };
  for (const r of results)
    for (const f of r.findings) {
      c[f.severity]++;
      c.total++;
    }
  return c;
}
