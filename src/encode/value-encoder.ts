/**
 * Serialize a logical value for a given RDB version: the payload bytes after the type byte, as a real
 * Redis of that version would load them (docs/rdb-format.md §5–§7, §12). Compact encodings are used where the
 * version has them and the value is small, with Redis' default thresholds; everything else falls back to
 * the plain types (0 STRING, 1 LIST, 2 SET, 3/5 ZSET, 4 HASH), which every loader converts itself.
 */
import type { Flavor, StreamEntry, StreamGroup, StreamId, StreamIdmp, StreamValue, Value } from '../records/types.js';
import { RekeyUsageError } from '../errors.js';
import { T, VALKEY_HASH_2 } from '../rdb/constants.js';
import { backlenSize, listpackEncode, type LpItem } from '../codec/listpack.js';
import { ziplistEncode } from '../codec/ziplist.js';
import { intsetEncode } from '../codec/intset.js';
import { parseCanonicalInt, storageForm } from '../codec/int-text.js';
import { ByteWriter, doubleText } from './rdb-primitives.js';
import { compareStreamIds } from '../records/stream-id.js';

export interface EncodeOptions {
  rdbVersion: number;
  /** Flavour of the target file; `valkey` with version ≥ 80 selects Valkey's field-TTL layout. Default redis. */
  flavor?: Flavor | undefined;
  /** LZF-compress strings longer than 20 bytes when it saves ≥ 4 bytes (Redis' rdbcompression). */
  compress?: boolean | undefined;
  /** Drop what the version cannot hold (hash field TTLs) instead of refusing. */
  lossy?: boolean | undefined;
  /** Only for error messages. */
  key?: Buffer | undefined;
}

export interface EncodedValue {
  rdbType: number;
  payload: Buffer;
  /** Field TTLs left out under `lossy` (absent when none were). */
  droppedFieldTtls?: number;
}

/** A value no RDB can hold (an empty collection) or that the target cannot take (a module below RDB 8). */
export class UnrepresentableValueError extends Error {
  override readonly name = 'UnrepresentableValueError';
}

// Redis' default size thresholds for compact encodings (redis.conf of 7.x; older releases are similar).
const LISTPACK_ENTRIES = 128; // hash/zset/set-max-listpack-entries
const LISTPACK_VALUE = 64; // *-max-listpack-value
const INTSET_ENTRIES = 512; // set-max-intset-entries
const LIST_ZIPLIST_ENTRIES = 512; // list-max-ziplist-entries (2.4–3.0)
const LIST_NODE_BYTES = 8192; // list-max-listpack-size -2
const LIST_NODE_ENTRIES = 128;
/** Elements above this go into their own PLAIN quicklist-2 node rather than bloating a listpack. */
const LIST_PLAIN_THRESHOLD = 8192;
const STREAM_NODE_ENTRIES = 100; // stream-node-max-entries
const STREAM_NODE_BYTES = 4096; // stream-node-max-bytes

const MASK64 = (1n << 64n) - 1n;
const U64_MAX = MASK64;

/** What the target can load: Valkey ≥ 80 is Redis 7.2-like plus its own HASH_2. */
interface Caps {
  listpack: boolean; // 16, 17, 18, 19 (7.0)
  setListpack: boolean; // 20, 21 (7.2)
  quicklist: boolean; // 14 (3.2)
  ziplist: boolean; // 10, 12 (2.4)
  hashZiplist: boolean; // 13 (2.6)
  legacyInts: boolean; // ziplist int8/int24/immediates unknown before RDB 6
  zset2: boolean; // 5 (4.0)
  streamVersion: 0 | 1 | 2 | 3;
  /** Stream v4 (type 26, IDMP state): Redis RDB 13 (8.6). */
  streamV4: boolean;
  fieldTtl: 'redis' | 'valkey' | null;
  module: boolean;
}

function caps(version: number, flavor: Flavor): Caps {
  const valkey = flavor === 'valkey' && version >= 80;
  const v = valkey ? 11 : version;
  return {
    listpack: v >= 10,
    setListpack: v >= 11,
    quicklist: v >= 7,
    ziplist: v >= 2,
    hashZiplist: v >= 4,
    legacyInts: v < 6,
    zset2: v >= 8,
    streamVersion: v >= 11 ? 3 : v >= 10 ? 2 : v >= 9 ? 1 : 0,
    streamV4: !valkey && flavor === 'redis' && version >= 13,
    fieldTtl: valkey ? 'valkey' : flavor === 'redis' && v >= 12 ? 'redis' : null,
    module: v >= 8,
  };
}

