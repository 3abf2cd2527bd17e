/**
 * Read a key's logical value from a live Redis into the project's `Value` model, and compare values
 * regardless of the order Redis happens to return unordered collections in. Used by `validate` and
 * by tests. Binary-safe throughout (only *Buffer / callBuffer commands).
 */
import type { Redis, Cluster } from 'ioredis';
import { decodeValue } from '../rdb/value-decode.js';
import { compareStreamIds, nextStreamId, parseReplyStreamId, streamIdText } from '../records/stream-id.js';
import type {
  LogicalType,
  ModuleValue,
  StreamConsumer,
  StreamEntry,
  StreamGroup,
  StreamId,
  StreamPendingEntry,
  StreamValue,
  Value,
} from '../records/types.js';

/** Anything that can send a raw command: a standalone client or a Cluster client. */
export type CommandClient = Pick<Redis, 'callBuffer'> | Pick<Cluster, 'callBuffer'>;

export interface ReadValueResult {
  /** `none` when the key does not exist (then value is null). */
  type: LogicalType | 'none';
  value: Value | null;
  /** Absolute expiry in ms, null for no TTL (or no key). */
  expireAtMs: number | null;
}

export interface ReadValueOptions {
  /** Window for LRANGE / ZRANGE / XRANGE / SSCAN / HSCAN batches. Default 10000. */
  chunk?: number;
}

const DEFAULT_CHUNK = 10_000;

// ---------------------------------------------------------------------------------------------
// small reply helpers (RESP2 via ioredis callBuffer: bulk → Buffer, integer → number, nil → null)

type Reply = Buffer | number | null | Reply[] | Error;

async function cmd(client: CommandClient, name: string, ...args: Array<string | Buffer | number>): Promise<Reply> {
  return (await (client as Pick<Redis, 'callBuffer'>).callBuffer(name, ...args)) as Reply;
}

function str(r: Reply): string {
  if (Buffer.isBuffer(r)) return r.toString('utf8');
  if (typeof r === 'number') return String(r);
  if (r === null) return '';
  throw new Error(`unexpected reply ${JSON.stringify(r)}`);
}

function int(r: Reply): number {
  if (typeof r === 'number') return r;
  if (Buffer.isBuffer(r)) return Number(r.toString('latin1'));
  throw new Error(`expected an integer reply, got ${JSON.stringify(r)}`);
}

function arr(r: Reply): Reply[] {
  if (Array.isArray(r)) return r;
  if (r === null) return [];
  throw new Error(`expected an array reply, got ${JSON.stringify(r)}`);
}

function buf(r: Reply): Buffer {
  if (Buffer.isBuffer(r)) return r;
  if (typeof r === 'number') return Buffer.from(String(r));
  throw new Error(`expected a bulk reply, got ${JSON.stringify(r)}`);
}

/** A flat [k1, v1, k2, v2...] reply as a map keyed by the (ASCII) field names XINFO uses. */
function kv(r: Reply): Map<string, Reply> {
  const a = arr(r);
  const m = new Map<string, Reply>();
  for (let i = 0; i + 1 < a.length; i += 2) m.set(str(a[i]!), a[i + 1]!);
  return m;
}

/** Redis double replies: `inf`, `-inf`, `+inf`, `nan` and ordinary decimal/exponent forms. */
export function parseRedisDouble(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (t === 'nan' || t === '-nan') return NaN;
  const n = Number(t);
  if (Number.isNaN(n)) throw new Error(`not a double: ${s}`);
  return n;
}

export const parseStreamId = parseReplyStreamId;
export const formatStreamId = streamIdText;
const compareIds = compareStreamIds;
const nextId = nextStreamId;

// ---------------------------------------------------------------------------------------------
// feature detection (once per client)

interface Features {
  pexpiretime: boolean;
  hpexpiretime: boolean;
}
const featureCache = new WeakMap<object, Promise<Features>>();

async function hasCommand(client: CommandClient, name: string): Promise<boolean> {
  try {
    const r = arr(await cmd(client, 'COMMAND', 'INFO', name));
    return r.length > 0 && r[0] !== null;
  } catch {
    return false; // COMMAND renamed/disabled or ACL-restricted: assume the old server
  }
}

