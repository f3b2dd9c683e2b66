import { promises as fs } from 'node:fs';
import type { CommandModule } from 'yargs';
import { ruleMetas } from '../../../rules/index.js';
import { InputError } from '../../engine/types.js';
import { applyRuleSettings, bootImage, INSTANCE_TYPES, type BootReport } from '../../harness/index.js';
import { emitResults, handler, note, resolveConfig, withOutputOptions, type OutputArgs } from '../common.js';

interface BootArgs extends OutputArgs {
  image: string;
  engine?: string;
  'instance-type'?: string;
  memory?: string;
  cpus?: number;
  env: string[];
  payload?: string;
  'content-type'?: string;
  'startup-timeout'?: number;
  'engine-arg': string[];
  pull: 'missing' | 'never';
}

export function parseEnvList(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new InputError(`--env ${item}: expected KEY=VALUE`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

function formatBytes(n: number | undefined): string {
  if (n === undefined) return '?';
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024).toFixed(0)} KiB`;
}

/** One-paragraph summary of the boot metrics (stderr, like other progress). */
export function metricsSummary(r: BootReport): string {
  const m = r.metrics;
  const inv = m.invocation ? `${m.invocation.status ?? m.invocation.error} in ${(m.invocation.latencyUs / 1000).toFixed(1)} ms (ContainerLatency ${m.invocation.latencyUs} us)` : 'not sent';
  const ports = m.portsInspected ? m.listeningPorts.map((p) => `${p.address === '::' || p.address === '0.0.0.0' ? '*' : p.address}:${p.port}`).join(', ') || 'none' : 'unknown';
  return [
    `boot of ${r.image} with ${r.engine}: SAGEMAKER_BIND_TO_PORT=${r.container.bindPort} SAGEMAKER_SAFE_PORT_RANGE=${r.container.safePortRange.join('-')}` +
      (r.container.memory ? ` memory=${r.container.memory}` : '') +
      (r.container.cpus !== undefined ? ` cpus=${r.container.cpus}` : ''),
    `  healthy after: ${m.startupMs !== undefined ? `${m.startupMs} ms` : 'never'} (${m.pingAttempts} pings)`,
    `  POST /invocations: ${inv}`,
    `  peak memory: ${formatBytes(m.peakMemoryBytes)}${m.memoryLimitBytes ? ` of ${formatBytes(m.memoryLimitBytes)}` : ''}, peak CPU: ${m.peakCpuPercent !== undefined ? `${m.peakCpuPercent.toFixed(1)}%` : '?'}`,
    `  listening: ${ports}`,
    ...r.notes.map((n) => `  note: ${n}`),
  ].join('\n');
}

export const bootCommand: CommandModule<object, BootArgs> = {
  command: 'boot <image>',
  describe: 'Run an image the way SageMaker does (`<image> serve`, assigned port and safe port range) and check /ping, /invocations and its ports',
  builder: (y) =>
    withOutputOptions(y)
      .positional('image', { type: 'string', demandOption: true, describe: 'image reference (pulled when not local)' })
      .option('engine', { type: 'string', describe: 'podman or docker (default: config "engine", SMCL_ENGINE, then whichever is installed)' })
      .option('instance-type', { type: 'string', describe: `give the container the memory/CPUs of this instance (${[...INSTANCE_TYPES.keys()].join(', ')})` })
      .option('memory', { type: 'string', describe: 'memory limit, e.g. 4g (overrides --instance-type)' })
      .option('cpus', { type: 'number', describe: 'CPU limit (overrides --instance-type)' })
      .option('env', { alias: 'e', type: 'string', array: true, default: [], describe: 'KEY=VALUE for the container (repeatable)' })
      .option('payload', { type: 'string', describe: 'file sent as the body of POST /invocations (default: 1,2,3)' })
      .option('content-type', { type: 'string', describe: 'Content-Type of the payload (default: text/csv)' })
      .option('startup-timeout', { type: 'number', describe: 'seconds to wait for GET /ping to answer 200 (default: 240)' })
      .option('engine-arg', { type: 'string', array: true, default: [], describe: 'extra argument for `<engine> run`, e.g. --engine-arg=--pids-limit=100 (repeatable; added to config "engineArgs")' })
      .option('pull', { type: 'string', choices: ['missing', 'never'], default: 'missing', describe: 'pull the image when it is not local, or fail' })
      .example('smcl boot my-model:latest --instance-type ml.m5.large', 'boot with the memory and CPUs of an ml.m5.large')
      .example('smcl boot my-model:latest --payload req.json --content-type application/json', 'send your own request to /invocations') as never,
  handler: handler(async (argv: BootArgs) => {
    // The harness reports with the ids of the static rules, so one config and one rule table serve both.
    const metas = ruleMetas();
    const config = resolveConfig(argv, undefined, metas);
    let payload: Buffer | undefined;
    if (argv.payload !== undefined) {
      try {
        payload = await fs.readFile(argv.payload);
      } catch (err) {
        throw new InputError(`${argv.payload}: cannot read payload (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    }
    if (argv['startup-timeout'] !== undefined && !(argv['startup-timeout'] > 0)) throw new InputError('--startup-timeout must be a positive number of seconds');
    const report = await bootImage({
      image: argv.image,
      engine: argv.engine ?? config.engine,
      engineArgs: [...(config.engineArgs ?? []), ...argv['engine-arg']],
      instanceType: argv['instance-type'],
      memory: argv.memory,
      cpus: argv.cpus,
      env: parseEnvList(argv.env),
      payload,
      contentType: argv['content-type'],
      startupTimeout: argv['startup-timeout'],
      pull: argv.pull,
      onProgress: (m) => note(argv, m),
    });
    note(argv, metricsSummary(report));
    const findings = applyRuleSettings(report.findings, config);
    return emitResults([{ subject: report.image, findings, sourceTexts: new Map() }], argv, metas, config);
  }),
};