function keyLabel(key: Buffer | undefined): string {
  if (!key) return 'a key';
  const s = key.toString('utf8');
  const text = Buffer.from(s, 'utf8').equals(key) && !/[\x00-\x1f\x7f]/.test(s) ? JSON.stringify(s) : `0x${key.toString('hex')}`;
  return `key ${text.length > 120 ? text.slice(0, 117) + '...' : text}`;
}

function empty(what: string, opts: EncodeOptions): never {
  throw new UnrepresentableValueError(`${keyLabel(opts.key)}: an empty ${what} cannot be stored (Redis rejects empty collections)`);
}

/** Encode `value` for RDB `opts.rdbVersion` (see the module comment for the choices). */
export function encodeValue(value: Value, opts: EncodeOptions): EncodedValue {
  const c = caps(opts.rdbVersion, opts.flavor ?? 'redis');
  const z = opts.compress === true;
  const w = new ByteWriter(256);
  switch (value.type) {
    case 'string':
      w.string(value.value, z);
      return { rdbType: T.STRING, payload: w.finish() };
    case 'list':
      if (value.items.length === 0) empty('list', opts);
      return { rdbType: encodeList(w, value.items, c, z), payload: w.finish() };
    case 'set':
      if (value.members.length === 0) empty('set', opts);
      return { rdbType: encodeSet(w, value.members, c, z), payload: w.finish() };
    case 'zset':
      if (value.entries.length === 0) empty('sorted set', opts);
      return { rdbType: encodeZset(w, value.entries, c, z, opts), payload: w.finish() };
    case 'hash': {
      if (value.entries.length === 0) empty('hash', opts);
      const ttls = value.expires ? value.expires.reduce<number>((n, e) => (e === null || e === undefined ? n : n + 1), 0) : 0;
      if (ttls === 0) return { rdbType: encodeHash(w, value.entries, c, z), payload: w.finish() };
      if (c.fieldTtl === 'redis') return { rdbType: encodeHashRedisTtl(w, value.entries, value.expires!, z), payload: w.finish() };
      if (c.fieldTtl === 'valkey') return { rdbType: encodeHashValkeyTtl(w, value.entries, value.expires!, z), payload: w.finish() };
      if (!opts.lossy) {
        const where = opts.flavor === 'valkey' ? 'below Valkey RDB 80' : 'below RDB 12';
        throw new RekeyUsageError(`${keyLabel(opts.key)}: hash field TTLs cannot be represented ${where}; use --lossy to drop them`);
      }
      return { rdbType: encodeHash(w, value.entries, c, z), payload: w.finish(), droppedFieldTtls: ttls };
    }
    case 'stream': {
      if (c.streamVersion === 0) {
        throw new RekeyUsageError(`${keyLabel(opts.key)}: streams need RDB 9 (Redis 5.0) or newer, the target is RDB ${opts.rdbVersion}`);
      }
      encodeStream(w, value, c.streamVersion, z);
      // A stream with IDMP state stays v4 where the loader knows it; below, the state is not written
      // (callers count that loss: down-convert.ts streamIdmpLoss, value-commands for command paths).
      if (value.idmp && c.streamV4) {
        writeStreamIdmp(w, value.idmp, z);
        return { rdbType: T.STREAM_LISTPACKS_4, payload: w.finish() };
      }
      const rdbType = c.streamVersion === 3 ? T.STREAM_LISTPACKS_3 : c.streamVersion === 2 ? T.STREAM_LISTPACKS_2 : T.STREAM_LISTPACKS;
      return { rdbType, payload: w.finish() };
    }
    case 'module':
      if (!c.module) {
        throw new UnrepresentableValueError(`${keyLabel(opts.key)}: module values (${value.moduleName}) need RDB 8 (Redis 4.0) or newer, the target is RDB ${opts.rdbVersion}`);
      }
      return { rdbType: T.MODULE_2, payload: value.raw };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// lists

function encodeList(w: ByteWriter, items: Buffer[], c: Caps, z: boolean): number {
  if (c.quicklist) {
    // Quicklist nodes of ≤ 8 KB / 128 entries; v2 moves big elements into PLAIN nodes of their own.
    const nodes: Array<{ plain: Buffer } | { from: number; to: number }> = [];
    let from = 0;
    let est = 0;
    for (let i = 0; i < items.length; i++) {
      const len = items[i]!.length;
      if (c.listpack && len > LIST_PLAIN_THRESHOLD) {
        if (i > from) nodes.push({ from, to: i });
        nodes.push({ plain: items[i]! });
        from = i + 1;
        est = 0;
        continue;
      }
      const size = len + 11; // worst-case element overhead in a listpack/ziplist
      if (i > from && (i - from >= LIST_NODE_ENTRIES || est + size > LIST_NODE_BYTES)) {
        nodes.push({ from, to: i });
        from = i;
        est = 0;
      }
      est += size;
    }
    if (items.length > from) nodes.push({ from, to: items.length });
    w.len(nodes.length);
    for (const n of nodes) {
      if ('plain' in n) {
        w.len(1); // QUICKLIST_NODE_CONTAINER_PLAIN
        w.string(n.plain, z);
        continue;
      }
      const slice = items.slice(n.from, n.to);
      if (c.listpack) {
        w.len(2); // QUICKLIST_NODE_CONTAINER_PACKED
        w.string(listpackEncode(slice), z);
      } else {
        w.string(ziplistEncode(slice, { legacyInts: c.legacyInts }), z);
      }
    }
    return c.listpack ? T.LIST_QUICKLIST_2 : T.LIST_QUICKLIST;
  }
  if (c.ziplist && items.length <= LIST_ZIPLIST_ENTRIES && items.every((b) => b.length <= LISTPACK_VALUE)) {
    w.string(ziplistEncode(items, { legacyInts: c.legacyInts }), z);
    return T.LIST_ZIPLIST;
  }
  w.len(items.length);
  for (const b of items) w.string(b, z);
  return T.LIST;
}

// ---------------------------------------------------------------------------------------------------------------
// sets

function encodeSet(w: ByteWriter, members: Buffer[], c: Caps, z: boolean): number {
  if (c.ziplist && members.length <= INTSET_ENTRIES) {
    const ints: bigint[] = [];
    for (const m of members) {
      const v = m.length <= 20 ? parseCanonicalInt(m) : null;
      if (v === null) break;
      ints.push(v);
    }
    if (ints.length === members.length) {
      w.string(intsetEncode(ints), z);
      return T.SET_INTSET;
    }
  }
  if (c.setListpack && members.length <= LISTPACK_ENTRIES && members.every((b) => b.length <= LISTPACK_VALUE)) {
    w.string(listpackEncode(members), z);
    return T.SET_LISTPACK;
  }
  w.len(members.length);
  for (const m of members) w.string(m, z);
  return T.SET;
}

// ---------------------------------------------------------------------------------------------------------------
// sorted sets

/** A score as a listpack/ziplist element, the way zzlInsertAt stores d2string's text (integers int-encoded). */
function scoreItem(x: number): LpItem {
  if (Number.isSafeInteger(x) && !Object.is(x, -0)) return x;
  if (x === Infinity) return Buffer.from('inf', 'latin1');
  if (x === -Infinity) return Buffer.from('-inf', 'latin1');
  return Buffer.from(doubleText(x), 'latin1');
}

function encodeZset(w: ByteWriter, entries: Array<[Buffer, number]>, c: Caps, z: boolean, opts: EncodeOptions): number {
  for (const [, s] of entries) {
    if (Number.isNaN(s)) throw new UnrepresentableValueError(`${keyLabel(opts.key)}: a sorted set score is NaN (Redis rejects it)`);
  }
  if ((c.listpack || c.ziplist) && entries.length <= LISTPACK_ENTRIES && entries.every(([m]) => m.length <= LISTPACK_VALUE)) {
    // Compact zsets must be ordered by (score, member bytes): Redis relies on it without checking.
    const sorted = [...entries].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : Buffer.compare(a[0], b[0])));
    const items: LpItem[] = new Array(sorted.length * 2);
    for (let i = 0; i < sorted.length; i++) {
      items[2 * i] = sorted[i]![0];
      items[2 * i + 1] = scoreItem(sorted[i]![1]);
    }
    if (c.listpack) {
      w.string(listpackEncode(items), z);
      return T.ZSET_LISTPACK;
    }
    w.string(ziplistEncode(items, { legacyInts: c.legacyInts }), z);
    return T.ZSET_ZIPLIST;
  }
  w.len(entries.length);
  for (const [m, s] of entries) {
    w.string(m, z);
    if (c.zset2) w.f64le(s);
    else w.textDouble(s);
  }
  return c.zset2 ? T.ZSET_2 : T.ZSET;
}

