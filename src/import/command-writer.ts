/**
 * Command mode: a value as ordinary write commands (encode/value-commands.ts), sent as one MULTI/EXEC per
 * key so a key is never seen half-written. Used for targets whose RESTORE cannot take the payload (older
 * RDB version, RESTORE renamed or refused, values above proto-max-bulk-len) and for `--mode commands`.
 */
import type { Value } from '../records/types.js';
import { valueToCommands, type CommandLoss, type CommandTarget } from '../encode/value-commands.js';
import { RekeyUsageError } from '../errors.js';

export interface BuildCommandsOptions {
  /** DEL first (replace an existing key). */
  replace: boolean;
  /** Elements per variadic command (at most 1000 by default). */
  chunk: number;
  /** The target has HPEXPIREAT (hash field TTLs). */
  fieldTtl: boolean;
  /** Drop field TTLs the target cannot hold instead of refusing the key. */
  lossy: boolean;
  /** The target's product and version, so only commands it accepts are used (XSETID, XGROUP forms). */
  target?: CommandTarget;
  /**
   * Bytes of arguments per variadic command at most (the target's proto-max-bulk-len): a collection of
   * big elements goes as several RPUSH/SADD/HSET/ZADD so no command's query buffer outgrows the limit.
   */
  maxBytes?: number;
}

export interface BuiltCommands {
  commands: Buffer[][];
  droppedFieldTtls: number;
  /** What the target cannot hold (only under `lossy`; otherwise the key is refused). */
  losses: CommandLoss[];
}

/** Redis refuses empty collections (streams may be empty). */
export function isEmptyCollection(v: Value): boolean {
  switch (v.type) {
    case 'list':
      return v.items.length === 0;
    case 'set':
      return v.members.length === 0;
    case 'zset':
    case 'hash':
      return v.entries.length === 0;
    default:
      return false;
  }
}

export function buildValueCommands(key: Buffer, value: Value, expireAtMs: number | null, o: BuildCommandsOptions): BuiltCommands {
  let dropped = 0;
  let v = value;
  if (v.type === 'hash' && v.expires && !o.fieldTtl) {
    const n = v.expires.reduce<number>((acc, e) => (e === null || e === undefined ? acc : acc + 1), 0);
    if (n > 0) {
      if (!o.lossy) throw new RekeyUsageError(`${n} hash field TTLs cannot be set on this target (no HPEXPIREAT); use --lossy to drop them`);
      dropped = n;
      v = { type: 'hash', entries: v.entries };
    }
  }
  const all: CommandLoss[] = [];
  const commands = valueToCommands(key, v, expireAtMs, { replace: o.replace, chunk: o.chunk, ...(o.target ? { target: o.target } : {}), losses: all });
  // Consumers' seen/active times are never carried by commands (whatever the target): not a per-target loss.
  const losses = all.filter((l) => l.kind !== 'consumer-times');
  if (losses.length && !o.lossy) {
    throw new RekeyUsageError(`the target cannot hold ${losses.map((l) => l.detail).join('; ')}; use --lossy to import without them`);
  }
  return { commands: o.maxBytes !== undefined ? splitBySize(commands, o.maxBytes) : commands, droppedFieldTtls: dropped, losses };
}

/** Arguments after the key that belong together (an element, a field and value, a score and member). */
const GROUP: Readonly<Record<string, number>> = { RPUSH: 1, SADD: 1, HSET: 2, ZADD: 2 };

/**
 * Split variadic commands whose arguments add up to more than `maxBytes` into several of the same verb
 * (element order kept; a group larger than `maxBytes` on its own goes alone — bulkRefusal has refused
 * anything a single argument cannot carry).
 */
export function splitBySize(commands: Buffer[][], maxBytes: number): Buffer[][] {
  const out: Buffer[][] = [];
  for (const c of commands) {
    const group = GROUP[c[0]!.toString('latin1')];
    let total = 0;
    for (const a of c) total += a.length;
    if (group === undefined || total <= maxBytes || c.length < 2 + 2 * group) {
      out.push(c);
      continue;
    }
    const head = c.slice(0, 2);
    let cur = [...head];
    let size = head[0]!.length + head[1]!.length;
    for (let i = 2; i < c.length; i += group) {
      let g = 0;
      for (let j = 0; j < group; j++) g += c[i + j]!.length;
      if (cur.length > 2 && size + g > maxBytes) {
        out.push(cur);
        cur = [...head];
        size = head[0]!.length + head[1]!.length;
      }
      for (let j = 0; j < group; j++) cur.push(c[i + j]!);
      size += g;
    }
    out.push(cur);
  }
  return out;
}
