import { spawn } from 'node:child_process';
import { openSync, promises as fs, closeSync } from 'node:fs';
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { ruleMetas } from '../../../rules/index.js';
import { InputError } from '../../engine/types.js';
import { loadEndpointFile } from '../../endpoint/load.js';
import type { PolicyDocument } from '../../endpoint/model.js';
import {
  endpointUp,
  EndpointStartError,
  listStates,
  pidAlive,
  planFromInputs,
  readState,
  removeRun,
  stateDir,
  stateFile,
  writeState,
  type RunningEndpoint,
} from '../../endpoint/emulator/index.js';
import { ContainerEngine } from '../../harness/engine.js';
import { INSTANCE_TYPES } from '../../harness/instance-types.js';
import { emitResults, handler, note, resolveConfig, withOutputOptions, type OutputArgs } from '../common.js';

interface UpArgs extends OutputArgs {
  inputs: string[];
  engine?: string;
  'engine-arg': string[];
  'instance-type'?: string;
  memory?: string;
  cpus?: number;
  'endpoint-name'?: string;
  'variant-name': string;
  mode?: 'Direct' | 'Serial';
  host: string;
  port: number;
  policy: string[];
  region?: string;
  'account-id'?: string;
  'startup-timeout'?: number;
  metrics?: string;
  'metrics-interval': number;
  'health-interval': number;
  'memory-margin': number;
  'disparity-ratio': number;
  detach: boolean;
  pull: 'missing' | 'never';
  'state-file'?: string;
}

interface DownArgs {
  name?: string;
  all: boolean;
  quiet: boolean;
  debug: boolean;
}

async function loadPolicies(files: string[]): Promise<PolicyDocument[]> {
  const out: PolicyDocument[] = [];
  for (const f of files) {
    const m = await loadEndpointFile(f);
    if (m.policies.length === 0) throw new InputError(`${f}: no IAM policy found`);
    out.push(...m.policies);
  }
  return out;
}

/** Arguments to re-run this command in the foreground (for --detach). */
function foregroundArgs(argv: string[]): string[] {
  return argv.filter((a) => !/^--(no-)?detach(=.*)?$/.test(a));
}

