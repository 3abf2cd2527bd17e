/**
 * Cheap element-level facts about a key's serialized value, read from the payload bytes without decoding
 * the value whenever the format allows it:
 *
 *   string                 the string length (STRLEN): the RDB length header, the digits of an int-encoded
 *                          string, or the uncompressed length of an LZF string
 *   listpack blobs         num_elements (u16 LE at blob offset 4) unless it is 0xFFFF ("unknown")
 *   ziplist blobs          zllen (u16 LE at blob offset 8) unless it is 0xFFFF
 *   intset blobs           length (u32 LE at blob offset 4)
 *   zipmap blobs           zmlen (first byte) unless it is ≥ 254
 *   plain types            the first RDB length of the payload
 *   quicklists             the sum over nodes (a plain quicklist-2 node holds one element)
 *   streams                the stream length stored after the nodes (nodes are stepped over, not decoded)
 *
 * An LZF-compressed blob (its string header byte is 0xC3) only needs its first bytes: they are inflated up
 * to the header and no further. Anything else (an unknown count, a corrupt header) falls back to decode().
 */
import type { KeyRecord, LogicalType } from '../records/types.js';
import { Cursor } from '../rdb/cursor.js';
import { PLAIN_NODE, quicklistNodes, streamListpacks } from '../codec/value-walk.js';

/** What "elements" means per type: STRLEN, LLEN, SCARD, ZCARD, HLEN (fields), XLEN; modules have none. */
export function elementCount(rec: KeyRecord): number | null {
  if (rec.type === 'module') return null;
  try {
    const n = countFromPayload(rec.payload, rec.rdbType, rec.flavor === 'valkey');
    if (n !== null) return n;
  } catch {
    /* fall back to a full decode */
  }
  return countFromDecoded(rec);
}

/** Count by decoding the value (the slow path). */
export function countFromDecoded(rec: KeyRecord): number | null {
  const v = rec.decode();
  switch (v.type) {
    case 'string':
      return v.value.length;
    case 'list':
      return v.items.length;
    case 'set':
      return v.members.length;
    case 'zset':
      return v.entries.length;
    case 'hash':
      return v.entries.length;
    case 'stream':
      return v.length;
    case 'module':
      return null;
  }
}

// ------------------------------------------------------------------------------------------------------------
// Reading RDB strings by header only

/** Header of an RDB string at `pos`: its decoded length and where its bytes (or LZF data) start. */
export interface StringHeader {
  /** Length of the string once decoded (uncompressed length for LZF, decimal digits for ints). */
  len: number;
  /** 'raw' bytes follow; 'int' value is in `int`; 'lzf' compressed data of `clen` bytes follows. */
  kind: 'raw' | 'int' | 'lzf';
  /** Offset of the raw bytes / LZF data. */
  dataAt: number;
  /** Compressed size for LZF (bytes stored in the file). */
  clen: number;
  int: number;
  /** Offset just past the string. */
  end: number;
}

/** Digits of an int32 as text (with the minus sign). */
function decimalLength(v: number): number {
  let n = v < 0 ? 2 : 1;
  let x = v < 0 ? -v : v;
  while (x >= 10) {
    x = Math.floor(x / 10);
    n++;
  }
  return n;
}

/** Read the string header at `pos` in `buf` (throws RangeError on truncation or an unknown encoding). */
export function readStringHeader(buf: Buffer, pos: number): StringHeader {
  if (pos >= buf.length) throw new RangeError('string header beyond the payload');
  const b = buf[pos]!;
  const kind = b >> 6;
  let len: number;
  let at: number;
  if (kind === 0) {
    len = b & 0x3f;
    at = pos + 1;
  } else if (kind === 1) {
    if (pos + 1 >= buf.length) throw new RangeError('string header beyond the payload');
    len = ((b & 0x3f) << 8) | buf[pos + 1]!;
    at = pos + 2;
  } else if (b === 0x80) {
    len = buf.readUInt32BE(pos + 1);
    at = pos + 5;
  } else if (b === 0x81) {
    len = buf.readUInt32BE(pos + 1) * 4294967296 + buf.readUInt32BE(pos + 5);
    at = pos + 9;
  } else if (b === 0xc0) {
    const v = buf.readInt8(pos + 1);
    return { len: decimalLength(v), kind: 'int', dataAt: pos + 1, clen: 0, int: v, end: pos + 2 };
  } else if (b === 0xc1) {
    const v = buf.readInt16LE(pos + 1);
    return { len: decimalLength(v), kind: 'int', dataAt: pos + 1, clen: 0, int: v, end: pos + 3 };
  } else if (b === 0xc2) {
    const v = buf.readInt32LE(pos + 1);
    return { len: decimalLength(v), kind: 'int', dataAt: pos + 1, clen: 0, int: v, end: pos + 5 };
  } else if (b === 0xc3) {
    const c = new Cursor('payload', buf, pos + 1);
    const clen = c.len('compressed length');
    const ulen = c.len('uncompressed length');
    return { len: ulen, kind: 'lzf', dataAt: c.pos, clen, int: 0, end: c.pos + clen };
  } else {
    throw new RangeError(`unknown string encoding 0x${b.toString(16)}`);
  }
  if (at + len > buf.length) throw new RangeError('string beyond the payload');
  return { len, kind: 'raw', dataAt: at, clen: len, int: 0, end: at + len };
}

