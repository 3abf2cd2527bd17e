import type { Flavor, StreamEntry, StreamValue, StreamConsumer, StreamGroup, StreamId, StreamIdmp, StreamIdmpProducer, StreamPendingEntry, Value } from '../records/types.js';
import { BlobError } from '../errors.js';
import { Cursor } from './cursor.js';
import { moduleNameFromId, T, VALKEY_HASH_2 } from './constants.js';
import { intsetDecode } from '../codec/intset.js';
import { itemToBuffer, listpackDecode, type LpItem } from '../codec/listpack.js';
import { ziplistDecode } from '../codec/ziplist.js';
import { zipmapDecode } from '../codec/zipmap.js';
import { decodeStreamNode } from '../codec/stream-node.js';
import { intToBuffer } from '../codec/int-text.js';
import { streamIdText, U64_MAX } from '../records/stream-id.js';
import { decodeTemplateHash } from './hash-templates.js';

/** Decode a value's serialized bytes (everything after the type byte) into its logical form. */
export function decodeValue(payload: Buffer, rdbType: number, flavor: Flavor, file: string, payloadOffset: number): Value {
  const c = new Cursor(file, payload);
  c.base = payloadOffset;
  const v = decodeAt(c, rdbType, flavor);
  if (c.pos !== payload.length && rdbType !== T.MODULE_2) {
    throw c.error(`the value to end here, but ${payload.length - c.pos} more bytes follow`);
  }
  return v;
}

/** Run a blob decoder and turn its blob-relative error into a file-relative one. */
export function blob<R>(c: Cursor, what: string, fn: (b: Buffer) => R): R {
  const at = c.pos;
  const b = c.string(what);
  try {
    return fn(b);
  } catch (e) {
    if (e instanceof BlobError) throw c.error(`a valid ${what}: ${e.expected} (at byte ${e.at} of the ${b.length}-byte ${what})`, at);
    throw e;
  }
}

function pairs(items: LpItem[], c: Cursor, what: string): Array<[Buffer, Buffer]> {
  if (items.length % 2 !== 0) throw c.error(`${what} with an even number of elements, found ${items.length}`);
  const out: Array<[Buffer, Buffer]> = new Array(items.length / 2);
  for (let i = 0; i < items.length; i += 2) out[i / 2] = [itemToBuffer(items[i]!), itemToBuffer(items[i + 1]!)];
  return out;
}

function scorePairs(items: LpItem[], c: Cursor, what: string): Array<[Buffer, number]> {
  if (items.length % 2 !== 0) throw c.error(`${what} with an even number of elements, found ${items.length}`);
  const out: Array<[Buffer, number]> = new Array(items.length / 2);
  for (let i = 0; i < items.length; i += 2) {
    const s = items[i + 1]!;
    out[i / 2] = [itemToBuffer(items[i]!), typeof s === 'number' ? s : typeof s === 'bigint' ? Number(s) : parseScore(s, c)];
  }
  return out;
}

/** Scores stored as text inside ziplists/listpacks ("1.5", "inf", "-inf", like strtod reads them). */
export function parseScore(b: Buffer, c?: Cursor): number {
  const s = b.toString('latin1').trim().toLowerCase();
  if (s === 'inf' || s === '+inf' || s === 'infinity' || s === '+infinity') return Infinity;
  if (s === '-inf' || s === '-infinity') return -Infinity;
  const v = Number(s);
  if (Number.isNaN(v) || s === '') {
    if (c) throw c.error(`a zset score, found "${s}"`);
    throw new Error(`not a zset score: "${s}"`);
  }
  return v;
}

