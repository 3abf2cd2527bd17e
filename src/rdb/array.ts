import type { Cursor } from './cursor.js';
import type { ByteWriter } from '../encode/rdb-primitives.js';

/**
 * RDB 14 (Redis 8.8) type 28 RDB_TYPE_ARRAY: a sparse array of tagged elements. Layout after the key
 * (librdb 2.3.0 CHANGELOG "RDB v14 Support — Array", its test fixtures array_v14_*.json; the Redis
 * side is rdbSaveObject/rdbLoadObject for OBJ_ARRAY, tags AR_RDB_TAG_* of t_array.c's header):
 *   len count                        elements actually present (holes are not stored)
 *   len insert_idx_flag              0: no insert cursor (AR_INSERT_IDX_NONE), 1: one follows
 *   [len insert_idx]                 64-bit, may be up to 2^64-2
 *   count × { len idx, len tag, payload }
 *     tag 0 AR_RDB_TAG_SDS       RDB string
 *     tag 1 AR_RDB_TAG_INT       8 bytes, signed, little-endian (the immediate integer)
 *     tag 2 AR_RDB_TAG_FLOAT     8 bytes, IEEE-754 double, little-endian
 *     tag 3 AR_RDB_TAG_SMALLSTR  RDB string (an inline string of at most 7 bytes in memory)
 * Not wired into the parser yet: type 28 is still refused by name there (see docs/rdb-format.md §5.5).
 */
export const AR_TAG = { SDS: 0, INT: 1, FLOAT: 2, SMALLSTR: 3 } as const;

export type ArrayElementValue =
  | { tag: 'sds' | 'smallstr'; value: Buffer }
  | { tag: 'int'; value: bigint }
  | { tag: 'float'; value: number };

export interface ArrayElement {
  idx: bigint;
  el: ArrayElementValue;
}

export interface ArrayValue {
  /** Absent when the file says no insert has happened (insert_idx_flag 0). */
  insertIdx?: bigint | undefined;
  elements: ArrayElement[];
}

/** Decode a type 28 value body. Lengths are bounded by what the input can still hold before allocating. */
export function decodeArray(c: Cursor): ArrayValue {
  // Each element takes at least 3 bytes: idx, tag, and a one-byte (empty) string.
  const n = c.count(c.len('array element count'), 3, 'array element count');
  const flagAt = c.pos;
  const flag = c.len('array insert_idx flag');
  const out: ArrayValue = { elements: new Array<ArrayElement>(n) };
  if (flag === 1) out.insertIdx = c.lenBig('array insert_idx');
  else if (flag !== 0) throw c.error(`array insert_idx flag 0 or 1, found ${flag}`, flagAt);
  for (let i = 0; i < n; i++) {
    const idx = c.lenBig('array element index');
    const tagAt = c.pos;
    const tag = c.len('array element tag');
    let el: ArrayElementValue;
    switch (tag) {
      case AR_TAG.SDS: el = { tag: 'sds', value: c.string('array element string') }; break;
      case AR_TAG.SMALLSTR: el = { tag: 'smallstr', value: c.string('array element small string') }; break;
      case AR_TAG.INT: el = { tag: 'int', value: c.bytes(8, 'array element integer (8 bytes)').readBigInt64LE(0) }; break;
      case AR_TAG.FLOAT: el = { tag: 'float', value: c.f64le('array element float (8 bytes)') }; break;
      default: throw c.error(`array element tag 0-3 (AR_RDB_TAG_SDS/INT/FLOAT/SMALLSTR), found ${tag}`, tagAt);
    }
    out.elements[i] = { idx, el };
  }
  return out;
}

/** Step over a type 28 value body without building it. */
export function skipArray(c: Cursor): number {
  const n = c.count(c.len('array element count'), 3, 'array element count');
  const flagAt = c.pos;
  const flag = c.len('array insert_idx flag');
  if (flag === 1) c.lenBig('array insert_idx');
  else if (flag !== 0) throw c.error(`array insert_idx flag 0 or 1, found ${flag}`, flagAt);
  for (let i = 0; i < n; i++) {
    c.lenBig('array element index');
    const tagAt = c.pos;
    const tag = c.len('array element tag');
    if (tag === AR_TAG.INT || tag === AR_TAG.FLOAT) c.skip(8, 'array element number (8 bytes)');
    else if (tag === AR_TAG.SDS || tag === AR_TAG.SMALLSTR) c.skipString('array element string');
    else throw c.error(`array element tag 0-3 (AR_RDB_TAG_SDS/INT/FLOAT/SMALLSTR), found ${tag}`, tagAt);
  }
  return n;
}

/** An element as librdb's rdb2json prints it (`val` as text: integers in decimal, floats in shortest form, strings as bytes). */
export function arrayElementText(el: ArrayElementValue): string {
  if (el.tag === 'int') return el.value.toString();
  if (el.tag === 'float') return String(el.value);
  return el.value.toString('latin1');
}

/** Write a type 28 body in the layout decodeArray reads (for RDB 14 output and test files). */
export function encodeArray(a: ArrayValue, w: ByteWriter): ByteWriter {
  w.len(a.elements.length);
  if (a.insertIdx === undefined) w.len(0);
  else w.len(1).len(a.insertIdx);
  const num = Buffer.alloc(8);
  for (const { idx, el } of a.elements) {
    w.len(idx);
    switch (el.tag) {
      case 'sds': w.len(AR_TAG.SDS).string(el.value); break;
      case 'smallstr': w.len(AR_TAG.SMALLSTR).string(el.value); break;
      case 'int': num.writeBigInt64LE(el.value); w.len(AR_TAG.INT).bytes(num); break;
      case 'float': w.len(AR_TAG.FLOAT).f64le(el.value); break;
    }
  }
  return w;
}
