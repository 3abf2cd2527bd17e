/**
 * Canonical decimal integers, by Redis' `string2ll` rules (util.c; listpack.c `lpStringToInt64` is a copy):
 * optional '-', no '+', no leading zeros except "0" itself, no "-0", no spaces, at most 20 bytes, within int64.
 * Exactly the strings that survive text → int64 → text unchanged, so a writer may store them as integers.
 */

const MINUS = 0x2d;
const ZERO = 0x30;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/**
 * Value of buf[start, end) if it is a canonical int64, else null.
 * A number when it is a safe integer (|v| < 2^53), a bigint otherwise.
 */
export function canonicalIntValue(buf: Uint8Array, start = 0, end: number = buf.length): number | bigint | null {
  const len = end - start;
  if (len <= 0 || len > 20) return null;
  let p = start;
  let c = buf[p]!;
  const neg = c === MINUS;
  if (neg) {
    if (len === 1) return null;
    c = buf[++p]!;
  }
  if (c === ZERO) return len === 1 ? 0 : null; // "0" only: rejects "00", "01", "-0"
  if (c < 0x31 || c > 0x39) return null;
  const digits = end - p;
  if (digits <= 15) {
    // Up to 15 digits stays below 2^53: plain double arithmetic is exact.
    let v = 0;
    for (; p < end; p++) {
      const d = buf[p]! - ZERO;
      if (d < 0 || d > 9) return null;
      v = v * 10 + d;
    }
    return neg ? -v : v;
  }
  if (digits > 19) return null; // int64 has at most 19 digits
  // 16–19 digits: two exact halves, joined as a bigint.
  const split = end - 9;
  let hi = 0;
  let lo = 0;
  for (; p < split; p++) {
    const d = buf[p]! - ZERO;
    if (d < 0 || d > 9) return null;
    hi = hi * 10 + d;
  }
  for (; p < end; p++) {
    const d = buf[p]! - ZERO;
    if (d < 0 || d > 9) return null;
    lo = lo * 10 + d;
  }
  let v = BigInt(hi) * 1_000_000_000n + BigInt(lo);
  if (neg) v = -v;
  if (v < INT64_MIN || v > INT64_MAX) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
}

export function isCanonicalInt(buf: Uint8Array): boolean {
  return canonicalIntValue(buf) !== null;
}

export function parseCanonicalInt(buf: Uint8Array): bigint | null {
  const v = canonicalIntValue(buf);
  return v === null ? null : BigInt(v);
}

/** For the RDB string writer: canonical decimal that fits int32 (encodings 0xC0–0xC2), else null. */
export function canonicalInt32(buf: Uint8Array): number | null {
  if (buf.length > 11) return null;
  const v = canonicalIntValue(buf);
  return typeof v === 'number' && v >= -2147483648 && v <= 2147483647 ? v : null;
}

/** Decimal ASCII of an integer; the inverse of canonicalIntValue. */
/**
 * Decimal text of small integers, made once: decoded values hold millions of small integer elements
 * (list items, intset members, scores, counters). Decoded Buffers are read-only views by contract
 * (most alias the input), so sharing them is safe.
 */
const SMALL_MIN = -1024;
const SMALL_MAX = 65536;
const SMALL: Array<Buffer | undefined> = new Array(SMALL_MAX - SMALL_MIN);

export function intToBuffer(v: number | bigint): Buffer {
  if (typeof v === 'number') {
    if (v >= SMALL_MIN && v < SMALL_MAX && Number.isInteger(v)) {
      return (SMALL[v - SMALL_MIN] ??= Buffer.from(String(v), 'latin1'));
    }
    return Buffer.from(String(v), 'latin1');
  }
  return Buffer.from(v.toString(), 'latin1');
}

/**
 * How a writer stores an element that may be integer-encoded (listpack, ziplist): the integer value (number when
 * safe, bigint otherwise) for canonical int64 text and integer items, else the text bytes. A bigint beyond int64
 * becomes its decimal text, as Redis would keep it. Non-integer numbers are rejected: pass them as text.
 */
export function storageForm(item: Uint8Array | number | bigint): number | bigint | Uint8Array {
  if (typeof item === 'object') {
    const v = item.length <= 20 ? canonicalIntValue(item) : null;
    return v === null ? item : v;
  }
  if (typeof item === 'number') {
    if (Number.isSafeInteger(item)) return item === 0 ? 0 : item; // folds -0
    if (Number.isInteger(item) && item >= -9223372036854775808 && item < 9223372036854775808) return BigInt(item);
    throw new RangeError(`cannot store ${item} as an integer element (pass non-integers as text)`);
  }
  if (item >= INT64_MIN && item <= INT64_MAX) {
    const n = Number(item);
    return Number.isSafeInteger(n) ? n : item;
  }
  return intToBuffer(item);
}
