/**
 * RDB 14 (Redis 8.8) value layouts, checked against the source's definitions: bytes are built here from
 * the layout librdb 2.3.0 reads (type 28 RDB_TYPE_ARRAY, type 27's per-group NACK zone), decoded by
 * src/rdb/array.ts and src/rdb/stream-nack.ts, and compared with what librdb's own test expectations
 * (test/dumps/array_v14_*.json, stream_v14_xnack.json) say those values hold. No server writes RDB 14 here.
 */
import { describe, expect, it } from 'vitest';
import { Cursor } from '../../src/rdb/cursor.js';
import { ByteWriter } from '../../src/encode/rdb-primitives.js';
import { AR_TAG, arrayElementText, decodeArray, encodeArray, skipArray } from '../../src/rdb/array.js';
import { readNackZone, skipNackZone } from '../../src/rdb/stream-nack.js';
import { RekeyInputError } from '../../src/errors.js';

const i64 = (v: bigint): Buffer => { const b = Buffer.alloc(8); b.writeBigInt64LE(v); return b; };

/** A type 28 body: count, insert_idx flag (+ index), then (idx, tag, payload) per element. */
function arrayBody(insertIdx: bigint | null, els: Array<[bigint, number, Buffer | number | bigint]>): Buffer {
  const w = new ByteWriter();
  w.len(els.length);
  if (insertIdx === null) w.len(0); else w.len(1).len(insertIdx);
  for (const [idx, tag, v] of els) {
    w.len(idx).len(tag);
    if (tag === AR_TAG.INT) w.bytes(i64(v as bigint));
    else if (tag === AR_TAG.FLOAT) w.f64le(v as number);
    else w.string(v as Buffer);
  }
  return w.finish();
}

function asLibrdbJson(body: Buffer): { insert_idx?: string; elements: Array<{ idx: string; val: string }> } {
  const c = new Cursor('arr.rdb', body);
  const a = decodeArray(c);
  expect(c.pos).toBe(body.length);
  const s = new Cursor('arr.rdb', body);
  expect(skipArray(s)).toBe(a.elements.length);
  expect(s.pos).toBe(body.length);
  const out: { insert_idx?: string; elements: Array<{ idx: string; val: string }> } = { elements: a.elements.map((e) => ({ idx: e.idx.toString(), val: arrayElementText(e.el) })) };
  if (a.insertIdx !== undefined) out.insert_idx = a.insertIdx.toString();
  return out;
}

