/**
 * Defects the reliability suite found, each with the failing input it was found with (shrunk by
 * fast-check), so that the fix stays fixed even when the fuzzer's random seed does not hit it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { lintDockerfile } from '../../src/lint/lint-dockerfiles.js';
import { REPORTERS } from '../../src/report/index.js';

const metas = allRules().map((r) => r.meta);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smcl-regress-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function lintBytes(bytes: Buffer) {
  const dir = fs.mkdtempSync(path.join(root, 'c-'));
  const file = path.join(dir, 'Dockerfile');
  fs.writeFileSync(file, bytes);
  return { file, result: lintDockerfile(file, { config: {} }) };
}

const lines = (t: string): number => t.split(/\r?\n/).length;

describe('regressions found by fuzzing', () => {
  it('a COPY heredoc no longer replaces the Dockerfile text used for code frames (seed 607558279)', () => {
    // fast-check counterexample, as bytes
    const input = Buffer.from([
      70, 82, 79, 77, 32, 112, 121, 116, 104, 111, 110, 58, 51, 46, 49, 50, 45, 115, 108, 105, 109, 10, 67, 79, 80, 89, 32, 60, 60, 69, 79, 70, 32, 47, 111, 112, 116, 47, 112, 114, 111, 103, 114, 97, 109, 47, 115, 101, 114, 118, 101, 10, 35, 33, 47, 98, 105, 110, 47, 115, 104, 10, 101, 120, 101, 99, 32, 103, 117, 110, 105, 99, 111, 114, 110, 32, 45, 98, 32, 48, 46, 48, 46, 48, 46, 48, 58, 36, 123, 83, 65, 71, 69, 77, 65, 75, 69, 82, 95, 66, 73, 78, 68, 95, 84, 79, 95, 80, 79, 82, 84, 58, 45, 56, 48, 56, 48, 125, 32, 112, 114, 101, 100, 105, 99, 116, 111, 114, 58, 97, 112, 112, 10, 69, 79, 70, 10,
    ]);
    expect(input.toString()).toBe('FROM python:3.12-slim\nCOPY <<EOF /opt/program/serve\n#!/bin/sh\nexec gunicorn -b 0.0.0.0:${SAGEMAKER_BIND_TO_PORT:-8080} predictor:app\nEOF\n');
    const { file, result } = lintBytes(input);
    // Before the fix: sourceTexts[Dockerfile] was the heredoc body (3 lines), and findings at
    // Dockerfile lines 2..5 pointed past its end, so stylish showed no frame or the wrong lines.
    expect(result.sourceTexts.get(file)).toBe(input.toString());
    const serve = result.findings.find((f) => f.ruleId === 'serve-entrypoint');
    expect(serve?.location).toMatchObject({ file, line: 2 });
    for (const f of result.findings) expect(f.location.endLine ?? f.location.line ?? 1).toBeLessThanOrEqual(lines(input.toString()));
    const out = REPORTERS.stylish([result], { color: false, rules: metas, toolVersion: 't' });
    expect(out).toContain('> 2 | COPY <<EOF /opt/program/serve');
  });

  it('a lone CR is not a line break: locations stay inside the file as Docker and code frames count lines (seed 607513808)', () => {
    // fast-check counterexample: an unterminated heredoc whose last "line" is a lone CR
    const input = Buffer.from('FROM python:3.12-slim\nCOPY <<EOF /opt/program/serve\n\r');
    const { result } = lintBytes(input);
    const n = lines(input.toString());
    expect(n).toBe(3);
    const serve = result.findings.find((f) => f.ruleId === 'serve-entrypoint');
    expect(serve).toBeDefined();
    // Before the fix: endLine 4 (dockerfile-ast broke the line at the CR).
    for (const f of result.findings) {
      expect(f.location.line).toBeLessThanOrEqual(n);
      expect(f.location.endLine ?? 1).toBeLessThanOrEqual(n);
    }
    // A lone CR inside a Dockerfile: the label after it is on the same line for Docker.
    const mid = lintBytes(Buffer.from('FROM python:3.12-slim\rLABEL a=b\nLABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true\nENTRYPOINT ["serve"]\n')).result;
    for (const f of mid.findings) expect(f.location.endLine ?? f.location.line ?? 1).toBeLessThanOrEqual(4);
  });
});
