/**
 * Key records for tests, in the three forms the tests need: bytes as an RDB source of a version would
 * hold them (decoded lazily from those bytes, as the parser's records are), the same with the given
 * value handed back by decode() (sinks that must not care how a value was decoded), and a decoded-only
 * record with no payload (the JSONL writer reads nothing else).
 */
import type { Flavor, KeyRecord, Value } from '../../src/records/types.js';
import { encodeValue } from '../../src/encode/value-encoder.js';
import { ByteWriter } from '../../src/encode/rdb-primitives.js';
import { describeType, MOD, moduleIdFromName } from '../../src/rdb/constants.js';
import { decodeValue } from '../../src/rdb/value-decode.js';

export interface RecordOptions {
  db?: number;
  expireAtMs?: number | null;
  /** RDB version of the pretended source (default 12). */
  version?: number;
  flavor?: Flavor;
  compress?: boolean;
  idle?: number;
  freq?: number;
}

const bytes = (k: string | Buffer): Buffer => (typeof k === 'string' ? Buffer.from(k, 'utf8') : k);

function withHints(rec: KeyRecord, o: RecordOptions): KeyRecord {
  if (o.idle !== undefined) rec.idle = o.idle;
  if (o.freq !== undefined) rec.freq = o.freq;
  return rec;
}

/** A record over serialized value bytes; decode() parses them (once) like a parsed RDB record. */
export function recordFromPayload(key: string | Buffer, rdbType: number, payload: Buffer, o: RecordOptions = {}): KeyRecord {
  const flavor = o.flavor ?? 'redis';
  const d = describeType(rdbType, flavor);
  if (!d) throw new Error(`not a value type: ${rdbType}`);
  let decoded: Value | undefined;
  return withHints(
    {
      kind: 'key',
      db: o.db ?? 0,
      key: bytes(key),
      type: d.type,
      rdbType,
      encoding: d.encoding,
      flavor,
      rdbVersion: o.version ?? 12,
      expireAtMs: o.expireAtMs ?? null,
      payload,
      offset: 0,
      decode: () => (decoded ??= decodeValue(payload, rdbType, flavor, 'test', 0)),
    },
    o,
  );
}

/** `value` serialized by the project's encoder as RDB `version` holds it; decode() parses the bytes. */
export function encodedRecord(key: string | Buffer, value: Value, o: RecordOptions = {}): KeyRecord {
  const rdbVersion = o.version ?? 12;
  const flavor = o.flavor ?? 'redis';
  const enc = encodeValue(value, { rdbVersion, flavor, compress: o.compress ?? false, lossy: false });
  return recordFromPayload(key, enc.rdbType, enc.payload, { ...o, version: rdbVersion, flavor });
}

/** As encodedRecord, but decode() returns `value` itself (no round trip through the decoder). */
export function keyRecord(key: string | Buffer, value: Value, o: RecordOptions = {}): KeyRecord {
  const rec = encodedRecord(key, value, o);
  rec.decode = () => value;
  return rec;
}

/** A record that only carries a decoded value: no payload bytes (rdbType 0, encoding "test"). */
export function decodedRecord(key: string | Buffer, value: Value, o: RecordOptions = {}): KeyRecord {
  return withHints(
    {
      kind: 'key',
      db: o.db ?? 0,
      key: bytes(key),
      type: value.type,
      rdbType: 0,
      encoding: 'test',
      flavor: o.flavor ?? 'redis',
      rdbVersion: o.version ?? 12,
      expireAtMs: o.expireAtMs ?? null,
      payload: Buffer.alloc(0),
      offset: 0,
      decode: () => value,
    },
    o,
  );
}

/** A module value of type `name` (module.c: 54-bit name, 10-bit encver 1; one string opcode, then EOF). */
export function moduleValue(name: string, text: string): Value {
  const id = moduleIdFromName(name, 1);
  const raw = new ByteWriter().len(id).len(MOD.STRING).string(Buffer.from(text)).len(MOD.EOF).finish();
  return { type: 'module', moduleId: id, moduleName: name, encver: 1, raw };
}

/** JSONL where "shared" lives in db 0 and db 1 and "only1" in db 1 alone: `--to-db 0` makes one collision. */
export const TWO_DBS_ONE_SHARED = [
  '{"db":0,"key":"shared","type":"string","value":"from-db0"}',
  '{"db":1,"key":"shared","type":"string","value":"from-db1"}',
  '{"db":1,"key":"only1","type":"string","value":"x"}',
  '',
].join('\n');

/** A stream v4's IDMP tail as librdb PR #93 reads it: duration, max, producers (id, IIDs with stream ids), stats. */
export function idmpTail(producers: Array<{ id: string; iids: string[] }>, added: number): Buffer {
  const w = new ByteWriter().len(100).len(1000).len(producers.length);
  for (const p of producers) {
    w.string(Buffer.from(p.id)).len(p.iids.length);
    p.iids.forEach((iid, i) => w.string(Buffer.from(iid)).len(1).len(i));
  }
  return w.len(added).len(0).finish();
}

/** A stream as Redis 8.6 writes it (type 26: the v3 layout, then `tail`), read back through the decoder. */
export function v4Stream(key: string, value: Value, tail: Buffer): KeyRecord {
  const v3 = encodeValue(value, { rdbVersion: 11, flavor: 'redis' });
  const payload = Buffer.concat([v3.payload, tail]);
  const rec = keyRecord(key, value, { version: 13 });
  return { ...rec, rdbType: 26, payload, decode: () => decodeValue(payload, 26, 'redis', 'test', 0) };
}