// ---------------------------------------------------------------------------------------------------------------
// hashes

function smallHash(entries: Array<[Buffer, Buffer]>): boolean {
  if (entries.length > LISTPACK_ENTRIES) return false;
  for (const [f, v] of entries) if (f.length > LISTPACK_VALUE || v.length > LISTPACK_VALUE) return false;
  return true;
}

function flatPairs(entries: Array<[Buffer, Buffer]>): Buffer[] {
  const items: Buffer[] = new Array(entries.length * 2);
  for (let i = 0; i < entries.length; i++) {
    items[2 * i] = entries[i]![0];
    items[2 * i + 1] = entries[i]![1];
  }
  return items;
}

function encodeHash(w: ByteWriter, entries: Array<[Buffer, Buffer]>, c: Caps, z: boolean): number {
  if ((c.listpack || c.hashZiplist) && smallHash(entries)) {
    const items = flatPairs(entries);
    if (c.listpack) {
      w.string(listpackEncode(items), z);
      return T.HASH_LISTPACK;
    }
    w.string(ziplistEncode(items, { legacyInts: c.legacyInts }), z);
    return T.HASH_ZIPLIST;
  }
  w.len(entries.length);
  for (const [f, v] of entries) {
    w.string(f, z);
    w.string(v, z);
  }
  return T.HASH;
}

