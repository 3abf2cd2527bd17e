/**
 * How one key goes to the target — the single decision the live import, its dry run (and later validate)
 * share, so the dry run can never promise a path the live run will not take:
 *
 *   verbatim   RESTORE of the record's own payload (the target's loader takes it, it fits proto-max-bulk-len)
 *   converted  RESTORE of a payload down-converted to the target's RDB version
 *   commands   the value as write commands in one MULTI/EXEC (no usable RESTORE, or the payload is too big)
 *   refused    nothing can be sent (db the target lacks, --mode restore without a usable RESTORE, …)
 *   lost       under --lossy, a key the target cannot hold at all (a module it lacks): a counted loss
 */
import { flavorOf, type Flavor, type KeyRecord, type Value } from '../records/types.js';
import { convertPayload, keyRefusal, loadsVerbatim, moduleLoss } from '../encode/down-convert.js';
import type { Loss } from '../encode/losses.js';
import { T } from '../rdb/constants.js';
import { DUMP_ENVELOPE } from '../encode/resp.js';
import type { TargetInfo } from '../redis/server-info.js';
import { verifyPayload } from '../codec/verify/index.js';

export type ImportMode = 'auto' | 'restore' | 'commands';

export type KeyPlan =
  | { kind: 'verbatim'; rdbType: number; payload: Buffer; version: number }
  | { kind: 'converted'; rdbType: number; payload: Buffer; version: number; droppedFieldTtls: number }
  | { kind: 'commands'; why: string }
  | { kind: 'refused'; reason: string }
  | { kind: 'lost'; losses: Loss[] };

export interface PlanContext {
  info: Pick<TargetInfo, 'maxRdbVersion' | 'databases' | 'protoMaxBulkLen' | 'modules' | 'profile'>;
  flavor: Flavor;
  mode: ImportMode;
  cluster: boolean;
  /** RESTORE is usable on the target (not renamed/refused, RDB version known). */
  restoreOk: boolean;
  lossy: boolean;
}

/** The flavour a target's loader has for RDB purposes (Valkey < 9 speaks Redis RDB 11). */
export function targetFlavor(info: Pick<TargetInfo, 'maxRdbVersion'>): Flavor {
  return flavorOf(info.maxRdbVersion);
}

/**
 * The DUMP footer version for a payload the target loads verbatim: the source's version when the target
 * takes it, else the target's own (verifyDumpPayload only checks "≤ own version"; Valkey ≥ 9 also refuses 12–79).
 */
export function footerVersion(rec: Pick<KeyRecord, 'rdbVersion'>, maxRdbVersion: number, flavor: Flavor): number {
  let v = Math.min(rec.rdbVersion, maxRdbVersion);
  if (flavor === 'valkey' && v >= 12 && v < 80) v = 11;
  return Math.max(1, v);
}

/** Why the target cannot hold `db` at all (null: it can). */
export function dbRefusal(db: number, ctx: Pick<PlanContext, 'cluster' | 'info'>): string | null {
  if (ctx.cluster && db !== 0) return `db ${db}: a cluster has only db 0 (use --to-db 0 to import other dbs into it)`;
  if (!ctx.cluster && db >= ctx.info.databases) return `db ${db}: the target has only ${ctx.info.databases} databases`;
  return null;
}

/** The payload plus its DUMP envelope fits one bulk string on the target (processMultibulkBuffer's limit). */
export function fitsBulk(payloadLength: number, info: Pick<TargetInfo, 'protoMaxBulkLen'>): boolean {
  return payloadLength + DUMP_ENVELOPE <= info.protoMaxBulkLen;
}

/**
 * Why `value` cannot go as commands to a target whose proto-max-bulk-len is `limit` (null: it can). Every
 * command argument is one bulk (processMultibulkBuffer refuses a longer one with "invalid bulk length" and
 * drops the connection), and a string may never grow past the limit either (checkStringLength refuses
 * APPEND/SETRANGE beyond it: seen on Redis 6.2, 7.0 and 8.0), so a string value or one element longer
 * than the limit cannot be written at all — the key is refused by name instead of resetting the link.
 */
export function bulkRefusal(key: Buffer, value: Value, limit: number): string | null {
  const too = (n: number, what: string): string => `${what} of ${n} bytes is larger than the target's proto-max-bulk-len (${limit}): no command can write it (raise proto-max-bulk-len on the target)`;
  if (key.length > limit) return too(key.length, 'the key name');
  const longest = (bufs: Iterable<Buffer>): number => {
    let m = 0;
    for (const b of bufs) if (b.length > m) m = b.length;
    return m;
  };
  let n = 0;
  switch (value.type) {
    case 'string':
      return value.value.length > limit ? too(value.value.length, 'the string') : null;
    case 'list':
      n = longest(value.items);
      break;
    case 'set':
      n = longest(value.members);
      break;
    case 'zset':
      n = longest(value.entries.map((e) => e[0]));
      break;
    case 'hash':
      n = Math.max(longest(value.entries.map((e) => e[0])), longest(value.entries.map((e) => e[1])));
      break;
    case 'stream':
      for (const e of value.entries) for (const [f, v] of e.fields) n = Math.max(n, f.length, v.length);
      break;
    default:
      return null;
  }
  return n > limit ? too(n, 'an element') : null;
}

