import { describe, expect, it } from 'vitest';
import { RekeyInputError } from '../../src/errors.js';
import { keyToJsonLine, metaToJsonLine } from '../../src/jsonl/value-json.js';
import type { KeyRecord, MetaRecord, RdbRecord, Value } from '../../src/records/types.js';
import { JsonKeyRecord, parseJsonl, type JsonlParseOptions, type JsonlParseStats } from '../../src/sources/jsonl-source.js';
import { rewriteKey } from '../../src/records/rewrite.js';
import { encodeValue, minRdbVersionFor } from '../../src/encode/value-encoder.js';
import { allValues, b, BAD, keyRec } from './fixtures.js';

async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, Math.min(data.length, i + size));
}

async function collect(data: Buffer | string, opts: Partial<JsonlParseOptions> = {}, chunk = 1 << 16): Promise<{ recs: RdbRecord[]; batches: number; stats: JsonlParseStats }> {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  const gen = parseJsonl(chunked(buf, chunk), { file: 'dump.jsonl', ...opts });
  const recs: RdbRecord[] = [];
  let batches = 0;
  for (;;) {
    const r = await gen.next();
    if (r.done) return { recs, batches, stats: r.value };
    batches++;
    recs.push(...r.value);
  }
}

const META: MetaRecord[] = [
  { kind: 'header', rdbVersion: 12, flavor: 'redis', magic: 'REDIS0012' },
  { kind: 'aux', key: b('redis-ver'), value: b('7.4.1'), offset: 0 },
  { kind: 'aux', key: BAD, value: BAD, offset: 0 },
  { kind: 'function', code: b('#!lua name=mylib\nredis.register_function("f", function() return 1 end)'), offset: 0 },
];

function isEmptyCollection(v: Value): boolean {
  return (v.type === 'list' && v.items.length === 0) || (v.type === 'set' && v.members.length === 0) || ((v.type === 'zset' || v.type === 'hash') && v.entries.length === 0);
}

function dumpText(): { text: string; keys: Array<[KeyRecord, Value]> } {
  const keys: Array<[KeyRecord, Value]> = [];
  const lines: string[] = META.map((m) => metaToJsonLine(m)!);
  let db = 0;
  // Empty collections are not keys Redis can hold; the reader refuses them (tested below).
  for (const [, key, value] of allValues().filter(([, , v]) => !isEmptyCollection(v))) {
    const rec = keyRec(key, value, { db: db++ % 3, expireAtMs: db % 2 ? 1767225600000 + db : null, ...(db % 4 === 0 ? { idle: db } : {}), ...(db % 5 === 0 ? { freq: db } : {}) });
    keys.push([rec, value]);
    lines.push(keyToJsonLine(rec));
    if (db === 3) lines.push('', '   ', '\r');
  }
  return { text: lines.join('\n') + '\n', keys };
}

function checkRecords(recs: RdbRecord[], keys: Array<[KeyRecord, Value]>, text: string): void {
  const metas = recs.filter((r) => r.kind !== 'key');
  const got = recs.filter((r): r is KeyRecord => r.kind === 'key');
  expect(metas.map((m) => ({ ...m, offset: 0 }))).toEqual(META.map((m) => (m.kind === 'header' ? { ...m, offset: 0 } : m)));
  expect(got.length).toBe(keys.length);
  const raw = Buffer.from(text);
  for (let i = 0; i < keys.length; i++) {
    const [want, value] = keys[i]!;
    const r = got[i]!;
    expect(r).toBeInstanceOf(JsonKeyRecord);
    expect(r.key).toEqual(want.key);
    expect(r.db).toBe(want.db);
    expect(r.type).toBe(value.type);
    expect(r.expireAtMs).toBe(want.expireAtMs);
    expect(r.idle).toBe(want.idle);
    expect(r.freq).toBe(want.freq);
    expect(r.flavor).toBe('redis');
    expect(r.encoding).toBe('json');
    expect(r.decode()).toEqual(value);
    // offset = first byte of the line
    expect(raw.subarray(r.offset, raw.indexOf(10, r.offset)).toString()).toBe(keyToJsonLine(want));
  }
}