/** Redis 7.4+: 25 HASH_LISTPACK_EX when small, else 24 HASH_METADATA (§5.3). */
function encodeHashRedisTtl(w: ByteWriter, entries: Array<[Buffer, Buffer]>, expires: Array<number | null>, z: boolean): number {
  let minExpire = Infinity;
  for (const e of expires) if (e !== null && e !== undefined && e < minExpire) minExpire = e;
  if (smallHash(entries)) {
    // Triplets sorted by TTL ascending, TTL-less (0) last, as listpackExAddInternal keeps them.
    const order = entries.map((_, i) => i);
    const ttl = (i: number): number => expires[i] ?? Infinity;
    order.sort((a, b) => ttl(a) - ttl(b) || a - b);
    const items: LpItem[] = [];
    for (const i of order) items.push(entries[i]![0], entries[i]![1], expires[i] ?? 0);
    w.i64le(minExpire);
    w.string(listpackEncode(items), z);
    return T.HASH_LISTPACK_EX;
  }
  w.i64le(minExpire);
  w.len(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const e = expires[i];
    // Relative to minExpire with a +1 bias, so 0 can mean "no TTL".
    w.len(e === null || e === undefined ? 0 : e - minExpire + 1);
    w.string(entries[i]![0], z);
    w.string(entries[i]![1], z);
  }
  return T.HASH_METADATA;
}

/** Valkey 9 HASH_2: field, value, i64le absolute expiry (-1 = none). */
function encodeHashValkeyTtl(w: ByteWriter, entries: Array<[Buffer, Buffer]>, expires: Array<number | null>, z: boolean): number {
  w.len(entries.length);
  for (let i = 0; i < entries.length; i++) {
    w.string(entries[i]![0], z);
    w.string(entries[i]![1], z);
    w.i64le(expires[i] ?? -1);
  }
  return VALKEY_HASH_2;
}

// ---------------------------------------------------------------------------------------------------------------
// streams

const cmpId = compareStreamIds;

/** a − b in 64-bit wrap-around, read back as int64 (what streamAppendItem stores with lpAppendInteger). */
function delta(a: bigint, b: bigint): number | bigint {
  let d = (a - b) & MASK64;
  if (d >= 1n << 63n) d -= 1n << 64n;
  const n = Number(d);
  return Number.isSafeInteger(n) ? n : d;
}

function sameFieldNames(fields: Array<[Buffer, Buffer]>, master: Buffer[]): boolean {
  if (fields.length !== master.length) return false;
  for (let i = 0; i < master.length; i++) if (!fields[i]![0].equals(master[i]!)) return false;
  return true;
}

/**
 * Redis' streamEstimateDistanceFromFirstEverEntry (t_stream.c 7.x): what a 7.x loader computes for a group's
 * entries_read when the file (v1) has none. Used when writing v2+ from a value that lacks it.
 */
