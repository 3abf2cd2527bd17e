import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeValue, minRdbVersionFor, UnrepresentableValueError } from '../../src/encode/value-encoder.js';
import { dumpPayload } from '../../src/encode/dump-payload.js';
import { decodeValue } from '../../src/rdb/value-decode.js';
import { readValue, valuesEqual } from '../../src/validate/read-value.js';
import { RekeyUsageError } from '../../src/errors.js';
import type { StreamValue, Value } from '../../src/records/types.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { SAMPLES, sample, withoutFieldTtls } from './sample-values.js';
import { CORPUS_GENERATED, corpusMissing } from '../helpers/corpus.js';

const VERSIONS = [6, 9, 10, 11, 12];
/** Types Redis 7.0.15 (RDB 10) loads. */
const LOADS_ON_70 = (t: number) => t <= 19;

function expectSame(a: Value, b: Value, what: string): void {
  const r = valuesEqual(a, b);
  expect(r.diff, what).toBeUndefined();
}

/**
 * What a loader of RDB `version` ends up with for `v` (a v1 stream lacks v2 metadata; the decoder
 * derives it as Redis does: the first ID of an empty stream is the max ID, streamGetEdgeID).
 */
function expectedAt(v: Value, version: number): Value {
  if (v.type === 'stream' && version < 10) {
    const max = 2n ** 64n - 1n;
    const derived = { firstId: v.entries[0]?.id ?? { ms: max, seq: max }, maxDeletedId: { ms: 0n, seq: 0n }, entriesAdded: BigInt(v.entries.length) };
    return { ...v, ...derived, groups: v.groups.map((g) => ({ ...g, entriesRead: undefined, consumers: g.consumers.map((c) => ({ ...c, activeTimeMs: undefined })) })) } as StreamValue;
  }
  return v;
}

describe('encodeValue: encoding choices', () => {
  const pick = (name: string, v: number) => encodeValue(sample(name), { rdbVersion: v }).rdbType;
  it('mirrors Redis defaults per version', () => {
    expect([1, 2, 6, 7, 9, 10, 12].map((v) => pick('list-small', v))).toEqual([1, 10, 10, 14, 14, 18, 18]);
    expect(pick('list-big', 6)).toBe(1);
    expect([1, 2, 10, 11].map((v) => pick('set-ints', v))).toEqual([2, 11, 11, 11]);
    expect([6, 10, 11].map((v) => pick('set-strings', v))).toEqual([2, 2, 20]);
    expect([6, 10, 11].map((v) => pick('set-noncanonical', v))).toEqual([2, 2, 20]);
    expect([11].map((v) => pick('set-big', v))).toEqual([2]);
    expect([11].map((v) => pick('set-big-ints', v))).toEqual([2]);
    expect([1, 2, 9, 10].map((v) => pick('zset-small', v))).toEqual([3, 12, 12, 17]);
    expect([7, 8, 10].map((v) => pick('zset-big', v))).toEqual([3, 5, 5]);
    expect([1, 3, 4, 9, 10].map((v) => pick('hash-small', v))).toEqual([4, 4, 13, 13, 16]);
    expect(pick('hash-big', 10)).toBe(4);
    expect(pick('hash-long-value', 10)).toBe(4);
    expect([12, 13].map((v) => pick('hash-ttl-small', v))).toEqual([25, 25]);
    expect(pick('hash-ttl-big', 12)).toBe(24);
    expect(encodeValue(sample('hash-ttl-small'), { rdbVersion: 80, flavor: 'valkey' }).rdbType).toBe(22);
    expect([9, 10, 11, 12].map((v) => pick('stream-simple', v))).toEqual([15, 19, 21, 21]);
    expect(encodeValue(sample('set-strings'), { rdbVersion: 80, flavor: 'valkey' }).rdbType).toBe(20);
  });

  it('puts elements over 8 KB into PLAIN quicklist nodes and splits big lists', () => {
    const p = encodeValue(sample('list-huge-element'), { rdbVersion: 10 }).payload;
    expect(p[0]).toBe(3); // packed [small], plain [y…], packed [after, 12]
    expect(p[1]).toBe(2);
    const big = encodeValue(sample('list-big'), { rdbVersion: 10 }).payload;
    expect(big[0]! & 0x3f).toBeGreaterThan(7); // ≥ 8 nodes of ≤ 128 entries
  });

  it('refuses what cannot be represented', () => {
    expect(() => encodeValue({ type: 'list', items: [] }, { rdbVersion: 10 })).toThrow(UnrepresentableValueError);
    expect(() => encodeValue({ type: 'hash', entries: [] }, { rdbVersion: 10 })).toThrow(UnrepresentableValueError);
    expect(() => encodeValue({ type: 'zset', entries: [[Buffer.from('a'), NaN]] }, { rdbVersion: 10 })).toThrow(UnrepresentableValueError);
    expect(() => encodeValue(sample('stream-simple'), { rdbVersion: 8, key: Buffer.from('s') })).toThrow(RekeyUsageError);
    expect(() => encodeValue(sample('stream-simple'), { rdbVersion: 8 })).toThrow(/streams need RDB 9/);
    const mod: Value = { type: 'module', moduleId: 1n, moduleName: 'x', encver: 0, raw: Buffer.from('0102', 'hex') };
    expect(() => encodeValue(mod, { rdbVersion: 7 })).toThrow(UnrepresentableValueError);
    expect(encodeValue(mod, { rdbVersion: 9 })).toEqual({ rdbType: 7, payload: mod.raw });
  });

  it('hash field TTLs below 12 throw without lossy and are counted with it', () => {
    for (const v of [6, 9, 10, 11]) {
      expect(() => encodeValue(sample('hash-ttl-small'), { rdbVersion: v, key: Buffer.from('user:1') })).toThrow(
        'key "user:1": hash field TTLs cannot be represented below RDB 12; use --lossy to drop them',
      );
      const r = encodeValue(sample('hash-ttl-big'), { rdbVersion: v, lossy: true });
      expect(r.droppedFieldTtls).toBe(100);
      expect(r.rdbType).toBe(4);
      const small = encodeValue(sample('hash-ttl-small'), { rdbVersion: v, lossy: true });
      expect(small.droppedFieldTtls).toBe(3);
      expectSame(decodeValue(small.payload, small.rdbType, 'redis', 't', 0), withoutFieldTtls(sample('hash-ttl-small')), `v${v}`);
    }
    expect(() => encodeValue(sample('hash-ttl-small'), { rdbVersion: 11, flavor: 'valkey' })).toThrow(/field TTLs/);
  });

  it('minRdbVersionFor', () => {
    for (const s of SAMPLES) expect(minRdbVersionFor(s.value), s.name).toBe(s.min);
    expect(minRdbVersionFor(sample('hash-ttl-small'), 'valkey')).toBe(80);
  });
});

