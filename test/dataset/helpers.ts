/** Split a dump into several RDB files with rekey's own writer (RdbSink), as a cluster backup would be. */
import { join } from 'node:path';
import { openInput } from '../../src/sources/open.js';
import { RdbSink } from '../../src/sinks/rdb-sink.js';
import type { KeyRecord, RdbRecord } from '../../src/records/types.js';
import { keySlot } from '../../src/redis/slot.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const FIXTURE = join(ROOT, 'fixtures', 'dump.rdb');

/**
 * Write `parts` files under `dir`: every key goes to the part `route` names; metadata (header, aux,
 * functions) goes to every part, so each file is a complete RDB on its own.
 */
export async function splitDump(input: string, dir: string, parts: number, route: (k: KeyRecord) => number, name = 'part'): Promise<string[]> {
  const paths = Array.from({ length: parts }, (_, i) => join(dir, `${name}-${i}.rdb`));
  const sinks = paths.map((path) => new RdbSink({ path }));
  const opened = await openInput(input);
  for await (const batch of opened.batches) {
    const per: RdbRecord[][] = paths.map(() => []);
    for (const r of batch) {
      if (r.kind === 'key') per[route(r)]!.push(r);
      else for (const p of per) p.push(r);
    }
    for (let i = 0; i < parts; i++) if (per[i]!.length > 0) await sinks[i]!.writeBatch(per[i]!);
  }
  for (const s of sinks) await s.close();
  return paths;
}

/** The master owning `slot` when 16384 slots are cut into `n` even ranges (as redis-cli --cluster create does). */
export function evenRangeOwner(slot: number, n: number): number {
  return Math.min(n - 1, Math.floor((slot * n) / 16384));
}

export const bySlot = (n: number) => (k: KeyRecord): number => evenRangeOwner(keySlot(k.key), n);
