import { describe, expect, it } from 'vitest';
import { jsonToValue, JsonValueError, keyToJsonLine, metaToJsonLine, jsonToMeta, valueToJson } from '../../src/jsonl/value-json.js';
import type { Value } from '../../src/records/types.js';
import { allValues, b, BAD, bigStream, keyRec, moduleValue } from './fixtures.js';

function back(line: string): { obj: Record<string, unknown>; value: Value } {
  expect(line.includes('\n')).toBe(false);
  const obj = JSON.parse(line) as Record<string, unknown>;
  const value = jsonToValue(obj.type as string, obj.value, { field_expire_at_ms: obj.field_expire_at_ms, stream_version: obj.stream_version }, () => 't:line 1');
  return { obj, value };
}

describe('Value → JSONL line → Value', () => {
  for (const [name, key, value] of allValues()) {
    it(`round-trips ${name}`, () => {
      const line = keyToJsonLine(keyRec(key, value, { db: 3, expireAtMs: 1767225600000, idle: 7, freq: 200 }));
      const { obj, value: got } = back(line);
      expect(got).toEqual(value);
      expect(obj.db).toBe(3);
      expect(obj.expire_at_ms).toBe(1767225600000);
      expect(obj.idle).toBe(7);
      expect(obj.freq).toBe(200);
      expect(obj.type).toBe(value.type);
      const [vj, siblings] = valueToJson(value);
      expect(line).toContain(`"value":${vj}${siblings}`);
    });
  }

  it('writes the documented line shape', () => {
    const line = keyToJsonLine(keyRec('user:1', { type: 'hash', entries: [[b('name'), b('Ada')]] }, { expireAtMs: 1767225600000 }));
    expect(line).toBe('{"db":0,"key":"user:1","type":"hash","expire_at_ms":1767225600000,"value":{"name":"Ada"}}');
    expect(keyToJsonLine(keyRec('k', { type: 'string', value: b('v') }))).toBe('{"db":0,"key":"k","type":"string","expire_at_ms":null,"value":"v"}');
  });

  it('uses {"base64"} for bytes that are not UTF-8, a plain string otherwise', () => {
    const line = keyToJsonLine(keyRec(BAD, { type: 'list', items: [BAD, b('ok')] }));
    const obj = JSON.parse(line);
    expect(obj.key).toEqual({ base64: BAD.toString('base64') });
    expect(obj.value).toEqual([{ base64: BAD.toString('base64') }, 'ok']);
    // Encoded surrogates (CESU) are not valid UTF-8 either.
    const cesu = Buffer.from([0xed, 0xa0, 0x80]);
    expect(JSON.parse(keyToJsonLine(keyRec(cesu, { type: 'string', value: cesu }))).key).toEqual({ base64: '7aCA' });
  });

  it('writes zset scores: numbers, "inf"/"-inf", -0 and tiny values exactly', () => {
    const v: Value = { type: 'zset', entries: [[b('a'), Infinity], [b('b'), -Infinity], [b('c'), -0], [b('d'), 1e-300], [b('e'), 0]] };
    const line = keyToJsonLine(keyRec('z', v));
    expect(line).toContain('"value":[["a","inf"],["b","-inf"],["c",-0],["d",1e-300],["e",0]]');
    const got = back(line).value as Extract<Value, { type: 'zset' }>;
    expect(Object.is(got.entries[2]![1], -0)).toBe(true);
    expect(Object.is(got.entries[4]![1], 0)).toBe(true);
    expect(got.entries[3]![1]).toBe(1e-300);
  });

  it('chooses the hash form that keeps fields and their order', () => {
    const form = (entries: Array<[Buffer, Buffer]>) => (Array.isArray(JSON.parse(keyToJsonLine(keyRec('h', { type: 'hash', entries }))).value) ? 'pairs' : 'object');
    expect(form([[b('a'), b('1')], [b('b'), BAD]])).toBe('object');
    expect(form([[b('1'), b('1')], [b('3'), b('1')], [b('a'), b('1')]])).toBe('object');
    expect(form([[b('3'), b('1')], [b('1'), b('1')]])).toBe('pairs');
    expect(form([[b('a'), b('1')], [b('1'), b('1')]])).toBe('pairs');
    expect(form([[b('01'), b('1')], [b('a'), b('1')], [b('4294967295'), b('1')]])).toBe('object'); // not array indices
    expect(form([[BAD, b('1')]])).toBe('pairs');
    expect(form([[b('__proto__'), b('1')]])).toBe('pairs');
  });

  it('puts hash field TTLs beside the value, in the value\'s form', () => {
    const obj = JSON.parse(keyToJsonLine(keyRec('h', { type: 'hash', entries: [[b('a'), b('1')], [b('b'), b('2')]], expires: [null, 1767225600000] })));
    expect(obj.value).toEqual({ a: '1', b: '2' });
    expect(obj.field_expire_at_ms).toEqual({ b: 1767225600000 });
    const obj2 = JSON.parse(keyToJsonLine(keyRec('h', { type: 'hash', entries: [[BAD, b('1')], [b('b'), b('2')]], expires: [1, null] })));
    expect(obj2.field_expire_at_ms).toEqual([[{ base64: BAD.toString('base64') }, 1]]);
    // All-null expires: no field_expire_at_ms, read back without `expires`.
    const line3 = keyToJsonLine(keyRec('h', { type: 'hash', entries: [[b('a'), b('1')]], expires: [null] }));
    expect(line3).not.toContain('field_expire_at_ms');
  });

  it('writes streams with XINFO names, "ms-seq" IDs and 64-bit counts', () => {
    const obj = JSON.parse(keyToJsonLine(keyRec('s', bigStream())));
    const v = obj.value;
    expect(obj.stream_version).toBe(3);
    expect(v.entries[2][0]).toBe('18446744073709551615-18446744073709551614');
    expect(v.last_generated_id).toBe('18446744073709551615-18446744073709551615');
    expect(v.entries_added).toBe('18446744073709551611');
    expect(v.length).toBe(3);
    expect(v.max_deleted_entry_id).toBe('5-7');
    expect(v.recorded_first_entry_id).toBe('1-0');
    expect(v.groups[0].entries_read).toBeNull();
    expect(v.groups[1].entries_read).toBe(0);
    expect(v.groups[0].pending[0]).toEqual({ id: '1-0', consumer: 'alice', delivery_time_ms: 1700000000123, delivery_count: 3 });
    expect(v.groups[0].consumers[0]).toEqual({ name: 'alice', seen_time_ms: 1700000001000, active_time_ms: 1700000000500, pending: ['1-0'] });
    expect(Object.keys(v)).toEqual(['entries', 'length', 'last_generated_id', 'max_deleted_entry_id', 'entries_added', 'recorded_first_entry_id', 'groups']);
  });

  it('writes modules as {"module", "encver", "raw"}', () => {
    const m = moduleValue() as Extract<Value, { type: 'module' }>;
    const obj = JSON.parse(keyToJsonLine(keyRec('m', m)));
    expect(obj.value).toEqual({ module: 'ReJSON-RL', encver: 3, raw: m.raw.toString('base64') });
  });

  it('reads the corpus truth\'s {"b64"} and a pairs-form TTL for an object-form hash', () => {
    const v = jsonToValue('hash', { a: { b64: '/w==' } }, { field_expire_at_ms: [['a', 5]] }, () => 'x');
    expect(v).toEqual({ type: 'hash', entries: [[b('a'), Buffer.from([0xff])]], expires: [5] });
  });

  it('infers the stream layout when stream_version is absent', () => {
    const base = { entries: [['1-1', [['a', 'b']]]] };
    const v1 = jsonToValue('stream', base, {}, () => 'x') as Extract<Value, { type: 'stream' }>;
    expect(v1).toMatchObject({ version: 1, length: 1, lastId: { ms: 1n, seq: 1n }, firstId: { ms: 1n, seq: 1n }, entriesAdded: 1n, groups: [] });
    const v3 = jsonToValue('stream', { ...base, groups: [{ name: 'g', last_delivered_id: '0-0', entries_read: 0, pending: [{ id: '1-1', consumer: 'c', delivery_time_ms: 1, delivery_count: 1 }], consumers: [{ name: 'c', seen_time_ms: 1, active_time_ms: 2 }] }] }, {}, () => 'x') as Extract<Value, { type: 'stream' }>;
    expect(v3.version).toBe(3);
    // Consumer PEL derived from the group PEL when omitted.
    expect(v3.groups[0]!.consumers[0]!.pending).toEqual([{ ms: 1n, seq: 1n }]);
  });
});

