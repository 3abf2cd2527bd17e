#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { EXIT_BAD_INPUT, EXIT_COULD_NOT_RUN, EXIT_PROBLEM, RekeyInputError, RekeyUsageError } from './errors.js';
import { TargetConnectionError } from './redis/connect.js';
import { transformCommand } from './commands/transform.js';
import { analyzeCommand } from './commands/analyze.js';
import { importCommand } from './commands/import.js';
import { validateCommand } from './commands/validate.js';
import { rollbackCommand } from './commands/rollback.js';
import { rulesCommand } from './commands/rules.js';
import { syncCommand } from './commands/sync.js';
import { CollisionError } from './pipeline/run.js';
import { installInterruptHandlers } from './io/interrupt.js';
import { BrokenPipeError } from './io/atomic-file.js';

// Interrupts remove temp files and exit 130/143 (io/interrupt.ts). A reader that closes our stdout
// (`rekey transform x.rdb -o - | head`) is the normal end of a pipe: exit 0, quietly.
installInterruptHandlers();
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  process.stderr.write(`rekey: stdout: cannot write (${e.code ?? e.message})\n`);
  process.exit(EXIT_BAD_INPUT);
});

/** A closed stdout that surfaced as a rejected write: the same quiet end as above. */
function endQuietlyOnClosedPipe(e: unknown): void {
  if (e instanceof BrokenPipeError) process.exit(0);
  throw e;
}

async function main(): Promise<void> {
  await yargs(hideBin(process.argv))
    .scriptName('rekey')
    .usage('$0 <command> [options]\n\nRead Redis snapshots offline, rename keys by rules, write dumps, import with proof.')
    .command(analyzeCommand)
    .command(transformCommand)
    .command(rulesCommand)
    .command(importCommand)
    .command(validateCommand)
    .command(rollbackCommand)
    .command(syncCommand)
    // yargs turns a lone `-` positional into an empty string; give stdin back its name.
    .middleware((argv) => {
      if (argv.input === '') argv.input = '-';
    }, true)
    .demandCommand(1, 'Give a command (see --help).')
    .strict()
    .recommendCommands()
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`rekey: ${msg}\nRun rekey --help for usage.\n`);
      process.exit(EXIT_BAD_INPUT);
    })
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .parseAsync();
}

main()
  .catch(endQuietlyOnClosedPipe)
  .catch((e: unknown) => {
  if (e instanceof RekeyInputError || e instanceof RekeyUsageError) {
    process.stderr.write(`rekey: ${e.message}\n`);
    process.exitCode = EXIT_BAD_INPUT;
  } else if (e instanceof TargetConnectionError) {
    process.stderr.write(`rekey: ${e.message}\n`);
    process.exitCode = EXIT_COULD_NOT_RUN;
  } else if (e instanceof CollisionError) {
    process.stderr.write(`rekey: ${e.message}\n`);
    process.exitCode = EXIT_PROBLEM;
  } else {
    process.stderr.write(`rekey: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  }
});
