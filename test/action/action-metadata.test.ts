import fs from 'node:fs';
import path from 'node:path';
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { getInput } from '../../src/action/run.js';
import { ROOT } from '../support/cli.js';

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: unknown) => void;
// CommonJS default export: ESM sees the class under .default.
const AjvClass = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as unknown as new (o: object) => import('ajv').default;

interface ActionMeta {
  inputs: Record<string, { description: string; default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: Array<{ id?: string; run?: string; env?: Record<string, string> }> };
}

const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/action/action-metadata.schema.json'), 'utf8'));
const action = parse(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as ActionMeta;

function validator() {
  const ajv = new AjvClass({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

describe('action.yml', () => {
  it('validates against the action metadata schema', () => {
    const validate = validator();
    expect(validate(action), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('the schema rejects what GitHub rejects', () => {
    const validate = validator();
    expect(validate({ name: 'x', description: 'y', runs: { using: 'node20' } })).toBe(false); // no main
    expect(validate({ name: 'x', description: 'y', runs: { using: 'composite', steps: [{ run: 'echo' }] } })).toBe(false); // run without shell
    expect(validate({ name: 'x', description: 'y', runs: { using: 'node20', main: 'a.js' }, inputs: { a: { default: 'b' } } })).toBe(false); // input without description
    expect(validate({ name: 'x', description: 'y', runs: { using: 'node20', main: 'a.js' }, colour: 'red' })).toBe(false);
  });

  it('passes every input to the entry point and maps every output of the lint step', () => {
    expect(action.runs.using).toBe('composite');
    const step = action.runs.steps.find((s) => s.id === 'smcl')!;
    expect(step.run).toContain('dist/src/action/main.js');
    for (const name of Object.keys(action.inputs)) {
      const entry = Object.entries(step.env ?? {}).find(([, v]) => v === `\${{ inputs.${name} }}`);
      expect(entry, `input ${name} is passed to the entry point`).toBeDefined();
      // The entry point reads it under the name it is passed as.
      expect(getInput({ [entry![0]]: 'v' }, name)).toBe('v');
    }
    expect(Object.keys(action.outputs).sort()).toEqual(['errors', 'findings', 'sarif-file']);
    for (const [name, o] of Object.entries(action.outputs)) expect(o.value).toBe(`\${{ steps.smcl.outputs.${name} }}`);
  });
});

describe('docs/workflows examples', () => {
  const dir = path.join(ROOT, 'docs/workflows');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yml'));

  it('are workflows that use this action only with inputs it declares', () => {
    expect(files.sort()).toEqual(['build-then-boot.yml', 'nightly-ecr-scan.yml', 'pr-lint.yml']);
    for (const f of files) {
      const wf = parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { on: unknown; jobs: Record<string, { 'runs-on': string; steps: Array<{ uses?: string; with?: Record<string, unknown> }> }> };
      expect(wf.on, f).toBeDefined();
      for (const job of Object.values(wf.jobs)) {
        expect(job['runs-on'], f).toBeTruthy();
        for (const step of job.steps)
          if (step.uses?.startsWith('sagemaker-container-lint/sagemaker-container-lint@'))
            for (const k of Object.keys(step.with ?? {})) expect(Object.keys(action.inputs), `${f}: input ${k}`).toContain(k);
      }
    }
  });
});
