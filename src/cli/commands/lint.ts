import os from 'node:os';
import type { CommandModule } from 'yargs';
import { ruleMetas } from '../../../rules/index.js';
import { InputError } from '../../engine/types.js';
import { discoverInputs } from '../../lint/discover.js';
import { dockerfileModels, lintModel, type DockerfileLintOptions } from '../../lint/lint-dockerfiles.js';
import { resolveBaseImage } from '../../lint/resolve-base.js';
import type { LintResult } from '../../report/types.js';
import type { SmclConfig } from '../../engine/config.js';
import { STDIN_ARG, emitResults, handler, note, resolveConfig, statusLine, withOutputOptions, type OutputArgs } from '../common.js';

interface LintArgs extends OutputArgs {
  paths: string[];
  file?: string;
  context?: string;
  target?: string;
  'build-arg': string[];
  'resolve-base': boolean;
  insecure: boolean;
  jobs?: number;
  fix: boolean;
}

/** From this many Dockerfiles on, worker threads pay for their start-up (measured in bench/). */
const PARALLEL_MIN_FILES = 100;

/**
 * One lint thread already keeps a second core busy with V8's garbage collection and compiler
 * threads: on 2 cores, two workers measured no faster than one thread (bench/, 2,000 files) and
 * took 90 MiB more. So workers by default only from 4 cores on, one per core (at most 8).
 */
function autoJobs(): number {
  const cores = os.availableParallelism();
  return cores >= 4 ? Math.min(8, cores) : 1;
}