describe('jsonToValue validation', () => {
  const where = () => 'dump.jsonl:line 9';
  const bad = (type: string, value: unknown, extra: Record<string, unknown> = {}) => {
    try {
      jsonToValue(type, value, extra, where);
    } catch (e) {
      expect(e).toBeInstanceOf(JsonValueError);
      expect((e as Error).message.startsWith('dump.jsonl:line 9: ')).toBe(true);
      return (e as JsonValueError).detail;
    }
    throw new Error('expected a JsonValueError');
  };

  it('names the path and what was expected', () => {
    expect(bad('string', 5)).toMatch(/^value: a byte string .*found number 5$/);
    expect(bad('list', ['a', 1])).toMatch(/^value\[1\]: a byte string/);
    expect(bad('list', 'a')).toMatch(/^value: an array of byte strings/);
    expect(bad('set', [{ base64: 'not base64!' }])).toMatch(/^value\[0\]: \{"base64"/);
    expect(bad('string', { base64: 'QQ==', extra: 1 })).toMatch(/^value: \{"base64"/);
    expect(bad('string', '\ud800')).toMatch(/lone surrogates/);
    expect(bad('zset', [['a']])).toMatch(/^value\[0\]: a \[member, score\] pair/);
    expect(bad('zset', [['a', '1.5x']])).toMatch(/^value\[0\]\[1\]: a score/);
    expect(bad('zset', [['a', null]])).toMatch(/^value\[0\]\[1\]: a score/);
    expect(jsonToValue('zset', [['a', '0.10000000000000001'], ['b', '-INF'], ['c', '1e3']], {}, where)).toEqual({ type: 'zset', entries: [[Buffer.from('a'), 0.1], [Buffer.from('b'), -Infinity], [Buffer.from('c'), 1000]] });
    expect(bad('hash', [['a', 'b', 'c']])).toMatch(/^value\[0\]: a \[field, value\] pair/);
    expect(bad('hash', { a: 1 })).toMatch(/^value\["a"\]: a byte string/);
    expect(bad('hash', 'x')).toMatch(/^value: a hash/);
    expect(bad('hash', { a: '1' }, { field_expire_at_ms: { b: 5 } })).toMatch(/^field_expire_at_ms\["b"\]: a field of the hash/);
    expect(bad('hash', { a: '1' }, { field_expire_at_ms: { a: 'soon' } })).toMatch(/^field_expire_at_ms\["a"\]: an integer/);
    expect(bad('stream', { entries: [['1-1', []], ['1-0', []]] })).toMatch(/^value\.entries\[1\]\[0\]: an ID above the previous entry's 1-1/);
    expect(bad('stream', { entries: [['18446744073709551616-0', []]] })).toMatch(/^value\.entries\[0\]\[0\]: a stream ID/);
    expect(bad('stream', { entries: [], length: -2 })).toMatch(/^value\.length: an integer from 0/);
    expect(bad('stream', { entries: [], entries_added: '1e3' })).toMatch(/^value\.entries_added/);
    expect(bad('stream', { entries: [], groups: [{ name: 'g', last_delivered_id: '0-0', pending: [{ id: '1-0', consumer: 'c', delivery_count: 1 }], consumers: [] }] }))
      .toMatch(/^value\.groups\[0\]\.pending\[0\]: a PEL entry owned by one of the group's consumers/);
    expect(bad('stream', { entries: [], groups: [{ name: 'g', last_delivered_id: '0-0', pending: [], consumers: [{ name: 'c', pending: ['1-0'] }] }] }))
      .toMatch(/^value\.groups\[0\]\.consumers\[0\]\.pending\[0\]: an ID listed in the group's "pending"/);
    expect(bad('stream', { entries: [] }, { stream_version: 7 })).toMatch(/^stream_version: an integer from 1 to 4/);
    expect(bad('module', { module: 'ReJSON-RL', encver: 3, raw: 'gQ==' })).toMatch(/^value\.raw: bytes starting with/);
    const m = moduleValue() as Extract<Value, { type: 'module' }>;
    expect(bad('module', { module: 'other', encver: 3, raw: m.raw.toString('base64') })).toMatch(/^value\.module: the module type name encoded .*"ReJSON-RL"/);
    expect(bad('bitmap', 'x')).toMatch(/^type: one of/);
  });
});

describe('meta lines', () => {
  it('writes "$" lines for header, aux, functions and module aux; nothing for the rest', () => {
    expect(metaToJsonLine({ kind: 'header', rdbVersion: 12, flavor: 'redis', magic: 'REDIS0012' })).toBe('{"$":"header","rdb_version":12,"flavor":"redis"}');
    expect(metaToJsonLine({ kind: 'aux', key: b('redis-ver'), value: b('7.4.0'), offset: 9 })).toBe('{"$":"aux","key":"redis-ver","value":"7.4.0"}');
    expect(metaToJsonLine({ kind: 'function', code: b('#!lua name=lib\nredis.register_function(...)'), offset: 0 }))
      .toBe('{"$":"function","code":"#!lua name=lib\\nredis.register_function(...)"}');
    expect(metaToJsonLine({ kind: 'function-pre-ga', name: b('f'), engine: b('LUA'), description: b('d'), code: b('return 1'), offset: 0 }))
      .toBe('{"$":"function","code":"#!lua name=f\\nreturn 1"}');
    expect(metaToJsonLine({ kind: 'selectdb', db: 1, offset: 0 })).toBeNull();
    expect(metaToJsonLine({ kind: 'resizedb', db: 1, dbSize: 1, expiresSize: 0, offset: 0 })).toBeNull();
    expect(metaToJsonLine({ kind: 'slot-info', slot: 1, slotSize: 1, expiresSlotSize: 0, offset: 0 })).toBeNull();
    expect(metaToJsonLine({ kind: 'eof', checksum: null, checksumOk: null, offset: 0 })).toBeNull();
  });

  it('round-trips module aux', () => {
    const m = moduleValue() as Extract<Value, { type: 'module' }>;
    // body: module id, when-opcode 2, when 2, then an EOF opcode
    const raw = Buffer.concat([m.raw.subarray(0, 9), Buffer.from([2, 2, 0])]);
    const line = metaToJsonLine({ kind: 'module-aux', moduleId: m.moduleId, moduleName: 'ReJSON-RL', when: 2, raw, offset: 0 })!;
    expect(line).toBe(`{"$":"module_aux","module":"ReJSON-RL","when":2,"raw":"${raw.toString('base64')}"}`);
    expect(jsonToMeta(JSON.parse(line), 42, () => 'x')).toEqual({ kind: 'module-aux', moduleId: m.moduleId, moduleName: 'ReJSON-RL', when: 2, raw, offset: 42 });
  });
});
