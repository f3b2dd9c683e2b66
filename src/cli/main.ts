#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { hookCommand } from './commands/hook.js';
import { bootCommand } from './commands/boot.js';
import { ecrCommand } from './commands/ecr.js';
import { endpointCommand } from './commands/endpoint.js';
import { imageCommand } from './commands/image.js';
import { lintCommand } from './commands/lint.js';
import { rulesCommand } from './commands/rules.js';
import { STDIN_ARG, toolVersion } from './common.js';

/**
 * Entry point of `smcl` / `sagemaker-container-lint`. Commands only parse arguments and call
 * the library; exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or input error.
 */
// yargs drops a lone `-`; carry it through as a name no real path has.
const args = hideBin(process.argv).map((a) => (a === '-' ? STDIN_ARG : a));

await yargs(args)
  .scriptName('smcl')
  .usage('$0 <command> [options]\n\nTells you, before deploy, whether a container will work in an Amazon SageMaker\nmulti-container endpoint with direct invocation.')
  .command(lintCommand)
  .command(imageCommand)
  .command(rulesCommand)
  .command(bootCommand)
  .command(endpointCommand)
  .command(ecrCommand)
  .command(hookCommand)
  .demandCommand(1, 'Name a command: smcl lint . (or smcl --help)')
  .strict()
  .recommendCommands()
  .version(toolVersion())
  .help()
  .alias('h', 'help')
  .wrap(Math.min(110, process.stdout.columns || 100))
  .epilogue('Exit codes: 0 no findings at or above --fail-on, 1 findings, 2 usage or input error.\nDocs: https://github.com/sagemaker-container-lint/sagemaker-container-lint#readme')
  .fail((msg, err) => {
    if (err) throw err;
    process.stderr.write(`smcl: ${msg}\nRun smcl --help for usage.\n`);
    process.exit(2);
  })
  .parseAsync();
