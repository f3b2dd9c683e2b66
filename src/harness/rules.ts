import type { RuleSettings } from '../engine/run.js';
import { docsUrl, type Finding, type RuleMeta } from '../engine/types.js';
import type { BootRuleId } from './boot.js';

/**
 * Metadata of the rules the boot harness checks by running the image (not by reading a model),
 * so that config validation, `severity` overrides and SARIF rule tables know them.
 */
const meta = (id: BootRuleId, description: string): RuleMeta => ({ id, target: 'container', defaultSeverity: 'error', description, docsUrl: docsUrl(id) });

export const BOOT_RULE_METAS: RuleMeta[] = [
  meta('bind-to-port-env', 'The server listens on SAGEMAKER_BIND_TO_PORT (8080 only when it is not set) [smcl boot]'),
  meta('second-port-safe-range', 'Every other port the container listens on is inside SAGEMAKER_SAFE_PORT_RANGE [smcl boot]'),
  meta('ping-invocations-handlers', 'GET /ping answers 200 in time and POST /invocations is served [smcl boot]'),
  meta('serve-entrypoint', '`docker run <image> serve` starts a server that keeps running [smcl boot]'),
];

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