async function detach(argv: UpArgs, endpointName: string): Promise<number> {
  const file = stateFile(endpointName);
  const existing = await readState(file);
  if (existing && pidAlive(existing.pid)) throw new InputError(`endpoint ${endpointName} is already up at ${existing.url} (pid ${existing.pid}); run: smcl endpoint down ${endpointName}`);
  await fs.rm(file, { force: true });
  await fs.mkdir(path.dirname(file), { recursive: true });
  const logFile = path.join(path.dirname(file), `${endpointName}.log`);
  const fd = openSync(logFile, 'w');
  const script = process.argv[1];
  const child = spawn(process.execPath, [...process.execArgv, script, ...foregroundArgs(process.argv.slice(2)), '--state-file', file], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, NO_COLOR: process.env.NO_COLOR ?? '1' },
  });
  closeSync(fd);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const deadline = Date.now() + ((argv['startup-timeout'] ?? 240) + 600) * 1000;
  for (;;) {
    const state = await readState(file);
    if (state && state.pid === child.pid) {
      child.unref();
      process.stdout.write(`${state.url}\n`);
      note(argv, `endpoint ${endpointName} is up at ${state.url} (pid ${state.pid}, ${state.containers.length} containers, log ${logFile}); stop it with: smcl endpoint down ${endpointName}`);
      return 0;
    }
    if (exited !== undefined || Date.now() > deadline) {
      const log = await fs.readFile(logFile, 'utf8').catch(() => '');
      process.stderr.write(log);
      if (exited === undefined) child.kill('SIGTERM');
      return exited ?? 2;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function describeUp(ep: RunningEndpoint): string {
  const lines = [`endpoint ${ep.plan.endpointName} (${ep.plan.mode}, variant ${ep.plan.variantName}, ${ep.containers.length} container${ep.containers.length === 1 ? '' : 's'}) at ${ep.url}`];
  for (const c of ep.containers) {
    lines.push(`  ${c.hostname.padEnd(20)} ${c.image}  SAGEMAKER_BIND_TO_PORT=${c.bindPort} SAGEMAKER_SAFE_PORT_RANGE=${c.safePortRange.join('-')}  ping ok after ${c.startupMs} ms`);
  }
  lines.push(`  invoke: aws sagemaker-runtime invoke-endpoint --endpoint-url ${ep.url} --endpoint-name ${ep.plan.endpointName}${ep.plan.mode === 'Direct' ? ` --target-container-hostname ${ep.containers[0].hostname}` : ''} --body ... out.bin`);
  lines.push(`  metrics: GET ${ep.url}/metrics`);
  return lines.join('\n');
}

function summary(ep: RunningEndpoint): string {
  const lines = ['', ep.metrics.table()];
  const rejected = Object.entries(ep.server.rejected);
  if (rejected.length) lines.push(`refused before reaching a container: ${rejected.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const a of ep.advice()) lines.push(`advice: ${a}`);
  for (const n of ep.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

export const endpointUpCommand: CommandModule<object, UpArgs> = {
  command: 'up <inputs..>',
  describe: 'Run every container of a multi-container endpoint on this host, as SageMaker co-hosts them, behind a local SageMaker Runtime API (InvokeEndpoint)',
  builder: (y) =>
    withOutputOptions(y)
      .positional('inputs', { type: 'string', array: true, describe: 'a CreateModel request / CloudFormation template (one model), or images as image or hostname=image' })
      .option('engine', { type: 'string', describe: 'podman or docker (default: config "engine", SMCL_ENGINE, then whichever is installed)' })
      .option('engine-arg', { type: 'string', array: true, default: [], describe: 'extra argument for every `<engine> run` (repeatable)' })
      .option('instance-type', { type: 'string', describe: `instance whose memory/CPUs the containers share (${[...INSTANCE_TYPES.keys()].join(', ')}); each container may use all of it, as on SageMaker` })
      .option('memory', { type: 'string', describe: 'instance memory, e.g. 8g (overrides --instance-type)' })
      .option('cpus', { type: 'number', describe: 'instance CPUs (overrides --instance-type)' })
      .option('endpoint-name', { type: 'string', describe: 'endpoint name (default: from the input, else local-endpoint)' })
      .option('variant-name', { type: 'string', default: 'AllTraffic', describe: 'production variant name (x-Amzn-Invoked-Production-Variant, metrics)' })
      .option('mode', { type: 'string', choices: ['Direct', 'Serial'], describe: 'inference mode for a list of images (default Direct; a CreateModel file has its own)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address of the runtime API' })
      .option('port', { type: 'number', default: 0, describe: 'port of the runtime API (default: a free port, printed on start)' })
      .option('policy', { type: 'string', array: true, default: [], describe: 'IAM policy of the caller (repeatable): requests it does not allow get AccessDeniedException' })
      .option('region', { type: 'string', describe: 'region of the endpoint ARN policies are checked against (default: any)' })
      .option('account-id', { type: 'string', describe: 'account of the endpoint ARN policies are checked against (default: any)' })
      .option('startup-timeout', { type: 'number', describe: 'seconds every container has to pass GET /ping (default: 240)' })
      .option('health-interval', { type: 'number', default: 5, describe: 'seconds between GET /ping health checks of every container once serving, as SageMaker keeps pinging (0: none)' })
      .option('metrics', { type: 'string', describe: 'append CloudWatch Embedded Metric Format lines to this file' })
      .option('metrics-interval', { type: 'number', default: 60, describe: 'seconds between EMF flushes (and one at shutdown)' })
      .option('memory-margin', { type: 'number', default: 10, describe: 'percent of the instance memory that should stay free at startup' })
      .option('disparity-ratio', { type: 'number', default: 2, describe: 'ratio of CPU per invocation or latency between containers worth a warning' })
      .option('detach', { alias: 'd', type: 'boolean', default: false, describe: 'run in the background; stop with smcl endpoint down <name>' })
      .option('pull', { type: 'string', choices: ['missing', 'never'], default: 'missing', describe: 'pull images that are not local, or fail' })
      .option('state-file', { type: 'string', hidden: true })
      .example('smcl endpoint up model.json --instance-type ml.m5.large', 'co-host the containers of a CreateModel request')
      .example('smcl endpoint up a=img-a:1 b=img-b:1 --policy invoke.json -d', 'two images in the background, IAM enforced') as never,
  handler: handler(async (argv: UpArgs) => {
    const metas = ruleMetas();
    const config = resolveConfig(argv, undefined, metas);
    if (argv['startup-timeout'] !== undefined && !(argv['startup-timeout'] > 0)) throw new InputError('--startup-timeout must be a positive number of seconds');
    if (!Number.isInteger(argv.port) || argv.port < 0 || argv.port > 65535) throw new InputError(`--port ${argv.port}: expected 0-65535`);
    if (!(argv['metrics-interval'] > 0)) throw new InputError('--metrics-interval must be positive');
    if (!(argv['health-interval'] >= 0)) throw new InputError('--health-interval must be 0 (off) or a number of seconds');
    if (!(argv['memory-margin'] >= 0 && argv['memory-margin'] < 100)) throw new InputError('--memory-margin is a percentage (0-99)');
    const { plan, policies: inputPolicies } = await planFromInputs(argv.inputs, { endpointName: argv['endpoint-name'], variantName: argv['variant-name'], mode: argv.mode });
    const policies = [...inputPolicies, ...(await loadPolicies(argv.policy))];
    if (argv.detach) return detach(argv, plan.endpointName);

    const stateFileArg = argv['state-file'];
    const ownState = stateFileArg ?? stateFile(plan.endpointName);
    const existing = await readState(ownState);
    if (existing && existing.pid !== process.pid && pidAlive(existing.pid)) throw new InputError(`endpoint ${plan.endpointName} is already up at ${existing.url} (pid ${existing.pid}); run: smcl endpoint down ${plan.endpointName}`);

    const controller = new AbortController();
    let signalled: NodeJS.Signals | undefined;
    let wakeUp: (() => void) | undefined;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (signalled) {
        running?.removeSync();
        process.exit(sig === 'SIGINT' ? 130 : 143);
      }
      signalled = sig;
      controller.abort();
      wakeUp?.();
    };
    let running: RunningEndpoint | undefined;
    const onExit = (): void => running?.removeSync();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('exit', onExit);
    let live: NodeJS.Timeout | undefined;
    try {
      try {
        running = await endpointUp({
          plan,
          policies: policies.length ? policies : undefined,
          engine: argv.engine ?? config.engine,
          engineArgs: [...(config.engineArgs ?? []), ...argv['engine-arg']],
          instanceType: argv['instance-type'],
          memory: argv.memory,
          cpus: argv.cpus,
          startupTimeout: argv['startup-timeout'],
          pull: argv.pull,
          host: argv.host,
          port: argv.port,
          region: argv.region,
          accountId: argv['account-id'],
          metricsFile: argv.metrics,
          metricsInterval: argv['metrics-interval'],
          healthInterval: argv['health-interval'],
          advice: { memoryMargin: argv['memory-margin'] / 100, disparityRatio: argv['disparity-ratio'] },
          signal: controller.signal,
          onProgress: (m) => note(argv, m),
        });
      } catch (err) {
        if (err instanceof EndpointStartError) {
          if (signalled) {
            note(argv, `${signalled}: startup of ${plan.endpointName} interrupted; every container was removed`);
            return signalled === 'SIGINT' ? 130 : 143;
          }
          for (const n of err.notes) note(argv, `note: ${n}`);
          note(argv, `endpoint ${plan.endpointName} did not start; every container was removed`);
          return emitResults([{ subject: plan.source, findings: err.findings, sourceTexts: new Map() }], argv, metas, config);
        }
        throw err;
      }
      if (signalled) return signalled === 'SIGINT' ? 130 : 143;
      const ep = running;
      await writeState({ endpointName: plan.endpointName, pid: process.pid, url: ep.url, engine: ep.engine.bin, runId: ep.runId, containers: ep.containers.map((c) => c.name), startedAt: new Date().toISOString(), logFile: stateFileArg ? ownState.replace(/\.json$/, '.log') : undefined }, ownState);
      process.stdout.write(`${describeUp(ep)}\n`);
      let code = 0;
      if (ep.findings.length) code = emitResults([{ subject: plan.source, findings: ep.findings, sourceTexts: new Map() }], argv, metas, config);
      for (const a of ep.advice()) note(argv, `advice: ${a}`);
      note(argv, 'serving; Ctrl-C stops and removes every container');
      if (process.stderr.isTTY && !argv.quiet) {
        let shown = 0;
        live = setInterval(() => {
          const text = ep.metrics.table();
          const up = shown ? `\x1b[${shown}A\x1b[J` : '';
          process.stderr.write(`${up}${text}\n`);
          shown = text.split('\n').length;
        }, 2000);
      }
      await new Promise<void>((r) => {
        wakeUp = r;
        if (signalled) r();
      });
      if (live) clearInterval(live);
      note(argv, `${signalled}: stopping endpoint ${plan.endpointName}`);
      await ep.stop();
      if (!argv.quiet) process.stderr.write(`${summary(ep)}\n`);
      return code;
    } finally {
      if (live) clearInterval(live);
      await running?.stop();
      if ((await readState(ownState))?.pid === process.pid) await fs.rm(ownState, { force: true });
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('exit', onExit);
    }
  }, { signalStops: true }),
};

export const endpointDownCommand: CommandModule<object, DownArgs> = {
  command: 'down [name]',
  describe: 'Stop an endpoint started with smcl endpoint up --detach and remove its containers',
  builder: (y) =>
    y
      .positional('name', { type: 'string', describe: 'endpoint name (default: the only endpoint up)' })
      .option('all', { type: 'boolean', default: false, describe: 'every endpoint up' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false })
      .option('debug', { type: 'boolean', default: false }) as never,
  handler: handler(async (argv: DownArgs) => {
    const states = await listStates();
    let chosen = states;
    if (argv.name) chosen = states.filter((s) => s.state.endpointName === argv.name);
    if (argv.name && chosen.length === 0) throw new InputError(`no endpoint ${argv.name} is up (no state in ${stateDir()})`);
    if (!argv.name && !argv.all) {
      if (states.length === 0) throw new InputError(`no endpoint is up (no state in ${stateDir()})`);
      if (states.length > 1) throw new InputError(`several endpoints are up (${states.map((s) => s.state.endpointName).join(', ')}): name one, or --all`);
    }
    for (const { file, state } of chosen) {
      if (pidAlive(state.pid)) {
        process.kill(state.pid, 'SIGTERM');
        const deadline = Date.now() + 60_000;
        while (pidAlive(state.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      }
      // Whatever the server did, make sure no container is left.
      const engine = ContainerEngine.detect(state.engine);
      if (state.containers.length) await engine.exec(['rm', '-f', ...state.containers], { timeoutMs: 120_000 }).catch(() => undefined);
      await removeRun(engine, state.runId);
      await fs.rm(file, { force: true });
      note(argv, `endpoint ${state.endpointName} is down (${state.containers.length} container(s) removed)`);
    }
    return 0;
  }),
};