export function estimateEntriesRead(s: StreamValue, id: StreamId): number {
  const added = s.entriesAdded;
  if (added === 0n) return 0;
  const length = s.entries.length;
  if (length === 0 && cmpId(id, s.lastId) < 1) return Number(added);
  const cmpLast = cmpId(id, s.lastId);
  if (cmpLast === 0) return Number(added);
  if (cmpLast > 0) return -1;
  const cmpFirst = cmpId(id, s.firstId);
  const noXdel = (s.maxDeletedId.ms === 0n && s.maxDeletedId.seq === 0n) || cmpId(s.maxDeletedId, s.firstId) < 0;
  if (noXdel) {
    if (cmpFirst < 0) return Number(added) - length;
    if (cmpFirst === 0) return Number(added) - length + 1;
  }
  return -1;
}

function writeIdLen(w: ByteWriter, id: StreamId): void {
  w.len(id.ms);
  w.len(id.seq);
}

/** Exact bytes of a listpack element (encoding + data + backlen), as listpackEncode will store it. */
function lpElementSize(item: LpItem): number {
  const f = storageForm(item);
  let size: number;
  if (typeof f === 'bigint') size = 9;
  else if (typeof f === 'number') {
    size = f >= 0 && f <= 127 ? 1 : f >= -4096 && f <= 4095 ? 2 : f >= -32768 && f <= 32767 ? 3 : f >= -8388608 && f <= 8388607 ? 4 : f >= -2147483648 && f <= 2147483647 ? 5 : 9;
  } else size = f.length < 64 ? 1 + f.length : f.length < 4096 ? 2 + f.length : 5 + f.length;
  return size + backlenSize(size);
}

/**
 * Split entries into nodes the way streamAppendItem does with default settings: a new node when the current
 * one holds 100 entries, or when its listpack bytes plus the new entry's raw field/value bytes reach 4096.
 */
function streamNodeBounds(entries: StreamEntry[]): number[] {
  const starts: number[] = [];
  let lpBytes = 0;
  let count = 0;
  let masterFields: Buffer[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    let raw = 0;
    for (const [f, v] of e.fields) raw += f.length + v.length;
    if (starts.length === 0 || lpBytes + raw >= STREAM_NODE_BYTES || count >= STREAM_NODE_ENTRIES) {
      starts.push(i);
      masterFields = e.fields.map((f) => f[0]);
      lpBytes = 7; // header + terminator
      for (const it of [1, 0, masterFields.length, ...masterFields, 0]) lpBytes += lpElementSize(it);
      count = 0;
    }
    const master = entries[starts[starts.length - 1]!]!.id;
    const same = sameFieldNames(e.fields, masterFields);
    lpBytes += lpElementSize(same ? 2 : 0) + lpElementSize(delta(e.id.ms, master.ms)) + lpElementSize(delta(e.id.seq, master.seq));
    if (same) {
      for (const [, v] of e.fields) lpBytes += lpElementSize(v);
      lpBytes += lpElementSize(e.fields.length + 3);
    } else {
      lpBytes += lpElementSize(e.fields.length);
      for (const [f, v] of e.fields) lpBytes += lpElementSize(f) + lpElementSize(v);
      lpBytes += lpElementSize(2 * e.fields.length + 4);
    }
    count++;
  }
  return starts;
}

