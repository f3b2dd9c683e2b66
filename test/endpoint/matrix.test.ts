import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadEndpointFile } from '../../src/endpoint/load.js';
import { accessMatrixToJson, buildAccessMatrix, computeAccessTable, renderAccessMatrixText } from '../../src/endpoint/matrix.js';
import { mergeEndpointModels } from '../../src/endpoint/model.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ref = (name: string): string => path.relative(process.cwd(), path.join(ROOT, 'rules/iam-target-container-hostname/fixtures', name));
const HOSTNAMES = ['customIps1', 'common-a', 'special-x', 'other'];

describe('access matrix of the AWS reference policies', async () => {
  const prefixes = await loadEndpointFile(ref('reference-allow-prefixes.json'));
  const denySpecial = await loadEndpointFile(ref('reference-allow-all-deny-special.json'));
  const input = mergeEndpointModels([prefixes, denySpecial]);

  it('computes policy × hostname with the deciding statement', () => {
    const table = computeAccessTable({ policySets: input.policySets, hostnames: HOSTNAMES });
    const got = table.rows.map((r) => [path.basename(r.principal), r.cells.map((c) => [c.hostname, c.decision, c.statement?.index, c.statement?.location.line])]);
    expect(got).toEqual([
      [
        'reference-allow-prefixes.json',
        [
          ['customIps1', 'allow', 0, 4],
          ['common-a', 'allow', 0, 4],
          ['special-x', 'implicit-deny', undefined, undefined],
          ['other', 'implicit-deny', undefined, undefined],
        ],
      ],
      [
        'reference-allow-all-deny-special.json',
        [
          ['customIps1', 'allow', 0, 4],
          ['common-a', 'allow', 0, 4],
          ['special-x', 'explicit-deny', 1, 16],
          ['other', 'allow', 0, 4],
        ],
      ],
    ]);
  });

  it('matches the reference Resource only for the endpoint it names', () => {
    const named = computeAccessTable({ policySets: input.policySets, hostnames: ['common-a'], endpointArn: 'arn:aws:sagemaker:region:account-id:endpoint/endpoint_name' });
    expect(named.rows.map((r) => r.cells[0].decision)).toEqual(['allow', 'allow']);
    const other = computeAccessTable({ policySets: input.policySets, hostnames: ['common-a'], endpointArn: 'arn:aws:sagemaker:region:account-id:endpoint/another' });
    expect(other.rows.map((r) => r.cells[0].decision)).toEqual(['implicit-deny', 'implicit-deny']);
  });

  it('renders text and JSON', () => {
    const matrix = buildAccessMatrix(input, { hostnames: HOSTNAMES });
    expect(matrix.tables).toHaveLength(1);
    const text = renderAccessMatrixText(matrix);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Access to endpoint (name not known)');
    expect(lines[1].split(/\s+/)).toEqual(['principal', ...HOSTNAMES]);
    expect(lines[3].split(/\s+/).slice(1)).toEqual(['allow', '#0', 'allow', '#0', 'deny', 'deny']);
    expect(lines[4].split(/\s+/).slice(1)).toEqual(['allow', '#0', 'allow', '#0', 'DENY', '#1', 'allow', '#0']);
    const json = accessMatrixToJson(matrix);
    const row = json.tables[0].rows[1];
    expect(row.cells['special-x']).toMatchObject({ decision: 'explicit-deny', statement: { index: 1 } });
    expect(row.cells['special-x'].statement!.location).toMatch(/reference-allow-all-deny-special\.json:16:9$/);
    expect(row.cells.other.decision).toBe('allow');
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});

describe('access matrix of a template', () => {
  it('uses the Direct model hostnames and the endpoint named in the template; unresolved Deny values make cells unknown', async () => {
    const m = await loadEndpointFile(path.join(ROOT, 'test/endpoint/fixtures/template.yaml'));
    const matrix = buildAccessMatrix(m);
    expect(matrix.tables).toHaveLength(1);
    const t = matrix.tables[0];
    expect(t).toMatchObject({ model: 'Model', endpoint: 'My-Endpoint', endpointArn: 'arn::sagemaker:::endpoint/my-endpoint', hostnames: ['customIps1', 'common-a'] });
    expect(t.rows.map((r) => [r.principal, r.cells.map((c) => c.decision)])).toEqual([['CallerRole', ['unknown', 'implicit-deny']]]);
  });
});
