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
