import type { CommandModule } from 'yargs';
import { ruleMetas } from '../../../rules/index.js';
import { InputError } from '../../engine/types.js';
import { accessMatrixToJson, lintEndpointFiles, renderAccessMatrixText, type EndpointLintSettings } from '../../endpoint/index.js';
import { emitResults, exitCodeFor, failThreshold, handler, writeReport, resolveConfig, withOutputOptions, type OutputArgs } from '../common.js';
import { endpointDownCommand, endpointUpCommand } from './endpoint-up.js';

interface EndpointArgs extends OutputArgs {
  files: string[];
  'max-containers'?: number;
  'endpoint-name'?: string;
  hostname: string[];
}

/** Formats this command adds to the common reporters: the access matrix as a table or JSON. */
export const MATRIX_FORMATS = ['matrix', 'matrix-json'];

export const endpointCommand: CommandModule<object, EndpointArgs> = {
  command: 'endpoint <files..>',
  describe: 'Lint SageMaker CreateModel requests, CloudFormation/SAM templates and IAM policies for multi-container endpoints with direct invocation',
  builder: (y) =>
    withOutputOptions(y, MATRIX_FORMATS)
      // Subcommands `smcl endpoint up|down` (emulator); any other first argument is a file to lint.
      .command(endpointUpCommand)
      .command(endpointDownCommand)
      .positional('files', { type: 'string', array: true, describe: 'CreateModel JSON/YAML, CloudFormation/SAM templates, IAM policy JSON; linted together as one input' })
      .option('max-containers', { type: 'number', describe: 'containers allowed in one model (endpoint-container-count) [default: 15]' })
      .option('endpoint-name', { type: 'string', describe: 'endpoint name (or ARN) to check policy Resource ARNs against, when the input does not name it' })
      .option('hostname', { type: 'string', array: true, default: [], describe: 'extra container hostnames for the access matrix (repeatable), e.g. when only policies are given' })
      .example('smcl endpoint model.json invoke-policy.json', 'lint a CreateModel request with the policy of its callers')
      .example('smcl endpoint template.yaml --format matrix', 'print who can invoke which container')
      .example('smcl endpoint policy.json --hostname a --hostname b --format matrix-json', 'access matrix of a policy for given hostnames') as never,
  handler: handler(async (argv: EndpointArgs) => {
    const rules = ruleMetas();
    const config = resolveConfig(argv, argv.files[0], rules);
    const maxContainers = argv['max-containers'];
    if (maxContainers !== undefined && (!Number.isInteger(maxContainers) || maxContainers < 1)) throw new InputError(`--max-containers ${String(maxContainers)}: expected a positive integer`);
    const options: Record<string, Record<string, unknown>> = { ...(config.options ?? {}) };
    if (maxContainers !== undefined) options['endpoint-container-count'] = { ...options['endpoint-container-count'], maxContainers };
    const settings: EndpointLintSettings = { severity: config.severity, options, endpointName: argv['endpoint-name'], hostnames: argv.hostname };
    const { results, matrix } = await lintEndpointFiles(argv.files, settings);
    if (!MATRIX_FORMATS.includes(argv.format)) return emitResults(results, argv, rules, config);

    const text = argv.format === 'matrix' ? renderAccessMatrixText(matrix) : `${JSON.stringify(accessMatrixToJson(matrix), null, 2)}\n`;
    writeReport(text, argv);
    return exitCodeFor(results, failThreshold(argv, config));
  }),
};