/**
 * The first `n` bytes of a blob stored as an RDB string at `pos` (raw: a view; LZF: inflated only as far as
 * needed; an int-encoded string is not a blob and gives null).
 */
export function blobPrefix(buf: Buffer, pos: number, n: number): Buffer | null {
  const h = readStringHeader(buf, pos);
  if (h.kind === 'int') return null;
  if (h.kind === 'raw') return buf.subarray(h.dataAt, h.dataAt + Math.min(n, h.len));
  return lzfPrefix(buf, h.dataAt, h.dataAt + h.clen, Math.min(n, h.len));
}

/**
 * Inflate only the first `want` bytes of LZF data in src[start, end). Back-references only point backwards,
 * so a prefix of the output never needs later input. Throws RangeError on corrupt data.
 */
export function lzfPrefix(src: Buffer, start: number, end: number, want: number): Buffer {
  const out = Buffer.alloc(want);
  let ip = start;
  let op = 0;
  while (op < want && ip < end) {
    const ctrl = src[ip++]!;
    if (ctrl < 0x20) {
      let n = ctrl + 1;
      if (ip + n > end) throw new RangeError('LZF literal run beyond the data');
      while (n-- > 0 && op < want) out[op++] = src[ip++]!;
    } else {
      let len = ctrl >>> 5;
      if (ip >= end) throw new RangeError('LZF back-reference beyond the data');
      if (len === 7) len += src[ip++]!;
      let ref = op - ((ctrl & 0x1f) << 8) - 1 - src[ip++]!;
      if (ref < 0) throw new RangeError('LZF back-reference before the output');
      len += 2;
      while (len-- > 0 && op < want) out[op++] = out[ref++]!;
    }
  }
  if (op < want) throw new RangeError('LZF data shorter than its header says');
  return out;
}

// ------------------------------------------------------------------------------------------------------------
// Blob headers

const UNKNOWN16 = 0xffff;

/** listpack num_elements, or null when the header says "unknown" (0xFFFF). */
export function listpackCount(head: Buffer): number | null {
  if (head.length < 6) throw new RangeError('listpack header truncated');
  const n = head.readUInt16LE(4);
  return n === UNKNOWN16 ? null : n;
}

/** ziplist zllen, or null when it saturated (0xFFFF). */
export function ziplistCount(head: Buffer): number | null {
  if (head.length < 10) throw new RangeError('ziplist header truncated');
  const n = head.readUInt16LE(8);
  return n === UNKNOWN16 ? null : n;
}

export function intsetCount(head: Buffer): number {
  if (head.length < 8) throw new RangeError('intset header truncated');
  return head.readUInt32LE(4);
}

/** Count of a blob-encoded value at `pos`: `kind` names the blob format; null when the header cannot tell. */
function blobCount(buf: Buffer, pos: number, kind: 'listpack' | 'ziplist' | 'intset' | 'zipmap'): number | null {
  const want = kind === 'ziplist' ? 10 : kind === 'zipmap' ? 1 : kind === 'intset' ? 8 : 6;
  const head = blobPrefix(buf, pos, want);
  if (head === null) return null;
  switch (kind) {
    case 'listpack':
      return listpackCount(head);
    case 'ziplist':
      return ziplistCount(head);
    case 'intset':
      return intsetCount(head);
    case 'zipmap': {
      if (head.length < 1) throw new RangeError('zipmap header truncated');
      const n = head[0]!;
      return n < 254 ? n : null;
    }
  }
}

