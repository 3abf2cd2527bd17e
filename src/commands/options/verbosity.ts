/**
 * --quiet / --verbose, on every command (cli.ts adds the group once, globally): the level is set for
 * the whole run before the handler starts (report/verbosity.ts).
 */
import type { Argv } from 'yargs';
import { setVerbosity } from '../../report/verbosity.js';

export interface VerbosityArgs {
  quiet?: boolean;
  verbose?: boolean;
}

export function withVerbosity<T>(y: Argv<T>): Argv<T & VerbosityArgs> {
  return y
    .options({
      quiet: { alias: 'q', type: 'boolean', describe: 'print only errors and the final line on stderr (no summary, no progress)' },
      verbose: { type: 'boolean', describe: "also print each key's decision on stderr (renamed, kept, dropped, and why)" },
    })
    .conflicts('quiet', 'verbose')
    .middleware((argv) => {
      const a = argv as Record<string, unknown>;
      setVerbosity(a.quiet === true ? 'quiet' : a.verbose === true ? 'verbose' : 'normal');
      // the progress bar (and its periodic lines off a terminal) is chatter too
      if (a.quiet === true) a.progress = false;
      // after validation: strict mode would call `progress` unknown on a command without a bar
    }, false) as unknown as Argv<T & VerbosityArgs>;
}
