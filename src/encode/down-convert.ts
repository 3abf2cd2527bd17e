/**
 * Decide whether a key's serialized value can be copied verbatim into an output of another RDB version,
 * and re-encode it when not. Renaming never touches value bytes; only a target version (or flavour) whose
 * loader does not know the value's type byte forces a decode + encode.
 */
import { flavorOf, type Flavor, type KeyRecord } from '../records/types.js';
import { minVersionForType, T, VALKEY_HASH_2 } from '../rdb/constants.js';
import { encodeValue, UnrepresentableValueError, type EncodedValue } from './value-encoder.js';
import { lossRefusal, type Loss } from './losses.js';
import { streamIdmpOf } from '../rdb/value-skip.js';

export interface ConvertOptions {
  lossy?: boolean | undefined;
  /** Flavour of the output. Default: `valkey` for versions ≥ 80, else `redis`. */
  flavor?: Flavor | undefined;
  /** LZF-compress strings of re-encoded values. */
  compress?: boolean | undefined;
}

/** Types whose blobs are ziplists: RDB 6 added int encodings that RDB 2–5 loaders (Redis < 2.6) do not know. */
const ZIPLIST_TYPES = new Set<number>([T.LIST_ZIPLIST, T.ZSET_ZIPLIST, T.HASH_ZIPLIST]);

/** True when a loader of `targetVersion`/`targetFlavor` reads the record's type byte as the same layout. */
export function loadsVerbatim(rec: Pick<KeyRecord, 'rdbType' | 'flavor' | 'rdbVersion'>, targetVersion: number, targetFlavor: Flavor): boolean {
  const { rdbType, flavor } = rec;
  // 22+ mean different things to Redis (HFE hashes, stream v4) and Valkey (HASH_2): never cross over.
  if (rdbType >= 22 && flavor !== targetFlavor) return false;
  if (rdbType === VALKEY_HASH_2 && flavor === 'valkey') return targetFlavor === 'valkey' && targetVersion >= 80;
  // Valkey 80+ loads Redis' types up to 21 (its own numbering continues after 11).
  const effective = targetFlavor === 'valkey' && targetVersion >= 80 ? 11 : targetVersion;
  // Type 6 (pre-GA modules) was dropped by Redis 7.2 (RDB 11) and never loaded by Valkey.
  if (rdbType === T.MODULE_PRE_GA) return effective >= 8 && effective <= 10;
  if (minVersionForType(rdbType, flavor) > effective) return false;
  if (effective < 6 && rec.rdbVersion >= 6 && ZIPLIST_TYPES.has(rdbType)) return false;
  return true;
}

/**
 * null when `rec`'s payload loads as-is at `targetVersion`; otherwise the value decoded and re-encoded for
 * it (throws RekeyUsageError for field TTLs without `lossy` or streams below 9, KeyLossError for stream
 * IDMP state without `lossy`, UnrepresentableValueError for values no encoding can hold there).
 */
export function convertPayload(rec: KeyRecord, targetVersion: number, opts: ConvertOptions = {}): EncodedValue | null {
  const flavor: Flavor = opts.flavor ?? flavorOf(targetVersion);
  if (loadsVerbatim(rec, targetVersion, flavor)) return null;
  // Re-encoding a stream v4 for an older loader drops its IDMP state: refused here unless lossy, so no
  // caller (RDB, RESP, import's key plan) loses it in silence; callers count it under lossy.
  const idmp = opts.lossy ? null : streamIdmpLoss(rec, targetVersion, flavor);
  if (idmp) throw lossRefusal(rec, [idmp], `RDB ${targetVersion}${flavor === 'valkey' ? ' (Valkey)' : ''}`);
  if (rec.rdbType === T.MODULE_PRE_GA) {
    throw new UnrepresentableValueError(`a pre-GA module value (type 6, Redis 4.0 release candidates) cannot be converted; RDB ${targetVersion} does not load it`);
  }
  return encodeValue(rec.decode(), { rdbVersion: targetVersion, flavor, lossy: opts.lossy, compress: opts.compress, key: rec.key });
}

