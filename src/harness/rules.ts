import type { RuleSettings } from '../engine/run.js';
import type { Finding } from '../engine/types.js';

/** Applies config severities (`off` drops the finding; `info` from the harness is kept as is). */
export function applyRuleSettings(findings: Finding[], settings: RuleSettings | undefined): Finding[] {
  const out: Finding[] = [];
  for (const f of findings) {
    const s = settings?.severity?.[f.ruleId];
    if (s === 'off') continue;
    out.push(s && f.severity !== 'info' ? { ...f, severity: s } : f);
  }
  return out;
}
