import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { containerRules } from '../../rules/index.js';
import { lintDockerfile } from '../../src/lint/lint-dockerfiles.js';
import { ROOT } from './cli.js';

/**
 * Runs a rule over its fixtures: every `rules/<id>/fixtures/<case>/` holds a Dockerfile, the build
 * context it COPYs from, and `expected.json`: the exact findings of this rule as
 * `[{ "file": "<path relative to the case>", "line": N, "severity"?: "..." }]` (`[]` for a good case).
 * Cases named `bad-*` must expect at least one finding, `good-*` none (info findings aside, except
 * for rules whose findings are all info).
 */
export function describeRuleFixtures(ruleId: string, opts: { minBad?: number; minGood?: number } = {}): void {
  if (!containerRules.some((r) => r.meta.id === ruleId)) throw new Error(`rule ${ruleId} is not registered in rules/index.ts`);
  const dir = path.join(ROOT, 'rules', ruleId, 'fixtures');
  const cases = fs.readdirSync(dir).filter((c) => fs.statSync(path.join(dir, c)).isDirectory()).sort();
  describe(`${ruleId} fixtures`, () => {
    it('has enough bad and good cases', () => {
      expect(cases.filter((c) => c.startsWith('bad-')).length).toBeGreaterThanOrEqual(opts.minBad ?? 3);
      expect(cases.filter((c) => c.startsWith('good-')).length).toBeGreaterThanOrEqual(opts.minGood ?? 3);
    });
    for (const c of cases) {
      it(c, () => {
        const caseDir = path.join(dir, c);
        const expected = JSON.parse(fs.readFileSync(path.join(caseDir, 'expected.json'), 'utf8')) as Array<{ file: string; line?: number; severity?: string; message?: string }>;
        // A bad case expects a finding that fails a build (for info-only rules: any finding);
        // a good case expects none but undecided (info) ones (for info-only rules: none at all).
        const ruleSeverity = containerRules.find((r) => r.meta.id === ruleId)!.meta.defaultSeverity;
        if (c.startsWith('bad-')) expect(expected.some((e) => e.severity !== 'info' || ruleSeverity === 'info')).toBe(true);
        if (c.startsWith('good-')) expect(expected.every((e) => e.severity === 'info' && ruleSeverity !== 'info')).toBe(true);
        const dockerfile = fs.existsSync(path.join(caseDir, 'Dockerfile')) ? path.join(caseDir, 'Dockerfile') : path.join(caseDir, 'Containerfile');
        const result = lintDockerfile(path.relative(process.cwd(), dockerfile), { config: {} });
        const got = result.findings
          .filter((f) => f.ruleId === ruleId)
          .map((f) => ({ file: path.relative(caseDir, path.resolve(f.location.file)), line: f.location.line, severity: f.severity, message: f.message }));
        const defaultSeverity = containerRules.find((r) => r.meta.id === ruleId)!.meta.defaultSeverity;
        const want = expected.map((e) => ({ file: e.file, line: e.line, severity: e.severity ?? defaultSeverity }));
        expect(got.map(({ file, line, severity }) => ({ file, line, severity }))).toEqual(want);
        for (const e of expected) if (e.message) expect(got.find((g) => g.file === e.file && g.line === e.line)?.message).toContain(e.message);
      });
    }
  });
}
