import { RekeyInputError } from '../errors.js';
import { lzfDecompress } from '../codec/lzf.js';
import { intToBuffer } from '../codec/int-text.js';

/**
 * Thrown (as this one shared object, no allocation) when a streaming read runs past the bytes
 * buffered so far. `need` is the absolute buffer position that must be available to go on.
 */
export const NEED_MORE = { need: 0, what: '' };

const TWO32 = 4294967296;

/**
 * A synchronous reader over one Buffer. The streaming parser re-runs a whole entry from its start
 * when NEED_MORE is thrown (pg-protocol style: no per-byte promises, no copies while parsing).
 * The same reader decodes complete payloads, where running short means the data is corrupt.
 */
export class Cursor {
  buf: Buffer;
  pos = 0;
  end: number;
  /** Absolute input offset of buf[0], for error messages. */
  base = 0;
  /** True while more input may arrive: running short asks for more instead of failing. */
  streaming = false;
  /** Bytes the input can still hold beyond `end` (Infinity when unknown, e.g. stdin or gzip). */
  beyond = 0;
  /** Set by lenOrSpecial(): the length byte was a 0xC0-class special string encoding. */
  special = false;

  constructor(
    readonly file: string,
    buf: Buffer,
    start = 0,
    end = buf.length,
  ) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  error(expected: string, at = this.pos): RekeyInputError {
    // Messages name what was expected: "expected <noun phrase>[, found …]".
    return new RekeyInputError(this.file, this.base + at, expected.startsWith('expected ') ? expected : `expected ${expected}`);
  }

  short(n: number, what: string): never {
    if (this.streaming) {
      NEED_MORE.need = this.pos + n;
      NEED_MORE.what = what;
      throw NEED_MORE;
    }
    throw this.error(`expected ${what} (${n} bytes), but only ${this.end - this.pos} bytes are left`);
  }

  /** Reject a declared size that cannot fit in what is left of the input, before allocating. */
  bound(n: number, what: string): void {
    if (n > this.end - this.pos + this.beyond) {
      throw this.error(`expected ${what} of ${n} bytes, but only ${this.end - this.pos + this.beyond} bytes are left`);
    }
  }

  /** Reject an element count that cannot fit (each element takes at least `minEach` bytes). */
  count(n: number, minEach: number, what: string): number {
    if (n * minEach > this.end - this.pos + this.beyond) {
      throw this.error(`expected ${what} that fits in the ${this.end - this.pos + this.beyond} bytes left, found ${n}`);
    }
    return n;
  }

  u8(what = 'a byte'): number {
    if (this.pos >= this.end) this.short(1, what);
    return this.buf[this.pos++]!;
  }

  skip(n: number, what: string): void {
    if (this.end - this.pos < n) {
      this.bound(n, what);
      this.short(n, what);
    }
    this.pos += n;
  }