/**
 * The loss of a module value bound for a target that does not ship its module type (a Redis 8 vector
 * set for Valkey or Redis 7): the target refuses the whole file on it (rdb.c `rdbLoadObject`: "The RDB
 * file contains module data I can't load"), so the key can only be refused or, under `lossy`, skipped.
 * null when the key is no module value or `modules` is undefined (no named target: nothing is known).
 */
export function moduleLoss(rec: KeyRecord, modules: readonly string[] | undefined, where: string): Loss | null {
  if (modules === undefined || (rec.rdbType !== T.MODULE_2 && rec.rdbType !== T.MODULE_PRE_GA)) return null;
  const v = rec.decode();
  if (v.type !== 'module' || modules.includes(v.moduleName)) return null;
  return { kind: 'module', what: `module value of type ${v.moduleName} (${where} ships no such module)` };
}

/**
 * Why a key cannot go to a live target at all because it is a module value of a type the target does not
 * load (TargetInfo.modules): the per-key refusal import's key plan gives, with the target named. null
 * when the key may go (no module value, the module is there, or the target's modules are unknown).
 */
export function moduleRefusal(rec: KeyRecord, info: { maxRdbVersion: number; modules?: readonly string[] | undefined }): string | null {
  const l = moduleLoss(rec, info.modules, 'the target');
  if (l === null) return null;
  const loaded = info.modules!.length ? `it loads only ${info.modules!.join(', ')}` : 'it loads no module types';
  return `${l.what}: ${loaded}; the key was not imported (load the module on the target, or filter the key out with --type/--exclude-regex)`;
}

/**
 * Why import's key plan refuses `rec` before choosing a path: a module value the target does not load
 * (moduleRefusal), or, unless `lossy`, RDB 13 key metadata, which no RESTORE payload or command carries
 * (the payload is the value's bytes only; KEY_META precedes the type byte in the file). null: go on.
 */
export function keyRefusal(rec: KeyRecord, info: { maxRdbVersion: number; modules?: readonly string[] | undefined }, lossy: boolean): string | null {
  const m = moduleRefusal(rec, info);
  if (m !== null) return m;
  if (rec.keyMeta !== undefined && !lossy) return lossRefusal(rec, [keyMetaLoss(rec.keyMeta.length)], 'RESTORE').message;
  return null;
}

/**
 * What a RESTORE of `rec` (its own payload, or one converted for `targetVersion`) leaves behind under
 * `--lossy`, in the one policy's terms (losses.ts), so import names it per key like every other path:
 * key metadata (no payload carries KEY_META) and a down-converted stream v4's IDMP state.
 */
export function restoreLosses(rec: KeyRecord, targetVersion: number, targetFlavor: Flavor): Loss[] {
  const out: Loss[] = [];
  if (rec.keyMeta !== undefined) out.push(keyMetaLoss(rec.keyMeta.length));
  const idmp = streamIdmpLoss(rec, targetVersion, targetFlavor);
  if (idmp) out.push(idmp);
  return out;
}

/** KEY_META left behind by a path that cannot carry it (RESTORE payloads, commands, JSONL-less outputs). */
export function keyMetaLoss(bytes: number): Loss {
  return { kind: 'key_meta', what: `key metadata (KEY_META, ${bytes} bytes)` };
}

/**
 * The loss of a stream v4's IDMP state (producers and their IIDs, rdb.c per librdb PR #93) when the target
 * cannot load type 26 and the stream is re-encoded as v3: a counted loss, not a silent drop. A tail with no
 * producer and no IID ever added carries only the two settings, which mean nothing without the feature.
 */
export function streamIdmpLoss(rec: KeyRecord, targetVersion: number, targetFlavor: Flavor): Loss | null {
  if (rec.rdbType !== T.STREAM_LISTPACKS_4 || rec.flavor !== 'redis') return null;
  if (loadsVerbatim(rec, targetVersion, targetFlavor)) return null;
  const idmp = streamIdmpOf(rec.payload, rec.rdbType, 'stream payload');
  if (idmp === null || (idmp.producers === 0 && idmp.iidsAdded === 0n)) return null;
  return {
    kind: 'stream_idmp',
    what: `stream IDMP state (${idmp.producers} producers, ${idmp.iids} IIDs, duration ${idmp.durationS} s, max ${idmp.maxEntries})`,
  };
}
