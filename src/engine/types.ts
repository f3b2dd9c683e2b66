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
  /** Some of its findings carry a fix that `smcl lint --fix` applies (see the rule's README). */
  fixable?: boolean;
}

/**
 * A change `smcl lint --fix` may make to a file of the user's repository (a Dockerfile or a
 * build-context file). Edits are offsets into the file's text as smcl read it; the fixer
 * refuses a file whose text changed since.
 */
export interface Fix {
  /** Path of the file on disk, as the finding's location names it. */
  file: string;
  /** What the fix does, e.g. "add LABEL ...=true after the FROM on line 3". */
  description: string;
  /** Replace text[start, end) with `text`; edits of one fix must not overlap. */
  edits?: Array<{ start: number; end: number; text: string }>;
  /** Add these permission bits (e.g. 0o111: executable). */
  addMode?: number;
}

export interface FindingInput {
  message: string;
  location: Location;
  /** Overrides the configured severity for this finding (e.g. `info` when the rule cannot decide). */
  severity?: Severity;
  /** What to write instead; shown under the code frame. */
  help?: string;
  /** A safe automatic fix, applied by `smcl lint --fix`. */
  fix?: Fix;
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
  fix?: Fix;
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
