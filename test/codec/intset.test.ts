import { describe, expect, it } from 'vitest';
import { intsetDecode, intsetEncode } from '../../src/codec/intset.js';
import { blobError, hex } from '../helpers/bytes.js';

// Intsets taken from DUMP payloads of Redis 7.0.15 (SADD s ...).
const GOLDEN: Array<[string, Array<number | bigint>]> = [
  ['02000000 03000000 0100 0200 0300', [1, 2, 3]],
  ['02000000 02000000 0080 ff7f', [-32768, 32767]],
  ['04000000 02000000 ff7fffff 05000000', [-32769, 5]],
  ['08000000 02000000 ffffffffffffffff 0000008000000000', [-1, 2147483648]],
  [
    '08000000 03000000 0000000000000080 0000000000000000 ffffffffffffff7f',
    [-(2n ** 63n), 0, 2n ** 63n - 1n],
  ],
];

describe('intset', () => {
  it('decodes and re-encodes the intsets Redis wrote', () => {
    for (const [h, values] of GOLDEN) {
      const blob = hex(h);
      expect(intsetDecode(blob)).toEqual(values);
      expect(intsetEncode(values.map((v) => BigInt(v)))).toEqual(blob);
    }
  });

  it('sorts and picks the smallest width at the boundaries', () => {
    const width = (vals: bigint[]) => intsetEncode(vals).readUInt32LE(0);
    expect(width([32767n, -32768n])).toBe(2);
    expect(width([32768n])).toBe(4);
    expect(width([-32769n])).toBe(4);
    expect(width([2147483647n, -2147483648n])).toBe(4);
    expect(width([2147483648n])).toBe(8);
    expect(width([-2147483649n])).toBe(8);
    expect(intsetDecode(intsetEncode([5n, -3n, 100000n, 0n]))).toEqual([-3, 0, 5, 100000]);
    expect(intsetDecode(intsetEncode([2n ** 60n, 3n]))).toEqual([3, 2n ** 60n]);
  });

  it('rejects empty, duplicate and out-of-range input when encoding', () => {
    expect(() => intsetEncode([])).toThrow(RangeError);
    expect(() => intsetEncode([1n, 1n])).toThrow(RangeError);
    expect(() => intsetEncode([2n ** 63n])).toThrow(RangeError);
  });

  it('honours start/end', () => {
    const buf = Buffer.concat([hex('ffff'), hex(GOLDEN[0]![0]), hex('ff')]);
    expect(intsetDecode(buf, 2, buf.length - 1)).toEqual([1, 2, 3]);
  });

  it('rejects a bad encoding', () => {
    for (const enc of [0, 1, 3, 16]) {
      const e = blobError(() => intsetDecode(hex(`${enc.toString(16).padStart(2, '0')}000000 01000000 0100`)));
      expect(e.at).toBe(0);
      expect(e.expected).toMatch(/encoding 2, 4 or 8/);
    }
  });

  it('rejects a size that does not match the length', () => {
    expect(blobError(() => intsetDecode(hex('02000000 03000000 0100 0200'))).at).toBe(4);
    expect(blobError(() => intsetDecode(hex('02000000 01000000 0100 0200'))).at).toBe(4);
    expect(blobError(() => intsetDecode(hex('02000000 010000'))).at).toBe(0);
  });

  it('rejects an empty intset', () => {
    expect(blobError(() => intsetDecode(hex('02000000 00000000'))).expected).toMatch(/length > 0/);
  });

  it('rejects members that are not strictly ascending (every width)', () => {
    expect(blobError(() => intsetDecode(hex('02000000 02000000 0200 0100'))).at).toBe(10);
    expect(blobError(() => intsetDecode(hex('02000000 02000000 0100 0100'))).at).toBe(10);
    expect(blobError(() => intsetDecode(hex('04000000 02000000 05000000 05000000'))).at).toBe(12);
    expect(
      blobError(() => intsetDecode(hex('08000000 02000000 ffffffffffffff7f 0000000000000080'))).at,
    ).toBe(16);
  });
});
