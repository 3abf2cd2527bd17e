import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { OpenedInput } from '../../src/sources/open.js';
import type { KeyRecord, RdbRecord } from '../../src/records/types.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const FIXTURE = join(ROOT, 'fixtures', 'dump.rdb');
export const RULES = join(ROOT, 'examples', 'meta-glasses.rules.yaml');
export const PREFIX = 'josancamon:rayban-meta-glasses-api:';

export async function collect(input: OpenedInput): Promise<RdbRecord[]> {
  const out: RdbRecord[] = [];
  for await (const b of input.batches) out.push(...b);
  return out;
}

export function keysOf(records: RdbRecord[]): KeyRecord[] {
  return records.filter((r): r is KeyRecord => r.kind === 'key');
}

export const id = (db: number, key: Buffer): string => `${db}:${key.toString('hex')}`;

/** DUMP of every key in every db (db → key hex → dump hex), through SCAN on a test connection. */
export async function dumpAll(c: Redis, dbs: number[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const db of dbs) {
    await c.select(db);
    let cursor = '0';
    do {
      const [next, keys] = (await c.callBuffer('SCAN', cursor, 'COUNT', 1000)) as [Buffer, Buffer[]];
      cursor = next.toString();
      for (const k of keys) {
        const d = (await c.callBuffer('DUMP', k)) as Buffer | null;
        const t = await c.pexpiretime(k);
        out.set(id(db, k), `${d?.toString('hex')}/${t}`);
      }
    } while (cursor !== '0');
  }
  await c.select(0);
  return out;
}

/** `cmdstat_<name>` → calls, from INFO commandstats. */
export async function commandStats(c: Redis): Promise<Map<string, number>> {
  const text = String(await c.info('commandstats'));
  const m = new Map<string, number>();
  for (const line of text.split(/\r?\n/)) {
    const r = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (r) m.set(r[1]!, Number(r[2]));
  }
  return m;
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