describe('encodeValue: decode round trip at every version', () => {
  for (const s of SAMPLES) {
    for (const version of [1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13]) {
      it(`${s.name} @ RDB ${version}`, () => {
        if ((s.value.type === 'stream' && version < 9) || (s.min === 12 && version < 12)) return;
        for (const compress of [false, true]) {
          const { rdbType, payload } = encodeValue(s.value, { rdbVersion: version, compress });
          const back = decodeValue(payload, rdbType, 'redis', 't', 0);
          expectSame(expectedAt(s.value, version), back, `${s.name} type ${rdbType}`);
        }
      });
    }
  }
  it('valkey HASH_2 round trip', () => {
    const { rdbType, payload } = encodeValue(sample('hash-ttl-big'), { rdbVersion: 80, flavor: 'valkey' });
    expectSame(decodeValue(payload, rdbType, 'valkey', 't', 0), sample('hash-ttl-big'), 'hash_2');
  });
});

describe('encodeValue: byte-identical to real Redis DUMP payloads (corpus)', () => {
  const corpus = CORPUS_GENERATED;
  const noCorpus = corpusMissing('DUMP payload vectors') !== null;
  for (const server of ['redis-2.8.24', 'redis-3.2.13', 'redis-5.0.14', 'redis-6.2.16', 'redis-7.0.15', 'redis-7.2.6', 'redis-7.4.1']) {
    it.skipIf(noCorpus)(server, () => {
      let text: string;
      try {
        text = readFileSync(`${corpus}/${server}/dump-vectors.jsonl`, 'utf8');
      } catch {
        throw new Error(`${corpus}/${server}/dump-vectors.jsonl: missing from the corpus`);
      }
      let same = 0;
      const diffs: string[] = [];
      for (const line of text.split('\n').filter(Boolean)) {
        const vec = JSON.parse(line) as { key: unknown; payload_hex: string; payload_rdb_type?: number; payload_rdb_version: number };
        if (vec.payload_rdb_type === undefined) continue; // FUNCTION DUMP
        const dump = Buffer.from(vec.payload_hex, 'hex');
        const payload = dump.subarray(1, dump.length - 10);
        const value = decodeValue(payload, vec.payload_rdb_type, 'redis', 'vec', 0);
        if (value.type === 'module') continue;
        const enc = encodeValue(value, { rdbVersion: vec.payload_rdb_version, compress: true });
        // Whatever we pick must read back as the same value.
        expectSame(value, decodeValue(enc.payload, enc.rdbType, 'redis', 'enc', 0), JSON.stringify(vec.key));
        if (enc.rdbType === vec.payload_rdb_type) {
          if (enc.payload.equals(payload)) same++;
          else diffs.push(`${JSON.stringify(vec.key)} type ${enc.rdbType}`);
        }
      }
      // Payloads Redis wrote with the encoding we also chose come out byte for byte the same.
      expect(diffs).toEqual([]);
      expect(same).toBeGreaterThan(0);
    });
  }
});

describe('encodeValue → DUMP → RESTORE into redis-server 7.0', () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  for (const version of VERSIONS) {
    it(`RDB ${version}`, async () => {
      const client = redis.client();
      let restored = 0;
      for (const s of SAMPLES) {
        if (s.value.type === 'stream' && version < 9) continue;
        const lossy = s.min === 12 && version < 12;
        const enc = encodeValue(s.value, { rdbVersion: version, lossy, compress: version % 2 === 0 });
        if (!LOADS_ON_70(enc.rdbType)) continue; // 20, 21, 24, 25: covered by the decode round trip
        const key = Buffer.from(`${s.name}@${version}`);
        await client.callBuffer('RESTORE', key, '0', dumpPayload(enc.rdbType, enc.payload, Math.min(version, 10)), 'REPLACE');
        const got = await readValue(client, key);
        expect(got.type).toBe(s.value.type);
        const want = lossy ? withoutFieldTtls(s.value) : expectedAt(s.value, version);
        expectSame(want, got.value!, `${s.name} type ${enc.rdbType}`);
        restored++;
      }
      expect(restored).toBeGreaterThan(15);
    });
  }
});
