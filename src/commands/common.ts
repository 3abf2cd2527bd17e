import { createInterface } from 'node:readline';
import type { Argv } from 'yargs';
import { RekeyUsageError } from '../errors.js';
import { interrupt } from '../io/interrupt.js';
import { info } from '../report/verbosity.js';
import { buildFilter, type KeyFilter } from '../pipeline/filters.js';
import { withFilters, withInput, withOutput, type FilterArgs, type InputArgs, type OutputArgs } from './options/groups.js';

/** The flags every input-reading command shares (README, "Commands"): filters, input reading, output. */
export interface CommonArgs extends FilterArgs, InputArgs, OutputArgs {}

/** Flags every command reading a dump shares: composed from the option groups (options/groups.ts). */
export function withCommon<T>(y: Argv<T>): Argv<T & CommonArgs> {
  return withOutput(withInput(withFilters(y)));
}

export function filterFrom(a: FilterArgs): KeyFilter | null {
  return buildFilter({
    ...(a.db ? { db: a.db } : {}),
    ...(a.type ? { type: a.type } : {}),
    ...(a.match !== undefined ? { match: a.match } : {}),
    ...(a['key-regex'] !== undefined ? { keyRegex: a['key-regex'] } : {}),
    ...(a['exclude-regex'] !== undefined ? { excludeRegex: a['exclude-regex'] } : {}),
  });
}

/** `--now` in epoch ms (default: the time of the run). */
export function nowFrom(v: unknown): number {
  if (v === undefined) return Date.now();
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new RekeyUsageError(`--now ${String(v)}: expected epoch milliseconds`);
  return n;
}

/** Human-readable sizes for terminal tables. */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** A line on stderr (held back under --quiet: report/verbosity.ts). */
export function note(msg: string): void {
  info(msg);
}


/** Ask a yes/no question on the terminal (stdin, prompt on stderr); only "y"/"yes" is yes. */
export async function confirmOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // Ctrl-C at the prompt is an interrupt like anywhere else (exit 130), not a silent exit 0.
  rl.on('SIGINT', () => interrupt('SIGINT'));
  try {
    const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
