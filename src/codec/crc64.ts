/**
 * CRC-64/Jones as Redis computes it (crc64.c): reflected polynomial 0x95AC9329AC4BC9B5, init 0, no final xor.
 * Covers RDB files (magic .. EOF byte) and DUMP payloads; the result is stored little-endian.
 *
 * Speed matters (it runs over every byte of multi-GB files), so: the 64-bit state lives in two int32 halves
 * (no BigInt in the loop) and the loop is slicing-by-8 — 8 tables of 256 entries, 8 input bytes per step.
 * On little-endian hosts the bulk is read as aligned 32-bit words through an Int32Array view.
 */

const POLY_LO = 0xac4bc9b5 | 0;
const POLY_HI = 0x95ac9329 | 0;

/** Table k, entry i, is at index k*256+i: CRC of byte i followed by k zero bytes. Low and high halves apart. */
const T_LO = new Int32Array(8 * 256);
const T_HI = new Int32Array(8 * 256);

for (let i = 0; i < 256; i++) {
  let lo = i;
  let hi = 0;
  for (let k = 0; k < 8; k++) {
    const mask = -(lo & 1); // all ones when the low bit is set
    lo = ((lo >>> 1) | (hi << 31)) ^ (POLY_LO & mask);
    hi = (hi >>> 1) ^ (POLY_HI & mask);
  }
  T_LO[i] = lo;
  T_HI[i] = hi;
}
for (let t = 1; t < 8; t++) {
  for (let i = 0; i < 256; i++) {
    const lo = T_LO[(t - 1) * 256 + i]!;
    const hi = T_HI[(t - 1) * 256 + i]!;
    const idx = lo & 255;
    T_LO[t * 256 + i] = ((lo >>> 8) | (hi << 24)) ^ T_LO[idx]!;
    T_HI[t * 256 + i] = (hi >>> 8) ^ T_HI[idx]!;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Below this many bytes the word view is not worth creating. */
const WORD_VIEW_MIN = 64;

// Results of the last `run` (module-level to avoid allocating a pair per call).
let outLo = 0;
let outHi = 0;

function run(lo: number, hi: number, buf: Uint8Array, start: number, end: number): void {
  let i = start;
  if (LITTLE_ENDIAN && end - start >= WORD_VIEW_MIN) {
    // Byte-wise up to a 4-byte boundary so the Int32Array view is legal.
    while (((buf.byteOffset + i) & 3) !== 0) {
      const idx = (lo ^ buf[i]!) & 255;
      lo = ((lo >>> 8) | (hi << 24)) ^ T_LO[idx]!;
      hi = (hi >>> 8) ^ T_HI[idx]!;
      i++;
    }
    const words = Math.floor((end - i) / 8) * 2;
    const w = new Int32Array(buf.buffer, buf.byteOffset + i, words);
    for (let j = 0; j < words; j += 2) {
      const a = lo ^ w[j]!;
      const b = hi ^ w[j + 1]!;
      const x0 = 0x700 + (a & 255);
      const x1 = 0x600 + ((a >>> 8) & 255);
      const x2 = 0x500 + ((a >>> 16) & 255);
      const x3 = 0x400 + (a >>> 24);
      const x4 = 0x300 + (b & 255);
      const x5 = 0x200 + ((b >>> 8) & 255);
      const x6 = 0x100 + ((b >>> 16) & 255);
      const x7 = b >>> 24;
      lo = T_LO[x0]! ^ T_LO[x1]! ^ T_LO[x2]! ^ T_LO[x3]! ^ T_LO[x4]! ^ T_LO[x5]! ^ T_LO[x6]! ^ T_LO[x7]!;
      hi = T_HI[x0]! ^ T_HI[x1]! ^ T_HI[x2]! ^ T_HI[x3]! ^ T_HI[x4]! ^ T_HI[x5]! ^ T_HI[x6]! ^ T_HI[x7]!;
    }
    i += words * 4;
  } else {
    // Same slicing step, assembling the little-endian words from bytes (big-endian hosts, short inputs).
    const stop = end - ((end - i) % 8);
    while (i < stop) {
      const a = lo ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
      const b = hi ^ (buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24));
      i += 8;
      const x0 = 0x700 + (a & 255);
      const x1 = 0x600 + ((a >>> 8) & 255);
      const x2 = 0x500 + ((a >>> 16) & 255);
      const x3 = 0x400 + (a >>> 24);
      const x4 = 0x300 + (b & 255);
      const x5 = 0x200 + ((b >>> 8) & 255);
      const x6 = 0x100 + ((b >>> 16) & 255);
      const x7 = b >>> 24;
      lo = T_LO[x0]! ^ T_LO[x1]! ^ T_LO[x2]! ^ T_LO[x3]! ^ T_LO[x4]! ^ T_LO[x5]! ^ T_LO[x6]! ^ T_LO[x7]!;
      hi = T_HI[x0]! ^ T_HI[x1]! ^ T_HI[x2]! ^ T_HI[x3]! ^ T_HI[x4]! ^ T_HI[x5]! ^ T_HI[x6]! ^ T_HI[x7]!;
    }
  }
  for (; i < end; i++) {
    const idx = (lo ^ buf[i]!) & 255;
    lo = ((lo >>> 8) | (hi << 24)) ^ T_LO[idx]!;
    hi = (hi >>> 8) ^ T_HI[idx]!;
  }
  outLo = lo;
  outHi = hi;
}

function checkRange(buf: Uint8Array, start: number, end: number): void {
  if (!(start >= 0 && start <= end && end <= buf.length)) {
    throw new RangeError(`crc64: range [${start}, ${end}) outside a buffer of ${buf.length} bytes`);
  }
}

function toLE(lo: number, hi: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeInt32LE(lo, 0);
  out.writeInt32LE(hi, 4);
  return out;
}

/** Incremental CRC-64: feed chunks in order with `update`, read the result any time. */
export class Crc64 {
  private lo = 0;
  private hi = 0;

  update(buf: Uint8Array, start = 0, end: number = buf.length): void {
    checkRange(buf, start, end);
    run(this.lo, this.hi, buf, start, end);
    this.lo = outLo;
    this.hi = outHi;
  }

  /** 8 bytes little-endian, as stored in RDB trailers and DUMP footers. */
  digestLE(): Buffer {
    return toLE(this.lo, this.hi);
  }

  value(): bigint {
    return (BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0);
  }
}

/** One-shot CRC-64 of buf[start, end), 8 bytes little-endian. */
export function crc64(buf: Uint8Array, start = 0, end: number = buf.length): Buffer {
  checkRange(buf, start, end);
  run(0, 0, buf, start, end);
  return toLE(outLo, outHi);
}

/**
 * CRC-64 of buf[start, end) written little-endian at buf[at, at + 8), allocating nothing: the
 * import assembles one DUMP payload per key straight into its socket buffer.
 */
export function crc64Into(buf: Uint8Array, start: number, end: number, at: number): void {
  checkRange(buf, start, end);
  run(0, 0, buf, start, end);
  const lo = outLo;
  const hi = outHi;
  buf[at] = lo & 255;
  buf[at + 1] = (lo >>> 8) & 255;
  buf[at + 2] = (lo >>> 16) & 255;
  buf[at + 3] = lo >>> 24;
  buf[at + 4] = hi & 255;
  buf[at + 5] = (hi >>> 8) & 255;
  buf[at + 6] = (hi >>> 16) & 255;
  buf[at + 7] = hi >>> 24;
}
