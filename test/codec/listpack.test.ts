import { describe, expect, it } from 'vitest';
import { BlobError } from '../../src/errors.js';
import {
  itemToBigInt,
  itemToBuffer,
  itemToNumber,
  listpackDecode,
  listpackEncode,
  listpackForEach,
  type LpItem,
} from '../../src/codec/listpack.js';
import { blobError, hex, latin1 as b } from '../helpers/bytes.js';

/** Items compared by logical value: strings as text, integers as bigint. */
function norm(items: LpItem[]): Array<string | bigint> {
  return items.map((x) => (typeof x === 'object' ? 's:' + x.toString('latin1') : BigInt(x)));
}

// Listpacks taken from DUMP payloads of Redis 7.0.15.
const HSET_H1 = hex('15000000 0400 | 82 66 31 03 | 82 76 31 03 | 82 66 32 03 | 02 01 | ff'); // f1 v1 f2 2
const LIST_L1 = hex('17000000 0600 | 81 61 02 | 81 62 02 | 01 01 | 02 01 | c1 2c 02 | df fb 02 | ff'); // a b 1 2 300 -5

describe('listpackDecode', () => {
  it('decodes the HSET h1 f1 v1 f2 2 example (docs/rdb-format.md §6.3)', () => {
    const items = listpackDecode(HSET_H1);
    expect(norm(items)).toEqual(['s:f1', 's:v1', 's:f2', 2n]);
    expect(items[3]).toBe(2);
  });

  it('decodes the list [a,b,1,2,300,-5] example', () => {
    expect(listpackDecode(LIST_L1)).toEqual([b('a'), b('b'), 1, 2, 300, -5]);
  });

  it('returns zero-copy views for strings and honours start/end', () => {
    const buf = Buffer.concat([hex('aabb'), HSET_H1, hex('cc')]);
    const items = listpackDecode(buf, 2, 2 + HSET_H1.length);
    const f1 = items[0] as Buffer;
    expect(f1.buffer).toBe(buf.buffer);
    expect(f1.byteOffset).toBe(buf.byteOffset + 2 + 7);
  });

  it('decodes an empty listpack', () => {
    expect(listpackDecode(hex('07000000 0000 ff'))).toEqual([]);
  });

  it('accepts num_elements 0xFFFF (unknown) whatever the count', () => {
    const lp = Buffer.from(LIST_L1);
    lp.writeUInt16LE(0xffff, 4);
    expect(listpackDecode(lp)).toHaveLength(6);
  });

  it('listpackForEach visits every element with its index and returns the count', () => {
    const seen: Array<[LpItem, number]> = [];
    expect(listpackForEach(LIST_L1, 0, LIST_L1.length, (x, i) => seen.push([x, i]))).toBe(6);
    expect(seen.map(([, i]) => i)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(seen[4]![0]).toBe(300);
  });
});

describe('listpackEncode', () => {
  it('reproduces the Redis bytes of both examples, from text or from integers', () => {
    expect(listpackEncode([b('f1'), b('v1'), b('f2'), b('2')])).toEqual(HSET_H1);
    expect(listpackEncode([b('f1'), b('v1'), b('f2'), 2])).toEqual(HSET_H1);
    expect(listpackEncode([b('a'), b('b'), b('1'), b('2'), b('300'), b('-5')])).toEqual(LIST_L1);
    expect(listpackEncode([b('a'), b('b'), 1, 2n, 300, -5])).toEqual(LIST_L1);
  });

  it('encodes an empty listpack', () => {
    expect(listpackEncode([])).toEqual(hex('07000000 0000 ff'));
  });

  // [value, expected encoding+data hex]
  const INT_CASES: Array<[bigint, string]> = [
    [0n, '00'],
    [127n, '7f'],
    [128n, 'c080'],
    [-1n, 'dfff'],
    [-4096n, 'd000'],
    [4095n, 'cfff'],
    [4096n, 'f10010'],
    [-4097n, 'f1ffef'],
    [32767n, 'f1ff7f'],
    [-32768n, 'f10080'],
    [32768n, 'f2008000'],
    [-32769n, 'f2ff7fff'],
    [8388607n, 'f2ffff7f'],
    [-8388608n, 'f2000080'],
    [8388608n, 'f300008000'],
    [-8388609n, 'f3ffff7fff'],
    [2147483647n, 'f3ffffff7f'],
    [-2147483648n, 'f300000080'],
    [2147483648n, 'f40000008000000000'],
    [-2147483649n, 'f4ffffff7fffffffff'],
    [9007199254740991n, 'f4ffffffffffff1f00'],
    [9007199254740992n, 'f40000000000002000'],
    [-9007199254740993n, 'f4ffffffffffffdfff'],
    [9223372036854775807n, 'f4ffffffffffffff7f'],
    [-9223372036854775808n, 'f40000000000000080'],
  ];

  it('uses the smallest integer encoding at every width boundary (text, number and bigint input)', () => {
    for (const [v, enc] of INT_CASES) {
      const size = enc.length / 2;
      const expected = Buffer.concat([hex(enc), Buffer.from([size])]);
      const inputs: Array<Buffer | number | bigint> = [b(v.toString()), v];
      if (Number.isSafeInteger(Number(v))) inputs.push(Number(v));
      for (const input of inputs) {
        const lp = listpackEncode([input]);
        expect(lp.subarray(6, lp.length - 1).toString('hex'), `${v} from ${typeof input}`).toBe(expected.toString('hex'));
        const [back] = listpackDecode(lp);
        expect(BigInt(back as number | bigint)).toBe(v);
        expect(typeof back).toBe(Number.isSafeInteger(Number(v)) ? 'number' : 'bigint');
      }
    }
  });

  it('stores non-canonical numeric text as strings', () => {
    for (const s of ['007', '-0', '+1', ' 1', '1 ', '1.5', '9223372036854775808', '']) {
      const items = listpackDecode(listpackEncode([b(s)]));
      expect(items).toEqual([b(s)]);
    }
    // a bigint beyond int64 is kept as its text
    expect(listpackDecode(listpackEncode([2n ** 64n]))).toEqual([b('18446744073709551616')]);
  });

  it('picks the 6/12/32-bit string forms and backlen sizes at the length boundaries', () => {
    const cases: Array<[number, string, number]> = [
      [0, '80', 1],
      [63, 'bf', 1],
      [64, 'e040', 1],
      [125, 'e07d', 1], // 127-byte element: 1-byte backlen
      [126, 'e07e', 2], // 128-byte element: 2-byte backlen
      [4095, 'efff', 2],
      [4096, 'f000100000', 2],
      [16377, 'f0f93f0000', 2], // element 16382 bytes: last 2-byte backlen
      [16378, 'f0fa3f0000', 3], // element 16383 bytes: 3-byte backlen "00 ff ff"
    ];
    for (const [len, encHex, blLen] of cases) {
      const s = Buffer.alloc(len, 0x71);
      const lp = listpackEncode([s]);
      const hdr = hex(encHex);
      expect(lp.subarray(6, 6 + hdr.length)).toEqual(hdr);
      expect(lp.length).toBe(6 + hdr.length + len + blLen + 1);
      expect(lp.readUInt32LE(0)).toBe(lp.length);
      expect(listpackDecode(lp)).toEqual([s]);
    }
    const lp = listpackEncode([Buffer.alloc(16378, 0x71)]);
    expect(lp.subarray(lp.length - 4, lp.length - 1)).toEqual(hex('00ffff'));
  });

  it('round-trips mixed content and caps num_elements at 0xFFFF', () => {
    const items: Array<Buffer | number | bigint> = [];
    for (let i = 0; i < 70_000; i++) items.push(i % 3 === 0 ? b(`m${i}`) : i % 3 === 1 ? i * 37 - 1_000_000 : b(String(i)));
    const lp = listpackEncode(items);
    expect(lp.readUInt16LE(4)).toBe(0xffff);
    const back = listpackDecode(lp);
    expect(back).toHaveLength(70_000);
    expect(norm(back)).toEqual(norm(items.map((x) => (typeof x === 'object' && x.toString() === String(Number(x)) ? Number(x) : x)) as LpItem[]));
    expect(listpackEncode(back).equals(lp)).toBe(true);

    const small = listpackEncode(items.slice(0, 65534));
    expect(small.readUInt16LE(4)).toBe(65534);
    expect(listpackEncode(items.slice(0, 65535)).readUInt16LE(4)).toBe(0xffff);
  });

  it('rejects non-integer numbers', () => {
    expect(() => listpackEncode([1.5])).toThrow(RangeError);
  });
});

describe('listpack corruption', () => {
  it('rejects a truncated listpack', () => {
    const cut = LIST_L1.subarray(0, LIST_L1.length - 3);
    const e = blobError(() => listpackDecode(cut));
    expect(e.at).toBe(0);
    expect(e.expected).toMatch(/total_bytes/);
    const tiny = blobError(() => listpackDecode(hex('0600000000')));
    expect(tiny.expected).toMatch(/at least 7/);
  });

  it('rejects an element running past the end (consistent header)', () => {
    // string of 5 bytes declared, only 2 present before the terminator
    const lp = hex('0b000000 0100 85 6161 03 ff');
    expect(blobError(() => listpackDecode(lp)).at).toBe(6);
  });

  it('rejects a bad backlen', () => {
    const lp = Buffer.from(LIST_L1);
    lp[8] = 0x03; // backlen of "a" is 2
    const e = blobError(() => listpackDecode(lp));
    expect(e.at).toBe(8);
    expect(e.expected).toMatch(/backlen 2/);
  });

  it('rejects a non-canonical multi-byte backlen', () => {
    const lp = listpackEncode([Buffer.alloc(200, 0x61)]); // 202-byte element, backlen 01 ca
    lp[lp.length - 3] = 0x02;
    expect(blobError(() => listpackDecode(lp)).expected).toMatch(/backlen 202 in 2 bytes/);
  });

  it('rejects a bad total_bytes', () => {
    const lp = Buffer.from(LIST_L1);
    lp.writeUInt32LE(lp.length + 1, 0);
    expect(blobError(() => listpackDecode(lp)).expected).toMatch(/total_bytes 23 \(found 24\)/);
  });

  it('rejects a missing 0xFF terminator', () => {
    const lp = Buffer.from(LIST_L1);
    lp[lp.length - 1] = 0x00;
    const e = blobError(() => listpackDecode(lp));
    expect(e.at).toBe(lp.length - 1);
    expect(e.expected).toMatch(/end byte 0xFF/);
  });

  it('rejects an early 0xFF', () => {
    const lp = hex('0a000000 0100 ff 01 01 ff');
    expect(blobError(() => listpackDecode(lp)).at).toBe(6);
  });

  it('rejects the unused encoding bytes 0xF5–0xFE', () => {
    for (let enc = 0xf5; enc <= 0xfe; enc++) {
      const lp = hex(`09000000 0100 ${enc.toString(16)} 01 ff`);
      const e = blobError(() => listpackDecode(lp));
      expect(e.at).toBe(6);
      expect(e.expected).toMatch(/unknown 0x/);
    }
  });

  it('rejects a wrong num_elements', () => {
    const lp = Buffer.from(LIST_L1);
    lp.writeUInt16LE(5, 4);
    const e = blobError(() => listpackDecode(lp));
    expect(e.at).toBe(4);
    expect(e.expected).toMatch(/num_elements 6 \(found 5\)/);
  });

  it('rejects a backlen cut by the terminator and reports offsets relative to start', () => {
    const lp = hex('08000000 0100 05 ff'); // "5" without its backlen
    expect(blobError(() => listpackDecode(lp)).at).toBe(7);
    const shifted = Buffer.concat([hex('0000'), lp]);
    expect(blobError(() => listpackDecode(shifted, 2)).at).toBe(7);
  });

  it('rejects integers cut by the terminator', () => {
    for (const enc of ['c0', 'f1', 'f2', 'f3', 'f4', 'e0', 'f0']) {
      const lp = hex(`08000000 0100 ${enc} ff`);
      expect(blobError(() => listpackDecode(lp)).at).toBe(6);
    }
  });
});

describe('listpack fuzz', () => {
  it('only ever throws BlobError on corrupted listpacks', () => {
    const good = listpackEncode([b('alpha'), 7, -300, 70000, 2n ** 40n, Buffer.alloc(100, 0x61), b(''), -9]);
    let s = 3;
    for (let i = 0; i < 5000; i++) {
      const bad = Buffer.from(good);
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      bad[6 + (s % (bad.length - 6))] = s >>> 24;
      try {
        listpackDecode(bad);
      } catch (e) {
        expect(e).toBeInstanceOf(BlobError);
      }
    }
  });
});

describe('item conversions', () => {
  it('itemToBuffer', () => {
    expect(itemToBuffer(b('x'))).toEqual(b('x'));
    expect(itemToBuffer(-5).toString()).toBe('-5');
    expect(itemToBuffer(2n ** 62n).toString()).toBe('4611686018427387904');
  });

  it('itemToNumber parses integers and score text', () => {
    expect(itemToNumber(7)).toBe(7);
    expect(itemToNumber(2n ** 62n)).toBe(2 ** 62);
    expect(itemToNumber(b('12'))).toBe(12);
    expect(itemToNumber(b('1.5'))).toBe(1.5);
    expect(itemToNumber(b('-0'))).toBe(-0);
    expect(itemToNumber(b('1e+20'))).toBe(1e20);
    expect(itemToNumber(b('inf'))).toBe(Infinity);
    expect(itemToNumber(b('-inf'))).toBe(-Infinity);
    expect(itemToNumber(b(''))).toBeNaN();
    expect(itemToNumber(b('abc'))).toBeNaN();
  });

  it('itemToBigInt accepts integers and canonical integer text only', () => {
    expect(itemToBigInt(-3)).toBe(-3n);
    expect(itemToBigInt(2n ** 63n - 1n)).toBe(2n ** 63n - 1n);
    expect(itemToBigInt(b('-9223372036854775808'))).toBe(-(2n ** 63n));
    expect(() => itemToBigInt(b('1.5'))).toThrow(RangeError);
    expect(() => itemToBigInt(b('007'))).toThrow(RangeError);
    expect(() => itemToBigInt(0.5)).toThrow(RangeError);
  });
});
