import { formatLocation } from '../model/location.js';
import type { Severity } from '../engine/types.js';
import { countBySeverity, type Reporter } from './types.js';

const ICON: Record<Severity, string> = { error: '🔴 error', warning: '🟡 warning', info: '🔵 info' };

/**
 * GitHub-flavoured Markdown: a headline with the counts, then one table per subject with
 * findings (severity, location, rule linked to its doc, message and fix). Made for
 * `$GITHUB_STEP_SUMMARY`, PR comments and `smcl ecr --format markdown`.
 */
export const markdown: Reporter = (results, { toolVersion }) => {
  const c = countBySeverity(results);
  const out: string[] = ['## sagemaker-container-lint', ''];
  if (c.total === 0) {
    out.push(`✅ No problems in ${results.length} ${results.length === 1 ? 'subject' : 'subjects'}.`);
  } else {
    const withFindings = results.filter((r) => r.findings.length > 0).length;
    out.push(`❌ **${c.total} ${c.total === 1 ? 'problem' : 'problems'}** (${c.error} ${c.error === 1 ? 'error' : 'errors'}, ${c.warning} ${c.warning === 1 ? 'warning' : 'warnings'}, ${c.info} info) in ${withFindings} of ${results.length} ${results.length === 1 ? 'subject' : 'subjects'}.`);
  }
  for (const r of results) {
    out.push('', `### ${r.findings.length ? '❌' : '✅'} \`${code(r.subject)}\``, '');
    if (r.findings.length === 0) {
      out.push('No problems.');
      continue;
    }
    out.push('| severity | location | rule | message |', '| --- | --- | --- | --- |');
    for (const f of r.findings) {
      const message = f.help ? `${cell(f.message)}<br>**Fix:** ${cell(f.help)}` : cell(f.message);
      out.push(`| ${ICON[f.severity]} | \`${code(formatLocation(f.location))}\` | [${f.ruleId}](${f.docsUrl}) | ${message} |`);
    }
  }
  out.push('', `<sub>sagemaker-container-lint ${toolVersion}</sub>`);
  return out.join('\n') + '\n';
};

/** Text inside a table cell: pipes and newlines would break the row; HTML is neutralised. */
function cell(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/** Text inside backticks in a table cell. */
function code(s: string): string {
  return s.replace(/`/g, "'").replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
