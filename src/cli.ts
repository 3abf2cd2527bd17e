#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { EXIT_BAD_INPUT } from './errors.js';
import { installInterruptHandlers } from './io/interrupt.js';
import { urlHasPassword } from './redis/redact.js';
import { BrokenPipeError } from './io/atomic-file.js';
import { flushQuiet } from './report/verbosity.js';
import { withVerbosity } from './commands/options/verbosity.js';

/**
 * The commands, each loaded only when it runs (or its own --help is asked): `rekey --version` and
 * `rekey --help` then start without parsing ioredis, yaml or stream-json (a third of a second).
 * `command` and `describe` repeat the module's own, for the top-level help; test/cli/lazy-start.test.ts
 * holds them equal.
 */
const COMMANDS: readonly { command: string; describe: string; load: () => Promise<CommandModule> }[] = [
  { command: 'analyze <input..>', describe: 'Audit a dump offline: keys, sizes, TTLs, estimated memory, prefixes, and what rules would do', load: async () => (await import('./commands/analyze.js')).analyzeCommand as CommandModule },
  { command: 'transform <input..>', describe: 'Read a dump, filter and rename keys by rules, write RDB, JSONL or RESP', load: async () => (await import('./commands/transform.js')).transformCommand as CommandModule },
  { command: 'rules <command>', describe: 'Work with rules files offline (rules test)', load: async () => (await import('./commands/rules.js')).rulesCommand },
  { command: 'import <input..>', describe: 'Import a dump into Redis or Redis Cluster (a dry run unless --live)', load: async () => (await import('./commands/import.js')).importCommand as CommandModule },
  { command: 'validate <input..>', describe: 'Check that a target holds what the input says (through the rename rules)', load: async () => (await import('./commands/validate.js')).validateCommand as CommandModule },
  { command: 'rollback <ledger>', describe: 'Delete exactly the keys an import created, from its ledger (a dry run unless --live)', load: async () => (await import('./commands/rollback.js')).rollbackCommand as CommandModule },
  { command: 'sync <source>', describe: 'Keep renamed keys live: replicate a source (PSYNC) into the target, renaming every key by the rules', load: async () => (await import('./commands/sync.js')).syncCommand as CommandModule },
];

/** The command the arguments name (the first word that is not an option), or undefined. */
function requestedCommand(args: readonly string[]): (typeof COMMANDS)[number] | undefined {
  const word = args.find((a) => !a.startsWith('-'));
  return word === undefined ? undefined : COMMANDS.find((c) => c.command.split(' ')[0] === word);
}

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

/** The version in package.json (dist/cli.js sits one folder below it). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}


/**
 * redis-cli's warning: a password in argv is visible to every local user (ps, /proc, shell history).
 * Read from the words as typed (a URL's userinfo, -a/--pass), before the option groups fold REDISCLI_AUTH
 * into a URL.
 */
function warnPasswordsInArgs(args: readonly string[]): void {
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    if (w === '--') break;
    const eq = w.startsWith('--') ? w.indexOf('=') : -1;
    const flag = eq > 0 ? w.slice(0, eq) : w;
    const value = eq > 0 ? w.slice(eq + 1) : w;
    if (flag === '-a' || flag === '--pass') {
      process.stderr.write(`rekey: warning: a password on the command line (${flag}) may not be safe; use REDISCLI_AUTH instead\n`);
    } else if (urlHasPassword(value)) {
      const target = flag === '--target' || args[i - 1] === '--target';
      process.stderr.write(`rekey: warning: a password on the command line (--${target ? 'target' : 'source'} URL) may not be safe; use ${target ? 'REKEY_TARGET_PASSWORD' : 'REKEY_SOURCE_PASSWORD'} instead\n`);
    }
  }
}

/**
 * yargs renders the whole help text right after it starts a command's handler, to cache it for a later
 * failure: string-width over every line, ~0.1 s of each run (measured with --cpu-prof on import). Our
 * .fail() never shows that cached help (--help renders its own), so the cache is skipped. Feature-tested:
 * a yargs without this internal hook just keeps its default.
 */
function skipHelpCache(cli: unknown): void {
  type Usage = { cacheHelpMessage?: () => void };
  const usage = (cli as { getInternalMethods?: () => { getUsageInstance?: () => Usage } }).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  // `rekey --version` alone answers before yargs is even parsed (a third of the start time).
  if (args.length === 1 && ['--version', '-v', '-V'].includes(args[0]!)) {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  warnPasswordsInArgs(args);
  const { default: yargs } = await import('yargs');
  const wanted = requestedCommand(args);
  // --quiet / --verbose are global: every command has them (options/verbosity.ts).
  let cli = withVerbosity(yargs(args))
    .scriptName('rekey')
    .usage('$0 <command> [options]\n\nRead Redis snapshots offline, rename keys by rules, write dumps, import with proof.');
  // The one command that runs is loaded in full; the others are names in the help (never run).
  for (const c of COMMANDS) cli = cli.command(c === wanted ? await c.load() : { command: c.command, describe: c.describe, handler: () => undefined });
  skipHelpCache(cli);
  await cli
    // yargs turns a lone `-` positional into an empty string; give stdin back its name.
    .middleware((argv) => {
      if (argv.input === '') argv.input = '-';
      // A variadic `<input..>` drops a lone `-` altogether: give it back when argv has one no option took.
      // Options whose value is `-` (--output, --keys, --memory-csv, …) took theirs; each once under its
      // long name (yargs also lists camelCase and one-letter aliases).
      const taken = Object.entries(argv).filter(([k, v]) => v === '-' && k !== 'input' && k.length > 1 && !/[A-Z]/.test(k)).length;
      const dashes = args.filter((x) => x === '-').length - taken;
      if (Array.isArray(argv.input) && dashes > 0 && !argv.input.includes('-')) argv.input = ['-', ...(argv.input as string[])];
    }, true)
    .version('version', 'print the version', packageVersion())
    .alias('version', ['v', 'V'])
    .completion('completion', 'print a bash/zsh completion script (rekey completion >> ~/.bashrc)')
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
  .then(flushQuiet)
  .catch(endQuietlyOnClosedPipe)
  .catch((e: unknown) => {
    // Each error class carries its exit code (errors.ts: 1 problem, 2 bad input or usage, 3 could not
    // run); anything without one is a bug, shown with its stack.
    const code = e instanceof Error ? (e as { exitCode?: unknown }).exitCode : undefined;
    if (typeof code === 'number') {
      process.stderr.write(`rekey: ${(e as Error).message}\n`);
      process.exitCode = code;
    } else {
      process.stderr.write(`rekey: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    }
  });
