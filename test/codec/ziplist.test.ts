import { describe, expect, it } from 'vitest';
import { BlobError } from '../../src/errors.js';
import type { LpItem } from '../../src/codec/listpack.js';
import { ziplistDecode, ziplistEncode } from '../../src/codec/ziplist.js';
import { blobError, hex, latin1 as b } from '../helpers/bytes.js';

/** A ziplist with a correct zlbytes around the given entries (hex), zllen and zltail. */
function mkzl(entries: string, zllen: number, zltail = 10): Buffer {
  const body = hex(entries);
  const h = Buffer.alloc(10);
  h.writeUInt32LE(10 + body.length + 1, 0);
  h.writeUInt32LE(zltail, 4);
  h.writeUInt16LE(zllen, 8);
  return Buffer.concat([h, body, hex('ff')]);
}

function norm(items: ReadonlyArray<LpItem>): string[] {
  return items.map((x) => (typeof x === 'object' ? x.toString('latin1') : String(x)));
}

const EXAMPLE = hex('0f000000 0c000000 0200 00f3 02f6 ff'); // ["2", "5"], ziplist.c commentary

describe('ziplistDecode', () => {
  it('decodes the ziplist.c example ["2","5"] (docs/rdb-format.md §6.2)', () => {
    expect(ziplistDecode(EXAMPLE)).toEqual([2, 5]);
  });

  it('decodes an empty ziplist', () => {
    expect(ziplistDecode(hex('0b000000 0a000000 0000 ff'))).toEqual([]);
  });

  it('decodes every integer encoding', () => {
    const zl = mkzl(
      '00 f1' + // 0 (immediate)
        '02 fd' + // 12 (immediate)
        '02 fe80' + // int8 -128
        '03 c00080' + // int16 -32768
        '04 f0ffff7f' + // int24 8388607
        '05 d000000080' + // int32 -2147483648
        '06 e0ffffffffffffff7f' + // int64 max
        '0a e00000000000002000', // int64 2^53 (not a safe integer)
      8,
      42,
    );
    expect(zl.length).toBe(53);
    expect(ziplistDecode(zl)).toEqual([0, 12, -128, -32768, 8388607, -2147483648, 2n ** 63n - 1n, 2n ** 53n]);
  });

  it('reads 14-bit and 32-bit string lengths big-endian, and 5-byte prevlens', () => {
    const s300 = Buffer.alloc(300, 0x78);
    const zl = ziplistEncode([s300, b('a')]);
    // entry 1: prevlen 00, encoding 41 2c (14-bit BE 300); entry 2: prevlen fe + u32le 303
    expect(zl.subarray(10, 13)).toEqual(hex('00412c'));
    expect(zl.subarray(10 + 303, 10 + 303 + 5)).toEqual(hex('fe2f010000'));
    expect(ziplistDecode(zl)).toEqual([s300, b('a')]);

    const big = Buffer.alloc(16384, 0x79);
    const zl2 = ziplistEncode([big]);
    expect(zl2.subarray(10, 16)).toEqual(hex('00 80 00004000'));
    expect(ziplistDecode(zl2)).toEqual([big]);
  });

  it('accepts a 5-byte prevlen holding a small value (Redis avoids cascading shrinks)', () => {
    const zl = mkzl('00 0161 fe03000000 0162', 2, 13);
    expect(norm(ziplistDecode(zl))).toEqual(['a', 'b']);
  });

  it('treats any 10xxxxxx encoding byte as a 32-bit length, like Redis (low bits ignored)', () => {
    expect(norm(ziplistDecode(mkzl('00 81 00000002 6869', 1)))).toEqual(['hi']);
  });

  it('accepts zllen 0xFFFF (unknown) whatever the count', () => {
    const zl = Buffer.from(EXAMPLE);
    zl.writeUInt16LE(0xffff, 8);
    expect(ziplistDecode(zl)).toEqual([2, 5]);
  });

  it('honours start/end and returns zero-copy string views', () => {
    const inner = ziplistEncode([b('hello')]);
    const buf = Buffer.concat([hex('000000'), inner, hex('00')]);
    const [s] = ziplistDecode(buf, 3, 3 + inner.length) as Buffer[];
    expect(s!.toString()).toBe('hello');
    expect(s!.buffer).toBe(buf.buffer);
  });
});

