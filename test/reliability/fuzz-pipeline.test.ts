/**
 * Property-based fuzzing of the whole lint pipeline, in process (no spawning, so it is fast):
 * generated Dockerfile bytes + generated build-context files (serve scripts, nginx configs,
 * Python servers) → lintDockerfile (decode → loadDockerfile → ContainerModel → rules) → every
 * reporter in src/report.
 *
 * Properties, for every input:
 * - nothing but an InputError escapes (what the CLI turns into exit 2 and one line);
 * - every location points inside the input: a file the user gave (the Dockerfile or a file in
 *   its build context), with line/endLine within that file's lines and columns >= 1;
 * - the same input gives the same report (json reporter output compared byte for byte);
 * - every reporter returns text; SARIF validates against the official 2.1.0 schema; JSON parses;
 *   the github reporter's output is one workflow command per line.
 *
 * Runs: SMCL_FUZZ_RUNS per property (default 300 × 2 properties = 600 cases; `npm run test:soak`
 * runs 10,000 each). The seed is printed before the run and fast-check prints it with the
 * counterexample on failure; replay with SMCL_FUZZ_SEED=<seed> (and the printed path).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { InputError } from '../../src/engine/types.js';
import { lintDockerfile } from '../../src/lint/lint-dockerfiles.js';
import { REPORTERS, type LintResult } from '../../src/report/index.js';
import { contextArb, dockerfileArb, type ContextFiles } from './support/generators.js';
import { sarifErrors } from '../support/sarif.js';

const RUNS = Number(process.env.SMCL_FUZZ_RUNS ?? 300);
/** Per property: 200 ms a case is plenty even on a loaded 2-core runner (soak: 10,000 cases). */
const TIMEOUT = Math.max(600_000, RUNS * 200);
const SEED = Number(process.env.SMCL_FUZZ_SEED ?? Date.now() % 2 ** 31);
const metas = allRules().map((r) => r.meta);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smcl-fuzz-'));
let cases = 0;
let findingsSeen = 0;
let inputErrors = 0;
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  console.log(`[fuzz] seed ${SEED}: ${cases} cases, ${findingsSeen} findings checked, ${inputErrors} input errors (exit 2)`);
});

function writeCase(dockerfile: Buffer, files: ContextFiles): { dir: string; dockerfilePath: string } {
  const dir = fs.mkdtempSync(path.join(root, 'c-'));
  for (const [rel, f] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, f.content, { mode: f.mode });
  }
  const dockerfilePath = path.join(dir, 'Dockerfile');
  fs.writeFileSync(dockerfilePath, dockerfile);
  return { dir, dockerfilePath };
}

const lineCount = (text: string): number => text.split(/\r?\n/).length;

/** Lints like `smcl lint <file>`: the result, or the InputError; anything else fails the property. */
function lint(dockerfilePath: string): LintResult | InputError {
  try {
    return lintDockerfile(dockerfilePath, { config: {} });
  } catch (err) {
    if (err instanceof InputError) return err;
    throw new Error(`non-InputError escaped the pipeline: ${(err as Error)?.stack ?? String(err)}`);
  }
}

function checkCase(dockerfile: Buffer, files: ContextFiles): void {
  cases++;
  const { dir, dockerfilePath } = writeCase(dockerfile, files);
  try {
    const first = lint(dockerfilePath);
    if (first instanceof InputError) {
      inputErrors++;
      expect(first.message.length).toBeGreaterThan(0);
      expect(first.message).not.toMatch(/\n/);
      const again = lint(dockerfilePath);
      expect(again instanceof InputError && again.message).toBe(first.message);
      return;
    }
    // Locations point inside the input.
    for (const f of first.findings) {
      findingsSeen++;
      const loc = f.location;
      const abs = path.resolve(loc.file);
      const inside = abs === dockerfilePath || abs.startsWith(dir + path.sep);
      expect(inside, `${f.ruleId}: location file ${JSON.stringify(loc.file)} is not the Dockerfile nor in its context ${dir}`).toBe(true);
      expect(loc.image).toBeUndefined();
      if (loc.line === undefined) continue;
      const text = first.sourceTexts.get(loc.file) ?? fs.readFileSync(abs, 'utf8');
      const n = lineCount(text);
      const where = `${f.ruleId} at ${loc.file}:${loc.line}:${loc.column} (end ${loc.endLine}:${loc.endColumn}), file has ${n} lines`;
      expect(Number.isInteger(loc.line) && loc.line >= 1 && loc.line <= n, where).toBe(true);
      if (loc.endLine !== undefined) expect(loc.endLine >= loc.line && loc.endLine <= n, where).toBe(true);
      if (loc.column !== undefined) expect(Number.isInteger(loc.column) && loc.column >= 1, where).toBe(true);
    }
    // Same input, same findings.
    const second = lint(dockerfilePath);
    const opts = { color: false, rules: metas, toolVersion: '0.0.0-fuzz' };
    expect(REPORTERS.json([second as LintResult], opts)).toBe(REPORTERS.json([first], opts));
    // Every reporter.
    for (const [name, reporter] of Object.entries(REPORTERS)) {
      for (const color of name === 'stylish' ? [false, true] : [false]) {
        const out = reporter([first], { ...opts, color });
        expect(typeof out, name).toBe('string');
        if (name === 'json') JSON.parse(out);
        if (name === 'sarif') {
          const errors = sarifErrors(JSON.parse(out));
          expect(errors, 'SARIF does not validate').toBe('');
        }
        if (name === 'github') {
          for (const line of out.trimEnd().split('\n')) expect(line, 'github: one command per line').toMatch(/^(::(error|warning|notice) |smcl: )/);
        }
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('fuzzing the lint pipeline (fast-check)', () => {
  console.log(`[fuzz] seed ${SEED}, ${RUNS} runs per property (replay: SMCL_FUZZ_SEED=${SEED})`);
  const params = { numRuns: RUNS, seed: SEED, endOnFailure: false, verbose: 0 as const };

  it('Dockerfiles (valid and broken) with a realistic build context', () => {
    fc.assert(fc.property(dockerfileArb, contextArb, (df, files) => checkCase(df.bytes, files)), params);
  }, TIMEOUT);

  it('realistic Dockerfile, generated server configs (nginx, shell, Python) in the build context', () => {
    const realistic = Buffer.from(
      [
        'FROM python:3.12-slim',
        'LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true',
        'ENV PATH="/opt/program:${PATH}"',
        'COPY . /opt/program/',
        'COPY nginx.conf /etc/nginx/nginx.conf',
        'COPY conf.d /etc/nginx/conf.d',
        'RUN chmod +x /opt/program/serve',
        'WORKDIR /opt/program',
        '',
      ].join('\n'),
    );
    const entry = fc.constantFrom('ENTRYPOINT ["serve"]\n', 'ENTRYPOINT ["python", "predictor.py"]\n', 'ENTRYPOINT ["/opt/program/start.sh"]\n', 'CMD serve\n', 'ENTRYPOINT ["sh", "-c", "exec /opt/program/entrypoint.sh"]\n', '');
    fc.assert(fc.property(entry, contextArb, (e, files) => checkCase(Buffer.concat([realistic, Buffer.from(e)]), files)), params);
  }, TIMEOUT);
});
