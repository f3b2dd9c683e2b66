import fs from 'node:fs';
import path from 'node:path';
import type { Finding, Fix } from '../engine/types.js';
import type { LintResult } from '../report/types.js';

export interface FixOutcome {
  /** Fixes written to disk, in file order. */
  applied: Array<{ file: string; ruleId: string; description: string }>;
  /** Fixes left out, with why (the file changed since it was read, overlapping edits, ...). */
  skipped: Array<{ file: string; ruleId: string; description: string; reason: string }>;
}

/**
 * Applies the fixes of `results` to the user's files (`smcl lint --fix`). Only files the lint
 * read are touched, and only when their text is still what the rules saw; of two fixes whose
 * edits overlap the first wins (a second `--fix` run picks up the other). Text is rewritten
 * with its byte-order mark and line endings kept; modes only ever gain bits.
 */
export function applyFixes(results: LintResult[]): FixOutcome {
  const outcome: FixOutcome = { applied: [], skipped: [] };
  const byFile = new Map<string, Array<{ finding: Finding; fix: Fix; seen?: string }>>();
  const seen = new Set<string>();
  for (const r of results) {
    for (const f of r.findings) {
      if (!f.fix) continue;
      // `--target all` lints one Dockerfile several times: the same fix once.
      const key = JSON.stringify([path.resolve(f.fix.file), f.fix.edits, f.fix.addMode]);
      if (seen.has(key)) continue;
      seen.add(key);
      const file = path.resolve(f.fix.file);
      byFile.set(file, [...(byFile.get(file) ?? []), { finding: f, fix: f.fix, seen: r.sourceTexts.get(f.fix.file) }]);
    }
  }
  for (const [file, fixes] of byFile) {
    const skip = (x: { finding: Finding; fix: Fix }, reason: string) => outcome.skipped.push({ file: x.fix.file, ruleId: x.finding.ruleId, description: x.fix.description, reason });
    const textFixes = fixes.filter((x) => x.fix.edits?.length);
    const modeFixes = fixes.filter((x) => x.fix.addMode);
    if (textFixes.length) applyTextFixes(file, textFixes, outcome, skip);
    for (const x of modeFixes) {
      let mode: number;
      try {
        mode = fs.statSync(file).mode & 0o7777;
      } catch (err) {
        skip(x, `cannot read it (${(err as NodeJS.ErrnoException).code})`);
        continue;
      }
      // `chmod +x` as git records it: execute wherever read is allowed, at least for the owner.
      const wanted = mode | ((mode & 0o444) >> 2) | (x.fix.addMode! & 0o100);
      if (wanted === mode) {
        skip(x, 'it already has those permission bits on disk (the Dockerfile sets the mode: COPY --chmod or RUN chmod)');
        continue;
      }
      fs.chmodSync(file, wanted);
      outcome.applied.push({ file: x.fix.file, ruleId: x.finding.ruleId, description: x.fix.description });
    }
  }
  return outcome;
}

function applyTextFixes(
  file: string,
  fixes: Array<{ finding: Finding; fix: Fix; seen?: string }>,
  outcome: FixOutcome,
  skip: (x: { finding: Finding; fix: Fix }, reason: string) => void,
): void {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (err) {
    for (const x of fixes) skip(x, `cannot read it (${(err as NodeJS.ErrnoException).code})`);
    return;
  }
  const bom = raw.startsWith('\uFEFF') ? '\uFEFF' : '';
  let text = raw.slice(bom.length);
  const accepted: Array<{ x: (typeof fixes)[number]; edits: NonNullable<Fix['edits']> }> = [];
  const taken: Array<[number, number]> = [];
  for (const x of fixes) {
    if (x.seen !== text) {
      skip(x, 'it changed since smcl read it');
      continue;
    }
    const edits = x.fix.edits!;
    // Insertions at the same point as another edit, or ranges that meet one, would interleave.
    const clash = edits.some((e) => taken.some(([s, t]) => e.start <= t && s <= e.end));
    if (clash) {
      skip(x, 'its edits overlap another fix (run --fix again)');
      continue;
    }
    for (const e of edits) taken.push([e.start, e.end]);
    accepted.push({ x, edits });
  }
  if (accepted.length === 0) return;
  const all = accepted.flatMap((a) => a.edits).sort((a, b) => b.start - a.start);
  for (const e of all) text = text.slice(0, e.start) + e.text + text.slice(e.end);
  writeKeepingMode(file, bom + text);
  for (const a of accepted) outcome.applied.push({ file: a.x.fix.file, ruleId: a.x.finding.ruleId, description: a.x.fix.description });
}

/** Writes through a temporary file beside it and a rename, so a crash never leaves half a file. */
function writeKeepingMode(file: string, text: string): void {
  const mode = fs.statSync(file).mode & 0o7777;
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.smcl-fix-${process.pid}`);
  try {
    fs.writeFileSync(tmp, text, { mode });
    fs.chmodSync(tmp, mode);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
