/**
 * RDB primitives for writers (docs/rdb-format.md §3): a growable byte buffer with the RDB length, string,
 * fixed-width and text-double encodings. Every writer (value encoder, RDB sink, RESP batching) builds
 * into one of these so a value or a 1 MB output chunk is a single allocation that doubles as needed.
 */
import { canonicalInt32 } from '../codec/int-text.js';
import { lzfCompress } from '../codec/lzf.js';

const TWO32 = 4294967296;

/** Bytes `len(n)` takes (rdbSaveLen's canonical form). */
export function lenSize(n: number | bigint): number {
  if (typeof n === 'bigint') return n < 64n ? 1 : n < 16384n ? 2 : n <= 0xffffffffn ? 5 : 9;
  return n < 64 ? 1 : n < 16384 ? 2 : n <= 0xffffffff ? 5 : 9;
}

export class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialSize));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** Make room for `n` more bytes (grow by doubling, so appends are amortised O(1)). */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Decimal ASCII of an integer, written without making a string (RESP lengths, ledger lines). */
  decimal(n: number): this {
    this.ensure(24);
    if (!(n >= 0 && n <= 0xffffffff)) {
      this.pos += this.buf.write(String(n), this.pos, 'latin1');
      return this;
    }
    let len = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) len++;
    let p = this.pos + len;
    this.pos = p;
    const b = this.buf;
    do {
      const q = Math.floor(n / 10);
      b[--p] = 48 + n - q * 10;
      n = q;
    } while (n > 0);
    return this;
  }

  u8(v: number): this {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u16le(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.pos);
    this.pos += 2;
    return this;
  }

  i32le(v: number): this {
    this.ensure(4);
    this.buf.writeInt32LE(v, this.pos);
    this.pos += 4;
    return this;
  }

  u32be(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  bytes(b: Uint8Array, start = 0, end: number = b.length): this {
    const n = end - start;
    this.ensure(n);
    this.buf.set(start === 0 && end === b.length ? b : b.subarray(start, end), this.pos);
    this.pos += n;
    return this;
  }

  /** RDB length (rdbSaveLen): <64 one byte, <16384 two bytes BE, ≤ 2^32-1 0x80+u32 BE, else 0x81+u64 BE. */
  len(n: number | bigint): this {
    if (typeof n === 'bigint') {
      if (n < 0n || n > 0xffffffffffffffffn) throw new RangeError(`RDB length out of range: ${n}`);
      if (n <= 0xffffffffn) return this.len(Number(n));
      this.ensure(9);
      this.buf[this.pos] = 0x81;
      this.buf.writeBigUInt64BE(n, this.pos + 1);
      this.pos += 9;
      return this;
    }
    if (!(n >= 0) || !Number.isInteger(n)) throw new RangeError(`RDB length out of range: ${n}`);
    if (n < 64) return this.u8(n);
    if (n < 16384) {
      this.ensure(2);
      this.buf[this.pos] = 0x40 | (n >>> 8);
      this.buf[this.pos + 1] = n & 0xff;
      this.pos += 2;
      return this;
    }
    if (n <= 0xffffffff) {
      this.ensure(5);
      this.buf[this.pos] = 0x80;
      this.buf.writeUInt32BE(n, this.pos + 1);
      this.pos += 5;
      return this;
    }
    if (!Number.isSafeInteger(n)) throw new RangeError(`RDB length beyond 2^53, pass a bigint: ${n}`);
    this.ensure(9);
    this.buf[this.pos] = 0x81;
    this.buf.writeUInt32BE(Math.floor(n / TWO32), this.pos + 1);
    this.buf.writeUInt32BE(n >>> 0, this.pos + 5);
    this.pos += 9;
    return this;
  }

  /**
   * A length in the fixed 5-byte 0x80 form, whatever its size (loaders accept non-minimal lengths), so it can
   * be patched in place later. Returns the offset of the 4 value bytes.
   */
  len32Fixed(n: number): number {
    if (!(n >= 0 && n <= 0xffffffff)) throw new RangeError(`32-bit RDB length out of range: ${n}`);
    this.ensure(5);
    this.buf[this.pos] = 0x80;
    this.buf.writeUInt32BE(n, this.pos + 1);
    this.pos += 5;
    return this.pos - 4;
  }

  /**
   * RDB string (rdbSaveRawString): int-encoded (0xC0/C1/C2, smallest) only when the bytes are canonical decimal
   * text within int32, so "007" stays text; LZF (0xC3) when `compress` is on and it saves ≥ 4 bytes of a string
   * longer than 20 (lzfCompress applies Redis' exact budget); else length + raw bytes.
   */
  string(b: Uint8Array, compress = false): this {
    const n = b.length;
    if (n <= 11 && n > 0) {
      const v = canonicalInt32(b);
      if (v !== null) {
        if (v >= -128 && v <= 127) {
          this.ensure(2);
          this.buf[this.pos] = 0xc0;
          this.buf.writeInt8(v, this.pos + 1);
          this.pos += 2;
        } else if (v >= -32768 && v <= 32767) {
          this.ensure(3);
          this.buf[this.pos] = 0xc1;
          this.buf.writeInt16LE(v, this.pos + 1);
          this.pos += 3;
        } else {
          this.ensure(5);
          this.buf[this.pos] = 0xc2;
          this.buf.writeInt32LE(v, this.pos + 1);
          this.pos += 5;
        }
        return this;
      }
    }
    if (compress && n > 20) {
      const c = lzfCompress(b);
      if (c !== null) {
        this.u8(0xc3);
        this.len(c.length);
        this.len(n);
        return this.bytes(c);
      }
    }
    this.len(n);
    return this.bytes(b);
  }

  /** Signed 64-bit little-endian from a number (ms timestamps; exact below 2^53). */
  i64le(v: number): this {
    if (!Number.isSafeInteger(v)) throw new RangeError(`i64 value is not a safe integer: ${v}`);
    this.ensure(8);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.buf.writeInt32LE(Math.floor(v / TWO32), this.pos + 4);
    this.pos += 8;
    return this;
  }

  f64le(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
    return this;
  }

  u64be(v: bigint): this {
    this.ensure(8);
    this.buf.writeBigUInt64BE(v, this.pos);
    this.pos += 8;
    return this;
  }

  /** String double for ZSET type 3 (rdbSaveDoubleValue): 253/254/255 = NaN/+inf/-inf, else length + text. */
  textDouble(x: number): this {
    if (Number.isNaN(x)) return this.u8(253);
    if (x === Infinity) return this.u8(254);
    if (x === -Infinity) return this.u8(255);
    const s = doubleText(x);
    this.u8(s.length);
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
    return this;
  }

  /** The bytes written (a view, no copy). The writer starts over on a fresh buffer, so the view stays valid. */
  finish(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(Math.max(16, Math.min(this.buf.length, 1 << 20)));
    this.pos = 0;
    return out;
  }
}

/**
 * Shortest text that reads back as exactly `x` with C's strtod (JS's Number→String round-trips), for finite x.
 * JS only switches to exponent form at 1e21, so integers print plainly; -0 keeps its sign (String(-0) is "0").
 */
export function doubleText(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  return String(x);
}
