import { formatLocation, type Location } from '../model/location.js';
import { coversInvoke, evaluateInvoke, formatStatementRef, type Decision, type StatementRef } from './iam.js';
import type { EndpointModel, PolicySet, SageMakerModel } from './model.js';

/** Who can invoke which container: one table per Direct-mode model (and endpoint), one row per principal. */
export interface AccessMatrix {
  tables: AccessTable[];
}

export interface AccessTable {
  /** The model (ModelName or logical ID); absent for hostnames given explicitly. */
  model?: string;
  /** Endpoint name, when known. */
  endpoint?: string;
  endpointArn?: string;
  hostnames: string[];
  rows: AccessRow[];
}

export interface AccessRow {
  /** The role (CloudFormation) or policy file the policies belong to. */
  principal: string;
  location: Location;
  cells: AccessCell[];
}

export interface AccessCell {
  hostname: string;
  decision: Decision;
  statement?: StatementRef;
  reason: string;
}

/** Builds the ARN the evaluator expects; unknown partition/region/account are left empty. */
export function endpointArnFor(nameOrArn: string): string {
  return nameOrArn.startsWith('arn:') ? nameOrArn : `arn::sagemaker:::endpoint/${nameOrArn.toLowerCase()}`;
}

/** The endpoint ARNs a model is served under; `undefined` stands for an endpoint whose name is not known. */
export function endpointArnsForModel(model: SageMakerModel, input: EndpointModel): Array<{ name?: string; arn?: string }> {
  const out: Array<{ name?: string; arn?: string }> = [];
  for (const n of model.endpointNames) {
    if (n.value !== undefined) out.push({ name: n.value, arn: endpointArnFor(n.value) });
  }
  if (out.length > 0) return out;
  if (input.endpointName !== undefined) return [{ name: input.endpointName, arn: endpointArnFor(input.endpointName) }];
  return [{}];
}

/** Policy sets with at least one statement that can apply to `sagemaker:InvokeEndpoint`. */
export function invokePolicySets(sets: PolicySet[]): PolicySet[] {
  return sets.filter((set) => set.policies.some((p) => p.unknown !== undefined || p.statements.some((s) => coversInvoke(s) !== false)));
}

export function computeAccessTable(args: { policySets: PolicySet[]; hostnames: string[]; endpointArn?: string; model?: string; endpoint?: string }): AccessTable {
  const rows = args.policySets.map((set) => ({
    principal: set.name,
    location: set.location,
    cells: args.hostnames.map((hostname) => {
      const d = evaluateInvoke({ policies: set.policies, endpointArn: args.endpointArn, targetContainerHostname: hostname });
      return { hostname, decision: d.decision, statement: d.statement, reason: d.reason };
    }),
  }));
  const table: AccessTable = { hostnames: args.hostnames, rows };
  if (args.model !== undefined) table.model = args.model;
  if (args.endpoint !== undefined) table.endpoint = args.endpoint;
  if (args.endpointArn !== undefined) table.endpointArn = args.endpointArn;
  return table;
}

/**
 * The access matrix of an input: for every Direct-mode model with known hostnames, each principal
 * whose policies reach InvokeEndpoint against each hostname. `hostnames` adds a table for
 * hostnames given explicitly (e.g. when only policies are linted).
 */
export function buildAccessMatrix(input: EndpointModel, opts: { hostnames?: string[] } = {}): AccessMatrix {
  const sets = invokePolicySets(input.policySets);
  const tables: AccessTable[] = [];
  if (sets.length === 0) return { tables };
  for (const model of input.models) {
    if (model.effectiveMode !== 'Direct') continue;
    const hostnames = model.containers.map((c) => c.hostname?.value).filter((h): h is string => h !== undefined);
    if (hostnames.length === 0) continue;
    for (const ep of endpointArnsForModel(model, input)) {
      tables.push(computeAccessTable({ policySets: sets, hostnames, endpointArn: ep.arn, model: model.name, endpoint: ep.name }));
    }
  }
  if (opts.hostnames && opts.hostnames.length > 0) {
    const arn = input.endpointName !== undefined ? endpointArnFor(input.endpointName) : undefined;
    tables.push(computeAccessTable({ policySets: sets, hostnames: opts.hostnames, endpointArn: arn, endpoint: input.endpointName }));
  }
  return { tables };
}

const CELL_TEXT: Record<Decision, string> = { allow: 'allow', 'explicit-deny': 'DENY', 'implicit-deny': 'deny', unknown: '?' };

function cellText(c: AccessCell, principal: string): string {
  const st = c.statement;
  // Name the policy too when the principal has policies of its own names (roles in templates).
  const by = st ? ` ${st.policy !== principal ? `${st.policy}` : ''}${st.sid !== undefined ? `${st.policy !== principal ? ':' : ''}${st.sid}` : `#${st.index}`}` : '';
  return `${CELL_TEXT[c.decision]}${c.decision === 'implicit-deny' ? '' : by}`;
}

/** Plain-text tables; `allow <stmt>`, `DENY <stmt>` (explicit), `deny` (no Allow applies), `? <stmt>` (not known). */
export function renderAccessMatrixText(matrix: AccessMatrix): string {
  if (matrix.tables.length === 0) return 'No access matrix: the input has no Direct-mode model with container hostnames and InvokeEndpoint policies.\n';
  const out: string[] = [];
  for (const t of matrix.tables) {
    const title = [t.model !== undefined ? `model ${t.model}` : undefined, `endpoint ${t.endpoint ?? '(name not known)'}`].filter(Boolean).join(', ');
    out.push(`Access to ${title}`);
    const header = ['principal', ...t.hostnames];
    const body = t.rows.map((r) => [r.principal, ...r.cells.map((c) => cellText(c, r.principal))]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
    const line = (cols: string[]): string => cols.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
    out.push(line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line), '');
  }
  out.push('allow/DENY <statement>: allowed / explicitly denied by that statement ([policy]Sid or [policy]#index); deny: no Allow applies (implicit deny); ?: depends on values not known statically.');
  return `${out.join('\n')}\n`;
}

export interface AccessMatrixJson {
  tables: Array<{
    model?: string;
    endpoint?: string;
    endpointArn?: string;
    hostnames: string[];
    rows: Array<{
      principal: string;
      location: string;
      cells: Record<string, { decision: Decision; statement?: { policy: string; sid?: string; index: number; location: string }; reason: string }>;
    }>;
  }>;
}

export function accessMatrixToJson(matrix: AccessMatrix): AccessMatrixJson {
  return {
    tables: matrix.tables.map((t) => ({
      ...(t.model !== undefined ? { model: t.model } : {}),
      ...(t.endpoint !== undefined ? { endpoint: t.endpoint } : {}),
      ...(t.endpointArn !== undefined ? { endpointArn: t.endpointArn } : {}),
      hostnames: t.hostnames,
      rows: t.rows.map((r) => ({
        principal: r.principal,
        location: formatLocation(r.location),
        cells: Object.fromEntries(
          r.cells.map((c) => [
            c.hostname,
            {
              decision: c.decision,
              ...(c.statement ? { statement: { policy: c.statement.policy, ...(c.statement.sid !== undefined ? { sid: c.statement.sid } : {}), index: c.statement.index, location: formatLocation(c.statement.location) } } : {}),
              reason: c.reason,
            },
          ]),
        ),
      })),
    })),
  };
}

export { formatStatementRef };