/** Stream v1/v2/v3 (§7): listpack nodes split like Redis' defaults, then metadata and consumer groups. */
function encodeStream(w: ByteWriter, s: StreamValue, version: 1 | 2 | 3, z: boolean): void {
  const entries = s.entries;
  const starts = streamNodeBounds(entries);
  w.len(starts.length);
  const nodeKey = Buffer.allocUnsafe(16);
  for (let n = 0; n < starts.length; n++) {
    const from = starts[n]!;
    const to = n + 1 < starts.length ? starts[n + 1]! : entries.length;
    const master = entries[from]!.id;
    const masterFields = entries[from]!.fields.map((f) => f[0]);
    // Master entry: live count, deleted count, the first entry's field names, terminator 0.
    const items: LpItem[] = [to - from, 0, masterFields.length, ...masterFields, 0];
    for (let i = from; i < to; i++) {
      const e = entries[i]!;
      const same = sameFieldNames(e.fields, masterFields);
      items.push(same ? 2 : 0, delta(e.id.ms, master.ms), delta(e.id.seq, master.seq));
      if (same) {
        for (const [, v] of e.fields) items.push(v);
        items.push(e.fields.length + 3);
      } else {
        items.push(e.fields.length);
        for (const [f, v] of e.fields) items.push(f, v);
        items.push(2 * e.fields.length + 4);
      }
    }
    nodeKey.writeBigUInt64BE(master.ms, 0);
    nodeKey.writeBigUInt64BE(master.seq, 8);
    w.string(nodeKey);
    w.string(listpackEncode(items), z);
  }
  // The live entry count (decoders only surface live entries, so this is the true length).
  w.len(entries.length);
  writeIdLen(w, s.lastId);
  if (version >= 2) {
    writeIdLen(w, s.firstId);
    writeIdLen(w, s.maxDeletedId);
    w.len(s.entriesAdded);
  }
  w.len(s.groups.length);
  for (const g of s.groups) writeGroup(w, s, g, version, z);
}

/** The stream v4 tail after the groups (the layout value-decode.ts `streamIdmp` reads; docs/rdb-format.md §7.1). */
function writeStreamIdmp(w: ByteWriter, m: StreamIdmp, z: boolean): void {
  w.len(m.durationS);
  w.len(m.maxSize);
  w.len(m.producers.length);
  for (const p of m.producers) {
    w.string(p.pid, z);
    w.len(p.iids.length);
    for (const e of p.iids) {
      w.string(e.iid, z);
      writeIdLen(w, e.id);
    }
  }
  w.len(m.iidsAdded);
  w.len(m.iidsDuplicates);
}

function writeGroup(w: ByteWriter, s: StreamValue, g: StreamGroup, version: 1 | 2 | 3, z: boolean): void {
  w.string(g.name, z);
  writeIdLen(w, g.lastDeliveredId);
  if (version >= 2) {
    const er = g.entriesRead ?? estimateEntriesRead(s, g.lastDeliveredId);
    // SCG_INVALID_ENTRIES_READ (-1) is stored as its unsigned 64-bit form.
    w.len(er < 0 ? U64_MAX : er);
  }
  w.len(g.pending.length);
  for (const p of g.pending) {
    w.u64be(p.id.ms);
    w.u64be(p.id.seq);
    w.i64le(p.deliveryTimeMs);
    w.len(p.deliveryCount);
  }
  w.len(g.consumers.length);
  for (const c of g.consumers) {
    w.string(c.name, z);
    w.i64le(c.seenTimeMs);
    if (version >= 3) w.i64le(c.activeTimeMs ?? c.seenTimeMs);
    w.len(c.pending.length);
    for (const id of c.pending) {
      w.u64be(id.ms);
      w.u64be(id.seq);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// minimum versions

const ZERO_ID: StreamId = { ms: 0n, seq: 0n };

/**
 * The lowest RDB version that holds `value` without loss (for DUMP footers of records that have no source
 * payload, e.g. from JSONL). Field-TTL hashes need 12 (Redis) or 80 (Valkey); streams need 9, or 10 when their
 * v2 metadata differs from what a loader derives from v1, or 11 when a consumer's active time differs from
 * its seen time; modules need 8; everything else loads everywhere.
 */
export function minRdbVersionFor(value: Value, flavor: Flavor = 'redis'): number {
  switch (value.type) {
    case 'hash':
      return value.expires?.some((e) => e !== null && e !== undefined) ? (flavor === 'valkey' ? 80 : 12) : 1;
    case 'module':
      return 8;
    case 'stream': {
      if (value.idmp) return 13;
      let v = 9;
      const derivedFirst = value.entries.length > 0 ? value.entries[0]!.id : ZERO_ID;
      if (
        cmpId(value.firstId, derivedFirst) !== 0 ||
        cmpId(value.maxDeletedId, ZERO_ID) !== 0 ||
        value.entriesAdded !== BigInt(value.entries.length)
      ) {
        v = 10;
      }
      for (const g of value.groups) {
        if (g.entriesRead !== undefined && g.entriesRead !== estimateEntriesRead(value, g.lastDeliveredId)) v = Math.max(v, 10);
        for (const c of g.consumers) if (c.activeTimeMs !== undefined && c.activeTimeMs !== c.seenTimeMs) return 11;
      }
      return v;
    }
    default:
      return 1;
  }
}