export function parseBuildArgs(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new InputError(`--build-arg ${item}: expected KEY=VALUE`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/**
 * Endpoint definitions found next to the Dockerfiles (CreateModel, CloudFormation, IAM). Files in
 * one directory are one input (a policy applies to the models beside it). A JSON/YAML file named
 * on the command line that is not an endpoint definition is an input error; found ones are skipped.
 */
async function lintEndpointCandidates(candidates: string[], named: Set<string>, config: SmclConfig): Promise<LintResult[]> {
  if (candidates.length === 0) return [];
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { isEndpointFile, lintEndpointFiles } = await import('../../endpoint/index.js');
  const groups = new Map<string, string[]>();
  for (const file of candidates) {
    const text = fs.readFileSync(file, 'utf8');
    if (!isEndpointFile(file, text)) {
      if (named.has(file)) throw new InputError(`${file}: neither a Dockerfile nor an endpoint definition (CreateModel, CloudFormation, IAM policy)`);
      continue;
    }
    const dir = path.dirname(file);
    groups.set(dir, [...(groups.get(dir) ?? []), file]);
  }
  const results: LintResult[] = [];
  for (const files of groups.values()) results.push(...(await lintEndpointFiles(files, config)).results);
  return results;
}

export const lintCommand: CommandModule<object, LintArgs> = {
  command: 'lint [paths..]',
  describe: 'Lint Dockerfiles (and the build-context files they COPY) for SageMaker multi-container endpoints',
  builder: (y) =>
    withOutputOptions(y)
      .positional('paths', { type: 'string', array: true, default: [], describe: 'Dockerfiles or directories to search (default: images from config, else .); - reads stdin' })
      .option('file', { alias: 'f', type: 'string', describe: 'the Dockerfile, as `docker build -f` takes it' })
      .option('context', { type: 'string', describe: 'build context directory (default: the Dockerfile\'s directory)' })
      .option('target', { type: 'string', describe: 'build stage to lint (default: the last stage); `all`: every stage that can be built as a final image' })
      .option('build-arg', { type: 'string', array: true, default: [], describe: 'KEY=VALUE, as docker build takes it (repeatable)' })
      .option('resolve-base', { type: 'boolean', default: false, describe: 'read the base image\'s config from its registry (no layers) to know inherited labels, env, entrypoint' })
      .option('jobs', { alias: 'j', type: 'number', describe: 'worker threads for 100 or more Dockerfiles (default: one per core on 4+ cores, else 1)' })
      .option('fix', { type: 'boolean', default: false, describe: 'apply the safe fixes to your files (add the accept-bind-to-port LABEL, a fixed port in a shell script becomes ${SAGEMAKER_BIND_TO_PORT:-8080}, chmod +x serve), then report what is left' })
      .option('insecure', { type: 'boolean', default: false, hidden: true, describe: 'plain http for --resolve-base registries' })
      .example('smcl lint', 'lint every Dockerfile under the current directory')
      .example('smcl lint -f docker/Dockerfile --context . --target serve', 'lint like `docker build -f docker/Dockerfile --target serve .`')
      .example('smcl lint examples/ --format sarif -o smcl.sarif', 'write SARIF for GitHub code scanning')
      .example('smcl lint --fix', 'fix what can be fixed safely, report the rest')
      .example('cat Dockerfile | smcl lint -', 'lint a Dockerfile from stdin') as never,
  handler: handler(async (argv: LintArgs) => {
    const rules = ruleMetas();
    const paths = (argv.file ? [argv.file, ...argv.paths] : argv.paths).map((p) => (p === STDIN_ARG ? '-' : p));
    const config = resolveConfig(argv, paths[0], rules);
    const buildArgs = parseBuildArgs(argv['build-arg']);
    if (argv.jobs !== undefined && (!Number.isInteger(argv.jobs) || argv.jobs < 1)) throw new InputError(`--jobs ${argv.jobs}: expected a whole number of threads, 1 or more`);
    if (argv.fix && paths.includes('-')) throw new InputError('--fix cannot write to stdin: give the Dockerfile\'s path');
    const status = statusLine(argv);
    /** Every subject of one Dockerfile (several with --target all), linted. */
    const lintOne = async (file: string, opts: DockerfileLintOptions): Promise<LintResult[]> => {
      const out: LintResult[] = [];
      for (const { model, subject } of dockerfileModels(file, opts)) {
        if (argv['resolve-base']) await resolveBaseImage(model, { insecure: argv.insecure });
        out.push(lintModel(model, config, subject));
      }
      return out;
    };
    /** Many Dockerfiles, in order: on worker threads from 100 files (on 4+ cores), with a status line on a terminal. */
    const lintFiles = async (files: string[], opts: DockerfileLintOptions): Promise<LintResult[]> => {
      const out: LintResult[] = [];
      const jobs = argv.jobs ?? autoJobs();
      try {
        if (!argv['resolve-base'] && files.length >= PARALLEL_MIN_FILES && jobs > 1) {
          // A monorepo or a platform team's whole tree: lint on several cores.
          const { lintDockerfilesParallel } = await import('../../lint/parallel.js');
          note(argv, `linting ${files.length} Dockerfiles on ${jobs} worker threads`);
          out.push(...(await lintDockerfilesParallel(files, opts, { threads: jobs, minFiles: PARALLEL_MIN_FILES, onProgress: (n) => status(`smcl: linted ${n}/${files.length} Dockerfiles`) })));
        } else {
          for (const [i, file] of files.entries()) {
            status(`smcl: linting ${i + 1}/${files.length} ${file}`);
            out.push(...(await lintOne(file, opts)));
          }
        }
      } finally {
        // Cleared before the report, and before an error message on the same terminal.
        status.done();
      }
      return out;
    };
    const lintAll = async (): Promise<LintResult[]> => {
      const results: LintResult[] = [];
      if (paths.length === 0 && config.images?.length) {
        for (const img of config.images) {
          results.push(...await lintOne(img.dockerfile, { config, context: img.context, target: argv.target ?? img.target, buildArgs: { ...img.buildArgs, ...buildArgs } }));
        }
      } else {
        const found = argv.file ? { dockerfiles: [paths[0]], endpointCandidates: [] } : discoverInputs(paths.length ? paths : ['.']);
        if (argv.context && found.dockerfiles.length > 1) throw new InputError('--context applies to one Dockerfile; give one file (or use "images" in the config for several)');
        const opts: DockerfileLintOptions = { config, context: argv.context, target: argv.target, buildArgs };
        results.push(...(await lintFiles(found.dockerfiles, opts)));
        results.push(...(await lintEndpointCandidates(found.endpointCandidates, new Set(paths), config)));
      }
      return results;
    };
    let results = await lintAll();
    if (argv.fix) {
      const { applyFixes } = await import('../../lint/fix.js');
      const outcome = applyFixes(results);
      for (const a of outcome.applied) note(argv, `fixed ${a.file}: ${a.description} (${a.ruleId})`);
      for (const s of outcome.skipped) note(argv, `not fixed ${s.file}: ${s.description} (${s.ruleId}): ${s.reason}`);
      // Report what is left, read from the files as they are now.
      if (outcome.applied.length) results = await lintAll();
    }
    return emitResults(results, argv, rules, config);
  }),
};
