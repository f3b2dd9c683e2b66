import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/engine/types.js';
import { applyFixes } from '../../src/lint/fix.js';
import type { LintResult } from '../../src/report/types.js';
import { tempTree } from '../support/tmp.js';

function finding(file: string, fix: Finding['fix'], ruleId = 'r'): Finding {
  return { ruleId, severity: 'error', message: 'm', location: { file, line: 1 }, docsUrl: 'd', subject: file, fix };
}

describe('applyFixes', () => {
  it('applies non-overlapping edits of several fixes in one write, keeps a BOM and the mode', () => {
    const dir = tempTree({ Dockerfile: { content: '\uFEFFFROM a\nRUN b\n', mode: 0o640 } });
    const file = path.join(dir, 'Dockerfile');
    const seen = 'FROM a\nRUN b\n';
    const result: LintResult = {
      subject: file,
      sourceTexts: new Map([[file, seen]]),
      findings: [
        finding(file, { file, description: 'one', edits: [{ start: 6, end: 6, text: '\nLABEL x=1' }] }),
        finding(file, { file, description: 'two', edits: [{ start: 11, end: 12, text: 'c' }] }),
        // Overlaps "one": left for a second run.
        finding(file, { file, description: 'three', edits: [{ start: 5, end: 7, text: 'zz' }] }),
      ],
    };
    const out = applyFixes([result]);
    expect(out.applied.map((a) => a.description)).toEqual(['one', 'two']);
    expect(out.skipped).toEqual([{ file, ruleId: 'r', description: 'three', reason: 'its edits overlap another fix (run --fix again)' }]);
    expect(fs.readFileSync(file, 'utf8')).toBe('\uFEFFFROM a\nLABEL x=1\nRUN c\n');
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
  });

  it('leaves a file alone when it changed since it was linted', () => {
    const dir = tempTree({ Dockerfile: 'FROM a\n# edited meanwhile\n' });
    const file = path.join(dir, 'Dockerfile');
    const out = applyFixes([{ subject: file, sourceTexts: new Map([[file, 'FROM a\n']]), findings: [finding(file, { file, description: 'add', edits: [{ start: 6, end: 6, text: '\nX' }] })] }]);
    expect(out.applied).toEqual([]);
    expect(out.skipped[0].reason).toBe('it changed since smcl read it');
    expect(fs.readFileSync(file, 'utf8')).toBe('FROM a\n# edited meanwhile\n');
  });

  it('adds executable bits where read is allowed, and says so when the disk file has them already', () => {
    const dir = tempTree({ serve: { content: '#!/bin/sh\n', mode: 0o640 }, done: { content: '#!/bin/sh\n', mode: 0o755 } });
    const serve = path.join(dir, 'serve');
    const done = path.join(dir, 'done');
    const out = applyFixes([
      { subject: 's', sourceTexts: new Map(), findings: [finding(serve, { file: serve, description: 'chmod', addMode: 0o111 }), finding(done, { file: done, description: 'chmod', addMode: 0o111 })] },
    ]);
    expect(fs.statSync(serve).mode & 0o777).toBe(0o750);
    expect(out.applied.map((a) => a.file)).toEqual([serve]);
    expect(out.skipped.map((s) => s.file)).toEqual([done]);
  });
});
