import { describe, expect, it } from 'vitest';
import type { KeyRecord, Value } from '../../src/records/types.js';
import { countFromDecoded, countFromPayload, elementCount, isEmptyCollection, lzfPrefix, readStringHeader } from '../../src/analyze/element-count.js';
import { lzfCompress } from '../../src/codec/lzf.js';
import { listpackEncode } from '../../src/codec/listpack.js';
import { b, hash, list, range, rec, recFromPayload, set, str, zset } from './helpers.js';

const values: Array<[string, Value]> = [
  ['empty string', str('')],
  ['short string', str('hello')],
  ['int string', str('12345')],
  ['negative int string', str('-7')],
  ['int32 string', str('2147483647')],
  ['long string', str('x'.repeat(5000))],
  ['binary string', str(Buffer.from([0, 255, 1, 254]))],
  ['small list', list(['a', 'b', '3'])],
  ['long list', list(range(700, (i) => `item-${i % 7}-${'z'.repeat(i % 40)}`))],
  ['list with a big element', list(['a', 'y'.repeat(20_000), 'b'])],
  ['int set', set(range(10, (i) => String(i * 3)))],
  ['big int set', set(range(600, (i) => String(i)))],
  ['string set', set(['a', 'bb', 'ccc'])],
  ['big string set', set(range(300, (i) => `member:${i}`))],
  ['small zset', zset([['a', 1], ['b', 2.5], ['c', -Infinity]])],
  ['big zset', zset(range(200, (i) => `m${i}`).map((m, i) => [m, i / 3]))],
  ['small hash', hash([['f', 'v'], ['n', '1']])],
  ['big hash', hash(range(300, (i) => `field${i}`).map((f, i) => [f, `value-${i}`]))],
  ['hash with a long value', hash([['f', 'v'.repeat(100)]])],
];

const versions = [2, 4, 6, 7, 9, 10, 11, 12];

describe('elementCount from headers', () => {
  for (const [name, v] of values) {
    it(`${name}: header count equals the decoded count in every RDB version, compressed or not`, () => {
      for (const version of versions) {
        for (const compress of [false, true]) {
          const r = rec('k', v, { rdbVersion: version, compress });
          expect(elementCount(r), `v${version} compress=${compress} type ${r.rdbType}`).toBe(countFromDecoded(r));
          // and without decoding, for every type that has a count in its header
          if (r.rdbType !== 15 && r.rdbType !== 19 && r.rdbType !== 21) {
            expect(countFromPayload(r.payload, r.rdbType, false), `v${version} type ${r.rdbType}`).toBe(countFromDecoded(r));
          }
        }
      }
    });
  }

  it('reads counts of LZF-compressed blobs without inflating them whole', () => {
    const items = range(120, () => 'same-same-same-same');
    const r = rec('k', list(items), { rdbVersion: 11, compress: true });
    // quicklist-2: node count, container, then the (compressed) listpack
    expect(r.payload[2]).toBe(0xc3);
    let decoded = false;
    const spy: KeyRecord = { ...r, decode: () => ((decoded = true), r.decode()) };
    expect(elementCount(spy)).toBe(120);
    expect(decoded).toBe(false);
  });

  it('isEmptyCollection: a quicklist is empty only when every node is (Redis skips such keys on load)', () => {
    const node = (items: Array<Buffer | number>): Buffer => {
      const lp = listpackEncode(items);
      return Buffer.concat([Buffer.from([2, lp.length]), lp]); // container 2 (packed), then the listpack
    };
    // quicklist-2 (type 18): node count, then per node container + listpack string
    const q = (...nodes: Buffer[]): Buffer => Buffer.concat([Buffer.from([nodes.length]), ...nodes]);
    expect(isEmptyCollection(recFromPayload('k', 18, q()))).toBe(true);
    expect(isEmptyCollection(recFromPayload('k', 18, q(node([]), node([]))))).toBe(true);
    expect(isEmptyCollection(recFromPayload('k', 18, q(node([]), node([b('x')]))))).toBe(false);
    expect(isEmptyCollection(recFromPayload('s', 2, Buffer.from([0])))).toBe(true); // a plain set of 0 members
    expect(isEmptyCollection(rec('s', set(['a'])))).toBe(false);
    expect(isEmptyCollection(rec('z', str('')))).toBe(false); // an empty string is a value
  });

  it('falls back to decoding when a listpack count is unknown (0xFFFF)', () => {
    const lp = listpackEncode([b('a'), b('b'), 7]);
    lp.writeUInt16LE(0xffff, 4);
    const payload = Buffer.concat([Buffer.from([lp.length]), lp]);
    const r = recFromPayload('k', 20, payload); // set listpack
    expect(countFromPayload(payload, 20, false)).toBeNull();
    expect(elementCount(r)).toBe(3);
  });

  it('counts stream entries, hash fields with TTLs, and strings as STRLEN', () => {
    const stream: Value = {
      type: 'stream',
      entries: range(5, (i) => String(i)).map((_, i) => ({ id: { ms: BigInt(1000 + i), seq: 0n }, fields: [[b('f'), b(String(i))]] })),
      length: 5,
      lastId: { ms: 1004n, seq: 0n },
      firstId: { ms: 1000n, seq: 0n },
      maxDeletedId: { ms: 0n, seq: 0n },
      entriesAdded: 5n,
      groups: [],
      version: 3,
    };
    expect(elementCount(rec('s', stream, { rdbVersion: 11 }))).toBe(5);
    const h = rec('h', hash([['a', '1'], ['b', '2'], ['c', '3']], [1700000000000, null, 1800000000000]), { rdbVersion: 12 });
    expect([24, 25]).toContain(h.rdbType);
    expect(elementCount(h)).toBe(3);
    const big = rec('h2', hash(range(200, (i) => `f${i}`).map((f) => [f, 'v']), range(200, (i) => String(i)).map((_, i) => (i % 2 ? 1700000000000 + i : null))), { rdbVersion: 12 });
    expect(elementCount(big)).toBe(200);
    expect(elementCount(rec('x', str('ab'.repeat(100)), { compress: true }))).toBe(200);
    expect(elementCount(rec('x', str('-128')))).toBe(4);
  });

  it('gives modules no element count', () => {
    const r = recFromPayload('m', 7, Buffer.from([0x81, 0, 0, 0, 0, 0, 0, 0, 1, 0]));
    expect(elementCount(r)).toBeNull();
  });
});

