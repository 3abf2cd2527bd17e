/**
 * Estimated memory of a key once loaded into Redis 7.0 (64-bit, jemalloc), computed from the serialized
 * value without decoding it wherever the format allows. docs/analyze.md describes the model and the error
 * measured against a real redis-server.
 *
 * Two conventions:
 *  - `allocated` (the default, used by reports): what the allocator hands out — every allocation rounded
 *    up to its jemalloc size class, a dictEntry is 32 bytes, small integers 0..9999 are shared objects,
 *    and a key with a TTL adds its entry in the expires dict. This is what `used_memory` grows by.
 *  - `memory-usage`: what `MEMORY USAGE key SAMPLES 0` reports for the same value (it sums `sizeof`s of
 *    structs instead of their size classes and ignores the expires entry), for checking the model.
 *
 * The model follows how redis-server 7.0 builds each value while loading an RDB (rdbLoadObject):
 *   string   int-encodable (string2l) → robj only (shared when 0..9999); ≤ 44 bytes → embstr (one
 *            allocation: robj + sdshdr8 + bytes + NUL); longer → robj + sds
 *   list     quicklist: robj + quicklist + per node (quicklistNode + the listpack as stored in the RDB);
 *            lists stored in pre-7.0 layouts are re-packed into 8 KiB listpacks (list-max-listpack-size -2)
 *   set      intset (as stored, or built when every member is an integer and there are ≤ 512) or hashtable
 *   zset     listpack (as stored, or built when ≤ 128 members of ≤ 64 bytes) or skiplist + dict
 *   hash     listpack (as stored, or built when ≤ 128 fields, no field/value > 64 bytes) or hashtable
 *   stream   what MEMORY USAGE counts: the stream struct, the listpacks, a per-node radix tree charge,
 *            consumer groups, PEL entries and consumers (rax node counts are estimated)
 *   module   robj + the serialized size (modules report their own size; we cannot ask them offline)
 * A hashtable is dict + bucket array (8 × next power of two ≥ size) + per element a dictEntry and sds
 * strings. A skiplist node's size depends on its random level: the expected size class is used.
 * Per key on top of the value: the key's sds and its dictEntry in the keyspace, and with a TTL a second
 * dictEntry in the expires dict. Per db, dbTablesMemory() adds the two bucket arrays.
 */
import type { KeyRecord } from '../records/types.js';
import { Cursor } from '../rdb/cursor.js';
import { canonicalIntValue } from '../codec/int-text.js';
import { backlenSize, intEncSize, listpackDecode, type LpItem } from '../codec/listpack.js';
import { ziplistDecode } from '../codec/ziplist.js';
import { countFromPayload, readStringHeader } from './element-count.js';
import { quicklistNodes, streamListpacks } from '../codec/value-walk.js';

export type MemoryConvention = 'allocated' | 'memory-usage';

export interface MemoryEstimate {
  /** The key's sds and its keyspace dictEntry. */
  key: number;
  /** The value object and everything it owns. */
  value: number;
  /** The expires dictEntry (0 without a TTL, and always 0 in the memory-usage convention). */
  expire: number;
  total: number;
}

// ------------------------------------------------------------------------------------------------------------
// allocator

/**
 * jemalloc 5 usable size for a request of n bytes on x86-64 (16-byte quantum, 4 KiB pages): 8, then
 * multiples of 16 up to 128, then four classes per doubling (160, 192, 224, 256, 320, …), large sizes too.
 */
export function jemallocSize(n: number): number {
  if (n <= 0) return 0;
  if (n <= 8) return 8;
  if (n <= 128) return (n + 15) & ~15;
  if (n <= 0x80000000) {
    const lg = 31 - Math.clz32(n - 1); // 2^lg < n ≤ 2^(lg+1)
    const mask = (1 << (lg - 2)) - 1;
    return ((n + mask) & ~mask) >>> 0;
  }
  const lg = Math.floor(Math.log2(n - 1));
  const delta = 2 ** (lg - 2);
  return Math.ceil(n / delta) * delta;
}

/** sds header bytes for a string of `len` bytes (sdsReqType; an empty sds5 is made an sds8). */
export function sdsHeaderSize(len: number): number {
  if (len === 0) return 3;
  if (len < 32) return 1;
  if (len < 256) return 3;
  if (len < 65536) return 5;
  if (len < 4294967296) return 9;
  return 17;
}

