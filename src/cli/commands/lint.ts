import type { CommandModule } from 'yargs';
import { allRules } from '../../../rules/index.js';
import { InputError } from '../../engine/types.js';
import { findDockerfiles } from '../../lint/discover.js';
import { lintDockerfile } from '../../lint/lint-dockerfiles.js';
import type { LintResult } from '../../report/types.js';
import { STDIN_ARG, emitResults, handler, resolveConfig, withOutputOptions, type OutputArgs } from '../common.js';

interface LintArgs extends OutputArgs {
  paths: string[];
  file?: string;
  context?: string;
  target?: string;
  'build-arg': string[];
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

export const lintCommand: CommandModule<object, LintArgs> = {
  command: 'lint [paths..]',
  describe: 'Lint Dockerfiles (and the build-context files they COPY) for SageMaker multi-container endpoints',
  builder: (y) =>
    withOutputOptions(y)
      .positional('paths', { type: 'string', array: true, default: [], describe: 'Dockerfiles or directories to search (default: images from config, else .); - reads stdin' })
      .option('file', { alias: 'f', type: 'string', describe: 'the Dockerfile, as `docker build -f` takes it' })
      .option('context', { type: 'string', describe: 'build context directory (default: the Dockerfile\'s directory)' })
      .option('target', { type: 'string', describe: 'build stage to lint (default: the last stage)' })
      .option('build-arg', { type: 'string', array: true, default: [], describe: 'KEY=VALUE, as docker build takes it (repeatable)' })
      .example('smcl lint', 'lint every Dockerfile under the current directory')
      .example('smcl lint -f docker/Dockerfile --context . --target serve', 'lint like `docker build -f docker/Dockerfile --target serve .`')
      .example('smcl lint examples/ --format sarif -o smcl.sarif', 'write SARIF for GitHub code scanning')
      .example('cat Dockerfile | smcl lint -', 'lint a Dockerfile from stdin') as never,
  handler: handler(async (argv: LintArgs) => {
    const rules = allRules().map((r) => r.meta);
    const paths = (argv.file ? [argv.file, ...argv.paths] : argv.paths).map((p) => (p === STDIN_ARG ? '-' : p));
    const config = resolveConfig(argv, paths[0], rules);
    const buildArgs = parseBuildArgs(argv['build-arg']);
    const results: LintResult[] = [];
    if (paths.length === 0 && config.images?.length) {
      for (const img of config.images) {
        results.push(lintDockerfile(img.dockerfile, { config, context: img.context, target: argv.target ?? img.target, buildArgs: { ...img.buildArgs, ...buildArgs } }));
      }
    } else {
      const files = argv.file ? [paths[0]] : findDockerfiles(paths.length ? paths : ['.']);
      if (argv.context && files.length > 1) throw new InputError('--context applies to one Dockerfile; give one file (or use "images" in the config for several)');
      for (const file of files) results.push(lintDockerfile(file, { config, context: argv.context, target: argv.target, buildArgs }));
    }
    return emitResults(results, argv, rules, config);
  }),
};
