import { describe, expect, it } from 'vitest';
import { BlobError } from '../../src/errors.js';
import { lzfCompress, lzfDecompress } from '../../src/codec/lzf.js';
import { blobError, hex } from '../helpers/bytes.js';

function rand(n: number, seed: number, alphabet = 256): Buffer {
  const b = Buffer.allocUnsafe(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    b[i] = (s >>> 24) % alphabet;
  }
  return b;
}

/** Straight transcription of the format, for cross-checking (no validation). */
function referenceDecompress(c: Buffer, outLen: number): Buffer {
  const out = Buffer.alloc(outLen);
  let ip = 0;
  let op = 0;
  while (ip < c.length) {
    const ctrl = c[ip++]!;
    if (ctrl < 32) for (let n = ctrl + 1; n > 0; n--) out[op++] = c[ip++]!;
    else {
      let len = ctrl >> 5;
      if (len === 7) len += c[ip++]!;
      let ref = op - ((ctrl & 31) << 8) - c[ip++]! - 1;
      for (len += 2; len > 0; len--) out[op++] = out[ref++]!;
    }
  }
  return out;
}

function roundTrip(input: Buffer): Buffer | null {
  const c = lzfCompress(input);
  if (c !== null) {
    expect(c.length).toBeLessThanOrEqual(input.length - 4);
    // Buffer#equals: vitest's deep equality is far too slow on megabyte buffers
    expect(lzfDecompress(c, 0, c.length, input.length).equals(input)).toBe(true);
  }
  return c;
}

describe('lzfDecompress', () => {
  it('inflates a literal-only stream (docs/rdb-format.md §3.2: C3 06 05 | 04 68 65 6C 6C 6F)', () => {
    expect(lzfDecompress(hex('0468656c6c6f'), 0, 6, 5).toString()).toBe('hello');
  });

  it('honours start/end inside a larger buffer', () => {
    const buf = hex('ffff 0468656c6c6f ffff');
    expect(lzfDecompress(buf, 2, 8, 5).toString()).toBe('hello');
  });

  it('copies overlapping back-references byte by byte (run of one byte)', () => {
    // literal "a", then back-reference len 7+0x1c (+2 = 37) at distance 1 → 38 × "a"
    expect(lzfDecompress(hex('0061 e01c00'), 0, 5, 38).toString()).toBe('a'.repeat(38));
  });

  it('repeats a pattern when the distance is shorter than the length (chunked copy path)', () => {
    // literal "0123456789", then back-reference of 30 bytes at distance 10
    const c = Buffer.concat([hex('09'), Buffer.from('0123456789'), hex('e0 15 09')]);
    expect(lzfDecompress(c, 0, c.length, 40).toString()).toBe('0123456789'.repeat(4));
  });

  it('agrees with a byte-by-byte reference decoder on many streams', () => {
    for (let i = 0; i < 200; i++) {
      const input = rand(21 + ((i * 4973) % 20_000), i + 100, 2 + (i % 5));
      const c = lzfCompress(input);
      if (c === null) continue;
      expect(lzfDecompress(c, 0, c.length, input.length).equals(referenceDecompress(c, input.length))).toBe(true);
    }
  });

  it('only ever throws BlobError on corrupted streams', () => {
    const input = Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(20));
    const good = lzfCompress(input)!;
    let s = 9;
    for (let i = 0; i < 3000; i++) {
      const bad = Buffer.from(good);
      for (let k = 0; k < 1 + (i % 3); k++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        bad[s % bad.length] = s >>> 24;
      }
      const end = i % 5 === 0 ? s % bad.length : bad.length;
      try {
        expect(lzfDecompress(bad, 0, end, input.length).length).toBe(input.length);
      } catch (e) {
        expect(e).toBeInstanceOf(BlobError);
      }
    }
  });

  it('inflates LZF strings written by Redis 7.0.15', () => {
    expect(lzfDecompress(hex('016161e01c00016161'), 0, 9, 41).toString()).toBe('a'.repeat(41));
    const json = '{"user":"alice","role":"admin","user2":"bob","role2":"admin"}';
    const c = hex(
      '147b2275736572223a22616c696365222c22726f6c65400e03646d696e200e401d0032200f02626f62200d401c400d601d01227d',
    );
    expect(lzfDecompress(c, 0, c.length, json.length).toString()).toBe(json);
  });

  it('rejects a back-reference before the output start', () => {
    const e = blobError(() => lzfDecompress(hex('0061 2001'), 0, 4, 4)); // distance 2, only 1 byte out
    expect(e.at).toBe(2);
    expect(e.expected).toMatch(/back-reference/);
  });

  it('rejects output overflow (literal and back-reference)', () => {
    expect(blobError(() => lzfDecompress(hex('0468656c6c6f'), 0, 6, 4)).expected).toMatch(/overflow/);
    expect(blobError(() => lzfDecompress(hex('0061 2000'), 0, 4, 3)).expected).toMatch(/overflow/);
  });

  it('rejects truncated input', () => {
    expect(blobError(() => lzfDecompress(hex('0468656c6c'), 0, 5, 5)).expected).toMatch(/truncated/);
    expect(blobError(() => lzfDecompress(hex('0061 20'), 0, 3, 4)).expected).toMatch(/truncated/);
    expect(blobError(() => lzfDecompress(hex('0061 e0'), 0, 3, 40)).expected).toMatch(/truncated/);
    expect(blobError(() => lzfDecompress(hex('0061 e001'), 0, 4, 40)).expected).toMatch(/truncated/);
    expect(blobError(() => lzfDecompress(hex(''), 0, 0, 0)).expected).toMatch(/empty/);
  });

  it('rejects a final length different from outLen', () => {
    const e = blobError(() => lzfDecompress(hex('0468656c6c6f'), 0, 6, 6));
    expect(e.expected).toMatch(/6 bytes, the data inflates to 5/);
    expect(e.at).toBe(6);
  });

  it('reports offsets relative to start', () => {
    const buf = hex('aaaaaa 0061 2005');
    expect(blobError(() => lzfDecompress(buf, 3, 7, 4)).at).toBe(2);
  });
});

