/**
 * A key's value as ordinary write commands, for targets that cannot take a RESTORE payload (older servers,
 * another fork) and for `import --mode commands`. Big collections go in variadic chunks.
 *
 * Target-aware: with `target` the commands are the ones that server version accepts (XSETID's ENTRIESADDED /
 * MAXDELETEDID and XGROUP CREATE's ENTRIESREAD are 7.0+, XGROUP CREATECONSUMER 6.2+, HPEXPIREAT Redis 7.4+ /
 * Valkey 9.0+); what the target cannot hold is returned as losses (`encodeValueCommands`, or collected in
 * `opts.losses`) so callers count it. Without `target` the newest syntax is used, as before.
 *
 * Limits (Redis semantics, not choices): consumer seen/active times become the time of import (no command
 * sets them). Pending entries whose message was deleted are restored through a placeholder message that is
 * claimed and then deleted (XCLAIM only creates a PEL entry for a message that exists: xclaimCommand,
 * streamEntryExists), after which XSETID puts the stream's counters back. Module values have no command form.
 * A stream v4's IDMP state: XCFGSET (Redis 8.6+) and XIDMPRECORD per IID (8.8+, the command AOF rewrite
 * replays); the lifetime counters iids-added / iids-duplicates have no command and are a counted loss.
 */
import type { StreamId, StreamValue, Value } from '../records/types.js';
import { UnrepresentableValueError, estimateEntriesRead } from './value-encoder.js';
import { doubleText } from './rdb-primitives.js';
import { compareStreamIds, streamIdText } from '../records/stream-id.js';

/** The server the commands are for. Versions compare numerically: `6.2.16`, `7.0`, `9.1.2`. */
export interface CommandTarget {
  product?: 'redis' | 'valkey';
  version: string;
}

export type CommandLossKind =
  /** Hash field TTLs on a target without HPEXPIREAT (fields kept, TTL gone). */
  | 'field-ttl'
  /** Hash field TTLs past HPEXPIREAT's upper bound (fields kept, TTL gone). */
  | 'field-ttl-out-of-range'
  /** entries_added / max_deleted_entry_id on a target before 7.0. */
  | 'stream-metadata'
  /** A group's entries_read on a target before 7.0. */
  | 'group-entries-read'
  /** Consumer seen/active times (become the import time). */
  | 'consumer-times'
  /** A consumer with no pending entries on a target without XGROUP CREATECONSUMER (before 6.2). */
  | 'consumer'
  /** Pending entries that cannot be recreated (no owner known, ID 0-0 or past the stream's last ID). */
  | 'pending-entry'
  /** A stream's whole IDMP state on a target without XCFGSET (before Redis 8.6, Valkey). */
  | 'stream-idmp'
  /** IDMP-DURATION / IDMP-MAXSIZE outside what XCFGSET accepts. */
  | 'stream-idmp-config'
  /** IIDs on a target without XIDMPRECORD (8.6), or whose entry is no longer in the stream. */
  | 'stream-idmp-iid'
  /** The lifetime counters iids-added / iids-duplicates (no command sets them). */
  | 'stream-idmp-counters';

export interface CommandLoss {
  kind: CommandLossKind;
  /** How many items of that kind this key lost. */
  count: number;
  detail: string;
}

export interface ValueCommandOptions {
  /** Start with DEL key, so an existing key is replaced rather than merged into. */
  replace?: boolean | undefined;
  /** Elements (or field/value pairs, or IDs) per variadic command. Default 1000. */
  chunk?: number | undefined;
  /** Emit only what this server accepts; default: the newest syntax. */
  target?: CommandTarget;
  /** Losses are appended here too (for callers of valueToCommands). */
  losses?: CommandLoss[];
}

export interface EncodedCommands {
  commands: CommandArgs[];
  losses: CommandLoss[];
}

export type CommandArgs = Buffer[];

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const idText = (id: StreamId): Buffer => b(streamIdText(id));

