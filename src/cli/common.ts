import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv } from 'yargs';
import { loadConfig, type SmclConfig } from '../engine/config.js';
import { InputError, SEVERITY_RANK, type RuleMeta, type Severity } from '../engine/types.js';
import { reporterFor, REPORTERS, type LintResult } from '../report/index.js';

/** Options every command that reports findings takes, with the same meaning everywhere. */
export interface OutputArgs {
  format: string;
  output?: string;
  'fail-on'?: Severity | 'none';
  config?: string;
  quiet: boolean;
  color?: boolean;
  debug: boolean;
}

/** Stands for `-` (read stdin) in parsed arguments. */
export const STDIN_ARG = '<stdin>';

export const FORMATS = Object.keys(REPORTERS);

export function withOutputOptions<T>(y: Argv<T>, extraFormats: string[] = []): Argv<T & OutputArgs> {
  return y
    .option('format', { alias: 'F', type: 'string', default: 'stylish', describe: `output format: ${[...FORMATS, ...extraFormats].join(', ')}` })
    .option('output', { alias: 'o', type: 'string', describe: 'write the report to this file instead of stdout' })
    .option('fail-on', { type: 'string', choices: ['error', 'warning', 'info', 'none'], describe: 'exit 1 when a finding at or above this severity is reported [default: error, or failOn from config]' })
    .option('config', { alias: 'c', type: 'string', describe: 'config file (default: .smclrc.json/.smclrc.yaml/package.json "smcl", found upward)' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'report only findings at or above --fail-on, and no progress on stderr' })
    .option('color', { type: 'boolean', describe: 'force colors on or off (default: on when stdout is a terminal)' })
    .option('debug', { type: 'boolean', default: false, describe: 'show stack traces of unexpected errors' }) as unknown as Argv<T & OutputArgs>;
}

export function toolVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = path.join(dir, 'package.json');
    if (fs.existsSync(p)) {
      const pkg = JSON.parse(fs.readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'sagemaker-container-lint') return pkg.version ?? '0.0.0';
    }
    dir = path.dirname(dir);
  }
  return '0.0.0';
}

export function resolveConfig(argv: OutputArgs, firstPath: string | undefined, rules: RuleMeta[]): SmclConfig {
  return loadConfig(firstPath, argv.config, rules);
}

export function failThreshold(argv: OutputArgs, config: SmclConfig): Severity | 'none' {
  return argv['fail-on'] ?? config.failOn ?? 'error';
}

/**
 * Formats results, writes them to --output or stdout, and returns the exit code:
 * 1 when a finding is at or above the threshold, else 0.
 */
