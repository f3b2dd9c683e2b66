import type { ContainerModel } from '../model/container-model.js';
import type { Location } from '../model/location.js';

export type Severity = 'error' | 'warning' | 'info';
export type SeveritySetting = Severity | 'off';

export const SEVERITY_RANK: Record<Severity, number> = { info: 1, warning: 2, error: 3 };

/** Where rule docs live; each rule's doc is `rules/<id>/README.md` in the repository. */
export const DOCS_BASE = 'https://github.com/sagemaker-container-lint/sagemaker-container-lint/blob/main/rules';

export function docsUrl(ruleId: string): string {
  return `${DOCS_BASE}/${ruleId}/README.md`;
}

/** What a rule reads: a container (Dockerfile, image, ECR) or an endpoint definition (CreateModel, CFN, IAM). */
export type RuleTarget = 'container' | 'endpoint';

export interface RuleMeta {
  /** kebab-case, equal to the folder name under rules/. */
  id: string;
  target: RuleTarget;
  defaultSeverity: Severity;
  /** One line, shown by `smcl rules` and in SARIF. */
  description: string;
  docsUrl: string;
  /**
   * Globs (absolute in-image paths, picomatch syntax) of files whose content the rule reads.
   * Image sources keep in memory only files matching some rule's globs.
   */
  files?: string[];
  /** Options the rule accepts from config, with defaults (e.g. a container limit). */
  defaultOptions?: Record<string, unknown>;
}

export interface FindingInput {
  message: string;
  location: Location;
  /** Overrides the configured severity for this finding (e.g. `info` when the rule cannot decide). */
  severity?: Severity;
  /** What to write instead; shown under the code frame. */
  help?: string;
}

export interface Finding {
  ruleId: string;
  severity: Severity;
  message: string;
  location: Location;
  help?: string;
  docsUrl: string;
  /** The Dockerfile, image or endpoint file the finding belongs to. */
  subject: string;
}

export interface RuleContext<M> {
  model: M;
  options: Record<string, unknown>;
  report(finding: FindingInput): void;
}

export interface Rule<M = ContainerModel> {
  meta: RuleMeta;
  check(ctx: RuleContext<M>): void;
}

/** Helper so rule modules get type checking on their shape. */
export function defineRule<M = ContainerModel>(rule: Rule<M>): Rule<M> {
  return rule;
}

/** A problem with the input itself (unreadable file, bad config): exit code 2, one line, no stack. */
export class InputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InputError';
  }
}
