#!/usr/bin/env node
import { reportError } from '../cli/common.js';
import { escapeData } from '../report/github.js';
import { runAction } from './run.js';

/**
 * What action.yml runs: `node dist/src/action/main.js` with the runner's environment.
 * Exit codes as the CLI's: 0 clean, 1 findings at or above fail-on, 2 input error.
 */
try {
  const report = await runAction(process.env);
  process.exitCode = report.exitCode;
} catch (err) {
  process.stdout.write(`::error title=smcl::${escapeData(err instanceof Error ? err.message : String(err))}\n`);
  process.exitCode = reportError(err, process.env.RUNNER_DEBUG === '1');
}