describe('string headers and LZF prefixes', () => {
  it('reads every string encoding', () => {
    expect(readStringHeader(Buffer.from([0xc0, 0x85]), 0)).toMatchObject({ kind: 'int', int: -123, len: 4, end: 2 });
    expect(readStringHeader(Buffer.from([0xc1, 0x39, 0x30]), 0)).toMatchObject({ kind: 'int', int: 12345, len: 5, end: 3 });
    expect(readStringHeader(Buffer.from([0xc2, 0xff, 0xff, 0xff, 0x7f]), 0)).toMatchObject({ kind: 'int', int: 2147483647, len: 10 });
    expect(readStringHeader(Buffer.from([0x03, 0x61, 0x62, 0x63]), 0)).toMatchObject({ kind: 'raw', len: 3, dataAt: 1, end: 4 });
    const long = Buffer.concat([Buffer.from([0x41, 0x00]), Buffer.alloc(256)]);
    expect(readStringHeader(long, 0)).toMatchObject({ kind: 'raw', len: 256, dataAt: 2 });
    const big = Buffer.concat([Buffer.from([0x80, 0, 1, 0, 0]), Buffer.alloc(65536)]);
    expect(readStringHeader(big, 0)).toMatchObject({ kind: 'raw', len: 65536, dataAt: 5 });
    expect(() => readStringHeader(Buffer.from([0x05, 0x61]), 0)).toThrow(RangeError);
    expect(() => readStringHeader(Buffer.from([0xc4]), 0)).toThrow(RangeError);
  });

  it('inflates only a prefix of LZF data', () => {
    const src = Buffer.from('abcabcabcabcabcabcabcabcabcabcabcabc-tail-' + 'q'.repeat(500));
    const c = lzfCompress(src)!;
    expect(c).not.toBeNull();
    for (const n of [1, 6, 10, 40, src.length]) expect(lzfPrefix(c, 0, c.length, n).equals(src.subarray(0, n))).toBe(true);
    expect(() => lzfPrefix(c, 0, 3, 100)).toThrow(RangeError);
  });
});