describe('lzfCompress', () => {
  it('returns null for inputs of 20 bytes or less (Redis compresses only longer strings)', () => {
    expect(lzfCompress(Buffer.alloc(20))).toBeNull();
    expect(lzfCompress(Buffer.alloc(0))).toBeNull();
    expect(lzfCompress(Buffer.alloc(21))).not.toBeNull();
  });

  it('returns null when the saving is under 4 bytes (random data)', () => {
    for (const n of [21, 50, 1000, 100_000]) expect(lzfCompress(rand(n, n))).toBeNull();
  });

  it('produces the same bytes as Redis for the strings it wrote', () => {
    expect(lzfCompress(Buffer.from('a'.repeat(41)))).toEqual(hex('016161e01c00016161'));
    expect(lzfCompress(Buffer.from('abcdefghij'.repeat(30)))).toEqual(
      hex('0a6162636465666768696a61e0ff09e10e0d01696a'),
    );
    expect(lzfCompress(Buffer.from('{"user":"alice","role":"admin","user2":"bob","role2":"admin"}'))).toEqual(
      hex('147b2275736572223a22616c696365222c22726f6c65400e03646d696e200e401d0032200f02626f62200d401c400d601d01227d'),
    );
  });

  it('round-trips highly repetitive data with long matches', () => {
    for (const n of [21, 22, 100, 263, 264, 265, 266, 300, 8192, 8193, 70_000, 1 << 20]) {
      const c = roundTrip(Buffer.alloc(n, 0x61));
      expect(c).not.toBeNull();
      expect(c!.length).toBeLessThan(n / 30 + 8);
    }
  });

  it('round-trips text-like and low-entropy data of many sizes', () => {
    let compressed = 0;
    for (let i = 0; i < 300; i++) {
      const n = 21 + ((i * 7919) % (i < 150 ? 200 : 50_000));
      const input = rand(n, i + 1, 2 + (i % 9));
      if (roundTrip(input) !== null) compressed++;
    }
    const text = Buffer.from(
      Array.from({ length: 2000 }, (_, i) => `{"id":${i},"name":"user-${i % 97}","tags":["a","b"]}`).join('\n'),
    );
    expect(roundTrip(text)).not.toBeNull();
    expect(compressed).toBeGreaterThan(150);
  });

  it('round-trips matches at distances near the 8192-byte window', () => {
    const block = rand(100, 5);
    for (const gap of [8000, 8090, 8091, 8092, 8093, 8200]) {
      const input = Buffer.concat([block, rand(gap, gap), block, Buffer.alloc(40, 1)]);
      roundTrip(input);
    }
  });

  it('does not depend on earlier calls (stale hash entries are ignored)', () => {
    const a = Buffer.from('xyz'.repeat(100));
    const b = Buffer.from('hello world, '.repeat(20));
    const first = lzfCompress(b);
    lzfCompress(a);
    expect(lzfCompress(b)).toEqual(first);
  });
});