function decodeAt(c: Cursor, rdbType: number, flavor: Flavor): Value {
  switch (rdbType) {
    case T.STRING:
      return { type: 'string', value: c.string('string value') };
    case T.LIST:
    case T.SET: {
      const n = c.count(c.len('element count'), 1, 'element count');
      const items: Buffer[] = new Array(n);
      for (let i = 0; i < n; i++) items[i] = c.string('element');
      return rdbType === T.LIST ? { type: 'list', items } : { type: 'set', members: items };
    }
    case T.ZSET:
    case T.ZSET_2: {
      const n = c.count(c.len('zset size'), 2, 'zset size');
      const entries: Array<[Buffer, number]> = new Array(n);
      for (let i = 0; i < n; i++) {
        const m = c.string('zset member');
        entries[i] = [m, rdbType === T.ZSET ? c.textDouble('zset score') : c.f64le('zset score')];
      }
      return { type: 'zset', entries };
    }
    case T.HASH: {
      const n = c.count(c.len('hash size'), 2, 'hash size');
      const entries: Array<[Buffer, Buffer]> = new Array(n);
      for (let i = 0; i < n; i++) entries[i] = [c.string('hash field'), c.string('hash value')];
      return { type: 'hash', entries };
    }
    case T.HASH_ZIPMAP:
      return { type: 'hash', entries: blob(c, 'zipmap', (b) => zipmapDecode(b)) };
    case T.LIST_ZIPLIST:
      return { type: 'list', items: blob(c, 'ziplist', (b) => ziplistDecode(b)).map(itemToBuffer) };
    case T.SET_INTSET:
      return { type: 'set', members: blob(c, 'intset', (b) => intsetDecode(b)).map(intToBuffer) };
    case T.ZSET_ZIPLIST:
      return { type: 'zset', entries: scorePairs(blob(c, 'ziplist', (b) => ziplistDecode(b)), c, 'zset ziplist') };
    case T.HASH_ZIPLIST:
      return { type: 'hash', entries: pairs(blob(c, 'ziplist', (b) => ziplistDecode(b)), c, 'hash ziplist') };
    case T.HASH_LISTPACK:
      return { type: 'hash', entries: pairs(blob(c, 'listpack', (b) => listpackDecode(b)), c, 'hash listpack') };
    case T.ZSET_LISTPACK:
      return { type: 'zset', entries: scorePairs(blob(c, 'listpack', (b) => listpackDecode(b)), c, 'zset listpack') };
    case T.SET_LISTPACK:
      return { type: 'set', members: blob(c, 'listpack', (b) => listpackDecode(b)).map(itemToBuffer) };
    case T.LIST_QUICKLIST: {
      const n = c.count(c.len('quicklist node count'), 1, 'quicklist node count');
      const items: Buffer[] = [];
      for (let i = 0; i < n; i++) for (const it of blob(c, 'ziplist', (b) => ziplistDecode(b))) items.push(itemToBuffer(it));
      return { type: 'list', items };
    }
    case T.LIST_QUICKLIST_2: {
      const n = c.count(c.len('quicklist node count'), 2, 'quicklist node count');
      const items: Buffer[] = [];
      for (let i = 0; i < n; i++) {
        const at = c.pos;
        const container = c.len('quicklist node container');
        if (container === 1) items.push(c.string('quicklist plain node'));
        else if (container === 2) for (const it of blob(c, 'listpack', (b) => listpackDecode(b))) items.push(itemToBuffer(it));
        else throw c.error(`quicklist node container 1 (plain) or 2 (packed), found ${container}`, at);
      }
      return { type: 'list', items };
    }
    case T.HASH_TMPL_LP:
    case T.HASH_TMPL_ARRAY:
      return { type: 'hash', entries: decodeTemplateHash(c, rdbType) };
    case T.MODULE_2: {
      const moduleId = c.lenBig('module type id');
      const { name, encver } = moduleNameFromId(moduleId);
      return { type: 'module', moduleId, moduleName: name, encver, raw: c.buf.subarray(0, c.end) };
    }
    case 22:
      if (flavor === 'valkey' && rdbType === VALKEY_HASH_2) return decodeValkeyHash2(c);
      return decodeHashMetadata(c, false);
    case T.HASH_METADATA:
      return decodeHashMetadata(c, true);
    case T.HASH_LISTPACK_EX_PRE_GA:
    case T.HASH_LISTPACK_EX: {
      if (rdbType === T.HASH_LISTPACK_EX) c.i64le('minimum field expiry');
      const items = blob(c, 'listpack', (b) => listpackDecode(b));
      if (items.length % 3 !== 0) throw c.error(`a field/value/ttl listpack (multiple of 3 elements), found ${items.length}`);
      const entries: Array<[Buffer, Buffer]> = [];
      const expires: Array<number | null> = [];
      let any = false;
      for (let i = 0; i < items.length; i += 3) {
        entries.push([itemToBuffer(items[i]!), itemToBuffer(items[i + 1]!)]);
        const ttl = items[i + 2]!;
        const ms = typeof ttl === 'number' ? ttl : typeof ttl === 'bigint' ? Number(ttl) : NaN;
        if (Number.isNaN(ms)) throw c.error('an integer field TTL in the hash listpack');
        expires.push(ms === 0 ? null : ms);
        if (ms !== 0) any = true;
      }
      return any ? { type: 'hash', entries, expires } : { type: 'hash', entries };
    }
    case T.STREAM_LISTPACKS:
    case T.STREAM_LISTPACKS_2:
    case T.STREAM_LISTPACKS_3:
    case T.STREAM_LISTPACKS_4:
      return decodeStream(c, rdbType);
    default:
      throw c.error(`a value type rekey can decode, found ${rdbType}`);
  }
}

