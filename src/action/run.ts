import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ruleMetas } from '../../rules/index.js';
import { loadConfig } from '../engine/config.js';
import { InputError, SEVERITY_RANK, type Finding, type RuleMeta, type Severity } from '../engine/types.js';
import { findDockerfiles } from '../lint/discover.js';
import { changedBetween, commitExists, mergeBase, tryGit } from '../hooks/git.js';
import { installedCli } from '../hooks/install.js';
import { affectedTargets, lintTargets, repoRelative, targetsFromConfig, targetsFromFiles, workTreeReader, type LintTarget } from '../hooks/targets.js';
import { countBySeverity, type LintResult } from '../report/types.js';
import { escapeData, escapeProperty, github } from '../report/github.js';
import { markdown } from '../report/markdown.js';
import { sarif } from '../report/sarif.js';
import { stylish } from '../report/stylish.js';
import { toolVersion } from '../cli/common.js';

/** The inputs of action.yml, read as the runner passes them. */
export interface ActionInputs {
  paths: string[];
  changedOnly: 'auto' | boolean;
  images: string[];
  boot: string[];
  config?: string;
  failOn?: Severity | 'none';
  sarifFile?: string;
}

type Env = Record<string, string | undefined>;

/**
 * `INPUT_<NAME>` as the runner sets it for JavaScript actions (name upper-cased, spaces to `_`,
 * hyphens kept); a composite step cannot export a hyphenated variable from bash, so the
 * `_` spelling (`INPUT_FAIL_ON`) is read too.
 */