/** ZADD/XADD-style score text: shortest round-trip decimal, `+inf` / `-inf`, `-0` kept. */
export function scoreArg(x: number): Buffer {
  if (x === Infinity) return b('+inf');
  if (x === -Infinity) return b('-inf');
  if (Number.isNaN(x)) throw new UnrepresentableValueError('a sorted set score is NaN');
  return b(doubleText(x));
}

/** What a target version accepts (first versions per command, from each command's history). */
interface Features {
  /** XSETID … ENTRIESADDED … MAXDELETEDID, XGROUP CREATE … ENTRIESREAD (Redis 7.0). */
  streamMeta: boolean;
  /** XGROUP CREATECONSUMER (Redis 6.2). */
  createConsumer: boolean;
  /** HPEXPIREAT (Redis 7.4, Valkey 9.0). */
  fieldTtl: boolean;
  /** Streams at all (Redis 5.0). */
  streams: boolean;
  /** XCFGSET IDMP-DURATION / IDMP-MAXSIZE (Redis 8.6). */
  idmpConfig: boolean;
  /** XIDMPRECORD key pid iid id (Redis 8.8; what AOF rewrite replays). */
  idmpRecord: boolean;
}

const NEWEST: Features = { streamMeta: true, createConsumer: true, fieldTtl: true, streams: true, idmpConfig: true, idmpRecord: true };

function versionParts(v: string): [number, number] {
  const [a = 0, b = 0] = v.split('.').map((x) => Number.parseInt(x, 10) || 0);
  return [a, b];
}

export function targetFeatures(t: CommandTarget | undefined): Features {
  if (!t) return NEWEST;
  const [maj, min] = versionParts(t.version);
  const atLeast = (a: number, b: number): boolean => maj > a || (maj === a && min >= b);
  // Valkey forked from Redis 7.2.4: every Redis stream command up to 7.2 is there from its first release.
  if (t.product === 'valkey') return { streamMeta: true, createConsumer: true, fieldTtl: atLeast(9, 0), streams: true, idmpConfig: false, idmpRecord: false };
  return {
    streamMeta: atLeast(7, 0),
    createConsumer: atLeast(6, 2),
    fieldTtl: atLeast(7, 4),
    streams: atLeast(5, 0),
    idmpConfig: atLeast(8, 6),
    idmpRecord: atLeast(8, 8),
  };
}

/**
 * HPEXPIREAT's upper bound: HFE_MAX_ABS_TIME_MSEC = EB_EXPIRE_TIME_MAX >> 2 = (2^48 - 1) >> 2 ms (t_hash.c,
 * checked in hexpireGenericCommand). A later field TTL is refused with an error, so we keep the field without it.
 */
export const FIELD_TTL_MAX_MS = Math.floor((2 ** 48 - 1) / 4);

/** The argument arrays that recreate `key` with `value` (and `expireAtMs`, absolute ms, null for none). */
export function valueToCommands(key: Buffer, value: Value, expireAtMs: number | null, opts: ValueCommandOptions = {}): CommandArgs[] {
  const r = encodeValueCommands(key, value, expireAtMs, opts);
  if (opts.losses) for (const l of r.losses) opts.losses.push(l);
  return r.commands;
}

