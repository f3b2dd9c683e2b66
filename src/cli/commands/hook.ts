import fs from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { ruleMetas } from '../../../rules/index.js';
import { InputError } from '../../engine/types.js';
import { repoRoot } from '../../hooks/git.js';
import { HOOK_NAMES, installHook, uninstallHook, type HookChange, type HookName } from '../../hooks/install.js';
import { runPreCommit, runPrePush } from '../../hooks/run.js';
import { emitResults, handler, note, resolveConfig, withOutputOptions, type OutputArgs } from '../common.js';

interface HookArgs extends OutputArgs {
  action: 'install' | 'uninstall' | 'run';
  'pre-push': boolean;
  'pre-commit': boolean;
  hook?: string;
  args: string[];
}

function selected(argv: HookArgs, fallback: HookName[]): HookName[] {
  const chosen = HOOK_NAMES.filter((h) => argv[h]);
  return chosen.length ? chosen : fallback;
}

function describeChange(c: HookChange): string {
  switch (c.action) {
    case 'installed':
      return `installed ${c.hook} hook: ${c.path}`;
    case 'updated':
      return `updated ${c.hook} hook: ${c.path}`;
    case 'chained':
      return `installed ${c.hook} hook: ${c.path} (the existing hook was moved to ${c.chained} and runs first)`;
    case 'removed':
      return `removed ${c.hook} hook: ${c.path}`;
    case 'restored':
      return `removed ${c.hook} hook and restored the previous one: ${c.path}`;
    case 'absent':
      return `no ${c.hook} hook at ${c.path}`;
    case 'foreign':
      return `${c.path} was not written by smcl: left alone`;
  }
}

export const hookCommand: CommandModule<object, HookArgs> = {
  command: 'hook <action> [hook] [args..]',
  describe: 'Git hooks: install/uninstall a pre-push (default) or pre-commit hook that lints changed Dockerfiles and build contexts',
  builder: (y) =>
    (withOutputOptions(y as Argv<object>) as Argv<object>)
      .positional('action', { choices: ['install', 'uninstall', 'run'], describe: 'install or uninstall the hook; run is what the installed hook calls' })
      .positional('hook', { type: 'string', choices: [...HOOK_NAMES], describe: 'with run: the hook being run' })
      .positional('args', { type: 'string', array: true, default: [], describe: 'with run: the arguments git gave the hook (pre-push: remote name and URL)' })
      .option('pre-push', { type: 'boolean', default: false, describe: 'install/uninstall the pre-push hook (lints what the push sends)' })
      .option('pre-commit', { type: 'boolean', default: false, describe: 'install/uninstall the pre-commit hook (lints what is staged)' })
      .example('smcl hook install', 'lint changed Dockerfiles before every git push (respects core.hooksPath, chains an existing hook)')
      .example('smcl hook install --pre-commit', 'lint staged Dockerfiles and build-context files before every commit')
      .example('smcl hook uninstall', 'remove smcl hooks and restore the hooks they chained')
      .example('SMCL_SKIP=1 git push', 'push once without linting (as does git push --no-verify)') as never,
  handler: handler(async (argv: HookArgs) => {
    const cwd = process.cwd();
    if (argv.action === 'install') {
      for (const h of selected(argv, ['pre-push'])) note(argv, describeChange(installHook(cwd, h)));
      return 0;
    }
    if (argv.action === 'uninstall') {
      for (const h of selected(argv, [...HOOK_NAMES])) note(argv, describeChange(uninstallHook(cwd, h)));
      return 0;
    }
    if (!argv.hook) throw new InputError('smcl hook run: name the hook (pre-push or pre-commit)');
    if (process.env.SMCL_SKIP === '1') {
      note(argv, 'SMCL_SKIP=1, not linting');
      return 0;
    }
    const root = repoRoot(cwd);
    const rules = ruleMetas();
    const config = resolveConfig(argv, root, rules);
    const lint = argv.hook === 'pre-push' ? runPrePush(root, fs.readFileSync(0, 'utf8'), argv.args[0], config) : runPreCommit(root, config);
    for (const n of lint.notes) note(argv, n);
    for (const e of lint.errors) process.stderr.write(`smcl: ${e.message}\n`);
    if (lint.results.length === 0 && lint.errors.length === 0) return 0;
    process.chdir(root);
    const code = lint.results.length ? emitResults(lint.results, argv, rules, config) : 0;
    if (lint.errors.length) return 2;
    if (code !== 0) note(argv, `${argv.hook === 'pre-push' ? 'push' : 'commit'} refused: fix the findings above, or bypass once with SMCL_SKIP=1 (or --no-verify)`);
    return code;
  }),
};
