import { InputError } from '../engine/types.js';
import { github } from './github.js';
import { json } from './json.js';
import { markdown } from './markdown.js';
import { sarif } from './sarif.js';
import { stylish } from './stylish.js';
import type { Reporter } from './types.js';

export const REPORTERS: Record<string, Reporter> = { stylish, json, sarif, github, markdown };

export function reporterFor(format: string): Reporter {
  const r = REPORTERS[format];
  if (!r) throw new InputError(`unknown --format "${format}" (choose ${Object.keys(REPORTERS).join(', ')})`);
  return r;
}

export type { LintResult, Reporter, ReportOptions } from './types.js';