export function getInput(env: Env, name: string): string {
  const key = `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
  return (env[key] ?? env[key.replace(/-/g, '_')] ?? '').trim();
}

/** A list input: one item per line, or separated by commas or spaces. */
export function getList(env: Env, name: string): string[] {
  return getInput(env, name)
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function readInputs(env: Env): ActionInputs {
  const changed = getInput(env, 'changed-only').toLowerCase();
  if (!['', 'auto', 'true', 'false'].includes(changed)) throw new InputError(`input changed-only: expected true, false or auto (got "${changed}")`);
  const failOn = getInput(env, 'fail-on');
  if (failOn && !['error', 'warning', 'info', 'none'].includes(failOn)) throw new InputError(`input fail-on: expected error, warning, info or none (got "${failOn}")`);
  return {
    paths: getList(env, 'paths'),
    changedOnly: changed === 'true' ? true : changed === 'false' ? false : 'auto',
    images: getList(env, 'images'),
    boot: getList(env, 'boot'),
    config: getInput(env, 'config') || undefined,
    failOn: (failOn || undefined) as ActionInputs['failOn'],
    sarifFile: getInput(env, 'sarif-file') || undefined,
  };
}

/** Appends one output to `$GITHUB_OUTPUT` (`name=value`, or `name<<DELIM` for multi-line values). */
export function setOutput(file: string | undefined, name: string, value: string): void {
  if (!file) return;
  if (!/[\r\n]/.test(value)) fs.appendFileSync(file, `${name}=${value}\n`);
  else {
    let delim = `smcl_${randomBytes(8).toString('hex')}`;
    while (value.includes(delim)) delim = `smcl_${randomBytes(8).toString('hex')}`;
    fs.appendFileSync(file, `${name}<<${delim}\n${value}\n${delim}\n`);
  }
}

interface EventPayload {
  pull_request?: { base?: { sha?: string }; head?: { sha?: string } };
  before?: string;
  after?: string;
}

/** The commits an event compares: a PR's base and head (three-dot), a push's before and after. */
export function eventRange(eventName: string | undefined, payload: EventPayload): { base: string; head: string; threeDot: boolean; what: string } | undefined {
  const pr = payload.pull_request;
  if (pr?.base?.sha && pr.head?.sha) return { base: pr.base.sha, head: pr.head.sha, threeDot: true, what: `pull request (${pr.base.sha.slice(0, 7)}...${pr.head.sha.slice(0, 7)})` };
  if (eventName === 'push' && payload.before && payload.after && !/^0+$/.test(payload.before)) return { base: payload.before, head: payload.after, threeDot: false, what: `push (${payload.before.slice(0, 7)}..${payload.after.slice(0, 7)})` };
  return undefined;
}

function isPullRequest(eventName: string | undefined): boolean {
  return eventName === 'pull_request' || eventName === 'pull_request_target';
}

/** Fetches a commit by sha when the checkout (often shallow) lacks it; GitHub serves any reachable sha. */
function ensureCommit(sha: string, root: string): boolean {
  if (commitExists(sha, root)) return true;
  tryGit(['fetch', '--no-tags', '--quiet', '--no-recurse-submodules', 'origin', sha], root);
  return commitExists(sha, root);
}

export interface ActionReport {
  exitCode: number;
  results: LintResult[];
  errors: Array<{ file: string; message: string }>;
  notes: string[];
  sarifFile: string;
}

/** The CLI of this package, spawned for commands this entry point does not run in-process. */
function cliAvailable(command: string): boolean {
  const { node, cli } = installedCli();
  const r = spawnSync(node, [cli, '--help'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return new RegExp(`^\\s*smcl ${command}\\b`, 'm').test(r.stdout ?? '');
}

/** Runs `smcl <command> <ref> --format json` and reads its results back. */
function runCliJson(command: string, ref: string, config: string | undefined): { results: LintResult[]; error?: string } {
  const { node, cli } = installedCli();
  const args = [cli, command, ref, '--format', 'json', '--fail-on', 'none', '--quiet', ...(config ? ['--config', config] : [])];
  const r = spawnSync(node, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
  try {
    const parsed = JSON.parse(r.stdout) as { results: Array<{ subject: string; findings: Finding[] }> };
    return { results: parsed.results.map((x) => ({ subject: x.subject, findings: x.findings, sourceTexts: new Map() })) };
  } catch {
    const msg = (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').pop()!;
    return { results: [], error: msg.replace(/^smcl: /, '') };
  }
}

/**
 * The action, as GitHub runs it: reads `INPUT_*`, `GITHUB_EVENT_NAME`/`GITHUB_EVENT_PATH`,
 * lints (on pull requests only the Dockerfiles whose file or build context the PR changes),
 * prints annotations (workflow commands) on `write`, appends a Markdown report to
 * `$GITHUB_STEP_SUMMARY`, writes SARIF and sets the outputs `findings`, `errors`, `sarif-file`.
 * Changes the process's directory to the top of the repository (`GITHUB_WORKSPACE`).
 */
export async function runAction(env: Env = process.env, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<ActionReport> {
  const inputs = readInputs(env);
  const workspace = path.resolve(env.GITHUB_WORKSPACE || process.cwd());
  const top = tryGit(['rev-parse', '--show-toplevel'], workspace);
  const root = top.status === 0 ? top.stdout.trim() : workspace;
  process.chdir(root);
  const notes: string[] = [];
  // Config is validated against every rule, as by the CLI (a config may set endpoint rules too).
  const rules: RuleMeta[] = ruleMetas();
  const config = loadConfig(inputs.paths[0] ? path.resolve(workspace, inputs.paths[0]) : root, inputs.config && path.resolve(workspace, inputs.config), rules);

  // What to lint: the given paths, else the config's images, else every Dockerfile of the repository.
  let targets: LintTarget[];
  if (inputs.paths.length) {
    targets = findDockerfiles(inputs.paths.map((p) => path.relative(root, path.resolve(workspace, p)) || '.')).map((f) => {
      const rel = repoRelative(root, f);
      return { dockerfile: rel, context: path.posix.dirname(rel) };
    });
  } else {
    let found: string[] = [];
    try {
      found = findDockerfiles(['.']);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
    }
    targets = targetsFromConfig(config, root) ?? targetsFromFiles(found.map((f) => repoRelative(root, f)));
  }

  const eventName = env.GITHUB_EVENT_NAME;
  const changedOnly = inputs.changedOnly === 'auto' ? isPullRequest(eventName) : inputs.changedOnly;
  if (changedOnly && targets.length) {
    let payload: EventPayload = {};
    try {
      if (env.GITHUB_EVENT_PATH) payload = JSON.parse(fs.readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as EventPayload;
    } catch (err) {
      throw new InputError(`${env.GITHUB_EVENT_PATH}: cannot read the event payload (${(err as Error).message})`);
    }
    const range = eventRange(eventName, payload);
    if (!range) notes.push(`changed-only: the ${eventName ?? 'unknown'} event names no base and head commit; linting every Dockerfile.`);
    else if (top.status !== 0) notes.push(`changed-only: ${workspace} is not a git checkout; linting every Dockerfile.`);
    else if (!ensureCommit(range.base, root) || !ensureCommit(range.head, root) || (range.threeDot && !mergeBase(range.base, range.head, root))) {
      notes.push(`changed-only: the checkout lacks the history of the ${range.what} (use actions/checkout with fetch-depth: 0); linting every Dockerfile.`);
    } else {
      const changed = changedBetween(range.base, range.head, root, range.threeDot);
      const all = targets.length;
      targets = affectedTargets(targets, changed, workTreeReader(root));
      notes.push(`changed-only: ${targets.length} of ${all} Dockerfiles concerned by the ${range.what}${targets.length ? `: ${targets.map((t) => t.dockerfile).join(', ')}` : ''}.`);
    }
  }

  const { results, errors } = lintTargets(targets, config);

  // Images and boots go through the CLI, so this entry point needs no change when they evolve.
  for (const [command, refs] of [['image', inputs.images], ['boot', inputs.boot]] as const) {
    if (!refs.length) continue;
    if (!cliAvailable(command)) {
      // TODO(smcl image / smcl boot): those commands are written separately; until this build
      // has them, the refs are reported as skipped (warning), not silently ignored.
      notes.push(`\`smcl ${command}\` is not available in smcl ${toolVersion()}: skipped ${refs.join(', ')}.`);
      write(`::warning title=${escapeProperty(`smcl ${command}`)}::${escapeData(`smcl ${command} is not available in this version of smcl; skipped: ${refs.join(', ')}`)}\n`);
      continue;
    }
    for (const ref of refs) {
      const r = runCliJson(command, ref, inputs.config && path.resolve(workspace, inputs.config));
      results.push(...r.results);
      if (r.error) errors.push({ file: ref, message: `smcl ${command} ${ref}: ${r.error}` });
    }
  }

  // Annotations on the PR's lines, a readable log, the step summary, SARIF, outputs.
  const version = toolVersion();
  const sarifRules = [...rules];
  for (const f of results.flatMap((r) => r.findings))
    if (!sarifRules.some((m) => m.id === f.ruleId)) sarifRules.push({ id: f.ruleId, target: 'container', defaultSeverity: f.severity, description: f.ruleId, docsUrl: f.docsUrl });
  for (const n of notes) write(`${n}\n`);
  if (results.length) {
    write('::group::smcl findings\n');
    write(stylish(results, { color: false, rules, toolVersion: version }));
    write('::endgroup::\n');
    write(github(results, { color: false, rules, toolVersion: version }));
  } else write('smcl: no Dockerfile to lint\n');
  for (const e of errors) write(`::error file=${escapeProperty(e.file)},title=${escapeProperty('smcl input error')}::${escapeData(e.message)}\n`);

  const sarifFile = path.resolve(workspace, inputs.sarifFile ?? path.join(env.RUNNER_TEMP || os.tmpdir(), 'smcl.sarif'));
  fs.mkdirSync(path.dirname(sarifFile), { recursive: true });
  fs.writeFileSync(sarifFile, sarif(results, { color: false, rules: sarifRules, toolVersion: version }));

  if (env.GITHUB_STEP_SUMMARY) {
    let md = markdown(results, { color: false, rules, toolVersion: version });
    const extra = [...notes.map((n) => `- ${n}`), ...errors.map((e) => `- ❗ \`${e.file}\`: ${e.message.replace(/\|/g, '\\|')}`)];
    if (extra.length) md = md.replace(/\n\n/, `\n\n${extra.join('\n')}\n\n`);
    fs.appendFileSync(env.GITHUB_STEP_SUMMARY, md + '\n');
  }

  const counts = countBySeverity(results);
  const threshold = inputs.failOn ?? config.failOn ?? 'error';
  setOutput(env.GITHUB_OUTPUT, 'findings', String(counts.total));
  setOutput(env.GITHUB_OUTPUT, 'errors', String(counts.error));
  setOutput(env.GITHUB_OUTPUT, 'sarif-file', sarifFile);

  const failing = threshold !== 'none' && results.some((r) => r.findings.some((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK[threshold]));
  const exitCode = errors.length ? 2 : failing ? 1 : 0;
  if (failing) write(`::error title=smcl::${escapeData(`${counts.total} findings (${counts.error} errors); failing on ${threshold} and above`)}\n`);
  return { exitCode, results, errors, notes, sarifFile };
}