/** Types 22 (pre-GA, absolute TTLs) and 24 (TTLs relative to minExpire, +1 biased). */
function decodeHashMetadata(c: Cursor, relative: boolean): Value {
  const minExpire = relative ? c.i64le('minimum field expiry') : 0;
  const n = c.count(c.len('hash size'), 3, 'hash size');
  const entries: Array<[Buffer, Buffer]> = new Array(n);
  const expires: Array<number | null> = new Array(n);
  let any = false;
  for (let i = 0; i < n; i++) {
    const ttl = c.len('field TTL');
    entries[i] = [c.string('hash field'), c.string('hash value')];
    expires[i] = ttl === 0 ? null : relative ? ttl + minExpire - 1 : ttl;
    if (ttl !== 0) any = true;
  }
  return any ? { type: 'hash', entries, expires } : { type: 'hash', entries };
}

/** Valkey 9 HASH_2: field, value, int64 LE absolute expiry (-1 = none). */
function decodeValkeyHash2(c: Cursor): Value {
  const n = c.count(c.len('hash size'), 10, 'hash size');
  const entries: Array<[Buffer, Buffer]> = new Array(n);
  const expires: Array<number | null> = new Array(n);
  let any = false;
  for (let i = 0; i < n; i++) {
    entries[i] = [c.string('hash field'), c.string('hash value')];
    const ms = c.i64le('field expiry');
    expires[i] = ms < 0 ? null : ms;
    if (ms >= 0) any = true;
  }
  return any ? { type: 'hash', entries, expires } : { type: 'hash', entries };
}

function streamIdFromLen(c: Cursor, what: string): StreamId {
  return { ms: c.lenBig(`${what} ms`), seq: c.lenBig(`${what} seq`) };
}

function rawStreamId(c: Cursor, what: string): StreamId {
  return { ms: c.u64be(`${what} ms`), seq: c.u64be(`${what} seq`) };
}

function decodeStream(c: Cursor, rdbType: number): Value {
  const entries: StreamEntry[] = [];
  for (const node of streamNodes(c)) for (const e of node) entries.push(e);
  return { type: 'stream', entries, ...streamTail(c, rdbType, entries[0]?.id ?? null) };
}

/**
 * A stream's entries node by node (each node's live entries as one array), so a writer can emit a
 * big stream without holding all of it. The cursor then stands at the stream's tail (streamTail).
 */
export function* streamNodes(c: Cursor): Generator<StreamEntry[]> {
  const nodes = c.count(c.len('stream node count'), 2, 'stream node count');
  let prevMaster: Buffer | null = null;
  for (let i = 0; i < nodes; i++) {
    const at = c.pos;
    const nodeKey = c.string('stream node key');
    if (nodeKey.length !== 16) throw c.error(`a 16-byte stream node key, found ${nodeKey.length} bytes`, at);
    if (prevMaster && Buffer.compare(prevMaster, nodeKey) >= 0) throw c.error('stream node keys in ascending order', at);
    prevMaster = nodeKey;
    const master: StreamId = { ms: nodeKey.readBigUInt64BE(0), seq: nodeKey.readBigUInt64BE(8) };
    const out: StreamEntry[] = [];
    blob(c, 'stream listpack', (b) => {
      const items = listpackDecode(b);
      if (items.length === 0) throw new BlobError(0, 'a non-empty stream listpack');
      decodeStreamNode(items, master, out);
    });
    yield out;
  }
}