/** Like valueToCommands, and what the target cannot hold, per kind (empty when nothing is lost). */
export function encodeValueCommands(key: Buffer, value: Value, expireAtMs: number | null, opts: ValueCommandOptions = {}): EncodedCommands {
  const chunk = Math.max(1, opts.chunk ?? 1000);
  const feat = targetFeatures(opts.target);
  const out: CommandArgs[] = [];
  const losses: CommandLoss[] = [];
  const lose = (kind: CommandLossKind, count: number, detail: string): void => {
    if (count > 0) losses.push({ kind, count, detail });
  };
  if (opts.replace) out.push([b('DEL'), key]);
  const variadic = (cmd: string, n: number, push: (args: Buffer[], i: number) => void): void => {
    for (let from = 0; from < n; from += chunk) {
      const args = [b(cmd), key];
      const to = Math.min(n, from + chunk);
      for (let i = from; i < to; i++) push(args, i);
      out.push(args);
    }
  };
  switch (value.type) {
    case 'string':
      out.push([b('SET'), key, value.value]);
      break;
    case 'list':
      variadic('RPUSH', value.items.length, (a, i) => a.push(value.items[i]!));
      break;
    case 'set':
      variadic('SADD', value.members.length, (a, i) => a.push(value.members[i]!));
      break;
    case 'zset':
      variadic('ZADD', value.entries.length, (a, i) => a.push(scoreArg(value.entries[i]![1]), value.entries[i]![0]));
      break;
    case 'hash': {
      variadic('HSET', value.entries.length, (a, i) => a.push(value.entries[i]![0], value.entries[i]![1]));
      if (value.expires) {
        // One HPEXPIREAT per distinct TTL (fields sharing it in chunks).
        const byTtl = new Map<number, Buffer[]>();
        let withTtl = 0;
        let tooLate = 0;
        value.expires.forEach((e, i) => {
          if (e === null || e === undefined) return;
          withTtl++;
          if (e > FIELD_TTL_MAX_MS) {
            tooLate++;
            return;
          }
          let fields = byTtl.get(e);
          if (!fields) byTtl.set(e, (fields = []));
          fields.push(value.entries[i]![0]);
        });
        if (!feat.fieldTtl) {
          lose('field-ttl', withTtl, `${withTtl} hash field TTLs: the target has no HPEXPIREAT (fields kept without TTL)`);
          break;
        }
        lose('field-ttl-out-of-range', tooLate, `${tooLate} hash field TTLs after ${FIELD_TTL_MAX_MS} ms, HPEXPIREAT's limit (fields kept without TTL)`);
        for (const [ttl, fields] of byTtl) {
          for (let from = 0; from < fields.length; from += chunk) {
            const part = fields.slice(from, from + chunk);
            out.push([b('HPEXPIREAT'), key, b(String(ttl)), b('FIELDS'), b(String(part.length)), ...part]);
          }
        }
      }
      break;
    }
    case 'stream':
      if (!feat.streams) throw new UnrepresentableValueError(`streams need Redis 5.0; the target is ${opts.target?.version}`);
      streamCommands(key, value, chunk, feat, out, lose);
      break;
    case 'module':
      throw new UnrepresentableValueError(`a module value (${value.moduleName}) cannot be written as commands; use RESTORE`);
  }
  if (expireAtMs !== null) out.push([b('PEXPIREAT'), key, b(String(expireAtMs))]);
  return { commands: out, losses };
}

const idKey = streamIdText;
const cmpId = compareStreamIds;
const PLACEHOLDER_FIELD = b('rekey-deleted-entry');

