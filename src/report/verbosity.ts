/**
 * How much a run says on stderr, set once from --quiet / --verbose (commands/options/verbosity.ts):
 * quiet: errors and the final line only; normal: the summaries; verbose: also each key's decision.
 * Process-wide because the pipeline's per-key path and every command's summary lines write through it
 * (the library default is normal, so library callers see what they always saw).
 */
export type Verbosity = 'quiet' | 'normal' | 'verbose';

let level: Verbosity = 'normal';
/** Quiet: the last line held back, and whether a final line has been said. */
let held: string | null = null;
let finalSaid = false;

export function setVerbosity(v: Verbosity): void {
  level = v;
  held = null;
  finalSaid = false;
}

export function verbosity(): Verbosity {
  return level;
}

/** Per-key decisions wanted? Hot paths read this once per run, not per key. */
export function isVerbose(): boolean {
  return level === 'verbose';
}

/** Quiet: the lines `collect` is gathering (null when not collecting). */
let collecting: string[] | null = null;

/** A summary or progress line: shown unless quiet (then held, in case it turns out to be the last). */
export function info(line: string): void {
  if (level !== 'quiet') process.stderr.write(line + '\n');
  else if (collecting !== null) collecting.push(line);
  else held = line;
}

/** The lines `fn` says through `info` (quiet only; otherwise they are shown as usual and [] returned). */
export function collect(fn: () => void): string[] {
  if (level !== 'quiet') {
    fn();
    return [];
  }
  const lines: string[] = [];
  collecting = lines;
  try {
    fn();
  } finally {
    collecting = null;
  }
  return lines;
}

/** The run's one-line outcome: shown at every level. */
export function final(line: string): void {
  finalSaid = true;
  held = null;
  process.stderr.write(line + '\n');
}

/** A per-key decision (verbose only). */
export function trace(line: string): void {
  if (level === 'verbose') process.stderr.write(line + '\n');
}

/**
 * End of a quiet run that named no final line (a command that stopped early, or one without a summary):
 * its last line is that final line, so an error said through `info` is never swallowed.
 */
export function flushQuiet(): void {
  if (level === 'quiet' && !finalSaid && held !== null) process.stderr.write(held + '\n');
  held = null;
}
