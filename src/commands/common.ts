import { createInterface } from 'node:readline';
import type { Argv } from 'yargs';
import { RekeyUsageError } from '../errors.js';
import { interrupt } from '../io/interrupt.js';
import { buildFilter, type KeyFilter } from '../pipeline/filters.js';

export interface CommonArgs {
  db?: number[];
  type?: string[];
  match?: string;
  'key-regex'?: string;
  'exclude-regex'?: string;
  'out-dir': string;
  json: boolean;
  'ignore-checksum': boolean;
  'allow-future-version': boolean;
}

/** Flags every command shares (README, "Commands"). */
export function withCommon<T>(y: Argv<T>): Argv<T & CommonArgs> {
  return y
    .option('db', { type: 'number', array: true, describe: 'only keys of this db (repeatable)' })
    .option('type', { type: 'string', array: true, describe: 'only keys of this type: string list set zset hash stream module (repeatable)' })
    .option('match', { type: 'string', describe: 'only keys matching this Redis glob' })
    .option('key-regex', { type: 'string', describe: 'only keys matching this regular expression' })
    .option('exclude-regex', { type: 'string', describe: 'skip keys matching this regular expression' })
    .option('out-dir', { type: 'string', default: '.', describe: 'directory for report files' })
    .option('json', { type: 'boolean', default: false, describe: 'print the machine-readable result on stdout' })
    .option('ignore-checksum', { type: 'boolean', default: false, describe: 'do not verify the RDB CRC64' })
    .option('allow-future-version', { type: 'boolean', default: false, describe: 'read RDB headers newer than rekey knows' }) as unknown as Argv<T & CommonArgs>;
}

export function filterFrom(a: CommonArgs): KeyFilter | null {
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

/** Print on stderr unless the user asked for JSON only on stdout. */
export function note(msg: string): void {
  process.stderr.write(msg + '\n');
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