function streamCommands(
  key: Buffer,
  s: StreamValue,
  chunk: number,
  feat: Features,
  out: CommandArgs[],
  lose: (kind: CommandLossKind, count: number, detail: string) => void,
): void {
  // Pending entries whose message is gone: XCLAIM skips (and on 7.0+ drops) an ID that is not in the stream,
  // so such a message is added for the claim and deleted after it (XDEL leaves the PEL alone).
  const present = new Set<string>();
  for (const e of s.entries) present.add(idKey(e.id));
  const placeholders = new Map<string, StreamId>();
  const zero: StreamId = { ms: 0n, seq: 0n };
  let unrestorable = 0;
  const restorable = (id: StreamId): boolean => {
    const k = idKey(id);
    if (present.has(k) || placeholders.has(k)) return true;
    // XADD refuses 0-0 and IDs not above the top entry; one past lastId would make XSETID fail.
    if (cmpId(id, zero) === 0 || cmpId(id, s.lastId) > 0) return false;
    placeholders.set(k, id);
    return true;
  };
  const owned = (g: StreamValue['groups'][number], consumer: Buffer): boolean => consumer.length > 0 || g.consumers.some((c) => c.name.length === 0);
  for (const g of s.groups) for (const p of g.pending) if (owned(g, p.consumer) && !restorable(p.id)) unrestorable++;
  const extra = [...placeholders.values()].sort(cmpId);

  // Entries and placeholders in ID order (XADD needs increasing IDs).
  let j = 0;
  const addPlaceholdersBefore = (id: StreamId | null): void => {
    while (j < extra.length && (id === null || cmpId(extra[j]!, id) < 0)) {
      out.push([b('XADD'), key, idText(extra[j]!), PLACEHOLDER_FIELD, b('')]);
      j++;
    }
  };
  for (const e of s.entries) {
    addPlaceholdersBefore(e.id);
    const args = [b('XADD'), key, idText(e.id)];
    for (const [f, v] of e.fields) args.push(f, v);
    out.push(args);
  }
  addPlaceholdersBefore(null);
  if (s.entries.length === 0 && extra.length === 0) {
    // XSETID and XGROUP need an existing key: make the empty stream with MKSTREAM through a throwaway group.
    const tmp = b('rekey-tmp-group');
    out.push([b('XGROUP'), b('CREATE'), key, tmp, b('0'), b('MKSTREAM')]);
    out.push([b('XGROUP'), b('DESTROY'), key, tmp]);
  }

  const added = s.entriesAdded > BigInt(s.entries.length) ? s.entriesAdded : BigInt(s.entries.length);
  const xsetid = feat.streamMeta
    ? [b('XSETID'), key, idText(s.lastId), b('ENTRIESADDED'), b(added.toString()), b('MAXDELETEDID'), idText(s.maxDeletedId)]
    : [b('XSETID'), key, idText(s.lastId)];
  if (!feat.streamMeta && !(added === BigInt(s.entries.length) && cmpId(s.maxDeletedId, zero) === 0)) {
    lose('stream-metadata', 1, `entries_added ${added} and max_deleted_entry_id ${idKey(s.maxDeletedId)}: the target is before 7.0`);
  }
  if (!extra.length) out.push(xsetid);

  let consumersWithTimes = 0;
  let droppedConsumers = 0;
  let droppedEntriesRead = 0;
  for (const g of s.groups) {
    const er = g.entriesRead ?? estimateEntriesRead(s, g.lastDeliveredId);
    if (feat.streamMeta) out.push([b('XGROUP'), b('CREATE'), key, g.name, idText(g.lastDeliveredId), b('ENTRIESREAD'), b(String(er))]);
    else {
      out.push([b('XGROUP'), b('CREATE'), key, g.name, idText(g.lastDeliveredId)]);
      if (g.entriesRead !== undefined && g.entriesRead >= 0) droppedEntriesRead++;
    }
    const withPending = new Set<string>();
    for (const p of g.pending) withPending.add(p.consumer.toString('hex'));
    for (const c of g.consumers) {
      consumersWithTimes++;
      if (feat.createConsumer) out.push([b('XGROUP'), b('CREATECONSUMER'), key, g.name, c.name]);
      else if (!withPending.has(c.name.toString('hex'))) droppedConsumers++;
    }
    // Pending entries: XCLAIM … FORCE creates them for the consumer, TIME/RETRYCOUNT set delivery time and
    // count, JUSTID keeps the counter from being bumped. One command per (consumer, time, count).
    const batches = new Map<string, { consumer: Buffer; time: number; count: number; ids: Buffer[] }>();
    for (const p of g.pending) {
      if (!owned(g, p.consumer)) {
        unrestorable++;
        continue;
      }
      if (!present.has(idKey(p.id)) && !placeholders.has(idKey(p.id))) continue; // counted above
      const k = `${p.consumer.toString('hex')}|${p.deliveryTimeMs}|${p.deliveryCount}`;
      let bt = batches.get(k);
      if (!bt) batches.set(k, (bt = { consumer: p.consumer, time: p.deliveryTimeMs, count: p.deliveryCount, ids: [] }));
      bt.ids.push(idText(p.id));
    }
    for (const bt of batches.values()) {
      for (let from = 0; from < bt.ids.length; from += chunk) {
        out.push([
          b('XCLAIM'), key, g.name, bt.consumer, b('0'), ...bt.ids.slice(from, from + chunk),
          b('TIME'), b(String(bt.time)), b('RETRYCOUNT'), b(String(bt.count)), b('FORCE'), b('JUSTID'),
        ]);
      }
    }
  }
  if (s.idmp) idmpCommands(key, s, present, feat, out, lose);
  for (let from = 0; from < extra.length; from += chunk) out.push([b('XDEL'), key, ...extra.slice(from, from + chunk).map(idText)]);

  // With placeholders the counters go last: their XADD/XDEL moved them.
  if (extra.length) out.push(xsetid);
  lose('group-entries-read', droppedEntriesRead, `${droppedEntriesRead} consumer groups' entries_read: the target is before 7.0`);
  lose('consumer', droppedConsumers, `${droppedConsumers} consumers without pending entries: the target has no XGROUP CREATECONSUMER`);
  lose('consumer-times', consumersWithTimes, `${consumersWithTimes} consumers' seen/active times become the import time`);
  lose('pending-entry', unrestorable, `${unrestorable} pending entries with no known owner or an ID XADD cannot take`);
}

