/** Split a dump into several RDB files with rekey's own writer (RdbSink), as a cluster backup would be. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTransform, type TransformArgs } from '../../src/commands/transform.js';
import { openInput } from '../../src/sources/open.js';
import { RdbSink } from '../../src/sinks/rdb-sink.js';
import type { KeyRecord, RdbRecord, Value } from '../../src/records/types.js';
import { keySlot } from '../../src/redis/slot.js';
import { keyToJsonLine } from '../../src/jsonl/value-json.js';

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

/** The master owning `slot` when 16384 slots are cut into `n` ranges as startCluster (and redis-cli) cut them. */
export function evenRangeOwner(slot: number, n: number): number {
  for (let i = n - 1; i > 0; i--) if (slot >= Math.floor((i * 16384) / n)) return i;
  return 0;
}

export const bySlot = (n: number) => (k: KeyRecord): number => evenRangeOwner(keySlot(k.key), n);

/** Write an RDB holding `records` (a header first) with rekey's own writer. */
export async function writeRdb(path: string, records: readonly RdbRecord[], rdbVersion = 11): Promise<string> {
  const sink = new RdbSink({ path, rdbVersion });
  await sink.writeBatch([{ kind: 'header', rdbVersion, flavor: 'redis', magic: `REDIS${String(rdbVersion).padStart(4, '0')}` }, ...records]);
  await sink.close();
  return path;
}

/** Every key of a dump as its JSONL line (db, key, TTL, value), sorted: content equality, order aside. */
export async function contentOf(path: string): Promise<string[]> {
  const out: string[] = [];
  const opened = await openInput(path);
  for await (const batch of opened.batches) for (const r of batch) if (r.kind === 'key') out.push(keyToJsonLine(r));
  return out.sort();
}

/** Keys of a dump by `db key-hex`, with TTL and decoded value (for equality through a JSONL round trip). */
export async function keysOf(path: string): Promise<Map<string, { expireAtMs: number | null; value: Value }>> {
  const out = new Map<string, { expireAtMs: number | null; value: Value }>();
  const opened = await openInput(path);
  for await (const batch of opened.batches) for (const r of batch) if (r.kind === 'key') out.set(`${r.db} ${r.key.toString('hex')}`, { expireAtMs: r.expireAtMs, value: r.decode() });
  return out;
}

/** `rekey transform` with the CLI's defaults, writing its report into `out`: the exit code and that report. */
export async function transformReport<R>(args: Partial<TransformArgs> & Pick<TransformArgs, 'input' | 'output'>, out: string): Promise<{ code: number; report: R }> {
  const code = await runTransform({
    'out-dir': out,
    json: false,
    'ignore-checksum': false,
    'allow-future-version': false,
    expired: 'keep',
    lossy: false,
    compress: true,
    commands: false,
    'skip-bad-lines': false,
    ...args,
  });
  const name = readdirSync(out).find((f) => f.startsWith('migration_report_'))!;
  return { code, report: JSON.parse(readFileSync(join(out, name), 'utf8')) as R };
}
