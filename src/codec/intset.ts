/**
 * Intset (intset.c), the blob of RDB type 11: a sorted set of integers of one width.
 *
 *   encoding:u32le (2, 4 or 8 = bytes per member) | length:u32le | length × intN le, strictly ascending
 *
 * Decoding validates like intsetValidateIntegrity (deep). BlobError offsets are relative to the intset start.
 */
import { BlobError } from '../errors.js';

const HEADER = 8;

/** Members in order: numbers, or bigints for 64-bit members beyond ±2^53. */
export function intsetDecode(blob: Buffer, start = 0, end: number = blob.length): Array<number | bigint> {
  if (!(start >= 0 && start <= end && end <= blob.length)) {
    throw new RangeError(`intset: range [${start}, ${end}) outside ${blob.length} bytes`);
  }
  const size = end - start;
  if (size < HEADER) throw new BlobError(0, `intset header of 8 bytes (found ${size})`);
  const width = blob.readUInt32LE(start);
  if (width !== 2 && width !== 4 && width !== 8) throw new BlobError(0, `intset encoding 2, 4 or 8 (found ${width})`);
  const len = blob.readUInt32LE(start + 4);
  if (len === 0) throw new BlobError(4, 'intset length > 0 (found 0)');
  if (HEADER + len * width !== size) {
    throw new BlobError(4, `intset of ${HEADER + len * width} bytes for ${len} × ${width}-byte members (found ${size})`);
  }

  const out: Array<number | bigint> = new Array(len);
  let p = start + HEADER;
  if (width === 2 || width === 4) {
    let prev = -Infinity;
    for (let i = 0; i < len; i++, p += width) {
      const v =
        width === 2
          ? ((blob[p]! | (blob[p + 1]! << 8)) << 16) >> 16
          : blob[p]! | (blob[p + 1]! << 8) | (blob[p + 2]! << 16) | (blob[p + 3]! << 24);
      if (v <= prev) throw new BlobError(p - start, `intset member greater than ${prev} (found ${v})`);
      out[i] = prev = v;
    }
  } else {
    let prev: number | bigint = -Infinity;
    for (let i = 0; i < len; i++, p += 8) {
      const lo = (blob[p]! | (blob[p + 1]! << 8) | (blob[p + 2]! << 16) | (blob[p + 3]! << 24)) >>> 0;
      const hi = blob[p + 4]! | (blob[p + 5]! << 8) | (blob[p + 6]! << 16) | (blob[p + 7]! << 24);
      const n = hi * 4294967296 + lo; // exact while |hi| < 2^21
      const v = hi >= -2097152 && hi < 2097152 && Number.isSafeInteger(n) ? n : blob.readBigInt64LE(p);
      if (v <= prev) throw new BlobError(p - start, `intset member greater than ${prev} (found ${v})`); // mixed compare is exact
      out[i] = prev = v;
    }
  }
  return out;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Build an intset as Redis would: members sorted ascending, the smallest width that holds them all. */
export function intsetEncode(values: ReadonlyArray<bigint | number>): Buffer {
  const n = values.length;
  if (n === 0) throw new RangeError('intset: at least one member is required (Redis rejects empty intsets)');
  const sorted: bigint[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (typeof v === 'number' && !Number.isInteger(v)) throw new RangeError(`intset: ${v} is not an integer`);
    const b = typeof v === 'bigint' ? v : BigInt(v);
    if (b < INT64_MIN || b > INT64_MAX) throw new RangeError(`intset: ${b} is outside int64`);
    sorted[i] = b;
  }
  sorted.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (let i = 1; i < n; i++) {
    if (sorted[i] === sorted[i - 1]) throw new RangeError(`intset: duplicate member ${sorted[i]}`);
  }
  const lo = sorted[0]!;
  const hi = sorted[n - 1]!;
  const width = lo >= -32768n && hi <= 32767n ? 2 : lo >= -2147483648n && hi <= 2147483647n ? 4 : 8;

  const out = Buffer.allocUnsafe(HEADER + n * width);
  out.writeUInt32LE(width, 0);
  out.writeUInt32LE(n, 4);
  let p = HEADER;
  for (let i = 0; i < n; i++, p += width) {
    const v = sorted[i]!;
    if (width === 2) out.writeInt16LE(Number(v), p);
    else if (width === 4) out.writeInt32LE(Number(v), p);
    else out.writeBigInt64LE(v, p);
  }
  return out;
}