export function emitResults(results: LintResult[], argv: OutputArgs, rules: RuleMeta[], config: SmclConfig): number {
  const threshold = failThreshold(argv, config);
  const shown = argv.quiet && threshold !== 'none' ? results.map((r) => ({ ...r, findings: r.findings.filter((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK[threshold]) })) : results;
  const reporter = reporterFor(argv.format);
  const text = reporter(shown, { color: argv.format === 'stylish' && useColor(argv), rules, toolVersion: toolVersion() });
  writeReport(text, argv);
  return exitCodeFor(results, threshold);
}

/** Colours only for a terminal (or when forced), and never under NO_COLOR. */
export function useColor(argv: Pick<OutputArgs, 'color' | 'output'>): boolean {
  return argv.color ?? (argv.output === undefined && process.stdout.isTTY === true && !process.env.NO_COLOR);
}

/** Writes a formatted report to --output (creating its directory) or to stdout. */
export function writeReport(text: string, argv: Pick<OutputArgs, 'output'>): void {
  if (!argv.output) {
    process.stdout.write(text);
    return;
  }
  try {
    fs.mkdirSync(path.dirname(path.resolve(argv.output)), { recursive: true });
    fs.writeFileSync(argv.output, text);
  } catch (err) {
    throw new InputError(`${argv.output}: cannot write report (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** 1 when any finding is at or above the threshold, else 0. */
export function exitCodeFor(results: Array<{ findings: Array<{ severity: Severity }> }>, threshold: Severity | 'none'): number {
  if (threshold === 'none') return 0;
  return results.some((r) => r.findings.some((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK[threshold])) ? 1 : 0;
}

/** Progress and notes go to stderr so that stdout stays the report. */
export function note(argv: Pick<OutputArgs, 'quiet'>, message: string): void {
  if (!argv.quiet) process.stderr.write(`smcl: ${message}\n`);
}

/**
 * Wraps a command handler: InputError → one line on stderr and exit 2; anything else is a bug,
 * reported in one line (stack with --debug), also exit 2. SIGINT/SIGTERM: a command that cleans
 * up on a signal (image, boot...) installs its own listener and gets up to 10 s to do so; a
 * command without one stops at once; a second signal always exits at once. An interrupted
 * command exits 130 (SIGINT) or 143 (SIGTERM) with one line saying so.
 */
export function handler<A extends { debug?: boolean }>(
  fn: (argv: A) => Promise<number> | number,
  opts: {
    /**
     * For commands that serve until stopped (`smcl endpoint up`): SIGINT/SIGTERM is how they end,
     * so a command that then returns normally keeps its own exit code.
     */
    signalStops?: boolean;
  } = {},
): (argv: A) => Promise<void> {
  return async (argv: A) => {
    const interrupt = watchInterrupts();
    let returned = false;
    try {
      process.exitCode = await fn(argv);
      returned = true;
    } catch (err) {
      process.exitCode = interrupt.signal ? 2 : reportError(err, argv.debug === true);
      if (interrupt.signal && err instanceof InputError) process.stderr.write(`smcl: ${err.message}\n`);
    } finally {
      interrupt.dispose();
    }
    if (interrupt.signal && !(opts.signalStops && returned)) {
      process.stderr.write(`smcl: interrupted by ${interrupt.signal}\n`);
      process.exitCode = interruptExitCode(interrupt.signal);
    }
  };
}

const interruptExitCode = (sig: NodeJS.Signals): number => (sig === 'SIGINT' ? 130 : 143);

function watchInterrupts(): { signal?: NodeJS.Signals; dispose(): void } {
  const state: { signal?: NodeJS.Signals; dispose(): void } = { dispose };
  let watchdog: NodeJS.Timeout | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (state.signal) {
      process.stderr.write(`smcl: ${sig} again: exiting now\n`);
      process.exit(interruptExitCode(sig));
    }
    state.signal = sig;
    if (process.listenerCount(sig) <= 1) {
      // Nobody else listens: nothing to clean up.
      process.stderr.write(`smcl: interrupted by ${sig}\n`);
      process.exit(interruptExitCode(sig));
    }
    process.stderr.write(`smcl: ${sig}: stopping and cleaning up (${sig === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again exits at once)\n`);
    watchdog = setTimeout(() => {
      process.stderr.write('smcl: cleanup did not finish within 10 s: exiting\n');
      process.exit(interruptExitCode(sig));
    }, 10_000);
    watchdog.unref();
  };
  process.prependListener('SIGINT', onSignal);
  process.prependListener('SIGTERM', onSignal);
  function dispose(): void {
    if (watchdog) clearTimeout(watchdog);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return state;
}

export function reportError(err: unknown, debug: boolean): number {
  if (err instanceof InputError) {
    process.stderr.write(`smcl: ${err.message}\n`);
    if (debug && err.cause) process.stderr.write(`${String((err.cause as Error).stack ?? err.cause)}\n`);
  } else {
    const e = err as Error;
    process.stderr.write(`smcl: unexpected error: ${e?.message ?? String(err)}${debug ? '' : ' (run with --debug for details)'}\n`);
    if (debug) process.stderr.write(`${e?.stack ?? ''}\n`);
  }
  return 2;
}

/**
 * One status line on a terminal (progress of long work), redrawn in place and throttled to
 * 10 updates a second; nothing when stderr is not a TTY or with --quiet. `done()` clears it.
 */
export function statusLine(argv: Pick<OutputArgs, 'quiet'>): ((line: string) => void) & { done(): void } {
  const tty = process.stderr.isTTY === true && !argv.quiet;
  let shown = false;
  let last = 0;
  return Object.assign(
    (line: string) => {
      const now = performance.now();
      if (!tty || now - last < 100) return;
      last = now;
      process.stderr.write(`\r\u001b[2K${line.slice(0, (process.stderr.columns || 100) - 1)}`);
      shown = true;
    },
    {
      done() {
        if (shown) process.stderr.write('\r\u001b[2K');
        shown = false;
      },
    },
  );
}

