/**
 * The record model every stage shares: sources emit records, rules classify them, sinks consume them.
 * A key record always carries its value's serialized bytes; the logical value is decoded only on demand.
 */

export type LogicalType = 'string' | 'list' | 'set' | 'zset' | 'hash' | 'stream' | 'module';
export const LOGICAL_TYPES: readonly LogicalType[] = ['string', 'list', 'set', 'zset', 'hash', 'stream', 'module'];

/** `redis` for REDISnnnn files, `valkey` for VALKEYnnn (type 22 and opcode 243 differ between them). */
export type Flavor = 'redis' | 'valkey';

/** The fork an RDB version number belongs to: Valkey 9+ numbers its versions from 80 (`VALKEY080`). */
export function flavorOf(rdbVersion: number): Flavor {
  return rdbVersion >= 80 ? 'valkey' : 'redis';
}

/** A stream entry ID. Both halves are unsigned 64-bit, so they are bigints. */
export interface StreamId {
  ms: bigint;
  seq: bigint;
}

export interface StreamEntry {
  id: StreamId;
  /** Field/value pairs in stored order (a field may repeat). */
  fields: Array<[Buffer, Buffer]>;
}

export interface StreamPendingEntry {
  id: StreamId;
  consumer: Buffer;
  deliveryTimeMs: number;
  deliveryCount: number;
}

export interface StreamConsumer {
  name: Buffer;
  seenTimeMs: number;
  /** Absent before stream v3 (7.2); loaders then use the seen time. */
  activeTimeMs?: number | undefined;
  pending: StreamId[];
}

export interface StreamGroup {
  name: Buffer;
  lastDeliveredId: StreamId;
  /** -1 when Redis does not know it (stored as 2^64-1); absent before stream v2 (7.0). */
  entriesRead?: number | undefined;
  pending: StreamPendingEntry[];
  consumers: StreamConsumer[];
}

/** One producer's IIDs in a stream v4's IDMP state: each idempotent ID and the entry it was added as. */
export interface StreamIdmpProducer {
  pid: Buffer;
  iids: Array<{ iid: Buffer; id: StreamId }>;
}

/** Stream v4 (RDB 13, Redis 8.6) idempotent-production state; names follow XINFO STREAM / XCFGSET. */
export interface StreamIdmp {
  /** IDMP-DURATION, seconds. */
  durationS: number;
  /** IDMP-MAXSIZE, IIDs kept per producer. */
  maxSize: number;
  producers: StreamIdmpProducer[];
  /** XINFO `iids-added` / `iids-duplicates`: lifetime counters. */
  iidsAdded: bigint;
  iidsDuplicates: bigint;
}

export interface StreamValue {
  type: 'stream';
  entries: StreamEntry[];
  length: number;
  lastId: StreamId;
  /** v2+ metadata; for v1 sources these are derived the way Redis derives them on load. */
  firstId: StreamId;
  maxDeletedId: StreamId;
  entriesAdded: bigint;
  groups: StreamGroup[];
  /** Which stream layout it came from (15 → 1, 19 → 2, 21 → 3, 26 → 4). */
  version: number;
  /** Stream v4 only: the IDMP state (absent for older layouts). */
  idmp?: StreamIdmp | undefined;
}

export interface ModuleValue {
  type: 'module';
  /** The 64-bit module type id as written in the file. */
  moduleId: bigint;
  /** The 9-character module type name decoded from the id (e.g. `ReJSON-RL`). */
  moduleName: string;
  encver: number;
  /** The whole serialized payload after the type byte (module id + opcodes + EOF). */
  raw: Buffer;
}

export type Value =
  | { type: 'string'; value: Buffer }
  | { type: 'list'; items: Buffer[] }
  | { type: 'set'; members: Buffer[] }
  | { type: 'zset'; entries: Array<[Buffer, number]> }
  /** `expires[i]` is the absolute ms expiry of `entries[i]`, or null; absent when no field has a TTL. */
  | { type: 'hash'; entries: Array<[Buffer, Buffer]>; expires?: Array<number | null> }
  | StreamValue
  | ModuleValue;

/** One key of the keyspace. */
export interface KeyRecord {
  kind: 'key';
  db: number;
  key: Buffer;
  type: LogicalType;
  /** The RDB type byte the value was serialized with (meaning depends on `flavor` for 22+). */
  rdbType: number;
  /** Human name of the serialized encoding, e.g. `listpack`, `ziplist`, `quicklist2`, `intset`. */
  encoding: string;
  flavor: Flavor;
  /** RDB version of the source the payload bytes came from (goes into DUMP footers). */
  rdbVersion: number;
  expireAtMs: number | null;
  idle?: number | undefined;
  freq?: number | undefined;
  /** The value's serialized bytes after the type byte, exactly as in the source. */
  payload: Buffer;
  /**
   * Redis RDB 13+ key metadata (rdb.c `rdbSaveKeyMetadata`): the whole KEY_META entry, opcode 0xF3 included,
   * as it preceded the type byte. Module-defined content, kept as bytes.
   */
  keyMeta?: Buffer | undefined;
  /** Byte offset of this entry's first byte (its first prefix opcode or type byte) in the input. */
  offset: number;
  /**
   * Where the entry sits when `offset` was made a position in a several-input dataset (import's one
   * ledger over every input, dataset.ts): the file and the entry's byte offset in it, for messages.
   */
  inFile?: { file: string; offset: number } | undefined;
  /** Decode the logical value (parsed from `payload` on first call, then cached). */
  decode(): Value;
  /**
   * True when the record was born as a decoded value (JSONL) and its `payload`/`rdbType` are encoded from
   * it on demand: a check that only needs the value reads decode() instead of forcing the encoding.
   */
  readonly decodedFirst?: boolean | undefined;
}

/** Non-key entries: everything an RDB holds besides keys, kept so a rewrite can preserve it. */
export type MetaRecord =
  | { kind: 'header'; rdbVersion: number; flavor: Flavor; magic: string }
  | { kind: 'aux'; key: Buffer; value: Buffer; offset: number }
  | { kind: 'selectdb'; db: number; offset: number }
  | { kind: 'resizedb'; db: number; dbSize: number; expiresSize: number; offset: number }
  | { kind: 'slot-info'; slot: number; slotSize: number; expiresSlotSize: number; offset: number }
  /** FUNCTION2: the library source, starting with `#!<engine> name=<lib>`. */
  | { kind: 'function'; code: Buffer; offset: number }
  /** Pre-GA FUNCTION (7.0 release candidates), converted the way 7.0 GA converts it. */
  | { kind: 'function-pre-ga'; name: Buffer; engine: Buffer; description: Buffer | null; code: Buffer; offset: number }
  /** MODULE_AUX: `raw` is everything after the opcode byte (module id, when, opcoded values, EOF). */
  | { kind: 'module-aux'; moduleId: bigint; moduleName: string; when: number; raw: Buffer; offset: number }
  | { kind: 'eof'; checksum: Buffer | null; checksumOk: boolean | null; offset: number };

export type RdbRecord = KeyRecord | MetaRecord;