function features(client: CommandClient): Promise<Features> {
  let f = featureCache.get(client);
  if (!f) {
    f = (async () => ({
      pexpiretime: await hasCommand(client, 'pexpiretime'),
      hpexpiretime: await hasCommand(client, 'hpexpiretime'),
    }))();
    f.catch(() => featureCache.delete(client));
    featureCache.set(client, f);
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// readValue

/**
 * Read `key` from the client's selected db. Not atomic: a key changing while it is read (or a huge
 * collection read in windows) may come back torn; validation reads quiescent targets.
 */
export async function readValue(client: CommandClient, key: Buffer, opts: ReadValueOptions = {}): Promise<ReadValueResult> {
  const chunk = Math.max(1, opts.chunk ?? DEFAULT_CHUNK);
  const feat = await features(client);
  const typeName = str(await cmd(client, 'TYPE', key));
  if (typeName === 'none') return { type: 'none', value: null, expireAtMs: null };

  let value: Value;
  switch (typeName) {
    case 'string':
      value = { type: 'string', value: buf(await cmd(client, 'GET', key)) };
      break;
    case 'list':
      value = { type: 'list', items: await readList(client, key, chunk) };
      break;
    case 'set':
      value = { type: 'set', members: await readSet(client, key, chunk) };
      break;
    case 'zset':
      value = { type: 'zset', entries: await readZset(client, key, chunk) };
      break;
    case 'hash':
      value = await readHash(client, key, chunk, feat.hpexpiretime);
      break;
    case 'stream':
      value = await readStream(client, key, chunk);
      break;
    default:
      value = await readModule(client, key, typeName);
  }

  let expireAtMs: number | null;
  if (feat.pexpiretime) {
    const t = int(await cmd(client, 'PEXPIRETIME', key));
    expireAtMs = t >= 0 ? t : null;
  } else {
    const ttl = int(await cmd(client, 'PTTL', key));
    expireAtMs = ttl >= 0 ? Date.now() + ttl : null;
  }
  return { type: value.type, value, expireAtMs };
}

async function readList(client: CommandClient, key: Buffer, chunk: number): Promise<Buffer[]> {
  const len = int(await cmd(client, 'LLEN', key));
  if (len <= chunk) return arr(await cmd(client, 'LRANGE', key, 0, -1)).map(buf);
  const out: Buffer[] = [];
  for (let start = 0; ; start += chunk) {
    const part = arr(await cmd(client, 'LRANGE', key, start, start + chunk - 1)).map(buf);
    for (const x of part) out.push(x);
    if (part.length < chunk) break;
  }
  return out;
}

async function readSet(client: CommandClient, key: Buffer, chunk: number): Promise<Buffer[]> {
  const card = int(await cmd(client, 'SCARD', key));
  if (card <= chunk) return arr(await cmd(client, 'SMEMBERS', key)).map(buf);
  // SSCAN may return an element more than once; dedupe by bytes.
  const seen = new Map<string, Buffer>();
  let cursor = '0';
  do {
    const [next, items] = arr(await cmd(client, 'SSCAN', key, cursor, 'COUNT', chunk));
    cursor = str(next!);
    for (const m of arr(items!)) {
      const b = buf(m);
      seen.set(b.toString('latin1'), b);
    }
  } while (cursor !== '0');
  return [...seen.values()];
}

function pairsToZset(a: Reply[]): Array<[Buffer, number]> {
  const out: Array<[Buffer, number]> = [];
  for (let i = 0; i + 1 < a.length; i += 2) out.push([buf(a[i]!), parseRedisDouble(str(a[i + 1]!))]);
  return out;
}

async function readZset(client: CommandClient, key: Buffer, chunk: number): Promise<Array<[Buffer, number]>> {
  const card = int(await cmd(client, 'ZCARD', key));
  if (card <= chunk) return pairsToZset(arr(await cmd(client, 'ZRANGE', key, 0, -1, 'WITHSCORES')));
  const out: Array<[Buffer, number]> = [];
  for (let start = 0; ; start += chunk) {
    const part = pairsToZset(arr(await cmd(client, 'ZRANGE', key, start, start + chunk - 1, 'WITHSCORES')));
    for (const x of part) out.push(x);
    if (part.length < chunk) break;
  }
  return out;
}

async function readHash(client: CommandClient, key: Buffer, chunk: number, fieldTtl: boolean): Promise<Value> {
  const len = int(await cmd(client, 'HLEN', key));
  const entries: Array<[Buffer, Buffer]> = [];
  if (len <= chunk) {
    const a = arr(await cmd(client, 'HGETALL', key));
    for (let i = 0; i + 1 < a.length; i += 2) entries.push([buf(a[i]!), buf(a[i + 1]!)]);
  } else {
    const seen = new Map<string, [Buffer, Buffer]>();
    let cursor = '0';
    do {
      const [next, items] = arr(await cmd(client, 'HSCAN', key, cursor, 'COUNT', chunk));
      cursor = str(next!);
      const a = arr(items!);
      for (let i = 0; i + 1 < a.length; i += 2) {
        const f = buf(a[i]!);
        seen.set(f.toString('latin1'), [f, buf(a[i + 1]!)]);
      }
    } while (cursor !== '0');
    // a loop, not push(...): a spread of 190k fields overflows the call stack
    for (const e of seen.values()) entries.push(e);
  }
  const value: Value = { type: 'hash', entries };
  if (fieldTtl && entries.length > 0) {
    const expires: Array<number | null> = [];
    for (let i = 0; i < entries.length; i += chunk) {
      const fields = entries.slice(i, i + chunk).map((e) => e[0]);
      const r = arr(await cmd(client, 'HPEXPIRETIME', key, 'FIELDS', fields.length, ...fields));
      for (const t of r) {
        const n = int(t);
        expires.push(n >= 0 ? n : null);
      }
    }
    if (expires.some((e) => e !== null)) value.expires = expires;
  }
  return value;
}

function parseEntry(r: Reply): StreamEntry {
  const [id, fv] = arr(r);
  const a = arr(fv ?? null);
  const fields: Array<[Buffer, Buffer]> = [];
  for (let i = 0; i + 1 < a.length; i += 2) fields.push([buf(a[i]!), buf(a[i + 1]!)]);
  return { id: parseStreamId(buf(id!)), fields };
}

async function readStream(client: CommandClient, key: Buffer, chunk: number): Promise<StreamValue> {
  // Entries, in windows.
  const entries: StreamEntry[] = [];
  let start = '-';
  for (;;) {
    const part = arr(await cmd(client, 'XRANGE', key, start, '+', 'COUNT', chunk)).map(parseEntry);
    for (const e of part) entries.push(e);
    if (part.length < chunk) break;
    start = formatStreamId(nextId(part[part.length - 1]!.id));
  }

  // Metadata. XINFO STREAM FULL truncates every PEL (and the entry list) to COUNT (default 10, 0 = all),
  // so ask for exactly the largest group PEL; that also keeps it from returning the whole stream again.
  let maxPel = 0;
  for (const g of arr(await cmd(client, 'XINFO', 'GROUPS', key))) maxPel = Math.max(maxPel, int(kv(g).get('pending') ?? 0));
  const info = kv(await cmd(client, 'XINFO', 'STREAM', key, 'FULL', 'COUNT', Math.max(1, maxPel)));

  const groups: StreamGroup[] = [];
  let hasActiveTime = false;
  for (const gr of arr(info.get('groups') ?? null)) {
    const g = kv(gr);
    const pending: StreamPendingEntry[] = arr(g.get('pending') ?? null).map((p) => {
      const [id, consumer, time, count] = arr(p);
      return { id: parseStreamId(buf(id!)), consumer: buf(consumer!), deliveryTimeMs: int(time!), deliveryCount: int(count!) };
    });
    const consumers: StreamConsumer[] = arr(g.get('consumers') ?? null).map((cr) => {
      const c = kv(cr);
      const consumer: StreamConsumer = {
        name: buf(c.get('name')!),
        seenTimeMs: int(c.get('seen-time')!),
        pending: arr(c.get('pending') ?? null).map((p) => parseStreamId(buf(arr(p)[0]!))),
      };
      const active = c.get('active-time');
      if (active !== undefined && active !== null) {
        consumer.activeTimeMs = int(active);
        hasActiveTime = true;
      }
      return consumer;
    });
    const group: StreamGroup = {
      name: buf(g.get('name')!),
      lastDeliveredId: parseStreamId(buf(g.get('last-delivered-id')!)),
      pending,
      consumers,
    };
    if (g.has('entries-read')) {
      const er = g.get('entries-read');
      group.entriesRead = er === null || er === undefined ? -1 : int(er);
    }
    groups.push(group);
  }

  const id = (name: string, fallback: StreamId): StreamId => {
    const r = info.get(name);
    return r === undefined || r === null ? fallback : parseStreamId(buf(r));
  };
  const zero: StreamId = { ms: 0n, seq: 0n };
  const lastId = id('last-generated-id', zero);
  const entriesAddedReply = info.get('entries-added');
  return {
    type: 'stream',
    entries,
    length: int(info.get('length') ?? entries.length),
    lastId,
    firstId: id('recorded-first-entry-id', entries[0]?.id ?? zero),
    maxDeletedId: id('max-deleted-entry-id', zero),
    entriesAdded:
      entriesAddedReply === undefined || entriesAddedReply === null ? BigInt(entries.length) : BigInt(str(entriesAddedReply)),
    groups,
    // The layout a DUMP of this server would use: v3 (7.2+, active-time) or v2 (7.0) / v1 (older).
    version: hasActiveTime ? 3 : info.has('entries-added') ? 2 : 1,
  };
}

async function readModule(client: CommandClient, key: Buffer, typeName: string): Promise<ModuleValue> {
  const dump = await cmd(client, 'DUMP', key);
  // DUMP = type byte + payload + 2-byte RDB version + 8-byte CRC64.
  const d = Buffer.isBuffer(dump) ? dump : Buffer.alloc(0);
  const raw = d.length > 11 ? Buffer.from(d.subarray(1, d.length - 10)) : Buffer.alloc(0);
  if (raw.length > 0 && d[0] === 7) {
    try {
      return decodeValue(raw, 7, 'redis', `DUMP ${key.toString('latin1')}`, 0) as ModuleValue;
    } catch {
      // fall through: keep the opaque bytes under the name TYPE reported
    }
  }
  return { type: 'module', moduleId: 0n, moduleName: typeName, encver: 0, raw };
}

// ---------------------------------------------------------------------------------------------
// normalization and comparison

const byBytes = (a: Buffer, b: Buffer): number => Buffer.compare(a, b);

/** A copy with unordered collections in a canonical order (sets, zsets, hashes, stream groups/consumers/PELs). */
export function normalizeValue(v: Value): Value {
  switch (v.type) {
    case 'string':
      return { type: 'string', value: v.value };
    case 'list':
      return { type: 'list', items: [...v.items] };
    case 'set':
      return { type: 'set', members: [...v.members].sort(byBytes) };
    case 'zset':
      return { type: 'zset', entries: [...v.entries].sort((a, b) => byBytes(a[0], b[0])) };
    case 'hash': {
      const idx = v.entries.map((_, i) => i).sort((a, b) => byBytes(v.entries[a]![0], v.entries[b]![0]));
      const out: Value = { type: 'hash', entries: idx.map((i) => v.entries[i]!) };
      if (v.expires) out.expires = idx.map((i) => v.expires![i] ?? null);
      return out;
    }
    case 'stream':
      return {
        ...v,
        entries: [...v.entries],
        groups: [...v.groups]
          .map((g) => ({
            ...g,
            pending: [...g.pending].sort((a, b) => compareIds(a.id, b.id)),
            consumers: [...g.consumers]
              .map((c) => ({ ...c, pending: [...c.pending].sort(compareIds) }))
              .sort((a, b) => byBytes(a.name, b.name)),
          }))
          .sort((a, b) => byBytes(a.name, b.name)),
      };
    case 'module':
      return { ...v };
  }
}

export interface ValuesEqualOptions {
  /**
   * Compare stream delivery/seen/active times (default true). Turn off when the target was written
   * with commands (XCLAIM etc.), which cannot reproduce them exactly.
   */
  streamTimes?: boolean;
  /** Name the sides in a diff (`input: x / target: y`) instead of `x != y`. */
  labels?: readonly [string, string];
}

function show(b: Buffer): string {
  const s = b.toString('utf8');
  const printable = Buffer.from(s, 'utf8').equals(b) && !/[\x00-\x08\x0e-\x1f\x7f]/.test(s);
  const text = printable ? JSON.stringify(s) : `0x${b.toString('hex')}`;
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}

function sameScore(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/**
 * Compare two values as Redis sees them: order of sets/zsets/hashes/groups/consumers does not matter,
 * list and stream entry order does; zset scores compared as doubles. Key TTLs are not part of a value
 * (compare `expireAtMs` separately); hash field TTLs are (an absent `expires` equals all-null).
 * Stream metadata present on only one side (entriesRead, activeTimeMs) is not compared.
 */
export function valuesEqual(a: Value, b: Value, opts: ValuesEqualOptions = {}): { equal: boolean; diff?: string } {
  const labels = opts.labels;
  const ne: Ne = labels ? (x, y) => `${labels[0]}: ${String(x)} / ${labels[1]}: ${String(y)}` : (x, y) => `${String(x)} != ${String(y)}`;
  const diff = firstDiff(normalizeValue(a), normalizeValue(b), opts.streamTimes ?? true, ne, labels ?? ['left', 'right']);
  return diff === null ? { equal: true } : { equal: false, diff };
}

/** How a difference reads: `x != y`, or with labels `input: x / target: y`. */
type Ne = (x: unknown, y: unknown) => string;

function firstDiff(a: Value, b: Value, streamTimes: boolean, ne: Ne, side: readonly [string, string]): string | null {
  if (a.type !== b.type) return `type ${ne(a.type, b.type)}`;
  switch (a.type) {
    case 'string': {
      const bv = (b as typeof a).value;
      return a.value.equals(bv) ? null : `string ${ne(show(a.value), show(bv))}`;
    }
    case 'list':
    case 'set': {
      const xs = a.type === 'list' ? a.items : a.members;
      const ys = b.type === 'list' ? b.items : (b as Extract<Value, { type: 'set' }>).members;
      const what = a.type === 'list' ? 'list item' : 'set member';
      for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
        if (!xs[i]!.equals(ys[i]!)) return `${what} ${i}: ${ne(show(xs[i]!), show(ys[i]!))}`;
      }
      if (xs.length !== ys.length) {
        const extra = xs.length > ys.length ? `${side[0]} has ${show(xs[ys.length]!)}` : `${side[1]} has ${show(ys[xs.length]!)}`;
        return `${a.type} length ${ne(xs.length, ys.length)} (${extra})`;
      }
      return null;
    }
    case 'zset': {
      const ys = (b as typeof a).entries;
      for (let i = 0; i < Math.min(a.entries.length, ys.length); i++) {
        const [m1, s1] = a.entries[i]!;
        const [m2, s2] = ys[i]!;
        if (!m1.equals(m2)) return `zset member ${i}: ${ne(show(m1), show(m2))}`;
        if (!sameScore(s1, s2)) return `zset score of ${show(m1)}: ${ne(s1, s2)}`;
      }
      if (a.entries.length !== ys.length) return `zset length ${ne(a.entries.length, ys.length)}`;
      return null;
    }
    case 'hash': {
      const h = b as typeof a;
      for (let i = 0; i < Math.min(a.entries.length, h.entries.length); i++) {
        const [f1, v1] = a.entries[i]!;
        const [f2, v2] = h.entries[i]!;
        if (!f1.equals(f2)) return `hash field ${i}: ${ne(show(f1), show(f2))}`;
        if (!v1.equals(v2)) return `hash field ${show(f1)}: ${ne(show(v1), show(v2))}`;
        const e1 = a.expires?.[i] ?? null;
        const e2 = h.expires?.[i] ?? null;
        if (e1 !== e2) return `hash field ${show(f1)} expire_at_ms ${ne(e1, e2)}`;
      }
      if (a.entries.length !== h.entries.length) return `hash length ${ne(a.entries.length, h.entries.length)}`;
      return null;
    }
    case 'stream':
      return streamDiff(a, b as StreamValue, streamTimes, ne);
    case 'module': {
      const m = b as ModuleValue;
      if (a.moduleName !== m.moduleName) return `module name ${ne(a.moduleName, m.moduleName)}`;
      if (a.moduleId !== m.moduleId) return `module id ${ne(a.moduleId, m.moduleId)}`;
      if (a.encver !== m.encver) return `module encver ${ne(a.encver, m.encver)}`;
      return a.raw.equals(m.raw) ? null : `module payload differs (${ne(`${a.raw.length} bytes`, `${m.raw.length} bytes`)})`;
    }
  }
}

function idDiff(what: string, x: StreamId, y: StreamId, ne: Ne): string | null {
  return compareIds(x, y) === 0 ? null : `${what} ${ne(formatStreamId(x), formatStreamId(y))}`;
}

function streamDiff(a: StreamValue, b: StreamValue, times: boolean, ne: Ne): string | null {
  for (let i = 0; i < Math.min(a.entries.length, b.entries.length); i++) {
    const x = a.entries[i]!;
    const y = b.entries[i]!;
    const d = idDiff(`stream entry ${i} id`, x.id, y.id, ne);
    if (d) return d;
    const where = `stream entry ${formatStreamId(x.id)}`;
    if (x.fields.length !== y.fields.length) return `${where}: fields ${ne(x.fields.length, y.fields.length)}`;
    for (let j = 0; j < x.fields.length; j++) {
      const [f1, v1] = x.fields[j]!;
      const [f2, v2] = y.fields[j]!;
      if (!f1.equals(f2)) return `${where} field ${j}: ${ne(show(f1), show(f2))}`;
      if (!v1.equals(v2)) return `${where} field ${show(f1)}: ${ne(show(v1), show(v2))}`;
    }
  }
  if (a.entries.length !== b.entries.length) return `stream entries ${ne(a.entries.length, b.entries.length)}`;
  if (a.length !== b.length) return `stream length ${ne(a.length, b.length)}`;
  const meta =
    idDiff('stream last_generated_id', a.lastId, b.lastId, ne) ??
    idDiff('stream recorded_first_entry_id', a.firstId, b.firstId, ne) ??
    idDiff('stream max_deleted_entry_id', a.maxDeletedId, b.maxDeletedId, ne);
  if (meta) return meta;
  if (a.entriesAdded !== b.entriesAdded) return `stream entries_added ${ne(a.entriesAdded, b.entriesAdded)}`;
  if (a.groups.length !== b.groups.length) {
    return `stream groups ${ne(a.groups.map((g) => show(g.name)).join(','), b.groups.map((g) => show(g.name)).join(','))}`;
  }
  for (let i = 0; i < a.groups.length; i++) {
    const g = a.groups[i]!;
    const h = b.groups[i]!;
    if (!g.name.equals(h.name)) return `stream group ${i}: ${ne(show(g.name), show(h.name))}`;
    const gw = `stream group ${show(g.name)}`;
    const d = idDiff(`${gw} last_delivered_id`, g.lastDeliveredId, h.lastDeliveredId, ne);
    if (d) return d;
    if (g.entriesRead !== undefined && h.entriesRead !== undefined && g.entriesRead !== h.entriesRead) {
      return `${gw} entries_read ${ne(g.entriesRead, h.entriesRead)}`;
    }
    for (let j = 0; j < Math.min(g.pending.length, h.pending.length); j++) {
      const p = g.pending[j]!;
      const q = h.pending[j]!;
      const pd = idDiff(`${gw} pending ${j}`, p.id, q.id, ne);
      if (pd) return pd;
      const pw = `${gw} pending ${formatStreamId(p.id)}`;
      if (!p.consumer.equals(q.consumer)) return `${pw} consumer ${ne(show(p.consumer), show(q.consumer))}`;
      if (p.deliveryCount !== q.deliveryCount) return `${pw} delivery_count ${ne(p.deliveryCount, q.deliveryCount)}`;
      if (times && p.deliveryTimeMs !== q.deliveryTimeMs) return `${pw} delivery_time_ms ${ne(p.deliveryTimeMs, q.deliveryTimeMs)}`;
    }
    if (g.pending.length !== h.pending.length) return `${gw} pending ${ne(g.pending.length, h.pending.length)}`;
    for (let j = 0; j < Math.min(g.consumers.length, h.consumers.length); j++) {
      const c = g.consumers[j]!;
      const k = h.consumers[j]!;
      if (!c.name.equals(k.name)) return `${gw} consumer ${j}: ${ne(show(c.name), show(k.name))}`;
      const cw = `${gw} consumer ${show(c.name)}`;
      if (times && c.seenTimeMs !== k.seenTimeMs) return `${cw} seen_time_ms ${ne(c.seenTimeMs, k.seenTimeMs)}`;
      if (times && c.activeTimeMs !== undefined && k.activeTimeMs !== undefined && c.activeTimeMs !== k.activeTimeMs) {
        return `${cw} active_time_ms ${ne(c.activeTimeMs, k.activeTimeMs)}`;
      }
      const ids1 = c.pending.map(formatStreamId).join(',');
      const ids2 = k.pending.map(formatStreamId).join(',');
      if (ids1 !== ids2) return `${cw} pending ${ne(`[${ids1}]`, `[${ids2}]`)}`;
    }
    if (g.consumers.length !== h.consumers.length) {
      return `${gw} consumers ${ne(g.consumers.map((c) => show(c.name)).join(','), h.consumers.map((c) => show(c.name)).join(','))}`;
    }
  }
  return null;
}