/** XCFGSET's ranges (redis.io XCFGSET: IDMP-DURATION 1–86400 s, IDMP-MAXSIZE 1–10000). */
const IDMP_DURATION_MAX = 86_400;
const IDMP_MAXSIZE_MAX = 10_000;

/**
 * A stream v4's IDMP state: XCFGSET first (it clears every producer's IIDs), then one XIDMPRECORD per IID
 * whose entry is in the stream (the command refuses a missing entry). Nothing sets the lifetime counters.
 */
function idmpCommands(
  key: Buffer,
  s: StreamValue,
  present: ReadonlySet<string>,
  feat: Features,
  out: CommandArgs[],
  lose: (kind: CommandLossKind, count: number, detail: string) => void,
): void {
  const m = s.idmp!;
  const iids = m.producers.reduce((n, p) => n + p.iids.length, 0);
  if (!feat.idmpConfig) {
    const state = m.producers.length > 0 || m.iidsAdded > 0n || m.iidsDuplicates > 0n;
    lose('stream-idmp', state ? 1 : 0, `stream IDMP state (${m.producers.length} producers, ${iids} IIDs, duration ${m.durationS} s, max ${m.maxSize}): the target has no XCFGSET (Redis 8.6+)`);
    return;
  }
  if (m.durationS >= 1 && m.durationS <= IDMP_DURATION_MAX && m.maxSize >= 1 && m.maxSize <= IDMP_MAXSIZE_MAX) {
    out.push([b('XCFGSET'), key, b('IDMP-DURATION'), b(String(m.durationS)), b('IDMP-MAXSIZE'), b(String(m.maxSize))]);
  } else {
    lose('stream-idmp-config', 1, `IDMP-DURATION ${m.durationS} / IDMP-MAXSIZE ${m.maxSize}: outside what XCFGSET accepts (1-${IDMP_DURATION_MAX}, 1-${IDMP_MAXSIZE_MAX})`);
  }
  let recorded = 0;
  let gone = 0;
  for (const p of m.producers) {
    for (const e of p.iids) {
      if (!present.has(idKey(e.id))) gone++;
      else if (feat.idmpRecord) {
        out.push([b('XIDMPRECORD'), key, p.pid, e.iid, idText(e.id)]);
        recorded++;
      }
    }
  }
  if (!feat.idmpRecord) lose('stream-idmp-iid', iids - gone, `${iids - gone} IDMP IIDs: the target has no XIDMPRECORD (Redis 8.8+)`);
  lose('stream-idmp-iid', gone, `${gone} IDMP IIDs whose stream entry was deleted (XIDMPRECORD needs the entry)`);
  const countersLost = m.iidsDuplicates > 0n || m.iidsAdded > BigInt(recorded);
  lose('stream-idmp-counters', countersLost ? 1 : 0, `IDMP counters iids-added ${m.iidsAdded} / iids-duplicates ${m.iidsDuplicates} (no command sets them)`);
}
