import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic-file.js';

/** `YYYYMMDD_HHMMSS` in local time, the stamp the migration guide's file names use. */
export function fileStamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** JSON.stringify that writes bigints as numbers when exact, else as digit strings. */
export function toJson(value: unknown, space?: number): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v), space);
}

export async function writeReport(outDir: string, prefix: string, stamp: string, data: unknown, ext = 'json'): Promise<string> {
  await mkdir(outDir, { recursive: true });
  // Two runs in the same second must not overwrite each other's reports.
  let path = join(outDir, `${prefix}_${stamp}.${ext}`);
  for (let i = 2; existsSync(path); i++) path = join(outDir, `${prefix}_${stamp}_${i}.${ext}`);
  await writeFileAtomic(path, typeof data === 'string' ? data : toJson(data, 2) + '\n');
  return path;
}

/**
 * The timestamped operation log (`redis_migration_*.log`). Lines are kept in memory, bounded,
 * and written atomically at the end, so a crash never leaves a log that looks complete.
 */
export class OperationLog {
  private lines: string[] = [];
  private dropped = 0;
  constructor(private readonly max = 100_000) {}

  log(level: 'INFO' | 'WARN' | 'ERROR', msg: string): void {
    if (this.lines.length >= this.max) {
      this.dropped++;
      return;
    }
    this.lines.push(`${new Date().toISOString()} ${level} ${msg}`);
  }

  async write(outDir: string, stamp: string): Promise<string> {
    if (this.dropped > 0) this.lines.push(`${new Date().toISOString()} WARN ${this.dropped} further log lines were not kept`);
    return writeReport(outDir, 'redis_migration', stamp, this.lines.join('\n') + '\n', 'log');
  }
}