describe('ziplistEncode', () => {
  it('reproduces the ziplist.c example from text or numbers', () => {
    expect(ziplistEncode([b('2'), b('5')])).toEqual(EXAMPLE);
    expect(ziplistEncode([2, 5n])).toEqual(EXAMPLE);
  });

  it('writes the empty ziplist with zltail = 10', () => {
    expect(ziplistEncode([])).toEqual(hex('0b000000 0a000000 0000 ff'));
  });

  const CASES: Array<[bigint, string, string]> = [
    // value, modern encoding+data, legacy (RDB < 6) encoding+data
    [0n, 'f1', 'c00000'],
    [12n, 'fd', 'c00c00'],
    [13n, 'fe0d', 'c00d00'],
    [-1n, 'feff', 'c0ffff'],
    [127n, 'fe7f', 'c07f00'],
    [-128n, 'fe80', 'c080ff'],
    [128n, 'c08000', 'c08000'],
    [-129n, 'c07fff', 'c07fff'],
    [32767n, 'c0ff7f', 'c0ff7f'],
    [-32768n, 'c00080', 'c00080'],
    [32768n, 'f0008000', 'd000800000'],
    [-32769n, 'f0ff7fff', 'd0ff7fffff'],
    [8388607n, 'f0ffff7f', 'd0ffff7f00'],
    [-8388608n, 'f0000080', 'd0000080ff'],
    [8388608n, 'd000008000', 'd000008000'],
    [2147483647n, 'd0ffffff7f', 'd0ffffff7f'],
    [-2147483648n, 'd000000080', 'd000000080'],
    [2147483648n, 'e00000008000000000', 'e00000008000000000'],
    [-2147483649n, 'e0ffffff7fffffffff', 'e0ffffff7fffffffff'],
    [9223372036854775807n, 'e0ffffffffffffff7f', 'e0ffffffffffffff7f'],
    [-9223372036854775808n, 'e00000000000000080', 'e00000000000000080'],
  ];

  it('uses the smallest integer encoding at every boundary, and only int16/32/64 with legacyInts', () => {
    for (const [v, modern, legacy] of CASES) {
      for (const input of [b(v.toString()), v]) {
        const zl = ziplistEncode([input]);
        expect(zl.subarray(11, zl.length - 1).toString('hex'), `${v}`).toBe(modern);
        const zlLegacy = ziplistEncode([input], { legacyInts: true });
        expect(zlLegacy.subarray(11, zlLegacy.length - 1).toString('hex'), `legacy ${v}`).toBe(legacy);
        for (const z of [zl, zlLegacy]) expect(norm(ziplistDecode(z))).toEqual([v.toString()]);
      }
    }
  });

  it('uses 1/2/5-byte string headers at 63/64 and 16383/16384', () => {
    for (const [len, hdr] of [[0, '00'], [63, '3f'], [64, '4040'], [16383, '7fff'], [16384, '8000004000']] as const) {
      const zl = ziplistEncode([Buffer.alloc(len, 0x61)]);
      expect(zl.subarray(11, 11 + hdr.length / 2).toString('hex')).toBe(hdr);
      expect((ziplistDecode(zl)[0] as Buffer).length).toBe(len);
    }
  });

  it('switches prevlen to 5 bytes when the previous entry is 254 bytes or more', () => {
    // entry = prevlen(1) + header(2) + data: 251 data bytes → 254 bytes
    const zl = ziplistEncode([Buffer.alloc(250, 0x61), b('x'), Buffer.alloc(251, 0x62), b('y')]);
    const items = ziplistDecode(zl);
    expect(norm(items)).toEqual(['a'.repeat(250), 'x', 'b'.repeat(251), 'y']);
    // 2nd entry's prevlen: 253 in one byte; 4th entry's prevlen: 0xFE + 254
    expect(zl[10 + 253]).toBe(253);
    const fourth = 10 + 253 + 3 + 254;
    expect(zl.subarray(fourth, fourth + 5)).toEqual(hex('fefe000000'));
    expect(zl.readUInt32LE(4)).toBe(fourth);
  });

  it('keeps non-canonical numeric text as strings and round-trips mixed data', () => {
    const items: Array<Buffer | number | bigint> = [b('007'), b('-0'), b('+5'), b(''), b('1.5'), -7, 2n ** 62n];
    for (let i = 0; i < 70_000; i++) items.push(i % 2 ? b(`v${i}`) : i * 1000 - 3);
    const zl = ziplistEncode(items);
    expect(zl.readUInt16LE(8)).toBe(0xffff);
    const back = ziplistDecode(zl);
    expect(norm(back)).toEqual(norm(items as LpItem[]));
    expect(ziplistEncode(back).equals(zl)).toBe(true);
    expect(ziplistEncode(items.slice(0, 65534)).readUInt16LE(8)).toBe(65534);
    expect(ziplistEncode(items.slice(0, 65535)).readUInt16LE(8)).toBe(0xffff);
  });
});

