import { describe, expect, it } from 'vitest';
import { BlobError } from '../../src/errors.js';
import { zipmapDecode } from '../../src/codec/zipmap.js';
import { blobError, hex } from '../helpers/bytes.js';

function text(pairs: Array<[Buffer, Buffer]>): string[][] {
  return pairs.map(([k, v]) => [k.toString('latin1'), v.toString('latin1')]);
}

// zipmap.c's own example: {"foo" => "bar", "hello" => "world"}
const FOO_HELLO = hex('02 03 666f6f 03 00 626172 05 68656c6c6f 05 00 776f726c64 ff');

describe('zipmapDecode', () => {
  it('decodes the zipmap.c example', () => {
    expect(text(zipmapDecode(FOO_HELLO))).toEqual([
      ['foo', 'bar'],
      ['hello', 'world'],
    ]);
  });

  it('skips the free bytes after a value', () => {
    const zm = hex('01 01 6b 02 03 7676 000000 ff');
    expect(text(zipmapDecode(zm))).toEqual([['k', 'vv']]);
  });

  it('reads the 5-byte length form (254 + u32le) for keys and values', () => {
    const key = Buffer.alloc(300, 0x6b);
    const value = Buffer.alloc(254, 0x76);
    const zm = Buffer.concat([
      hex('01 fe 2c010000'),
      key,
      hex('fe fe000000 01'),
      value,
      hex('00 ff'),
    ]);
    const [[k, v]] = zipmapDecode(zm) as [[Buffer, Buffer]];
    expect(k).toEqual(key);
    expect(v).toEqual(value);
  });

  it('accepts zmlen 254 (count by scanning)', () => {
    const zm = Buffer.from(FOO_HELLO);
    zm[0] = 254;
    expect(zipmapDecode(zm)).toHaveLength(2);
  });

  it('returns zero-copy views and honours start/end', () => {
    const buf = Buffer.concat([hex('aa'), FOO_HELLO, hex('bb')]);
    const pairs = zipmapDecode(buf, 1, 1 + FOO_HELLO.length);
    expect(pairs[0]![0].buffer).toBe(buf.buffer);
    expect(text(pairs)[1]).toEqual(['hello', 'world']);
  });

  it('rejects a wrong zmlen', () => {
    const zm = Buffer.from(FOO_HELLO);
    zm[0] = 3;
    const e = blobError(() => zipmapDecode(zm));
    expect(e.at).toBe(0);
    expect(e.expected).toMatch(/zmlen of 2 \(its field count\) or 254, as zipmapValidateIntegrity requires \(found 3\)/);
  });

  it('rejects zmlen 255 as Redis does (zipmapValidateIntegrity: 254 or the count)', () => {
    const zm = Buffer.from(FOO_HELLO);
    zm[0] = 255;
    expect(blobError(() => zipmapDecode(zm)).expected).toMatch(/found 255/);
  });

  it('rejects an empty zipmap and a missing end byte', () => {
    expect(blobError(() => zipmapDecode(hex('00 ff'))).expected).toMatch(/at least one field/);
    expect(blobError(() => zipmapDecode(hex('ff'))).at).toBe(0);
    const zm = Buffer.from(FOO_HELLO);
    zm[zm.length - 1] = 0;
    expect(blobError(() => zipmapDecode(zm)).at).toBe(zm.length - 1);
  });

  it('rejects entries running past the end', () => {
    expect(blobError(() => zipmapDecode(hex('01 05 6b6b ff'))).at).toBe(1); // key
    expect(blobError(() => zipmapDecode(hex('01 01 6b 05 00 76 ff'))).at).toBe(3); // value
    expect(blobError(() => zipmapDecode(hex('01 01 6b 01 05 76 ff'))).at).toBe(3); // free padding
    expect(blobError(() => zipmapDecode(hex('01 01 6b ff'))).at).toBe(3); // no value after the key
    expect(blobError(() => zipmapDecode(hex('01 fe 0100 ff'))).at).toBe(1); // 5-byte length cut
  });

  it('rejects an end byte before the last byte', () => {
    expect(blobError(() => zipmapDecode(hex('01 01 6b 01 00 76 ff 00 ff'))).at).toBe(6);
  });

  it('rejects a value length byte of 0xFF', () => {
    expect(blobError(() => zipmapDecode(hex('01 01 6b ff 00 ff'))).expected).toMatch(/value length/);
  });

  it('only ever throws BlobError on corrupted zipmaps', () => {
    const good = Buffer.concat([hex('02 fe 2c010000'), Buffer.alloc(300, 0x6b), hex('03 02 767676 0000 01 61 01 00 62 ff')]);
    expect(zipmapDecode(good)).toHaveLength(2);
    let s = 11;
    for (let i = 0; i < 5000; i++) {
      const bad = Buffer.from(good);
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const at = i % 2 ? s % 8 : s % bad.length; // bias towards the length bytes
      bad[at] = s >>> 24;
      try {
        zipmapDecode(bad);
      } catch (e) {
        expect(e).toBeInstanceOf(BlobError);
      }
    }
  });
});
