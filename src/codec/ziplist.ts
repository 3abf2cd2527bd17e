/**
 * Ziplist (ziplist.c), the blob of RDB types 10, 12, 13 and quicklist-v1 nodes (Redis 2.6 – 6.2).
 *
 *   zlbytes:u32le | zltail:u32le | zllen:u16le (0xFFFF = unknown) | entry* | 0xFF
 *   entry = prevlen (1 byte < 254, or 0xFE + u32le) | encoding | data
 *
 * String lengths in the encoding are BIG-endian (14- and 32-bit forms); integers are little-endian.
 * Decoding validates like ziplistValidateIntegrity (deep). BlobError offsets are relative to the ziplist start.
 */
import { BlobError } from '../errors.js';
import { storageForm } from './int-text.js';
import type { LpItem } from './listpack.js';

const HEADER = 10;
const END = 0xff;
const BIG_PREVLEN = 0xfe;
const ZLLEN_UNKNOWN = 0xffff;

function hex(b: number): string {
  return '0x' + b.toString(16).padStart(2, '0');
}

/** All entries of the ziplist in blob[start, end). String entries are views into `blob` (no copy). */
export function ziplistDecode(blob: Buffer, start = 0, end: number = blob.length): LpItem[] {
  if (!(start >= 0 && start <= end && end <= blob.length)) {
    throw new RangeError(`ziplist: range [${start}, ${end}) outside ${blob.length} bytes`);
  }
  const size = end - start;
  if (size < HEADER + 1) throw new BlobError(0, `ziplist of at least 11 bytes (found ${size})`);
  const zlbytes = blob.readUInt32LE(start);
  if (zlbytes !== size) throw new BlobError(0, `ziplist zlbytes ${size} (found ${zlbytes})`);
  const zltail = blob.readUInt32LE(start + 4);
  if (zltail > size - 1) throw new BlobError(4, `ziplist zltail inside the ziplist (found ${zltail})`);
  const last = end - 1;
  if (blob[last] !== END) throw new BlobError(size - 1, `ziplist end byte 0xFF (found ${hex(blob[last]!)})`);

  const out: LpItem[] = [];
  let p = start + HEADER;
  let prevSize = 0;
  let prevStart = -1;
  while (p < last) {
    const at = p - start;
    // prevlen
    const b0 = blob[p]!;
    let prevlen: number;
    let e: number; // offset of the encoding byte
    if (b0 < BIG_PREVLEN) {
      prevlen = b0;
      e = p + 1;
    } else if (b0 === BIG_PREVLEN) {
      if (p + 5 >= last) throw new BlobError(at, 'ziplist 5-byte prevlen within the ziplist');
      prevlen = blob.readUInt32LE(p + 1);
      e = p + 5;
    } else {
      throw new BlobError(at, 'ziplist entry (found the end byte 0xFF before the last byte)');
    }
    if (prevlen !== prevSize) throw new BlobError(at, `ziplist prevlen ${prevSize} (found ${prevlen})`);
    if (e >= last) throw new BlobError(e - start, 'ziplist entry encoding within the ziplist');

    // encoding + data
    const enc = blob[e]!;
    let next: number; // end of this entry
    let item: LpItem;
    if (enc < 0xc0) {
      let d: number; // data start
      let len: number;
      if (enc < 0x40) {
        len = enc;
        d = e + 1;
      } else if (enc < 0x80) {
        if (e + 2 > last) throw new BlobError(e - start, 'ziplist 14-bit string length within the ziplist');
        len = ((enc & 0x3f) << 8) | blob[e + 1]!;
        d = e + 2;
      } else {
        // 10xxxxxx: Redis masks the low bits away, so any of 0x80–0xBF means a 32-bit big-endian length.
        if (e + 5 > last) throw new BlobError(e - start, 'ziplist 32-bit string length within the ziplist');
        len = blob.readUInt32BE(e + 1);
        d = e + 5;
      }
      next = d + len;
      if (next > last) throw new BlobError(e - start, `ziplist string of ${len} bytes within the ziplist`);
      item = blob.subarray(d, next);
    } else {
      const d = e + 1;
      let w: number; // data width
      switch (enc) {
        case 0xc0:
          w = 2;
          break;
        case 0xd0:
          w = 4;
          break;
        case 0xe0:
          w = 8;
          break;
        case 0xf0:
          w = 3;
          break;
        case 0xfe:
          w = 1;
          break;
        default:
          if (enc >= 0xf1 && enc <= 0xfd) w = 0;
          else throw new BlobError(e - start, `ziplist entry encoding (found unknown ${hex(enc)})`);
      }
      next = d + w;
      if (next > last) throw new BlobError(e - start, `ziplist ${w}-byte integer within the ziplist`);
      switch (w) {
        case 0:
          item = (enc & 0x0f) - 1;
          break;
        case 1:
          item = (blob[d]! << 24) >> 24;
          break;
        case 2:
          item = ((blob[d]! | (blob[d + 1]! << 8)) << 16) >> 16;
          break;
        case 3:
          item = ((blob[d]! | (blob[d + 1]! << 8) | (blob[d + 2]! << 16)) << 8) >> 8;
          break;
        case 4:
          item = blob[d]! | (blob[d + 1]! << 8) | (blob[d + 2]! << 16) | (blob[d + 3]! << 24);
          break;
        default: {
          const lo = (blob[d]! | (blob[d + 1]! << 8) | (blob[d + 2]! << 16) | (blob[d + 3]! << 24)) >>> 0;
          const hi = blob[d + 4]! | (blob[d + 5]! << 8) | (blob[d + 6]! << 16) | (blob[d + 7]! << 24);
          const v = hi * 4294967296 + lo; // exact while |hi| < 2^21
          item = hi >= -2097152 && hi < 2097152 && Number.isSafeInteger(v) ? v : blob.readBigInt64LE(d);
        }
      }
    }
    out.push(item);
    prevSize = next - p;
    prevStart = p;
    p = next;
  }

  if (prevStart >= 0 && zltail !== prevStart - start) {
    throw new BlobError(4, `ziplist zltail ${prevStart - start} (the last entry; found ${zltail})`);
  }
  const zllen = blob[start + 8]! | (blob[start + 9]! << 8);
  if (zllen !== ZLLEN_UNKNOWN && zllen !== out.length) {
    throw new BlobError(8, `ziplist zllen ${out.length} (found ${zllen})`);
  }
  return out;
}