describe('RDB 14 type 28 Array', () => {
  it('all four element tags decode as librdb array_v14_mixed_types.json expects', () => {
    const body = arrayBody(null, [
      [0n, AR_TAG.SDS, Buffer.from('this_is_a_long_sds_string_value_long_enough')],
      [1n, AR_TAG.INT, 42n],
      [2n, AR_TAG.FLOAT, 1.5],
      [3n, AR_TAG.SMALLSTR, Buffer.from('abc')],
    ]);
    // librdb: {"elements":[{"idx":"0","val":"this_is_a_long_sds_string_value_long_enough"},{"idx":"1","val":"42"},{"idx":"2","val":"1.5"},{"idx":"3","val":"abc"}]}
    expect(asLibrdbJson(body)).toEqual({ elements: [
      { idx: '0', val: 'this_is_a_long_sds_string_value_long_enough' }, { idx: '1', val: '42' }, { idx: '2', val: '1.5' }, { idx: '3', val: 'abc' },
    ] });
    const types = decodeArray(new Cursor('a', body)).elements.map((e) => e.el.tag);
    expect(types).toEqual(['sds', 'int', 'float', 'smallstr']);
  });

  it('sparse indexes and insert_idx (array_v14_with_insert_idx / _insert_idx_boundary / _none)', () => {
    expect(asLibrdbJson(arrayBody(49n, [[1000000n, AR_TAG.SDS, Buffer.from('first')], [1000100n, AR_TAG.SDS, Buffer.from('mid')], [1001000n, AR_TAG.SDS, Buffer.from('third')]])))
      .toEqual({ insert_idx: '49', elements: [{ idx: '1000000', val: 'first' }, { idx: '1000100', val: 'mid' }, { idx: '1001000', val: 'third' }] });
    // UINT64_MAX - 1 survives exactly (a 0x81 64-bit length, read as bigint).
    expect(asLibrdbJson(arrayBody(18446744073709551614n, [[0n, AR_TAG.SMALLSTR, Buffer.from('a')], [1n, AR_TAG.SMALLSTR, Buffer.from('b')]])))
      .toEqual({ insert_idx: '18446744073709551614', elements: [{ idx: '0', val: 'a' }, { idx: '1', val: 'b' }] });
    expect(asLibrdbJson(arrayBody(null, [[7n, AR_TAG.INT, -5n]]))).toEqual({ elements: [{ idx: '7', val: '-5' }] });
  });

  it('encodeArray writes the bytes decodeArray reads, byte for byte', () => {
    const bodies = [
      arrayBody(null, [[0n, AR_TAG.SDS, Buffer.from('x'.repeat(100))], [1n, AR_TAG.INT, -(2n ** 63n)], [2n, AR_TAG.FLOAT, -0.25], [3n, AR_TAG.SMALLSTR, Buffer.from([0xff, 0])]]),
      arrayBody(18446744073709551614n, [[2n ** 40n, AR_TAG.INT, 2n ** 63n - 1n]]),
      arrayBody(0n, []),
    ];
    for (const body of bodies) {
      const a = decodeArray(new Cursor('a', body));
      expect(encodeArray(a, new ByteWriter()).finish().toString('hex')).toBe(body.toString('hex'));
    }
  });

  it('bad input names the offset and what was expected; counts are bounded before allocating', () => {
    const badTag = arrayBody(null, [[0n, 9, Buffer.from('x')]]);
    expect(() => decodeArray(new Cursor('a.rdb', badTag))).toThrow(/at byte 3: expected array element tag 0-3.*found 9/);
    expect(() => skipArray(new Cursor('a.rdb', badTag))).toThrow(RekeyInputError);
    const badFlag = Buffer.from([1, 2, 0, 0, 0]);
    expect(() => decodeArray(new Cursor('a.rdb', badFlag))).toThrow(/at byte 1: expected array insert_idx flag 0 or 1, found 2/);
    // A count of 2^32-1 elements in a 6-byte body is refused before any allocation.
    const huge = new ByteWriter().len(0xffffffff).len(0).finish();
    expect(() => decodeArray(new Cursor('a.rdb', huge))).toThrow(/array element count/);
    const cut = arrayBody(null, [[0n, AR_TAG.INT, 1n]]).subarray(0, 6);
    expect(() => decodeArray(new Cursor('a.rdb', cut))).toThrow(/array element integer \(8 bytes\)/);
  });
});

describe('RDB 14 type 27 NACK zone', () => {
  const id = (ms: bigint, seq: bigint): Buffer => { const b = Buffer.alloc(16); b.writeBigUInt64BE(ms); b.writeBigUInt64BE(seq, 8); return b; };
  // stream_v14_xnack.json: PEL 4 entries, consumer1 owns the head and the tail, the middle two are NACKed.
  const pel = new Set(['1779170191996-0', '1779170191998-0', '1779170192000-0', '1779170192001-0']);
  const owned = new Set(['1779170191996-0', '1779170192001-0']);

  it('reads the NACKed ids in on-disk order, as librdb stream_v14_xnack.json "nacked"', () => {
    const zone = new ByteWriter().len(2).bytes(id(1779170191998n, 0n)).bytes(id(1779170192000n, 0n)).finish();
    const c = new Cursor('s.rdb', zone);
    expect(readNackZone(c, pel, owned).map((x) => `${x.ms}-${x.seq}`)).toEqual(['1779170191998-0', '1779170192000-0']);
    expect(c.pos).toBe(zone.length);
    const s = new Cursor('s.rdb', zone);
    skipNackZone(s);
    expect(s.pos).toBe(zone.length);
  });

  it('a NACKed id outside the PEL, or owned by a consumer, is refused at its offset', () => {
    const stray = new ByteWriter().len(1).bytes(id(5n, 5n)).finish();
    expect(() => readNackZone(new Cursor('s.rdb', stray), pel, owned)).toThrow(/at byte 1: expected NACKed id 5-5 to exist in the group PEL/);
    const ownedOne = new ByteWriter().len(1).bytes(id(1779170191996n, 0n)).finish();
    expect(() => readNackZone(new Cursor('s.rdb', ownedOne), pel, owned)).toThrow(/owned by no consumer/);
    const short = new ByteWriter().len(3).bytes(id(1n, 1n)).finish();
    expect(() => readNackZone(new Cursor('s.rdb', short), pel, owned)).toThrow(/NACK zone size/);
  });
});