/** Allocated size of an sds holding `len` bytes (header + bytes + NUL, rounded to a size class). */
export function sdsAllocSize(len: number): number {
  return jemallocSize(sdsHeaderSize(len) + len + 1);
}

function nextPow2(n: number): number {
  let p = 4; // DICT_HT_INITIAL_SIZE
  while (p < n) p *= 2;
  return p;
}

/** Bytes of a dict's bucket array holding `n` entries (a power of two ≥ n, at least 4). */
export function dictBucketsSize(n: number): number {
  return n === 0 ? 0 : 8 * nextPow2(n);
}

interface Sizes {
  robj: number;
  dictEntry: number;
  dict: number;
  quicklist: number;
  quicklistNode: number;
  zset: number;
  zskiplist: number;
  zslHeader: number;
  stream: number;
  streamCG: number;
  streamConsumer: number;
  streamNACK: number;
  expireEntry: number;
  sharedInts: boolean;
  embstr(len: number): number;
}

const ALLOCATED: Sizes = {
  robj: 16,
  dictEntry: jemallocSize(24),
  dict: jemallocSize(56),
  quicklist: jemallocSize(40),
  quicklistNode: jemallocSize(40),
  zset: jemallocSize(16),
  zskiplist: jemallocSize(32),
  zslHeader: jemallocSize(24 + 32 * 16),
  stream: jemallocSize(80),
  streamCG: jemallocSize(40),
  streamConsumer: jemallocSize(24),
  streamNACK: jemallocSize(24),
  expireEntry: jemallocSize(24),
  sharedInts: true,
  embstr: (len) => jemallocSize(16 + 3 + len + 1),
};

const MEMORY_USAGE: Sizes = {
  robj: 16,
  dictEntry: 24,
  dict: 56,
  quicklist: 40,
  quicklistNode: 40,
  zset: 16,
  zskiplist: 32,
  zslHeader: jemallocSize(24 + 32 * 16),
  stream: 80,
  streamCG: 40,
  streamConsumer: 24,
  streamNACK: 24,
  expireEntry: 0,
  sharedInts: false,
  embstr: (len) => jemallocSize(16 + 3 + len + 1),
};

/** Expected size class of a skiplist node (24 bytes + 16 per level; level k with probability ¾·¼^(k−1)). */
export const EXPECTED_ZSL_NODE: number = (() => {
  let e = 0;
  let p = 0.75;
  let rest = 1;
  for (let level = 1; level <= 32; level++) {
    const pl = level === 32 ? rest : p;
    e += pl * jemallocSize(24 + 16 * level);
    rest -= pl;
    p *= 0.25;
  }
  return e;
})();

/** Redis 7 defaults that decide encodings at load time. */
const HASH_MAX_LISTPACK_ENTRIES = 128;
const HASH_MAX_LISTPACK_VALUE = 64;
const ZSET_MAX_LISTPACK_ENTRIES = 128;
const ZSET_MAX_LISTPACK_VALUE = 64;
const SET_MAX_INTSET_ENTRIES = 512;
const LIST_NODE_MAX_BYTES = 8192; // list-max-listpack-size -2
const OBJ_SHARED_INTEGERS = 10000;
const EMBSTR_LIMIT = 44;

// ------------------------------------------------------------------------------------------------------------
// listpack entry sizes

/** Bytes a listpack uses for an integer element. */
export function lpIntSize(v: number | bigint): number {
  if (typeof v === 'bigint') return v >= -2147483648n && v <= 2147483647n ? intEncSize(Number(v)) : 9;
  return intEncSize(v);
}

/** Bytes of one listpack element (encoding + data + backlen) for a string of `len` bytes, or an integer. */
export function lpEntrySize(len: number, intValue: number | bigint | null): number {
  const l = intValue !== null ? lpIntSize(intValue) : len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
  return l + backlenSize(l);
}

function lpItemEntrySize(item: LpItem): number {
  if (typeof item === 'number' || typeof item === 'bigint') return lpEntrySize(0, item);
  const iv = item.length <= 20 ? canonicalIntValue(item) : null;
  return lpEntrySize(item.length, iv);
}

const LP_EMPTY = 7; // 6-byte header + end byte

