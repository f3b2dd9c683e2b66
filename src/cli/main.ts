#!/usr/bin/env node
import nodeModule, { createRequire } from 'node:module';
import type { Argv, CommandModule } from 'yargs';
import { STDIN_ARG, toolVersion } from './common.js';

// Node 22.1+ can keep compiled code of the modules loaded below in a cache on disk (os.tmpdir()),
// which shortens every later start, the pre-push hook's included; NODE_DISABLE_COMPILE_CACHE=1
// turns it off. Node 20 has no such cache.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

// `smcl rules | head`: once the reader is gone, writes fail with EPIPE. Drop the rest of the
// output instead of dying with a stack trace, and let the command finish so that its exit code
// (0/1/2) still says what it found.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
  });
}

// yargs through its CommonJS build on purpose: that build is one pre-bundled file and formats
// help with wrap-ansi, so it loads in ~35 ms; the ESM entry loads ~20 modules (~70 ms) and its
// cliui breaks help lines in the middle of words. Every pre-push hook pays this start-up.
const requireCjs = createRequire(import.meta.url);
const yargs = requireCjs('yargs') as (args: string[]) => Argv;
const { hideBin } = requireCjs('yargs/helpers') as { hideBin: (argv: string[]) => string[] };

/**
 * Entry point of `smcl` / `sagemaker-container-lint`. Commands only parse arguments and call
 * the library; exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or input error.
 *
 * Commands are loaded lazily: `smcl lint` runs in every pre-push hook, so it must not pay for
 * loading the AWS SDK, the YAML parser or the container harness. Only the named command's module
 * is imported; `smcl --help` (or an unknown command) imports them all.
 */
type Loader = () => Promise<CommandModule<object, never>[]>;
const COMMANDS: Array<{ name: string; load: Loader }> = [
  { name: 'lint', load: async () => [(await import('./commands/lint.js')).lintCommand as never] },
  { name: 'image', load: async () => [(await import('./commands/image.js')).imageCommand as never] },
  { name: 'boot', load: async () => [(await import('./commands/boot.js')).bootCommand as never] },
  { name: 'endpoint', load: async () => [(await import('./commands/endpoint.js')).endpointCommand as never] },
  { name: 'ecr', load: async () => [(await import('./commands/ecr.js')).ecrCommand as never] },
  { name: 'hook', load: async () => [(await import('./commands/hook.js')).hookCommand as never] },
  { name: 'rules', load: async () => [(await import('./commands/rules.js')).rulesCommand as never] },
];

// yargs drops a lone `-`; carry it through as a name no real path has.
const args = hideBin(process.argv).map((a) => (a === '-' ? STDIN_ARG : a));
const named = COMMANDS.filter((c) => c.name === args.find((a) => !a.startsWith('-')));

/**
 * Layer scans (`image`, `ecr`) stream gigabytes through short-lived buffers. With V8's default
 * young generation, garbage holding those buffers piles up to ~60 MiB of resident memory before a
 * scavenge frees it; a 4 MiB semi-space keeps a 1 GiB image lint near 140 MiB instead of 165.
 * The flag only works at process start, so these two commands re-run node with it once.
 */
const SEMI_SPACE_FLAG = '--max-semi-space-size=4';
if (['image', 'ecr'].includes(named[0]?.name ?? '') && !process.execArgv.some((a) => a.startsWith('--max-semi-space-size')) && !process.env.SMCL_NO_REEXEC) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [SEMI_SPACE_FLAG, ...process.execArgv, process.argv[1], ...hideBin(process.argv)], { stdio: 'inherit' });
  // The child handles interrupts (cleanup, messages, exit codes); this process only relays them.
  const relay = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', relay);
  process.on('SIGTERM', relay);
  child.on('exit', (code, signal) => {
    if (!signal) process.exit(code ?? 1);
    // Killed before its own interrupt handling was installed (still starting): same policy as
    // every command, one line and 130 (SIGINT) / 143 (SIGTERM).
    process.stderr.write(`smcl: interrupted by ${signal}\n`);
    process.exit(signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1);
  });
  await new Promise(() => undefined);
}
const modules = (await Promise.all((named.length ? named : COMMANDS).map((c) => c.load()))).flat();

let cli = yargs(args)
  .scriptName('smcl')
  .usage('$0 <command> [options]\n\nTells you, before deploy, whether a container will work in an Amazon SageMaker\nmulti-container endpoint with direct invocation.');
for (const m of modules) cli = cli.command(m);
await cli
  .demandCommand(1, 'Name a command: smcl lint . (or smcl --help)')
  .strict()
  .recommendCommands()
  .version(toolVersion())
  .help()
  .alias('h', 'help')
  // yargs lays out the whole help text before every command runs (in case it is shown later);
  // without wrapping that costs nothing, so wrap only when help is what was asked for.
  .wrap(args.some((a) => a === '--help' || a === '-h') ? Math.min(110, process.stdout.columns || 100) : null)
  .epilogue('Exit codes: 0 no findings at or above --fail-on, 1 findings, 2 usage or input error.\nDocs: https://github.com/sagemaker-container-lint/sagemaker-container-lint#readme')
  .fail((msg, err) => {
    if (err) throw err;
    process.stderr.write(`smcl: ${msg}\nRun smcl --help for usage.\n`);
    process.exit(2);
  })
  .parseAsync();