  bytes(n: number, what: string): Buffer {
    if (this.end - this.pos < n) {
      this.bound(n, what);
      this.short(n, what);
    }
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  i32le(what: string): number {
    if (this.end - this.pos < 4) this.short(4, what);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  u32le(what: string): number {
    if (this.end - this.pos < 4) this.short(4, what);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Signed 64-bit LE as a number (ms timestamps; exact below 2^53). */
  i64le(what: string): number {
    if (this.end - this.pos < 8) this.short(8, what);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readInt32LE(this.pos + 4);
    this.pos += 8;
    return hi * TWO32 + lo;
  }

  f64le(what: string): number {
    if (this.end - this.pos < 8) this.short(8, what);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  u64be(what: string): bigint {
    if (this.end - this.pos < 8) this.short(8, what);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /**
   * RDB length (rdbLoadLenByRef). Returns the 6-bit code with `special = true` for 0xC0-class bytes.
   * 64-bit lengths beyond 2^53 are returned as Infinity-safe numbers only via lenBig().
   */
  lenOrSpecial(what: string): number {
    if (this.pos >= this.end) this.short(1, what);
    const b = this.buf[this.pos]!;
    const kind = b >> 6;
    if (kind === 0) {
      this.special = false;
      this.pos++;
      return b & 0x3f;
    }
    if (kind === 1) {
      if (this.end - this.pos < 2) this.short(2, what);
      this.special = false;
      const v = ((b & 0x3f) << 8) | this.buf[this.pos + 1]!;
      this.pos += 2;
      return v;
    }
    if (kind === 3) {
      this.special = true;
      this.pos++;
      return b & 0x3f;
    }
    if (b === 0x80) {
      if (this.end - this.pos < 5) this.short(5, what);
      this.special = false;
      const v = this.buf.readUInt32BE(this.pos + 1);
      this.pos += 5;
      return v;
    }
    if (b === 0x81) {
      if (this.end - this.pos < 9) this.short(9, what);
      this.special = false;
      const hi = this.buf.readUInt32BE(this.pos + 1);
      const lo = this.buf.readUInt32BE(this.pos + 5);
      if (hi >= 0x200000) throw this.error(`${what} below 2^53, found the 64-bit length ${(BigInt(hi) << 32n) | BigInt(lo)}`);
      this.pos += 9;
      return hi * TWO32 + lo;
    }
    throw this.error(`${what} as a length, found the unknown length byte 0x${b.toString(16)}`);
  }

  len(what: string): number {
    const n = this.lenOrSpecial(what);
    if (this.special) throw this.error(`${what} as a length, found the special string encoding 0x${(0xc0 | n).toString(16)}`, this.pos - 1);
    return n;
  }

  /** A length read as an unsigned 64-bit bigint (stream IDs, entries_added, module UINT). */
  lenBig(what: string): bigint {
    if (this.pos < this.end && this.buf[this.pos] === 0x81) {
      if (this.end - this.pos < 9) this.short(9, what);
      const v = this.buf.readBigUInt64BE(this.pos + 1);
      this.pos += 9;
      return v;
    }
    return BigInt(this.len(what));
  }

  /** An RDB string (rdbGenericLoadStringObject): raw, int-encoded (as decimal text) or LZF. */
  string(what: string): Buffer {
    const start = this.pos;
    const n = this.lenOrSpecial(what);
    if (!this.special) return this.bytes(n, what);
    switch (n) {
      case 0: {
        if (this.pos >= this.end) this.short(1, what);
        return intToBuffer(this.buf.readInt8(this.pos++));
      }
      case 1: {
        if (this.end - this.pos < 2) this.short(2, what);
        const v = this.buf.readInt16LE(this.pos);
        this.pos += 2;
        return intToBuffer(v);
      }
      case 2: {
        if (this.end - this.pos < 4) this.short(4, what);
        const v = this.buf.readInt32LE(this.pos);
        this.pos += 4;
        return intToBuffer(v);
      }
      case 3: {
        const clen = this.len(`${what} (compressed length)`);
        const ulen = this.len(`${what} (uncompressed length)`);
        // A 3-byte LZF back-reference yields at most 264 bytes, so ~88x is the ceiling; more is corruption.
        if (ulen > clen * 90 + 64) throw this.error(`${what} as LZF data that can inflate to its length, found ${ulen} bytes claimed from ${clen} compressed`, start);
        const at = this.pos;
        this.skip(clen, `${what} (LZF data)`);
        try {
          return lzfDecompress(this.buf, at, at + clen, ulen);
        } catch (e) {
          throw this.error(`${what} as valid LZF data (${(e as Error).message})`, at);
        }
      }
      default:
        throw this.error(`${what} as a string, found the unknown encoding 0x${(0xc0 | n).toString(16)}`, start);
    }
  }

  /** Step over an RDB string without decoding it. */
  skipString(what: string): void {
    const n = this.lenOrSpecial(what);
    if (!this.special) {
      this.skip(n, what);
      return;
    }
    switch (n) {
      case 0: this.skip(1, what); return;
      case 1: this.skip(2, what); return;
      case 2: this.skip(4, what); return;
      case 3: {
        const clen = this.len(`${what} (compressed length)`);
        this.len(`${what} (uncompressed length)`);
        this.skip(clen, `${what} (LZF data)`);
        return;
      }
      default:
        throw this.error(`${what} as a string, found the unknown encoding 0x${(0xc0 | n).toString(16)}`, this.pos - 1);
    }
  }

  /** Legacy text double (ZSET type 3): length byte, 253/254/255 = NaN/+inf/-inf. */
  textDouble(what: string): number {
    const n = this.u8(what);
    if (n === 253) return NaN;
    if (n === 254) return Infinity;
    if (n === 255) return -Infinity;
    const s = this.bytes(n, what).toString('latin1');
    const v = Number(s);
    if (Number.isNaN(v) && s.trim().toLowerCase() !== 'nan') throw this.error(`${what} as a number, found "${s}"`, this.pos - n);
    return v;
  }

  skipTextDouble(what: string): void {
    const n = this.u8(what);
    if (n < 253) this.skip(n, what);
  }
}
