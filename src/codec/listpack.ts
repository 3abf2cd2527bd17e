/**
 * Listpack (listpack.c), the blob inside RDB types 16, 17, 20, 23, 25, quicklist-2 nodes and stream nodes.
 *
 *   total_bytes:u32le | num_elements:u16le (0xFFFF = unknown) | element* | 0xFF
 *   element = encoding [data] backlen      (backlen = size of encoding+data, a right-to-left varint)
 *
 * Decoding validates like Redis' deep integrity check (lpValidateIntegrity / lpValidateNext), because files and
 * DUMP payloads may be corrupt. Encoding produces the bytes Redis itself would write for the same elements.
 * BlobError offsets are relative to the start of the listpack.
 */
import { BlobError } from '../errors.js';
import { canonicalIntValue, intToBuffer, storageForm } from './int-text.js';

/** An element: string bytes, or an integer (number when a safe integer, bigint beyond ±2^53). */
export type LpItem = Buffer | number | bigint;

const HEADER = 6;
const END = 0xff;
const NUMELE_UNKNOWN = 0xffff;
const MAX_TOTAL = 0xffffffff;

/** Bytes of the backlen that follows an element of `l` bytes (lpEncodeBacklen's exact thresholds). */
export function backlenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

function hex(b: number): string {
  return '0x' + b.toString(16).padStart(2, '0');
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

/** Set by decodeAt: offset just past the element (after its backlen). Module state instead of a returned pair. */
let nextPos = 0;

/**
 * Decode the element at `p` (absolute offset; caller guarantees p < last and blob[p] is not the end byte's
 * position) where `last` is the offset of the terminating 0xFF and `start` is the listpack's first byte.
 */
function decodeAt(blob: Buffer, p: number, last: number, start: number): LpItem {
  const b = blob[p]!;
  let size: number; // encoding + data
  let item: LpItem;
  if (b < 0x80) {
    size = 1;
    item = b;
  } else if (b < 0xc0) {
    size = 1 + (b & 0x3f);
    if (p + size > last) throw new BlobError(p - start, `listpack string of ${size - 1} bytes within the listpack`);
    item = blob.subarray(p + 1, p + size);
  } else if (b < 0xe0) {
    size = 2;
    if (p + 2 > last) throw new BlobError(p - start, 'listpack 13-bit integer within the listpack');
    const v = ((b & 0x1f) << 8) | blob[p + 1]!;
    item = v >= 4096 ? v - 8192 : v;
  } else if (b < 0xf0) {
    if (p + 2 > last) throw new BlobError(p - start, 'listpack 12-bit string length within the listpack');
    size = 2 + (((b & 0x0f) << 8) | blob[p + 1]!);
    if (p + size > last) throw new BlobError(p - start, `listpack string of ${size - 2} bytes within the listpack`);
    item = blob.subarray(p + 2, p + size);
  } else {
    switch (b) {
      case 0xf0: {
        if (p + 5 > last) throw new BlobError(p - start, 'listpack 32-bit string length within the listpack');
        const len = blob[p + 1]! | (blob[p + 2]! << 8) | (blob[p + 3]! << 16) | (blob[p + 4]! * 0x1000000);
        size = 5 + len;
        if (p + size > last) throw new BlobError(p - start, `listpack string of ${len} bytes within the listpack`);
        item = blob.subarray(p + 5, p + size);
        break;
      }
      case 0xf1:
        size = 3;
        if (p + 3 > last) throw new BlobError(p - start, 'listpack int16 within the listpack');
        item = ((blob[p + 1]! | (blob[p + 2]! << 8)) << 16) >> 16;
        break;
      case 0xf2:
        size = 4;
        if (p + 4 > last) throw new BlobError(p - start, 'listpack int24 within the listpack');
        item = ((blob[p + 1]! | (blob[p + 2]! << 8) | (blob[p + 3]! << 16)) << 8) >> 8;
        break;
      case 0xf3:
        size = 5;
        if (p + 5 > last) throw new BlobError(p - start, 'listpack int32 within the listpack');
        item = blob[p + 1]! | (blob[p + 2]! << 8) | (blob[p + 3]! << 16) | (blob[p + 4]! << 24);
        break;
      case 0xf4: {
        size = 9;
        if (p + 9 > last) throw new BlobError(p - start, 'listpack int64 within the listpack');
        const lo = (blob[p + 1]! | (blob[p + 2]! << 8) | (blob[p + 3]! << 16) | (blob[p + 4]! << 24)) >>> 0;
        const hi = blob[p + 5]! | (blob[p + 6]! << 8) | (blob[p + 7]! << 16) | (blob[p + 8]! << 24);
        // |hi| < 2^21 keeps hi*2^32+lo exact, so the safe-integer test below is reliable.
        const v = hi * 4294967296 + lo;
        item = hi >= -2097152 && hi < 2097152 && Number.isSafeInteger(v) ? v : blob.readBigInt64LE(p + 1);
        break;
      }
      case END:
        throw new BlobError(p - start, 'listpack element (found the end byte 0xFF before the last byte)');
      default:
        throw new BlobError(p - start, `listpack element encoding (found unknown ${hex(b)})`);
    }
  }

  // backlen: exactly the bytes lpEncodeBacklen writes for `size`.
  const q = p + size;
  const bl = backlenSize(size);
  if (q + bl > last) throw new BlobError(q - start, `listpack backlen of ${bl} byte(s) within the listpack`);
  if (bl === 1) {
    if (blob[q] !== size) throw new BlobError(q - start, `listpack backlen ${size} (found ${blob[q]})`);
  } else {
    let l = size;
    let ok = true;
    for (let r = q + bl - 1; r > q; r--) {
      if (blob[r] !== ((l & 127) | 128)) ok = false;
      l >>>= 7;
    }
    if (!ok || blob[q] !== l) throw new BlobError(q - start, `listpack backlen ${size} in ${bl} bytes`);
  }
  nextPos = q + bl;
  return item;
}

/** Validate the header and terminator; returns the offset of the terminating 0xFF. */
function checkFrame(blob: Buffer, start: number, end: number): number {
  if (!(start >= 0 && start <= end && end <= blob.length)) {
    throw new RangeError(`listpack: range [${start}, ${end}) outside ${blob.length} bytes`);
  }
  const size = end - start;
  if (size < HEADER + 1) throw new BlobError(0, `listpack of at least 7 bytes (found ${size})`);
  const total = blob.readUInt32LE(start);
  if (total !== size) throw new BlobError(0, `listpack total_bytes ${size} (found ${total})`);
  if (blob[end - 1] !== END) throw new BlobError(size - 1, `listpack end byte 0xFF (found ${hex(blob[end - 1]!)})`);
  return end - 1;
}

function checkCount(blob: Buffer, start: number, count: number): void {
  const numele = blob[start + 4]! | (blob[start + 5]! << 8);
  if (numele !== NUMELE_UNKNOWN && numele !== count) {
    throw new BlobError(4, `listpack num_elements ${count} (found ${numele})`);
  }
}

/** All elements of the listpack in blob[start, end). String elements are views into `blob` (no copy). */
export function listpackDecode(blob: Buffer, start = 0, end: number = blob.length): LpItem[] {
  const last = checkFrame(blob, start, end);
  const out: LpItem[] = [];
  let p = start + HEADER;
  while (p < last) {
    out.push(decodeAt(blob, p, last, start));
    p = nextPos;
  }
  checkCount(blob, start, out.length);
  return out;
}

/**
 * Visit the elements in order without building an array; returns the count. The whole listpack is validated
 * as it goes, so `cb` may have seen some elements before a BlobError is thrown.
 */
export function listpackForEach(
  blob: Buffer,
  start: number,
  end: number,
  cb: (item: LpItem, index: number) => void,
): number {
  const last = checkFrame(blob, start, end);
  let count = 0;
  let p = start + HEADER;
  while (p < last) {
    const item = decodeAt(blob, p, last, start);
    p = nextPos;
    cb(item, count++);
  }
  checkCount(blob, start, count);
  return count;
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

/** Size of the integer encoding+data that lpEncodeIntegerGetType picks for a safe integer. */
export function intEncSize(v: number): number {
  if (v >= 0 && v <= 127) return 1;
  if (v >= -4096 && v <= 4095) return 2;
  if (v >= -32768 && v <= 32767) return 3;
  if (v >= -8388608 && v <= 8388607) return 4;
  if (v >= -2147483648 && v <= 2147483647) return 5;
  return 9;
}

function strEncSize(len: number): number {
  return len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
}

function writeBacklen(out: Buffer, o: number, l: number): number {
  const bl = backlenSize(l);
  if (bl === 1) {
    out[o] = l;
    return o + 1;
  }
  for (let r = o + bl - 1; r > o; r--) {
    out[r] = (l & 127) | 128;
    l >>>= 7;
  }
  out[o] = l;
  return o + bl;
}

function writeInt(out: Buffer, o: number, v: number | bigint): number {
  if (typeof v === 'bigint') {
    out[o] = 0xf4;
    out.writeBigInt64LE(v, o + 1);
    return writeBacklen(out, o + 9, 9);
  }
  const size = intEncSize(v);
  switch (size) {
    case 1:
      out[o] = v;
      break;
    case 2: {
      const u = v < 0 ? v + 8192 : v;
      out[o] = 0xc0 | (u >>> 8);
      out[o + 1] = u & 0xff;
      break;
    }
    case 3:
      out[o] = 0xf1;
      out[o + 1] = v & 0xff;
      out[o + 2] = (v >> 8) & 0xff;
      break;
    case 4:
      out[o] = 0xf2;
      out[o + 1] = v & 0xff;
      out[o + 2] = (v >> 8) & 0xff;
      out[o + 3] = (v >> 16) & 0xff;
      break;
    case 5:
      out[o] = 0xf3;
      out[o + 1] = v & 0xff;
      out[o + 2] = (v >> 8) & 0xff;
      out[o + 3] = (v >> 16) & 0xff;
      out[o + 4] = (v >>> 24) & 0xff;
      break;
    default: {
      // ToUint32 is exact modulo 2^32 for safe integers; the floor division gives the signed high word.
      const lo = v >>> 0;
      const hi = Math.floor(v / 4294967296) | 0;
      out[o] = 0xf4;
      out[o + 1] = lo & 0xff;
      out[o + 2] = (lo >>> 8) & 0xff;
      out[o + 3] = (lo >>> 16) & 0xff;
      out[o + 4] = lo >>> 24;
      out[o + 5] = hi & 0xff;
      out[o + 6] = (hi >>> 8) & 0xff;
      out[o + 7] = (hi >>> 16) & 0xff;
      out[o + 8] = hi >>> 24;
    }
  }
  return writeBacklen(out, o + size, size);
}

function writeStr(out: Buffer, o: number, s: Uint8Array): number {
  const len = s.length;
  let h: number;
  if (len < 64) {
    out[o] = 0x80 | len;
    h = 1;
  } else if (len < 4096) {
    out[o] = 0xe0 | (len >>> 8);
    out[o + 1] = len & 0xff;
    h = 2;
  } else {
    out[o] = 0xf0;
    out.writeUInt32LE(len, o + 1);
    h = 5;
  }
  out.set(s, o + h);
  return writeBacklen(out, o + h + len, h + len);
}

/**
 * Build a listpack exactly as Redis would: text that is a canonical int64 and all integer items get the smallest
 * integer encoding; other text is a 6/12/32-bit-length string. Number items must be integers.
 */
export function listpackEncode(items: ReadonlyArray<Buffer | number | bigint>): Buffer {
  const n = items.length;
  // Pass 1: decide each element's form once (canonical-int parse included) and add up the exact size.
  const forms: Array<number | bigint | Uint8Array> = new Array(n);
  let total = HEADER + 1;
  for (let i = 0; i < n; i++) {
    const form = storageForm(items[i]!);
    forms[i] = form;
    const size = typeof form === 'number' ? intEncSize(form) : typeof form === 'bigint' ? 9 : strEncSize(form.length);
    total += size + backlenSize(size);
  }
  if (total > MAX_TOTAL) throw new RangeError(`listpack of ${total} bytes exceeds the 32-bit total_bytes field`);

  // Pass 2: write into one buffer (every byte is written, so allocUnsafe is fine).
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32LE(total, 0);
  const numele = n < NUMELE_UNKNOWN ? n : NUMELE_UNKNOWN;
  out[4] = numele & 0xff;
  out[5] = numele >>> 8;
  let o = HEADER;
  for (let i = 0; i < n; i++) {
    const form = forms[i]!;
    o = typeof form === 'object' ? writeStr(out, o, form) : writeInt(out, o, form);
  }
  out[o] = END;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Item conversions

/** Text form of an element: Redis surfaces integer elements as their decimal string. */
export function itemToBuffer(item: LpItem): Buffer {
  return typeof item === 'object' ? item : intToBuffer(item);
}

/**
 * Numeric value of an element: integers as-is (a bigint is rounded), text parsed as a decimal float the way
 * scores are written ("1.5", "-0", "1e+20", "inf", "-inf"). NaN when the text is not a number.
 */
export function itemToNumber(item: LpItem): number {
  if (typeof item === 'number') return item;
  if (typeof item === 'bigint') return Number(item);
  const iv = item.length <= 20 ? canonicalIntValue(item) : null;
  if (iv !== null) return Number(iv);
  const s = item.toString('latin1').trim().toLowerCase();
  if (s === '') return NaN;
  if (s === 'inf' || s === '+inf' || s === 'infinity' || s === '+infinity') return Infinity;
  if (s === '-inf' || s === '-infinity') return -Infinity;
  return Number(s);
}

/** Integer value of an element; text must be a canonical int64 (Redis `string2ll`), else RangeError. */
export function itemToBigInt(item: LpItem): bigint {
  if (typeof item === 'bigint') return item;
  if (typeof item === 'number') {
    if (!Number.isInteger(item)) throw new RangeError(`not an integer: ${item}`);
    return BigInt(item);
  }
  const v = item.length <= 20 ? canonicalIntValue(item) : null;
  if (v === null) throw new RangeError(`not an integer: ${JSON.stringify(item.toString('latin1').slice(0, 40))}`);
  return BigInt(v);
}