export interface ZiplistEncodeOptions {
  /**
   * Only int16/int32/int64 entries, for RDB < 6 targets: Redis before 2.6 does not know the int8, int24 and
   * 4-bit immediate encodings (0xFE, 0xF0, 0xF1–0xFD).
   */
  legacyInts?: boolean;
}

/** Encoding byte chosen for a safe integer (zipTryEncoding), or for legacy readers. */
function intEncoding(v: number, legacy: boolean): number {
  if (!legacy) {
    if (v >= 0 && v <= 12) return 0xf1 + v;
    if (v >= -128 && v <= 127) return 0xfe;
  }
  if (v >= -32768 && v <= 32767) return 0xc0;
  if (!legacy && v >= -8388608 && v <= 8388607) return 0xf0;
  if (v >= -2147483648 && v <= 2147483647) return 0xd0;
  return 0xe0;
}

function intWidth(enc: number): number {
  switch (enc) {
    case 0xfe:
      return 1;
    case 0xc0:
      return 2;
    case 0xf0:
      return 3;
    case 0xd0:
      return 4;
    case 0xe0:
      return 8;
    default:
      return 0; // immediates
  }
}

/**
 * Build a ziplist as Redis ≥ 2.6 writes it (or with legacyInts, as 2.2/2.4 did): canonical-int text and integer
 * items as the smallest integer encoding, prevlen in 1 or 5 bytes, zllen capped at 0xFFFF.
 */
export function ziplistEncode(
  items: ReadonlyArray<Buffer | number | bigint>,
  opts: ZiplistEncodeOptions = {},
): Buffer {
  const legacy = opts.legacyInts === true;
  const n = items.length;
  // Pass 1: each entry's form, encoding byte and body size (encoding + data); the total follows.
  const forms: Array<number | bigint | Uint8Array> = new Array(n);
  const encs = new Uint8Array(n);
  let total = HEADER + 1;
  let prevSize = 0;
  for (let i = 0; i < n; i++) {
    const form = storageForm(items[i]!);
    forms[i] = form;
    let body: number;
    if (typeof form === 'object') {
      const len = form.length;
      body = (len <= 0x3f ? 1 : len <= 0x3fff ? 2 : 5) + len;
    } else {
      const enc = typeof form === 'bigint' ? 0xe0 : intEncoding(form, legacy);
      encs[i] = enc;
      body = 1 + intWidth(enc);
    }
    prevSize = (prevSize < BIG_PREVLEN ? 1 : 5) + body;
    total += prevSize;
  }
  if (total > 0xffffffff) throw new RangeError(`ziplist of ${total} bytes exceeds the 32-bit zlbytes field`);

  // Pass 2: write.
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32LE(total, 0);
  out[8] = (n < ZLLEN_UNKNOWN ? n : ZLLEN_UNKNOWN) & 0xff;
  out[9] = (n < ZLLEN_UNKNOWN ? n : ZLLEN_UNKNOWN) >>> 8;
  let o = HEADER;
  let tail = HEADER;
  prevSize = 0;
  for (let i = 0; i < n; i++) {
    tail = o;
    const entryStart = o;
    if (prevSize < BIG_PREVLEN) {
      out[o++] = prevSize;
    } else {
      out[o] = BIG_PREVLEN;
      out.writeUInt32LE(prevSize, o + 1);
      o += 5;
    }
    const form = forms[i]!;
    if (typeof form === 'object') {
      const len = form.length;
      if (len <= 0x3f) {
        out[o++] = len;
      } else if (len <= 0x3fff) {
        out[o++] = 0x40 | (len >>> 8);
        out[o++] = len & 0xff;
      } else {
        out[o] = 0x80;
        out.writeUInt32BE(len, o + 1);
        o += 5;
      }
      out.set(form, o);
      o += len;
    } else {
      const enc = encs[i]!;
      out[o++] = enc;
      if (typeof form === 'bigint') {
        out.writeBigInt64LE(form, o);
        o += 8;
      } else {
        switch (enc) {
          case 0xfe:
            out[o++] = form & 0xff;
            break;
          case 0xc0:
            out[o++] = form & 0xff;
            out[o++] = (form >> 8) & 0xff;
            break;
          case 0xf0:
            out[o++] = form & 0xff;
            out[o++] = (form >> 8) & 0xff;
            out[o++] = (form >> 16) & 0xff;
            break;
          case 0xd0:
            out.writeInt32LE(form, o);
            o += 4;
            break;
          case 0xe0:
            // ToUint32 is exact modulo 2^32 for safe integers; the floor division gives the signed high word.
            out.writeUInt32LE(form >>> 0, o);
            out.writeInt32LE(Math.floor(form / 4294967296), o + 4);
            o += 8;
            break;
          default: // immediate: the value lives in the encoding byte
        }
      }
    }
    prevSize = o - entryStart;
  }
  out[o] = END;
  out.writeUInt32LE(tail, 4);
  return out;
}