function half(n: number | null, by: number): number | null {
  return n === null || n % by !== 0 ? null : n / by;
}

/** Count from the payload alone, or null when a full decode is needed. Throws on malformed headers. */
export function countFromPayload(payload: Buffer, rdbType: number, _valkey = false): number | null {
  switch (rdbType) {
    case 0: // string
      return readStringHeader(payload, 0).len;
    case 1: // list, set, zset, hash: plain, count first
    case 2:
    case 3:
    case 4:
    case 5:
      return new Cursor('payload', payload).len('count');
    case 9:
      return blobCount(payload, 0, 'zipmap');
    case 10:
      return blobCount(payload, 0, 'ziplist');
    case 11:
      return blobCount(payload, 0, 'intset');
    case 12:
    case 13:
      return half(blobCount(payload, 0, 'ziplist'), 2);
    case 16:
    case 17:
      return half(blobCount(payload, 0, 'listpack'), 2);
    case 20:
      return blobCount(payload, 0, 'listpack');
    case 14: // quicklist of ziplists
    case 18: {
      let total = 0;
      for (const node of quicklistNodes(new Cursor('payload', payload), rdbType)) {
        if (node.container === PLAIN_NODE) {
          total += 1;
          continue;
        }
        const n = blobCount(payload, node.at, rdbType === 14 ? 'ziplist' : 'listpack');
        if (n === null) return null;
        total += n;
      }
      return total;
    }
    case 22: // Redis 7.4 pre-GA hash with field TTLs, or Valkey 9 HASH_2 (valkey): count first either way
      return new Cursor('payload', payload).len('count');
    case 23:
      return half(blobCount(payload, 0, 'listpack'), 3);
    case 24: {
      const c = new Cursor('payload', payload, 8);
      return c.len('count');
    }
    case 25:
      return half(blobCount(payload, 8, 'listpack'), 3);
    case 15:
    case 19:
    case 21:
    case 26: {
      const c = new Cursor('payload', payload);
      for (const _ of streamListpacks(c));
      return c.len('stream length');
    }
    default:
      return null;
  }
}

/**
 * Whether a list, set, zset or hash holds no elements, which Redis treats as an empty key and skips on
 * load (rdbLoadObject; a quicklist whose nodes are all empty is one too). Cheaper than elementCount on
 * quicklists: it stops at the first node that holds anything instead of summing every node.
 */
export function isEmptyCollection(rec: KeyRecord): boolean {
  const t = rec.type;
  if (t !== 'list' && t !== 'set' && t !== 'zset' && t !== 'hash') return false;
  // A JSONL value is counted as it is: encoding it here would cost a JSONL→JSONL run every value's
  // encoding, and a value no RDB can hold (a NaN score) must fail in the sink, per key, not here.
  if (rec.decodedFirst === true) return countFromDecoded(rec) === 0;
  if (rec.rdbType === 14 || rec.rdbType === 18) {
    try {
      const payload = rec.payload;
      for (const node of quicklistNodes(new Cursor('payload', payload), rec.rdbType)) {
        if (node.container === PLAIN_NODE) return false; // a plain node holds one element
        const n = blobCount(payload, node.at, rec.rdbType === 14 ? 'ziplist' : 'listpack');
        if (n === null) return countFromDecoded(rec) === 0;
        if (n > 0) return false;
      }
      return true;
    } catch {
      return countFromDecoded(rec) === 0;
    }
  }
  return elementCount(rec) === 0;
}

/** Types whose payload can hold hash field TTLs (Redis 7.4+ types 22–25, Valkey 9 type 22). */
export function mayHaveFieldTtls(rdbType: number): boolean {
  return rdbType >= 22 && rdbType <= 25;
}

/** Field expiry times (absolute ms) of a hash with field TTLs; empty when none (decodes the value). */
export function fieldExpiries(rec: KeyRecord): number[] {
  if (!mayHaveFieldTtls(rec.rdbType) || rec.type !== 'hash') return [];
  const v = rec.decode();
  if (v.type !== 'hash' || !v.expires) return [];
  const out: number[] = [];
  for (const e of v.expires) if (e !== null) out.push(e);
  return out;
}

export const TYPE_ELEMENT_NOUN: Record<LogicalType, string> = {
  string: 'bytes',
  list: 'items',
  set: 'members',
  zset: 'members',
  hash: 'fields',
  stream: 'entries',
  module: '-',
};
