import { formatLocation } from '../model/location.js';
import type { Severity } from '../engine/types.js';
import { codeFrame } from './code-frame.js';
import { countBySeverity, type Reporter } from './types.js';

const COLORS = { red: 31, yellow: 33, blue: 34, dim: 2, bold: 1, cyan: 36 } as const;

/** Human output: one block per finding with location, message, code frame, help and doc link. */
export const stylish: Reporter = (results, { color }) => {
  const paint = (c: keyof typeof COLORS, s: string) => (color ? `\u001b[${COLORS[c]}m${s}\u001b[0m` : s);
  const sevColor: Record<Severity, keyof typeof COLORS> = { error: 'red', warning: 'yellow', info: 'blue' };
  const blocks: string[] = [];
  for (const r of results) {
    for (const f of r.findings) {
      const lines = [`${paint('bold', formatLocation(f.location))} ${paint(sevColor[f.severity], f.severity)} ${paint('dim', f.ruleId)}`, `  ${f.message}`];
      const text = r.sourceTexts.get(f.location.file);
      if (text !== undefined && f.location.line !== undefined) {
        const endColumn = f.location.endLine === undefined || f.location.endLine === f.location.line ? f.location.endColumn : undefined;
        const frame = codeFrame(text, f.location.line, f.location.column, endColumn, (s) => paint(sevColor[f.severity], s));
        if (frame) lines.push('', frame);
      }
      if (f.help) lines.push('', `  ${paint('cyan', 'help')}: ${f.help}`);
      lines.push(`  ${paint('dim', 'docs')}: ${f.docsUrl}`);
      blocks.push(lines.join('\n'));
    }
  }
  const c = countBySeverity(results);
  const withFindings = results.filter((r) => r.findings.length > 0).length;
  const summary =
    c.total === 0
      ? paint('bold', `✔ no problems in ${results.length} ${results.length === 1 ? 'subject' : 'subjects'}`)
      : paint(c.error ? 'red' : c.warning ? 'yellow' : 'blue', `✖ ${c.total} ${c.total === 1 ? 'problem' : 'problems'} (${c.error} ${c.error === 1 ? 'error' : 'errors'}, ${c.warning} ${c.warning === 1 ? 'warning' : 'warnings'}, ${c.info} info) in ${withFindings} of ${results.length} ${results.length === 1 ? 'subject' : 'subjects'}`);
  const fixable = results.reduce((n, r) => n + r.findings.filter((f) => f.fix).length, 0);
  const fixHint = fixable ? `\n  ${fixable} of them can be fixed with \`smcl lint --fix\`` : '';
  return (blocks.length ? blocks.join('\n\n') + '\n\n' : '') + summary + fixHint + '\n';
};
