import { isUtf8 } from 'node:buffer';
import type { KeyRecord } from '../records/types.js';
import { Cursor } from '../rdb/cursor.js';
import { T } from '../rdb/constants.js';
import { blob, streamNodes, streamTail } from '../rdb/value-decode.js';
import { RdbKeyRecord } from '../rdb/parser.js';
import { KeyView } from '../records/rewrite.js';
import { itemToBuffer, listpackDecode } from '../codec/listpack.js';
import { ziplistDecode } from '../codec/ziplist.js';
import { PLAIN_NODE, quicklistNodes } from '../codec/value-walk.js';
import { bytesToJson, keyMetaJson, scoreToJson, streamEntryJson, streamTailJson } from './value-json.js';
import type { StreamId } from '../records/types.js';

/** Values whose serialized form is at least this big are written element by element. */
export const STREAM_JSON_MIN_BYTES = 8 * 1024 * 1024;

/** Pieces are cut at about this many characters. */
const PIECE = 1 << 20;

const STREAMS = new Set<number>([T.STREAM_LISTPACKS, T.STREAM_LISTPACKS_2, T.STREAM_LISTPACKS_3, T.STREAM_LISTPACKS_4]);
const STREAMABLE = new Set<number>([T.STRING, T.LIST, T.SET, T.ZSET, T.ZSET_2, T.HASH, T.LIST_QUICKLIST, T.LIST_QUICKLIST_2, ...STREAMS]);

/**
 * The JSONL line of a big collection as a sequence of string pieces, decoded one element at a time
 * from the value's bytes, so a 2M-field hash costs its serialized size plus one piece instead of
 * millions of decoded Buffers and one giant string. The plain layouts qualify (elements stored one
 * by one; quicklists and streams node by node); blob encodings are small by construction (< 1 GiB
 * listpacks, Redis' conversion thresholds). A big hash is written in the pairs form
 * `[[field, value], …]`, which the JSONL format allows for any hash. Returns null when `rec` is not such a
 * value.
 */
export function keyToJsonPieces(rec: KeyRecord): Generator<string> | null {
  const src = rec instanceof KeyView ? rec.base : rec;
  if (!(src instanceof RdbKeyRecord) || !STREAMABLE.has(src.rdbType) || src.payload.length < STREAM_JSON_MIN_BYTES) return null;
  return pieces(rec, src);
}

function* pieces(rec: KeyRecord, src: RdbKeyRecord): Generator<string> {
  const c = new Cursor(src.file, src.payload);
  c.base = src.payloadOffset;
  let s = '{"db":' + rec.db + ',"key":' + bytesToJson(rec.key) + ',"type":"' + rec.type + '","expire_at_ms":' +
    (rec.expireAtMs === null ? 'null' : rec.expireAtMs) + ',"value":[';
  let first = true;
  const sep = (): string => {
    if (first) {
      first = false;
      return '';
    }
    return ',';
  };
  const t = src.rdbType;
  if (t === T.STRING) {
    // A huge string: the bytes must be whole (LZF), but the JSON text is cut into pieces.
    const v = c.string('string value');
    if (c.pos !== c.end) throw c.error(`the value to end here, but ${c.end - c.pos} more bytes follow`);
    s = s.slice(0, -1);
    yield* flush(s);
    yield* stringPieces(v);
    s = '';
    if (rec.idle !== undefined) s += ',"idle":' + rec.idle;
    if (rec.freq !== undefined) s += ',"freq":' + rec.freq;
    if (rec.keyMeta !== undefined) s += keyMetaJson(rec.keyMeta);
    yield s + '}\n';
    return;
  }
  if (STREAMS.has(t)) {
    // Entries node by node, then the tail (groups, PEL, consumers) in the usual stream JSON.
    s = s.slice(0, -1) + '{"entries":[';
    let firstEntry: StreamId | null = null;
    for (const node of streamNodes(c)) {
      for (const e of node) {
        firstEntry ??= e.id;
        s += sep() + streamEntryJson(e);
      }
      if (s.length >= PIECE) s = yield* flush(s);
    }
    const tail = streamTail(c, t, firstEntry);
    if (c.pos !== c.end) throw c.error(`the value to end here, but ${c.end - c.pos} more bytes follow`);
    s += ']' + streamTailJson(tail) + ',"stream_version":' + tail.version;
    if (rec.idle !== undefined) s += ',"idle":' + rec.idle;
    if (rec.freq !== undefined) s += ',"freq":' + rec.freq;
    if (rec.keyMeta !== undefined) s += keyMetaJson(rec.keyMeta);
    yield s + '}\n';
    return;
  }
  if (t === T.LIST_QUICKLIST || t === T.LIST_QUICKLIST_2) {
    for (const node of quicklistNodes(c, t)) {
      if (node.container === PLAIN_NODE) {
        s += sep() + bytesToJson(c.string('quicklist plain node'));
        if (s.length >= PIECE) s = yield* flush(s);
        continue;
      }
      const items = t === T.LIST_QUICKLIST_2 ? blob(c, 'listpack', (b) => listpackDecode(b)) : blob(c, 'ziplist', (b) => ziplistDecode(b));
      for (const it of items) {
        s += sep() + bytesToJson(itemToBuffer(it));
        if (s.length >= PIECE) s = yield* flush(s);
      }
    }
  } else {
    const n = c.count(c.len('element count'), 1, 'element count');
    for (let i = 0; i < n; i++) {
      const a = c.string(t === T.HASH ? 'hash field' : t === T.ZSET || t === T.ZSET_2 ? 'zset member' : 'element');
      if (t === T.HASH) s += sep() + '[' + bytesToJson(a) + ',' + bytesToJson(c.string('hash value')) + ']';
      else if (t === T.ZSET) s += sep() + '[' + bytesToJson(a) + ',' + scoreToJson(c.textDouble('zset score')) + ']';
      else if (t === T.ZSET_2) s += sep() + '[' + bytesToJson(a) + ',' + scoreToJson(c.f64le('zset score')) + ']';
      else s += sep() + bytesToJson(a);
      if (s.length >= PIECE) s = yield* flush(s);
    }
  }
  if (c.pos !== c.end) throw c.error(`the value to end here, but ${c.end - c.pos} more bytes follow`);
  s += ']';
  if (rec.idle !== undefined) s += ',"idle":' + rec.idle;
  if (rec.freq !== undefined) s += ',"freq":' + rec.freq;
  if (rec.keyMeta !== undefined) s += keyMetaJson(rec.keyMeta);
  yield s + '}\n';
}

function* flush(s: string): Generator<string, string> {
  yield s;
  return '';
}

/** A byte string's JSON (as bytesToJson writes it) in pieces: UTF-8 text cut at character starts, else base64. */
function* stringPieces(v: Buffer): Generator<string> {
  if (isUtf8(v)) {
    yield '"';
    for (let a = 0; a < v.length; ) {
      let b = Math.min(v.length, a + PIECE);
      while (b < v.length && (v[b]! & 0xc0) === 0x80) b--; // never split a UTF-8 sequence
      yield JSON.stringify(v.toString('utf8', a, b)).slice(1, -1);
      a = b;
    }
    yield '"';
    return;
  }
  yield '{"base64":"';
  const step = PIECE - (PIECE % 3); // whole 3-byte groups: no padding inside
  for (let a = 0; a < v.length; a += step) yield v.toString('base64', a, Math.min(v.length, a + step));
  yield '"}';
}