describe('ziplist corruption', () => {
  it('only ever throws BlobError on corrupted ziplists', () => {
    const good = ziplistEncode([b('alpha'), 7, -300, 70000, 2n ** 40n, Buffer.alloc(300, 0x61), b(''), -9]);
    let s = 5;
    for (let i = 0; i < 5000; i++) {
      const bad = Buffer.from(good);
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      bad[s % bad.length] = s >>> 24;
      try {
        ziplistDecode(bad);
      } catch (e) {
        expect(e).toBeInstanceOf(BlobError);
      }
    }
  });

  it('rejects a wrong zlbytes and a truncated blob', () => {
    const zl = Buffer.from(EXAMPLE);
    zl.writeUInt32LE(16, 0);
    expect(blobError(() => ziplistDecode(zl)).expected).toMatch(/zlbytes 15 \(found 16\)/);
    expect(blobError(() => ziplistDecode(EXAMPLE.subarray(0, 14))).at).toBe(0);
    expect(blobError(() => ziplistDecode(EXAMPLE.subarray(0, 10))).expected).toMatch(/at least 11/);
  });

  it('rejects a missing end byte', () => {
    const zl = Buffer.from(EXAMPLE);
    zl[14] = 0xfe;
    expect(blobError(() => ziplistDecode(zl)).at).toBe(14);
  });

  it('rejects a wrong zltail', () => {
    const zl = Buffer.from(EXAMPLE);
    zl.writeUInt32LE(10, 4);
    const e = blobError(() => ziplistDecode(zl));
    expect(e.at).toBe(4);
    expect(e.expected).toMatch(/zltail 12/);
    zl.writeUInt32LE(100, 4);
    expect(blobError(() => ziplistDecode(zl)).at).toBe(4);
  });

  it('rejects an inconsistent prevlen', () => {
    const zl = Buffer.from(EXAMPLE);
    zl[12] = 3;
    const e = blobError(() => ziplistDecode(zl));
    expect(e.at).toBe(12);
    expect(e.expected).toMatch(/prevlen 2 \(found 3\)/);
    const first = Buffer.from(EXAMPLE);
    first[10] = 1; // the first entry's prevlen must be 0
    expect(blobError(() => ziplistDecode(first)).at).toBe(10);
  });

  it('rejects a wrong zllen', () => {
    const zl = Buffer.from(EXAMPLE);
    zl.writeUInt16LE(3, 8);
    const e = blobError(() => ziplistDecode(zl));
    expect(e.at).toBe(8);
    expect(e.expected).toMatch(/zllen 2 \(found 3\)/);
  });

  it('rejects unknown integer encodings', () => {
    for (const enc of [0xc1, 0xd5, 0xe8, 0xff]) {
      const zl = mkzl(`00 ${enc.toString(16)}`, 1);
      const e = blobError(() => ziplistDecode(zl));
      expect(e.at).toBe(11);
    }
  });

  it('rejects entries running past the end', () => {
    expect(blobError(() => ziplistDecode(mkzl('00 05 6161', 1))).at).toBe(11); // string
    expect(blobError(() => ziplistDecode(mkzl('00 d0 0000', 1))).at).toBe(11); // int32
    expect(blobError(() => ziplistDecode(mkzl('00 40', 1))).at).toBe(11); // 14-bit length
    expect(blobError(() => ziplistDecode(mkzl('00 80 000001', 1))).at).toBe(11); // 32-bit length
    expect(blobError(() => ziplistDecode(mkzl('fe 000000', 1))).at).toBe(10); // 5-byte prevlen
  });

  it('rejects an early end byte', () => {
    expect(blobError(() => ziplistDecode(mkzl('ff 00f1', 0))).at).toBe(10);
  });
});
