import type { CommandModule } from 'yargs';
import { allRules } from '../../../rules/index.js';
import { handler } from '../common.js';

interface RulesArgs {
  format: string;
  debug: boolean;
}

export const rulesCommand: CommandModule<object, RulesArgs> = {
  command: 'rules',
  describe: 'List the rules with their default severity and doc link',
  builder: (y) =>
    y
      .option('format', { alias: 'F', type: 'string', choices: ['stylish', 'json'], default: 'stylish', describe: 'table or JSON' })
      .option('debug', { type: 'boolean', default: false, hidden: true }) as never,
  handler: handler((argv: RulesArgs) => {
    const metas = allRules().map((r) => r.meta);
    if (argv.format === 'json') {
      process.stdout.write(JSON.stringify(metas, null, 2) + '\n');
      return 0;
    }
    const w = Math.max(...metas.map((m) => m.id.length));
    for (const m of metas) {
      process.stdout.write(`${m.id.padEnd(w)}  ${m.defaultSeverity.padEnd(7)}  ${m.target.padEnd(9)}  ${m.fixable ? 'fixable  ' : '         '}${m.description}\n${' '.repeat(w + 2)}${m.docsUrl}\n`);
    }
    return 0;
  }),
};
