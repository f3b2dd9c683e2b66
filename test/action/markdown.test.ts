import { describe, expect, it } from 'vitest';
import { markdown } from '../../src/report/markdown.js';
import type { LintResult } from '../../src/report/types.js';
import { smcl } from '../support/cli.js';

const opts = { color: false, rules: [], toolVersion: '9.9.9' };

describe('markdown reporter', () => {
  it('one table per subject; pipes, newlines and HTML in messages cannot break the table', () => {
    const results: LintResult[] = [
      {
        subject: 'svc/Dockerfile',
        sourceTexts: new Map(),
        findings: [{ ruleId: 'r', severity: 'warning', message: 'a | b\n<script>', help: 'do x', docsUrl: 'https://d/r', subject: 'svc/Dockerfile', location: { file: 'svc/Dockerfile', line: 2, column: 1 } }],
      },
      { subject: 'ok/Dockerfile', sourceTexts: new Map(), findings: [] },
    ];
    const md = markdown(results, opts);
    expect(md).toContain('❌ **1 problem** (0 errors, 1 warning, 0 info) in 1 of 2 subjects.');
    expect(md).toContain('| 🟡 warning | `svc/Dockerfile:2:1` | [r](https://d/r) | a \\| b<br>&lt;script&gt;<br>**Fix:** do x |');
    expect(md).toContain('### ✅ `ok/Dockerfile`');
    expect(md).toContain('<sub>sagemaker-container-lint 9.9.9</sub>');
    expect(markdown([], opts)).toContain('✅ No problems in 0 subjects.');
  });

  it('is a --format of the CLI', () => {
    const r = smcl(['lint', 'examples/bad-container', '--format', 'markdown']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/\| 🔴 error \| `examples\/bad-container\/Dockerfile:3:1` \| \[accept-bind-to-port-label\]/);
  });
});
