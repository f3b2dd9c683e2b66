import type { ContainerModel, Suppression } from '../model/container-model.js';
import type { Finding, FindingInput, Rule, RuleMeta, SeveritySetting } from './types.js';

/** The part of the resolved configuration the engine needs. */
export interface RuleSettings {
  /** Per-rule severity override, `off` disables. */
  severity?: Record<string, SeveritySetting>;
  /** Per-rule options, merged over the rule's `defaultOptions`. */
  options?: Record<string, Record<string, unknown>>;
}

export interface RunInput<M> {
  rules: Rule<M>[];
  model: M;
  /** Printable name of the subject (Dockerfile path, image ref, endpoint file). */
  subject: string;
  settings?: RuleSettings;
  suppressions?: Suppression[];
}

/**
 * Runs each enabled rule over one model and returns its findings, sorted by file and line.
 * A rule that throws is a bug in smcl, not in the user's input: it becomes an `error`
 * finding of that rule naming the crash, so one broken rule never hides the others.
 */
export function runRules<M>({ rules, model, subject, settings = {}, suppressions = [] }: RunInput<M>): Finding[] {
  const findings: Finding[] = [];
  for (const rule of rules) {
    const configured = settings.severity?.[rule.meta.id];
    if (configured === 'off') continue;
    const options = { ...(rule.meta.defaultOptions ?? {}), ...(settings.options?.[rule.meta.id] ?? {}) };
    const report = (input: FindingInput): void => {
      findings.push(toFinding(rule.meta, input, configured, subject));
    };
    try {
      rule.check({ model, options, report });
    } catch (err) {
      findings.push({
        ruleId: rule.meta.id,
        severity: 'error',
        message: `internal error in rule ${rule.meta.id}: ${(err as Error).message} (please report this)`,
        location: { file: subject },
        docsUrl: rule.meta.docsUrl,
        subject,
      });
    }
  }
  return sortFindings(findings.filter((f) => !isSuppressed(f, suppressions)));
}

function toFinding(meta: RuleMeta, input: FindingInput, configured: SeveritySetting | undefined, subject: string): Finding {
  // A rule lowers a finding to `info` when it cannot decide; config may only move decided findings.
  const severity = input.severity === 'info' ? 'info' : configured && configured !== 'off' ? configured : (input.severity ?? meta.defaultSeverity);
  return {
    ruleId: meta.id,
    severity,
    message: input.message,
    location: input.location,
    help: input.help,
    docsUrl: meta.docsUrl,
    subject,
    ...(input.fix ? { fix: input.fix } : {}),
  };
}

function isSuppressed(f: Finding, suppressions: Suppression[]): boolean {
  return suppressions.some(
    (s) =>
      (s.file === '*' || s.file === f.location.file) &&
      (s.ruleIds === 'all' || s.ruleIds.includes(f.ruleId)) &&
      (f.location.line === undefined ? s.fromLine <= 1 && s.toLine === Number.MAX_SAFE_INTEGER : f.location.line >= s.fromLine && f.location.line <= s.toLine),
  );
}

export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      a.location.file.localeCompare(b.location.file) ||
      (a.location.line ?? 0) - (b.location.line ?? 0) ||
      (a.location.column ?? 0) - (b.location.column ?? 0) ||
      a.ruleId.localeCompare(b.ruleId),
  );
}

/** Convenience for container models: suppressions come from the model's pragmas. */
export function runContainerRules(rules: Rule<ContainerModel>[], model: ContainerModel, settings?: RuleSettings): Finding[] {
  return runRules({ rules, model, subject: model.name, settings, suppressions: model.suppressions });
}
