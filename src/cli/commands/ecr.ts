import type { CommandModule } from 'yargs';
import { ruleMetas } from '../../../rules/index.js';
import { createEcrClient, EcrError } from '../../ecr/aws.js';
import { parsePushedSince, parseShard } from '../../ecr/filters.js';
import { formatEcrReport } from '../../ecr/report.js';
import { scanEcr, type EcrProgress } from '../../ecr/scan.js';
import { InputError } from '../../engine/types.js';
import { FORMATS, failThreshold, handler, resolveConfig, statusLine, toolVersion, useColor, writeReport, exitCodeFor, withOutputOptions, type OutputArgs } from '../common.js';

interface EcrArgs extends OutputArgs {
  repository: string[];
  'registry-id'?: string;
  tag: string[];
  'pushed-since'?: string;
  latest?: number;
  untagged: boolean;
  'labels-only': boolean;
  concurrency: number;
  shard?: string;
  region?: string;
  'endpoint-url'?: string;
  'max-attempts': number;
  'page-size'?: number;
  platform?: string;
  'instance-type'?: string;
}

export const ecrCommand: CommandModule<object, EcrArgs> = {
  command: 'ecr',
  describe: 'Lint every image in Amazon ECR repositories (AWS credentials and region from the usual AWS chain)',
  builder: (y) =>
    withOutputOptions(y)
      .option('repository', { alias: 'r', type: 'string', array: true, default: [], describe: 'repository names or globs (repeatable; default: every repository)' })
      .option('registry-id', { type: 'string', describe: 'AWS account id of the registry (default: the caller\'s)' })
      .option('tag', { alias: 't', type: 'string', array: true, default: [], describe: 'only images with a tag matching one of these globs (repeatable)' })
      .option('pushed-since', { type: 'string', describe: 'only images pushed since a duration ago (30m, 12h, 7d, 2w) or a date (2026-01-01)' })
      .option('latest', { type: 'number', describe: 'per repository, only the N most recently pushed images' })
      .option('untagged', { type: 'boolean', default: false, describe: 'also lint images without tags' })
      .option('labels-only', { type: 'boolean', default: false, describe: 'read manifests and configs only (labels, env, entrypoint), not the layers' })
      .option('concurrency', { type: 'number', default: 8, describe: 'images linted at once' })
      .option('shard', { type: 'string', describe: 'lint shard i of n (e.g. 2/4): images split by a hash of repository and digest' })
      .option('region', { type: 'string', describe: 'AWS region (default: AWS_REGION / profile)' })
      .option('endpoint-url', { type: 'string', describe: 'ECR API endpoint (default: the region\'s; or AWS_ENDPOINT_URL_ECR)' })
      .option('max-attempts', { type: 'number', default: 8, describe: 'attempts per AWS API call (adaptive retry on throttling)' })
      .option('page-size', { type: 'number', hidden: true, describe: 'page size for DescribeRepositories/DescribeImages' })
      .option('platform', { type: 'string', describe: 'os/arch[/variant] picked from multi-platform images (default linux/amd64)' })
      .option('instance-type', { type: 'string', describe: 'instance type the images will run on (checks the architecture, as smcl image does)' })
      .example('smcl ecr --region us-east-1', 'lint every tagged image of every repository')
      .example('smcl ecr -r "ml/*" --tag "v*" --pushed-since 7d --labels-only', 'quick check of last week\'s releases')
      .example('smcl ecr --latest 3 --shard 1/4 --format sarif -o ecr.sarif', 'one of four CI jobs, newest three images per repository') as never,
  handler: handler(async (argv: EcrArgs) => {
    if (!FORMATS.includes(argv.format)) throw new InputError(`unknown --format "${argv.format}" (choose ${FORMATS.join(', ')})`);
    if (!Number.isInteger(argv.concurrency) || argv.concurrency < 1) throw new InputError('--concurrency must be a positive integer');
    if (argv.latest !== undefined && (!Number.isInteger(argv.latest) || argv.latest < 1)) throw new InputError('--latest must be a positive integer');
    if (!Number.isInteger(argv['max-attempts']) || argv['max-attempts'] < 1) throw new InputError('--max-attempts must be a positive integer');
    const pageSize = argv['page-size'];
    if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000)) throw new InputError('--page-size must be 1-1000');
    const rules = ruleMetas();
    const config = resolveConfig(argv, undefined, rules);
    if (argv['instance-type']) {
      config.options = { ...config.options, 'image-architecture': { ...(config.options?.['image-architecture'] ?? {}), instanceType: argv['instance-type'] } };
    }
    const threshold = failThreshold(argv, config);
    const pushedSince = argv['pushed-since'] !== undefined ? parsePushedSince(argv['pushed-since']) : undefined;
    const shard = argv.shard !== undefined ? parseShard(argv.shard) : undefined;

    const status = statusLine(argv);
    const progress = (p: EcrProgress): void => status(p.current ? `[${p.done}/${p.total}] ${p.current}` : `[${p.done}/${p.total}]`);
    const clearProgress = (): void => status.done();

    const client = createEcrClient({ region: argv.region, endpointUrl: argv['endpoint-url'], maxAttempts: argv['max-attempts'] });
    let report;
    try {
      report = await scanEcr({
        client,
        registryId: argv['registry-id'],
        repositories: argv.repository,
        tags: argv.tag,
        pushedSince,
        latest: argv.latest,
        untagged: argv.untagged,
        labelsOnly: argv['labels-only'],
        concurrency: argv.concurrency,
        shard,
        pageSize,
        platform: argv.platform,
        config,
        onProgress: progress,
        onProblem: (line) => {
          clearProgress();
          process.stderr.write(`smcl: ${line}\n`);
        },
      });
    } catch (err) {
      if (err instanceof EcrError) throw new InputError(err.message, { cause: err });
      throw err;
    } finally {
      clearProgress();
      client.destroy();
    }

    const text = formatEcrReport(report, {
      format: argv.format,
      color: argv.format === 'stylish' && useColor(argv),
      rules,
      toolVersion: toolVersion(),
      minSeverity: argv.quiet && threshold !== 'none' ? threshold : undefined,
    });
    writeReport(text, argv);
    // The summary also goes to stderr unless stdout already carries it (stylish to the terminal).
    if (!argv.quiet && (argv.output || argv.format !== 'stylish')) {
      const c = report.counts;
      process.stderr.write(`smcl: ${c.scanned} scanned, ${c.failed} failed, ${c.skipped} skipped${c.repositoriesFailed ? `, ${c.repositoriesFailed} repositories unreadable` : ''}\n`);
    }

    const { counts } = report;
    if (counts.scanned === 0 && (counts.failed > 0 || counts.repositoriesFailed > 0)) {
      process.stderr.write('smcl: nothing could be scanned\n');
      return 2;
    }
    if (counts.images === 0 && !argv.quiet) process.stderr.write('smcl: no images found\n');
    return exitCodeFor(report.images, threshold);
  }),
};
