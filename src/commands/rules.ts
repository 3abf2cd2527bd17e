import type { Argv, CommandModule } from 'yargs';
import { rulesTestCommand } from './rules-test.js';

/** `rekey rules <subcommand>`: offline tools for rules files. */
export const rulesCommand: CommandModule = {
  command: 'rules <command>',
  describe: 'Work with rules files offline (rules test)',
  builder: (y: Argv) => y.command(rulesTestCommand as CommandModule).demandCommand(1, 'Give a rules subcommand: test'),
  handler: () => undefined,
};