describe('parseJsonl', () => {
  it('reads every record back from a dump written by keyToJsonLine/metaToJsonLine', async () => {
    const { text, keys } = dumpText();
    const { recs, stats } = await collect(text);
    checkRecords(recs, keys, text);
    expect(stats).toMatchObject({ keys: keys.length, meta: META.length, badLines: 0 });
  });

  it.each([1, 7, 4096])('gives the same records when fed in %i-byte chunks', async (size) => {
    const { text, keys } = dumpText();
    const { recs, batches } = await collect(text, {}, size);
    checkRecords(recs, keys, text);
    expect(batches).toBeGreaterThan(1);
  });

  it('handles CRLF, a BOM, a last line without newline and blank lines', async () => {
    const text = '\ufeff{"key":"a","type":"string","value":"1","db":0}\r\n\r\n  \n{"key":"b","type":"string","value":"2","db":4}';
    for (const size of [1, 3, 1000]) {
      const { recs, stats } = await collect(text, {}, size);
      expect(recs.map((r) => (r as KeyRecord).key.toString())).toEqual(['a', 'b']);
      expect(recs.map((r) => (r as KeyRecord).db)).toEqual([0, 4]);
      expect((recs[1] as KeyRecord).offset).toBe(Buffer.from(text).indexOf('{"key":"b"'));
      expect(stats.lines).toBe(4);
    }
  });

  it('fails on a bad line with its line number and byte offset', async () => {
    const good = '{"db":0,"key":"k","type":"string","expire_at_ms":null,"value":"v"}\n';
    const cases: Array<[string, RegExp]> = [
      ['{"db":0,"key":"k","type":"string"', /line 3: a JSON object \(invalid JSON/],
      ['[1,2]', /line 3: a JSON object, found array \[1,2\]/],
      ['{"db":0,"key":"k","type":"bitmap","value":"v"}', /line 3: "type": one of string, list, set, zset, hash, stream, module, found string "bitmap"/],
      ['{"db":0,"key":"k","type":"list","value":["a",{"base64":"??"}]}', /line 3: value\[1\]: \{"base64"/],
      ['{"db":0,"key":7,"type":"string","value":"v"}', /line 3: key: a byte string/],
      ['{"key":"k","type":"string","value":"v","db":-1}', /line 3: "db": a database number/],
      ['{"db":0,"key":"k","type":"string","value":"v","expire_at_ms":"soon"}', /line 3: "expire_at_ms": absolute Unix milliseconds/],
      ['{"db":0,"key":"k","type":"string","value":"v","freq":300}', /line 3: "freq": an LFU counter/],
      ['{"$":"weird"}', /line 3: \$: a line kind/],
      ['{"$":"header","rdb_version":"x"}', /line 3: rdb_version: an integer/],
    ];
    for (const [line, re] of cases) {
      const text = good + '\n' + line + '\n' + good;
      for (const size of [1, 5, 1 << 16]) {
        const err = await collect(text, {}, size).then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(RekeyInputError);
        const e = err as RekeyInputError;
        expect(e.offset).toBe(good.length + 1);
        expect(e.file).toBe('dump.jsonl');
        expect(e.expected).toMatch(re);
        expect(e.message).toMatch(new RegExp(`^dump\\.jsonl: at byte ${good.length + 1}: line 3: `));
      }
    }
  });

  it('rejects lines that are not UTF-8', async () => {
    const text = Buffer.concat([Buffer.from('{"db":0,"key":"'), BAD, Buffer.from('","type":"string","value":"v"}\n')]);
    await expect(collect(text)).rejects.toThrow(/line 1: UTF-8 text/);
  });

  it('skips, counts and reports bad lines with skipBadLines', async () => {
    const good = (k: string) => `{"db":0,"key":"${k}","type":"string","value":"v"}`;
    const text = [good('a'), 'not json', good('b'), '{"db":0,"key":"c","type":"zset","value":[["m","x"]]}', good('d'), '{"$":"nope"}'].join('\n');
    const reported: Array<[number, string]> = [];
    for (const size of [1, 1 << 16]) {
      reported.length = 0;
      const { recs, stats } = await collect(text, { skipBadLines: true, onBadLine: (n, m) => reported.push([n, m]) }, size);
      expect(recs.map((r) => (r as KeyRecord).key.toString())).toEqual(['a', 'b', 'd']);
      expect(stats.badLines).toBe(3);
      expect(stats.keys).toBe(3);
      expect(reported.map(([n]) => n)).toEqual([2, 4, 6]);
      expect(reported[1]![1]).toMatch(/^value\[0\]\[1\]: a score/);
    }
    const stats: JsonlParseStats = { lines: 0, keys: 0, meta: 0, badLines: 0 };
    await collect(text, { skipBadLines: true, stats });
    expect(stats.badLines).toBe(3);
  });

  it('reads redis-dump style lines (relative ttl in seconds, -1 for none)', async () => {
    const now = 1_700_000_000_000;
    const text = [
      '{"db":0,"key":"s","ttl":-1,"type":"string","value":"hello","size":5}',
      '{"db":2,"key":"z","ttl":100,"type":"zset","value":[["a",1.0],["b","2.5"],["c","inf"]],"size":3}',
      '{"db":0,"key":"h","ttl":3600,"type":"hash","value":{"f1":"v1","f2":"v2"}}',
      '{"db":0,"key":"l","ttl":-1,"type":"list","value":["x","y"]}',
      '{"db":0,"key":"st","ttl":-1,"type":"set","value":["m1","m2"]}',
    ].join('\n');
    const { recs } = await collect(text, { now });
    const k = recs as KeyRecord[];
    expect(k.map((r) => r.expireAtMs)).toEqual([null, now + 100_000, now + 3_600_000, null, null]);
    expect(k.map((r) => r.db)).toEqual([0, 2, 0, 0, 0]);
    expect(k[0]!.decode()).toEqual({ type: 'string', value: b('hello') });
    expect(k[1]!.decode()).toEqual({ type: 'zset', entries: [[b('a'), 1], [b('b'), 2.5], [b('c'), Infinity]] });
    expect(k[2]!.decode()).toEqual({ type: 'hash', entries: [[b('f1'), b('v1')], [b('f2'), b('v2')]] });
    expect(k[3]!.decode()).toEqual({ type: 'list', items: [b('x'), b('y')] });
    expect(k[4]!.decode()).toEqual({ type: 'set', members: [b('m1'), b('m2')] });
    await expect(collect('{"db":0,"key":"s","ttl":-5,"type":"string","value":"v"}')).rejects.toThrow(/"ttl": seconds to live/);
  });

  it('computes rdbType/payload/rdbVersion lazily, once, with encodeValue at the minimum version', async () => {
    const text = [
      '{"db":0,"key":"h","type":"hash","value":{"a":"1","b":"2"},"field_expire_at_ms":{"a":1767225600000}}',
      '{"db":0,"key":"l","type":"list","value":["x","y"]}',
    ].join('\n');
    const { recs } = await collect(text);
    const [h, l] = recs as JsonKeyRecord[];
    const hv = h!.decode();
    expect(h!.rdbVersion).toBe(minRdbVersionFor(hv));
    expect(h!.rdbVersion).toBe(12);
    const enc = encodeValue(hv, { rdbVersion: 12 });
    expect(h!.rdbType).toBe(enc.rdbType);
    expect(h!.payload).toEqual(enc.payload);
    expect(h!.payload).toBe(h!.payload); // cached
    // A renamed view shares the cache.
    const renamed = rewriteKey(l!, { key: b('l2') });
    expect(renamed.payload).toBe(l!.payload);
    expect(renamed.key.toString()).toBe('l2');
    expect(l!.key.toString()).toBe('l');
    expect(l!.rdbVersion).toBe(1);
  });

  it('refuses empty collections with the line number (Redis has no empty list/set/zset/hash)', async () => {
    const text = '{"db":0,"key":"ok","type":"string","value":"x"}\n{"db":0,"key":"l","type":"list","value":[]}\n';
    const err = await collect(text, { file: 'e.jsonl' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RekeyInputError);
    expect((err as Error).message).toMatch(/^e\.jsonl: at byte 48: line 2: .*non-empty list/);
  });
});