/** A stream v4's IDMP tail (docs/rdb-format.md §7.1; layout per librdb PR #93's reading of Redis 8.6). */
function streamIdmp(c: Cursor): StreamIdmp {
  const durationS = c.len('idmp duration');
  const maxSize = c.len('idmp max entries');
  const n = c.count(c.len('idmp producer count'), 2, 'idmp producer count');
  const producers: StreamIdmpProducer[] = [];
  for (let i = 0; i < n; i++) {
    const pid = c.string('idmp producer id');
    const m = c.count(c.len('idmp entry count'), 3, 'idmp entry count');
    const iids: StreamIdmpProducer['iids'] = [];
    for (let j = 0; j < m; j++) iids.push({ iid: c.string('idmp iid'), id: streamIdFromLen(c, 'idmp id') });
    producers.push({ pid, iids });
  }
  const iidsAdded = c.lenBig('idmp iids added');
  const iidsDuplicates = c.lenBig('idmp iids duplicates');
  return { durationS, maxSize, producers, iidsAdded, iidsDuplicates };
}

/** Everything after a stream's nodes: length, IDs, v2 counters, groups; `firstEntry` is for v1's derivation. */
export function streamTail(c: Cursor, rdbType: number, firstEntry: StreamId | null): Omit<StreamValue, 'type' | 'entries'> {
  const length = c.len('stream length');
  const lastId = streamIdFromLen(c, 'stream last id');
  const v2 = rdbType >= T.STREAM_LISTPACKS_2;
  let firstId: StreamId;
  let maxDeletedId: StreamId;
  let entriesAdded: bigint;
  if (v2) {
    firstId = streamIdFromLen(c, 'stream first id');
    maxDeletedId = streamIdFromLen(c, 'stream max deleted id');
    entriesAdded = c.lenBig('stream entries added');
  } else {
    // What Redis derives when it loads a v1 stream (streamGetEdgeID: max ID when there is no entry).
    firstId = firstEntry ?? { ms: U64_MAX, seq: U64_MAX };
    maxDeletedId = { ms: 0n, seq: 0n };
    entriesAdded = BigInt(length);
  }
  const nGroups = c.count(c.len('consumer group count'), 4, 'consumer group count');
  const groups: StreamGroup[] = [];
  for (let g = 0; g < nGroups; g++) {
    const name = c.string('group name');
    const lastDeliveredId = streamIdFromLen(c, 'group last delivered id');
    let entriesRead: number | undefined;
    if (v2) {
      const er = c.lenBig('group entries read');
      entriesRead = er === U64_MAX ? -1 : Number(er);
    }
    const pelSize = c.count(c.len('group PEL size'), 25, 'group PEL size');
    const pending: StreamPendingEntry[] = new Array(pelSize);
    const owner = new Map<string, number>();
    for (let p = 0; p < pelSize; p++) {
      const id = rawStreamId(c, 'PEL entry id');
      const deliveryTimeMs = c.i64le('PEL delivery time');
      const deliveryCount = c.len('PEL delivery count');
      pending[p] = { id, consumer: Buffer.alloc(0), deliveryTimeMs, deliveryCount };
      owner.set(streamIdText(id), p);
    }
    const nConsumers = c.count(c.len('consumer count'), 10, 'consumer count');
    const consumers: StreamConsumer[] = [];
    for (let k = 0; k < nConsumers; k++) {
      const cname = c.string('consumer name');
      const seenTimeMs = c.i64le('consumer seen time');
      const consumer: StreamConsumer = { name: cname, seenTimeMs, pending: [] };
      if (rdbType >= T.STREAM_LISTPACKS_3) consumer.activeTimeMs = c.i64le('consumer active time');
      const cpel = c.count(c.len('consumer PEL size'), 16, 'consumer PEL size');
      for (let p = 0; p < cpel; p++) {
        const at = c.pos;
        const id = rawStreamId(c, 'consumer PEL id');
        const idx = owner.get(streamIdText(id));
        if (idx === undefined) throw c.error(`consumer PEL id ${streamIdText(id)} to exist in the group PEL`, at);
        pending[idx]!.consumer = cname;
        consumer.pending.push(id);
      }
      consumers.push(consumer);
    }
    const group: StreamGroup = { name, lastDeliveredId, pending, consumers };
    if (entriesRead !== undefined) group.entriesRead = entriesRead;
    groups.push(group);
  }
  const version = rdbType === T.STREAM_LISTPACKS ? 1 : rdbType === T.STREAM_LISTPACKS_2 ? 2 : rdbType === T.STREAM_LISTPACKS_3 ? 3 : 4;
  const tail: Omit<StreamValue, 'type' | 'entries'> = { length, lastId, firstId, maxDeletedId, entriesAdded, groups, version };
  if (rdbType === T.STREAM_LISTPACKS_4) tail.idmp = streamIdmp(c);
  return tail;
}
