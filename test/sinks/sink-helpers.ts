import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import type { Flavor, KeyRecord, RdbRecord, Value } from '../../src/records/types.js';
import { encodeValue } from '../../src/encode/value-encoder.js';
import { parseRdb } from '../../src/rdb/parser.js';
import { describeType } from '../../src/rdb/constants.js';
import { readValue, valuesEqual, type ValuesEqualOptions } from '../../src/validate/read-value.js';
import type { KeyOutcomes, Sink } from '../../src/sinks/sink.js';
import type { RedisHandle } from '../helpers/redis-server.js';

export { keyRecord, type RecordOptions as RecOpts } from '../helpers/records.js';

/** Feed records in batches of `batch` (the sink tells refused keys to `outcomes`), then close. */
export async function writeAll(sink: Sink, records: RdbRecord[], batch = 7, outcomes?: KeyOutcomes): Promise<void> {
  try {
    for (let i = 0; i < records.length; i += batch) await sink.writeBatch(records.slice(i, i + batch), outcomes);
    await sink.close();
  } catch (e) {
    await sink.abort(e);
    throw e;
  }
}

export async function parseFile(path: string): Promise<RdbRecord[]> {
  const buf = readFileSync(path);
  async function* one(): AsyncGenerator<Buffer> {
    // Odd-sized chunks exercise the streaming parser's refills.
    for (let i = 0; i < buf.length; i += 4093) yield buf.subarray(i, i + 4093);
  }
  const out: RdbRecord[] = [];
  for await (const batch of parseRdb(one(), { file: path, size: buf.length })) out.push(...batch);
  return out;
}

export function checkRdb(path: string): void {
  const r = spawnSync('redis-check-rdb', [path], { encoding: 'utf8' });
  expect(r.status, `redis-check-rdb ${path}:\n${r.stdout}\n${r.stderr}`).toBe(0);
}

export interface Expected {
  db: number;
  key: Buffer;
  value: Value;
  expireAtMs: number | null;
}

/** Every expected key is in the server with the same value and expiry, and nothing else is. */
export async function expectServerHas(redis: RedisHandle, expected: Expected[], opts: ValuesEqualOptions = {}): Promise<void> {
  const dbs = [...new Set(expected.map((e) => e.db))];
  for (const db of dbs) {
    const client = redis.client({ db });
    const mine = expected.filter((e) => e.db === db);
    expect(Number(await client.dbsize()), `DBSIZE of db ${db}`).toBe(mine.length);
    for (const e of mine) {
      const got = await readValue(client, e.key);
      const where = `db ${db} ${JSON.stringify(e.key.toString('latin1'))}`;
      expect(got.type, where).toBe(e.value.type);
      expect(valuesEqual(e.value, got.value!, opts).diff, where).toBeUndefined();
      expect(got.expireAtMs, `${where} expiry`).toBe(e.expireAtMs);
    }
    client.disconnect();
  }
}