/** The fast path's test: a verbatim RESTORE (kept cheap: it runs once per key). */
export function isVerbatim(rec: KeyRecord, db: number, ctx: PlanContext): boolean {
  return (
    ctx.restoreOk &&
    ctx.mode !== 'commands' &&
    (ctx.cluster ? db === 0 : db < ctx.info.databases) &&
    loadsVerbatim(rec, ctx.info.maxRdbVersion, ctx.flavor) &&
    keyRefusal(rec, ctx.info, ctx.lossy) === null &&
    rec.keyMeta === undefined && // under --lossy its loss is named by the slow path
    fitsBulk(rec.payload.length, ctx.info) &&
    verifyPayload(rec) === null
  );
}

/** The full decision for one key (conversion errors are a refusal in restore mode, commands otherwise). */
export function planKey(rec: KeyRecord, db: number, ctx: PlanContext): KeyPlan {
  const dbBad = dbRefusal(db, ctx);
  if (dbBad) return { kind: 'refused', reason: dbBad };
  // a module the target lacks: under --lossy a counted loss (losses.ts), not an error
  if (ctx.lossy) {
    const m = moduleLoss(rec, ctx.info.modules, ctx.info.profile ?? 'the target');
    if (m) return { kind: 'lost', losses: [m] };
    // no command writes a module value: without RESTORE it cannot go at all
    if (!(ctx.mode !== 'commands' && ctx.restoreOk) && rec.rdbType === T.MODULE_2) {
      return { kind: 'lost', losses: [{ kind: 'module', what: 'module value (no command writes it; RESTORE is not used)' }] };
    }
  }
  // a module the target lacks, metadata RESTORE cannot carry (encode/down-convert)
  const noGo = keyRefusal(rec, ctx.info, ctx.lossy);
  if (noGo) return { kind: 'refused', reason: noGo };
  const fault = verifyPayload(rec); // codec/verify: a blob whose structure Redis would refuse or crash on
  if (fault) return { kind: 'refused', reason: fault.message };
  const max = ctx.info.maxRdbVersion;
  const useRestore = ctx.mode !== 'commands' && ctx.restoreOk;
  if (!useRestore) {
    if (ctx.mode === 'restore') return { kind: 'refused', reason: 'RESTORE is not available on the target (renamed or refused)' };
    return asCommands(rec, ctx, ctx.mode === 'commands' ? '--mode commands' : 'RESTORE is not available on the target');
  }
  let plan: KeyPlan;
  if (loadsVerbatim(rec, max, ctx.flavor)) {
    plan = { kind: 'verbatim', rdbType: rec.rdbType, payload: rec.payload, version: footerVersion(rec, max, ctx.flavor) };
  } else {
    let why = `the target takes RDB ≤ ${max}, the value needs a newer loader`;
    let conv = null;
    try {
      conv = convertPayload(rec, max, { lossy: ctx.lossy, flavor: ctx.flavor });
    } catch (e) {
      if (ctx.mode === 'restore') return { kind: 'refused', reason: (e as Error).message };
      why += ` and cannot be converted (${(e as Error).message})`;
    }
    if (conv === null) {
      if (ctx.mode === 'restore') return { kind: 'refused', reason: `RESTORE impossible: ${why}` };
      return asCommands(rec, ctx, why);
    }
    plan = { kind: 'converted', rdbType: conv.rdbType, payload: conv.payload, version: max, droppedFieldTtls: conv.droppedFieldTtls ?? 0 };
  }
  if (!fitsBulk(plan.payload.length, ctx.info)) {
    const why = `the payload (${plan.payload.length + DUMP_ENVELOPE} bytes) is larger than the target's proto-max-bulk-len (${ctx.info.protoMaxBulkLen})`;
    if (ctx.mode === 'restore') return { kind: 'refused', reason: why };
    return asCommands(rec, ctx, why);
  }
  return plan;
}

/** The commands plan, unless a value or element is longer than the target takes in any command. */
function asCommands(rec: KeyRecord, ctx: PlanContext, why: string): KeyPlan {
  // Decoded, not judged by the payload: LZF can expand a small payload past the limit (decode() caches,
  // so the writer builds its commands from this same value).
  let value: Value;
  try {
    value = rec.decode();
  } catch {
    return { kind: 'commands', why }; // the writer reports the decode error itself
  }
  const refusal = bulkRefusal(rec.key, value, ctx.info.protoMaxBulkLen);
  return refusal ? { kind: 'refused', reason: refusal } : { kind: 'commands', why };
}
