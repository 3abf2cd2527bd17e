/**
 * A key's value as ordinary write commands, for targets that cannot take a RESTORE payload (older servers,
 * another fork) and for `import --mode commands`. Big collections go in variadic chunks; field TTLs, stream
 * metadata, consumer groups and their pending entries are restored with the 7.0+ commands that set them.
 *
 * Limits (Redis semantics, not choices): XCLAIM … FORCE only recreates pending entries whose message still
 * exists in the stream, so PEL entries of deleted messages are lost; consumer seen/active times become the
 * time of import. Module values have no command form.
 */
import type { StreamId, StreamValue, Value } from '../records/types.js';
import { UnrepresentableValueError, estimateEntriesRead } from './value-encoder.js';
import { doubleText } from './rdb-primitives.js';

export interface ValueCommandOptions {
  /** Start with DEL key, so an existing key is replaced rather than merged into. */
  replace?: boolean;
  /** Elements (or field/value pairs, or IDs) per variadic command. Default 1000. */
  chunk?: number;
}

export type CommandArgs = Buffer[];

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const idText = (id: StreamId): Buffer => b(`${id.ms}-${id.seq}`);

/** ZADD/XADD-style score text: shortest round-trip decimal, `+inf` / `-inf`, `-0` kept. */
export function scoreArg(x: number): Buffer {
  if (x === Infinity) return b('+inf');
  if (x === -Infinity) return b('-inf');
  if (Number.isNaN(x)) throw new UnrepresentableValueError('a sorted set score is NaN');
  return b(doubleText(x));
}

/** The argument arrays that recreate `key` with `value` (and `expireAtMs`, absolute ms, null for none). */
export function valueToCommands(key: Buffer, value: Value, expireAtMs: number | null, opts: ValueCommandOptions = {}): CommandArgs[] {
  const chunk = Math.max(1, opts.chunk ?? 1000);
  const out: CommandArgs[] = [];
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
        value.expires.forEach((e, i) => {
          if (e === null || e === undefined) return;
          let fields = byTtl.get(e);
          if (!fields) byTtl.set(e, (fields = []));
          fields.push(value.entries[i]![0]);
        });
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
      streamCommands(key, value, chunk, out);
      break;
    case 'module':
      throw new UnrepresentableValueError(`a module value (${value.moduleName}) cannot be written as commands; use RESTORE`);
  }
  if (expireAtMs !== null) out.push([b('PEXPIREAT'), key, b(String(expireAtMs))]);
  return out;
}

function streamCommands(key: Buffer, s: StreamValue, chunk: number, out: CommandArgs[]): void {
  for (const e of s.entries) {
    const args = [b('XADD'), key, idText(e.id)];
    for (const [f, v] of e.fields) args.push(f, v);
    out.push(args);
  }
  if (s.entries.length === 0) {
    // XSETID and XGROUP need an existing key: make the empty stream with MKSTREAM through a throwaway group.
    const tmp = b('rekey-tmp-group');
    out.push([b('XGROUP'), b('CREATE'), key, tmp, b('0'), b('MKSTREAM')]);
    out.push([b('XGROUP'), b('DESTROY'), key, tmp]);
  }
  const added = s.entriesAdded > BigInt(s.entries.length) ? s.entriesAdded : BigInt(s.entries.length);
  out.push([b('XSETID'), key, idText(s.lastId), b('ENTRIESADDED'), b(added.toString()), b('MAXDELETEDID'), idText(s.maxDeletedId)]);

  for (const g of s.groups) {
    const er = g.entriesRead ?? estimateEntriesRead(s, g.lastDeliveredId);
    out.push([b('XGROUP'), b('CREATE'), key, g.name, idText(g.lastDeliveredId), b('ENTRIESREAD'), b(String(er))]);
    for (const c of g.consumers) out.push([b('XGROUP'), b('CREATECONSUMER'), key, g.name, c.name]);
    // Pending entries: XCLAIM … FORCE creates them for the consumer, TIME/RETRYCOUNT set delivery time and
    // count, JUSTID keeps the counter from being bumped. One command per (consumer, time, count).
    const batches = new Map<string, { consumer: Buffer; time: number; count: number; ids: Buffer[] }>();
    for (const p of g.pending) {
      if (p.consumer.length === 0 && !g.consumers.some((c) => c.name.length === 0)) continue; // no owner known
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
}