/** `%.17g` as C prints it (Redis 7.0 d2string for non-integral scores). */
export function formatG17(v: number): string {
  const exp = Number(v.toExponential(16).split('e')[1]);
  if (exp < -4 || exp >= 17) {
    let [m, e] = v.toExponential(16).split('e') as [string, string];
    if (m.includes('.')) m = m.replace(/0+$/, '').replace(/\.$/, '');
    const en = Number(e);
    return `${m}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  let s = v.toFixed(Math.max(0, 16 - exp));
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

/** The text Redis 7.0 stores for a zset score inside a listpack (d2string). */
export function scoreText(score: number): string {
  if (Number.isNaN(score)) return 'nan';
  if (score === Infinity) return 'inf';
  if (score === -Infinity) return '-inf';
  if (score === 0) return Object.is(score, -0) ? '-0' : '0';
  if (score > -4503599627370495 && score < 4503599627370496 && Number.isInteger(score)) return String(score);
  return formatG17(score);
}

function scoreEntrySize(score: number): number {
  const s = scoreText(score);
  const iv = s.length <= 20 ? canonicalIntValue(Buffer.from(s, 'latin1')) : null;
  return lpEntrySize(s.length, iv);
}

// ------------------------------------------------------------------------------------------------------------
// reading elements of plain encodings without materialising them

/** Set by readElem: the element's integer value when it is a canonical int64 text, else null. */
let elemInt: number | bigint | null = null;

/** Step over one RDB string at c.pos and return its decoded length (ints: their decimal length). */
function readElem(c: Cursor): number {
  const n = c.lenOrSpecial('element');
  if (!c.special) {
    const at = c.pos;
    c.skip(n, 'element');
    elemInt = n <= 20 ? canonicalIntValue(c.buf, at, at + n) : null;
    return n;
  }
  let v: number;
  switch (n) {
    case 0:
      if (c.end - c.pos < 1) c.short(1, 'int8');
      v = c.buf.readInt8(c.pos);
      c.pos += 1;
      break;
    case 1:
      if (c.end - c.pos < 2) c.short(2, 'int16');
      v = c.buf.readInt16LE(c.pos);
      c.pos += 2;
      break;
    case 2:
      if (c.end - c.pos < 4) c.short(4, 'int32');
      v = c.buf.readInt32LE(c.pos);
      c.pos += 4;
      break;
    case 3: {
      const clen = c.len('compressed length');
      const ulen = c.len('uncompressed length');
      c.skip(clen, 'LZF data');
      elemInt = null; // LZF is only used above 20 bytes: never an integer
      return ulen;
    }
    default:
      throw c.error(`a string encoding, found 0x${(0xc0 | n).toString(16)}`);
  }
  elemInt = v;
  return String(v).length;
}

/** Length of the blob stored as the RDB string at c.pos (uncompressed size for LZF), stepping over it. */
function readBlobLen(c: Cursor): number {
  const h = readStringHeader(c.buf, c.pos);
  c.pos = h.end;
  if (c.pos > c.end) throw new RangeError('blob beyond the payload');
  return h.len;
}

// ------------------------------------------------------------------------------------------------------------
// per-encoding models

function hashtableSize(s: Sizes, n: number): number {
  return s.dict + dictBucketsSize(n);
}

/** A list of `lens`/`ints` packed the way quicklistPushTail packs them (8 KiB listpacks). */
class QuicklistBuilder {
  nodes = 0;
  bytes = 0;
  private cur = -1;
  constructor(private readonly s: Sizes) {}
  push(len: number, iv: number | bigint | null): void {
    const entry = lpEntrySize(len, iv);
    // _quicklistNodeAllowInsert (7.0): the node's size plus the element plus a ziplist-style overhead
    // estimate must stay within 8 KiB (list-max-listpack-size -2).
    const overhead = (len < 254 ? 1 : 5) + (len < 64 ? 1 : len < 16384 ? 2 : 5);
    if (this.cur < 0 || this.cur + len + overhead > LIST_NODE_MAX_BYTES) {
      this.flush();
      this.cur = LP_EMPTY;
      this.nodes++;
    }
    this.cur += entry;
  }
  private flush(): void {
    if (this.cur >= 0) this.bytes += this.s.quicklistNode + jemallocSize(this.cur);
    this.cur = -1;
  }
  total(): number {
    this.flush();
    return this.s.robj + this.s.quicklist + this.bytes;
  }
}

function listFromItems(s: Sizes, items: Iterable<LpItem>): number {
  const q = new QuicklistBuilder(s);
  for (const it of items) {
    if (typeof it === 'number' || typeof it === 'bigint') q.push(String(it).length, it);
    else q.push(it.length, it.length <= 20 ? canonicalIntValue(it) : null);
  }
  return q.total();
}

/** Set of members given as (length, int value) pairs. */
class SetBuilder {
  n = 0;
  allInts = true;
  maxAbsEnc = 2;
  htElems = 0;
  constructor(private readonly s: Sizes) {}
  add(len: number, iv: number | bigint | null): void {
    this.n++;
    this.htElems += this.s.dictEntry + sdsAllocSize(len);
    if (iv === null) this.allInts = false;
    else {
      const v = typeof iv === 'bigint' ? iv : BigInt(iv);
      const enc = v >= -32768n && v <= 32767n ? 2 : v >= -2147483648n && v <= 2147483647n ? 4 : 8;
      if (enc > this.maxAbsEnc) this.maxAbsEnc = enc;
    }
  }
  total(): number {
    if (this.allInts && this.n <= SET_MAX_INTSET_ENTRIES) return this.s.robj + jemallocSize(8 + this.n * this.maxAbsEnc);
    return this.s.robj + hashtableSize(this.s, this.n) + this.htElems;
  }
}

class HashBuilder {
  n = 0;
  maxLen = 0;
  lp = LP_EMPTY;
  ht = 0;
  constructor(private readonly s: Sizes) {}
  field(len: number, iv: number | bigint | null): void {
    this.n++;
    this.elem(len, iv);
    this.ht += this.s.dictEntry;
  }
  elem(len: number, iv: number | bigint | null): void {
    if (len > this.maxLen) this.maxLen = len;
    this.lp += lpEntrySize(len, iv);
    this.ht += sdsAllocSize(len);
  }
  total(): number {
    if (this.n <= HASH_MAX_LISTPACK_ENTRIES && this.maxLen <= HASH_MAX_LISTPACK_VALUE) return this.s.robj + jemallocSize(this.lp);
    return this.s.robj + hashtableSize(this.s, this.n) + this.ht;
  }
}

class ZsetBuilder {
  n = 0;
  maxLen = 0;
  lp = LP_EMPTY;
  sl = 0;
  /** A zset known to exceed the listpack limits skips the listpack sizing (score formatting is not free). */
  constructor(
    private readonly s: Sizes,
    private readonly expected = 0,
  ) {}
  add(len: number, iv: number | bigint | null, score: number): void {
    this.n++;
    if (len > this.maxLen) this.maxLen = len;
    if (this.expected <= ZSET_MAX_LISTPACK_ENTRIES && this.maxLen <= ZSET_MAX_LISTPACK_VALUE) this.lp += lpEntrySize(len, iv) + scoreEntrySize(score);
    this.sl += this.s.dictEntry + sdsAllocSize(len) + EXPECTED_ZSL_NODE;
  }
  total(): number {
    if (this.n <= ZSET_MAX_LISTPACK_ENTRIES && this.maxLen <= ZSET_MAX_LISTPACK_VALUE) return this.s.robj + jemallocSize(this.lp);
    const s = this.s;
    return s.robj + s.zset + s.zskiplist + s.zslHeader + hashtableSize(s, this.n) + this.sl;
  }
}

function itemLen(it: LpItem): [number, number | bigint | null] {
  if (typeof it === 'number' || typeof it === 'bigint') return [String(it).length, it];
  return [it.length, it.length <= 20 ? canonicalIntValue(it) : null];
}

/**
 * Rax node count estimate for `k` 16-byte stream IDs: an empty rax is 1 node, one key 2 (a compressed node
 * and the key node); more keys share a compressed prefix and a branch node, then per key a compressed
 * suffix and the key node.
 */
function raxNodes(k: number): number {
  return k === 0 ? 1 : k === 1 ? 2 : 2 * k + 2;
}

/** streamRadixTreeMemoryUsage(): 16 per element, 4 + 30 × 8 per node (MEMORY USAGE's own fudge factor). */
function raxUsage(elements: number): number {
  return elements * 16 + raxNodes(elements) * (4 + 240);
}

/** Allocation of a rax node: 4-byte header, the chars padded to 8, child pointers, a value pointer for keys. */
function raxNodeAlloc(chars: number, children: number, hasValue: boolean): number {
  const pad = (8 - ((chars + 4) % 8)) & 7;
  return jemallocSize(4 + chars + pad + 8 * children + (hasValue ? 8 : 0));
}

/**
 * Allocated bytes of a rax (struct + nodes) holding `k` keys of `keyLen` bytes whose keys share a prefix and
 * then diverge (stream IDs, consumer names): a compressed node for the shared part, a branch node, and per
 * key a compressed node for the rest plus the key node holding the value pointer.
 */
function raxAllocated(k: number, keyLen: number): number {
  const struct = jemallocSize(24);
  if (k === 0) return struct + raxNodeAlloc(0, 0, false);
  if (k === 1) return struct + raxNodeAlloc(keyLen, 1, false) + raxNodeAlloc(0, 0, true);
  const shared = Math.min(keyLen - 1, Math.max(0, Math.floor(keyLen / 2) - 1));
  const rest = Math.max(0, keyLen - shared - 1);
  const perKey = (rest > 0 ? raxNodeAlloc(rest, 1, false) : 0) + raxNodeAlloc(0, 0, true) + 9;
  return struct + (shared > 0 ? raxNodeAlloc(shared, 1, false) : 0) + raxNodeAlloc(0, 0, false) + k * perKey;
}

interface StreamFacts {
  listpacks: number[];
  groups: Array<{ nameLen: number; pel: number; consumers: Array<{ nameLen: number; pel: number }> }>;
}

function streamFacts(c: Cursor, rdbType: number): StreamFacts {
  const facts: StreamFacts = { listpacks: [], groups: [] };
  for (const _ of streamListpacks(c)) facts.listpacks.push(readBlobLen(c));
  c.len('length');
  c.lenBig('last id ms');
  c.lenBig('last id seq');
  const v2 = rdbType >= 19;
  if (v2) {
    for (let i = 0; i < 5; i++) c.lenBig('stream v2 metadata');
  }
  const groups = c.len('group count');
  for (let g = 0; g < groups; g++) {
    const nameLen = readElem(c);
    c.lenBig('last delivered ms');
    c.lenBig('last delivered seq');
    if (v2) c.lenBig('entries read');
    const pel = c.len('PEL size');
    for (let p = 0; p < pel; p++) {
      c.skip(24, 'PEL entry');
      c.len('delivery count');
    }
    const group = { nameLen, pel, consumers: [] as Array<{ nameLen: number; pel: number }> };
    const consumers = c.len('consumer count');
    for (let k = 0; k < consumers; k++) {
      const cNameLen = readElem(c);
      c.skip(8, 'seen time');
      if (rdbType >= 21) c.skip(8, 'active time');
      const cpel = c.len('consumer PEL size');
      c.skip(cpel * 16, 'consumer PEL');
      group.consumers.push({ nameLen: cNameLen, pel: cpel });
    }
    facts.groups.push(group);
  }
  return facts;
}

function streamSize(s: Sizes, c: Cursor, rdbType: number): number {
  const f = streamFacts(c, rdbType);
  let size = s.robj + s.stream;
  for (const lp of f.listpacks) size += jemallocSize(lp);
  if (s === MEMORY_USAGE) {
    // object.c objectComputeSize(), OBJ_STREAM branch.
    size += raxUsage(f.listpacks.length);
    for (const g of f.groups) {
      size += s.streamCG + raxUsage(g.pel) + s.streamNACK * g.pel;
      for (const k of g.consumers) size += s.streamConsumer + k.nameLen + raxUsage(k.pel);
    }
    return size;
  }
  size += raxAllocated(f.listpacks.length, 16);
  if (f.groups.length > 0) {
    // The cgroups rax is keyed by group name; each group owns a PEL rax (16-byte IDs → NACKs) and a
    // consumers rax keyed by name; each consumer has its name sds and its own PEL rax.
    const avgName = f.groups.reduce((a, g) => a + g.nameLen, 0) / f.groups.length;
    size += raxAllocated(f.groups.length, Math.round(avgName));
    for (const g of f.groups) {
      size += s.streamCG + raxAllocated(g.pel, 16) + s.streamNACK * g.pel;
      const avg = g.consumers.length > 0 ? g.consumers.reduce((a, k) => a + k.nameLen, 0) / g.consumers.length : 0;
      size += raxAllocated(g.consumers.length, Math.round(avg));
      for (const k of g.consumers) size += s.streamConsumer + sdsAllocSize(k.nameLen) + raxAllocated(k.pel, 16);
    }
  }
  return size;
}

function decodedValueSize(s: Sizes, rec: KeyRecord): number {
  const v = rec.decode();
  switch (v.type) {
    case 'string':
      return stringSize(s, v.value.length, v.value.length <= 20 ? canonicalIntValue(v.value) : null);
    case 'list':
      return listFromItems(s, v.items);
    case 'set': {
      const b = new SetBuilder(s);
      for (const m of v.members) b.add(...itemLen(m));
      return b.total();
    }
    case 'zset': {
      const b = new ZsetBuilder(s, v.entries.length);
      for (const [m, score] of v.entries) {
        const [len, iv] = itemLen(m);
        b.add(len, iv, score);
      }
      return b.total();
    }
    case 'hash': {
      const b = new HashBuilder(s);
      for (const [f, x] of v.entries) {
        b.field(...itemLen(f));
        b.elem(...itemLen(x));
      }
      let total = b.total();
      // Hash field TTLs (Redis 7.4+): an expiry per field plus per-hash metadata (approximate).
      if (v.expires) total += 48 + 16 * v.expires.filter((e) => e !== null).length;
      return total;
    }
    case 'stream':
      return s.robj + s.stream + rec.payload.length;
    case 'module':
      return s.robj + v.raw.length;
  }
}

function stringSize(s: Sizes, len: number, iv: number | bigint | null): number {
  if (iv !== null && typeof iv === 'number') {
    // tryObjectEncoding: a string2l-able string becomes an INT object (shared when 0..9999).
    if (s.sharedInts && iv >= 0 && iv < OBJ_SHARED_INTEGERS) return 0;
    return s.robj;
  }
  if (iv !== null) return s.robj; // int64 beyond 2^53: still a long
  if (len <= EMBSTR_LIMIT) return s.embstr(len);
  return s.robj + sdsAllocSize(len);
}

/** Memory of the value alone, per the convention. */
export function estimateValueMemory(rec: KeyRecord, convention: MemoryConvention = 'allocated'): number {
  const s = convention === 'allocated' ? ALLOCATED : MEMORY_USAGE;
  try {
    const fast = valueFromPayload(s, rec);
    if (fast !== null) return fast;
  } catch {
    /* fall through to the decoded value */
  }
  try {
    return decodedValueSize(s, rec);
  } catch {
    return s.robj + rec.payload.length;
  }
}

function valueFromPayload(s: Sizes, rec: KeyRecord): number | null {
  const p = rec.payload;
  const t = rec.rdbType;
  switch (t) {
    case 0: {
      const h = readStringHeader(p, 0);
      if (h.kind === 'int') return stringSize(s, h.len, h.int);
      if (h.kind === 'raw') return stringSize(s, h.len, h.len <= 20 ? canonicalIntValue(p, h.dataAt, h.dataAt + h.len) : null);
      return stringSize(s, h.len, null);
    }
    case 1: {
      const c = new Cursor('payload', p);
      const n = c.len('count');
      const q = new QuicklistBuilder(s);
      for (let i = 0; i < n; i++) {
        const len = readElem(c);
        q.push(len, elemInt);
      }
      return q.total();
    }
    case 2: {
      const c = new Cursor('payload', p);
      const n = c.len('count');
      const b = new SetBuilder(s);
      for (let i = 0; i < n; i++) {
        const len = readElem(c);
        b.add(len, elemInt);
      }
      return b.total();
    }
    case 3:
    case 5: {
      const c = new Cursor('payload', p);
      const n = c.len('count');
      const b = new ZsetBuilder(s, n);
      for (let i = 0; i < n; i++) {
        const len = readElem(c);
        const iv = elemInt;
        const score = t === 3 ? c.textDouble('score') : c.f64le('score');
        b.add(len, iv, score);
      }
      return b.total();
    }
    case 4: {
      const c = new Cursor('payload', p);
      const n = c.len('count');
      const b = new HashBuilder(s);
      for (let i = 0; i < n; i++) {
        const fl = readElem(c);
        b.field(fl, elemInt);
        const vl = readElem(c);
        b.elem(vl, elemInt);
      }
      return b.total();
    }
    case 11: {
      const h = readStringHeader(p, 0);
      if (h.kind === 'int') return null;
      const n = countOf(rec);
      if (n === null || n > SET_MAX_INTSET_ENTRIES) return null;
      return s.robj + jemallocSize(h.len);
    }
    case 16:
    case 17: {
      const h = readStringHeader(p, 0);
      if (h.kind === 'int') return null;
      const n = countOf(rec);
      if (n === null || n > (t === 16 ? HASH_MAX_LISTPACK_ENTRIES : ZSET_MAX_LISTPACK_ENTRIES)) return null;
      return s.robj + jemallocSize(h.len);
    }
    case 18: {
      const c = new Cursor('payload', p);
      let size = s.robj + s.quicklist;
      for (const _ of quicklistNodes(c, t)) size += s.quicklistNode + jemallocSize(readBlobLen(c));
      return size;
    }
    case 14: {
      // Pre-7.0 quicklist: each stored ziplist becomes one listpack node on load.
      const c = new Cursor('payload', p);
      let size = s.robj + s.quicklist;
      for (const _ of quicklistNodes(c, t)) size += s.quicklistNode + jemallocSize(listpackBytes(ziplistDecode(c.string('ziplist'))));
      return size;
    }
    case 15:
    case 19:
    case 21:
    case 26:
      return streamSize(s, new Cursor('payload', p), t);
    case 25: {
      // Redis 7.4+ listpack with field TTLs: listpack as stored + listpackEx struct (approximate).
      const h = readStringHeader(p, 8);
      return s.robj + jemallocSize(32) + jemallocSize(h.len);
    }
    case 23: {
      const h = readStringHeader(p, 0);
      return s.robj + jemallocSize(32) + jemallocSize(h.len);
    }
    case 6:
    case 7:
      return s.robj + p.length;
    default:
      return null; // zipmap, ziplists, set listpack, hashes with field TTLs: decode
  }
}

/** Element count from the blob header (LZF blobs are inflated only as far as the header); null if unknown. */
function countOf(rec: KeyRecord): number | null {
  return countFromPayload(rec.payload, rec.rdbType, rec.flavor === 'valkey');
}

/** Allocated bytes of a keyspace entry (key sds + dictEntry) and of an expires entry. */
export const ALLOCATED_DICT_ENTRY = ALLOCATED.dictEntry;
export const ALLOCATED_EXPIRE_ENTRY = ALLOCATED.expireEntry;

/** Key sds + keyspace dictEntry, and the expires dictEntry with a TTL. */
export function keyMemory(keyLen: number, hasTtl: boolean, convention: MemoryConvention = 'allocated'): { key: number; expire: number } {
  const s = convention === 'allocated' ? ALLOCATED : MEMORY_USAGE;
  return { key: sdsAllocSize(keyLen) + s.dictEntry, expire: hasTtl ? s.expireEntry : 0 };
}

/** The whole estimate for one key. */
export function estimateKeyMemory(rec: KeyRecord, convention: MemoryConvention = 'allocated'): MemoryEstimate {
  const value = estimateValueMemory(rec, convention);
  const { key, expire } = keyMemory(rec.key.length, rec.expireAtMs !== null, convention);
  return { key, value, expire, total: key + value + expire };
}

/** Per-db bucket arrays of the keyspace and expires dicts (Redis presizes them from RESIZEDB on load). */
export function dbTablesMemory(keys: number, expires: number): number {
  return dictBucketsSize(keys) + dictBucketsSize(expires);
}

/** For tests: listpack bytes for a list of items, as Redis would build it. */
export function listpackBytes(items: ReadonlyArray<LpItem>): number {
  let n = LP_EMPTY;
  for (const it of items) n += lpItemEntrySize(it);
  return n;
}

/** For tests: decode a listpack blob and recompute its size from its items (must equal the blob length). */
export function recomputeListpack(blob: Buffer): number {
  return listpackBytes(listpackDecode(blob));
}
