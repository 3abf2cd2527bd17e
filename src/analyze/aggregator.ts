/**
 * The analysis itself: one pass over records, bounded memory, a report object at the end
 * (docs/analyze.md documents every field).
 *
 *   const a = new Analyzer({ now: Date.now() });
 *   for await (const batch of input.batches) a.addBatch(batch);
 *   const report = a.report({ path: 'dump.rdb', format: 'rdb' });
 *
 * What grows with the input: nothing per key without rules (fixed-size histograms, top-N heaps,
 * reservoirs, a capped prefix tree, one counter set per db/type/encoding/category/rule). With rules, the
 * collision check keeps a 12-byte digest per written key (DigestKeyGuard), as transform does.
 */
import type { KeyRecord, LogicalType, MetaRecord, RdbRecord } from '../records/types.js';
import { LOGICAL_TYPES } from '../records/types.js';
import { formatDiagnostic, type CompiledRules } from '../rules/index.js';
import type { KeyFilter } from '../pipeline/filters.js';
import { DigestKeyGuard } from '../pipeline/key-guard.js';
import { toPrintable } from '../records/printable.js';
import { moduleNameFromId } from '../rdb/constants.js';
import { elementCount, fieldExpiries as fieldExpiries_, mayHaveFieldTtls } from './element-count.js';
import { ALLOCATED_DICT_ENTRY, ALLOCATED_EXPIRE_ENTRY, dbTablesMemory, estimateValueMemory, keyMemory, sdsAllocSize } from './memory.js';
import { LogHistogram, TopN, type Distribution, type HistogramState } from './stats.js';
import { KeySample, keyPriority, type KeySampleState } from './key-sample.js';
import { PrefixTree, type PrefixStat, type PrefixTreeState } from './prefix-tree.js';
import { keySlot } from '../redis/slot.js';
import { SlotHoldings, slotCoverage, type SlotCoverage } from './slots.js';
import { decideKey } from '../pipeline/key-decision.js';
import { tellDecision } from '../pipeline/decision-trace.js';
import { isVerbose } from '../report/verbosity.js';
import { verifyPayload } from '../codec/verify/index.js';
import { RekeyInputError } from '../errors.js';

export const ANALYSIS_SCHEMA_VERSION = 1;
/** Version of `merge_state`: 2 since samples are chosen by key hash (key-sample.ts) and carry priorities. */
export const MERGE_STATE_VERSION = 2;

export type Printable = string | { base64: string };

export interface AnalyzerOptions {
  /** Judge expiry at this epoch ms. */
  now: number;
  /** Size of every top list (biggest keys, prefixes). Default 20. */
  top?: number;
  /** Sample keys kept per type / category / unmatched (key-sample.ts: by key hash, mergeable). Default 5. */
  samples?: number;
  /** Prefix tree depth (segments split on `:`). Default 3. */
  prefixDepth?: number;
  /** Prefix tree node cap. Default 20 000. */
  prefixMaxNodes?: number;
  filter?: KeyFilter | null;
  rules?: CompiledRules | null;
  /** Rules file path, for the report. */
  rulesPath?: string;
  /** Keys longer than this are cut in samples and top lists (`key_length` keeps the real length). */
  maxKeyBytes?: number;
  /**
   * The dataset is several files: keep a 12-byte digest per key to count keys present in more than one
   * file (DigestKeyGuard). Off for one input, where a key cannot repeat.
   */
  multiFile?: boolean;
  /** Called for every key that passes the filter (per-key CSV, keys-only listing). */
  onKey?: (row: KeyRow) => void;
  /**
   * Check every value's structure (codec/verify, what Redis' sanitize-dump-payload checks): bad keys are
   * counted and named in `verify` instead of stopping the run.
   */
  verify?: boolean;
}

/** Keys named in the report's `verify.keys` (the count is exact beyond it). */
const VERIFY_LISTED = 1000;

/** One key as the per-key outputs see it. */
export interface KeyRow {
  db: number;
  key: Buffer;
  type: LogicalType;
  encoding: string;
  elements: number | null;
  bytes: number;
  memory: number;
  expireAtMs: number | null;
  /** Index of the input file in the dataset. */
  file: number;
}

/** One input file of the dataset, as the per-file table shows it. */
export interface FileStats {
  path: string;
  format: 'rdb' | 'jsonl';
  gzip: boolean;
  size: number | null;
  rdb_version: number | null;
  flavor: string | null;
  checksum: AnalysisReport['metadata']['checksum'];
  keys: number;
  bytes: number;
  memory: number;
  expired: number;
  slot_info: number;
  slots_held: number;
  /** Slot ranges (see slots.ts): held slots joined over short gaps. */
  slots: string;
  from_slot_info: boolean;
}

export interface InputInfo {
  path: string;
  format: 'rdb' | 'jsonl';
  gzip?: boolean;
  size?: number;
  fileSize?: number;
}

export interface KeyRef {
  db: number;
  key: Printable;
  /** Byte length of the key (the key shown may be cut to maxKeyBytes). */
  key_length: number;
}

export interface BigKey extends KeyRef {
  type: LogicalType;
  encoding: string;
  bytes: number;
  elements: number | null;
  memory: number;
  expire_at_ms: number | null;
}

export interface GroupStats {
  keys: number;
  bytes: number;
  memory: number;
  with_ttl: number;
  expired: number;
}

export interface TypeStats extends GroupStats {
  elements: Distribution;
  sizes: Distribution;
  encodings: Record<string, number>;
  samples: KeyRef[];
}

export interface EncodingStats extends GroupStats {
  type: LogicalType;
  encoding: string;
  elements: Distribution;
}

export interface DbStats extends GroupStats {
  by_type: Record<string, number>;
}

export const TTL_BUCKETS = ['<1m', '<1h', '<1d', '<7d', '<30d', '>=30d'] as const;
export type TtlBucket = (typeof TTL_BUCKETS)[number];
const TTL_LIMITS = [60_000, 3_600_000, 86_400_000, 7 * 86_400_000, 30 * 86_400_000];

export interface TtlStats {
  no_ttl: number;
  with_ttl: number;
  /** Keys whose expiry is at or before `now`. */
  expired: number;
  /** Remaining time to live of keys not yet expired. */
  buckets: Record<TtlBucket, number>;
  earliest_ms: number | null;
  latest_ms: number | null;
  earliest: string | null;
  latest: string | null;
  /** Hash field TTLs (Redis 7.4+), counted per field, apart from key TTLs. */
  hash_fields: {
    hashes: number;
    fields: number;
    expired: number;
    buckets: Record<TtlBucket, number>;
    earliest_ms: number | null;
    latest_ms: number | null;
  };
}

export interface CategoryStats {
  keys: number;
  bytes: number;
  memory: number;
  rules: string[];
  samples: Array<{ db: number; key: Printable; new_key: Printable }>;
}

export interface RuleStats {
  index: number;
  category: string;
  keys: number;
  bytes: number;
  memory: number;
}

export interface AnalysisReport {
  schema_version: number;
  generated_at: string;
  now_ms: number;
  seconds: number;
  input: {
    path: string;
    format: 'rdb' | 'jsonl';
    gzip: boolean;
    rdb_version: number | null;
    flavor: string | null;
    size: number | null;
  };
  metadata: {
    rdb_version: number | null;
    magic: string | null;
    redis_ver: string | null;
    redis_bits: number | null;
    ctime: number | null;
    ctime_iso: string | null;
    used_mem: number | null;
    aux: Record<string, Printable>;
    functions: Array<{ library: string; engine: string; functions: string[]; bytes: number }>;
    modules: Array<{ name: string; aux_records: number; keys: number }>;
    dbs: Array<{ db: number; keys: number; keys_hint: number | null; expires_hint: number | null }>;
    slot_info: number;
    checksum: 'ok' | 'mismatch' | 'absent' | 'not-present';
  };
  totals: {
    keys: number;
    with_ttl: number;
    expired: number;
    /** Serialized bytes: key bytes + value payload bytes. */
    bytes: number;
    key_bytes: number;
    value_bytes: number;
    elements: number;
    /** Estimated memory in Redis 7 (allocated convention), keyspace tables included. */
    memory: number;
    records_read: number;
    filtered_out: number;
  };
  memory: {
    model: string;
    convention: 'allocated';
    total: number;
    keys: number;
    values: number;
    expires: number;
    db_tables: number;
    per_key: Distribution;
  };
  by_type: Record<string, TypeStats>;
  by_encoding: Record<string, EncodingStats>;
  by_db: Record<string, DbStats>;
  sizes: Distribution;
  ttl: TtlStats;
  biggest_keys: BigKey[];
  biggest_keys_by_elements: BigKey[];
  biggest_keys_by_memory: BigKey[];
  prefixes: PrefixStat[];
  prefixes_by_bytes: PrefixStat[];
  prefix_tree: { separator: string; max_depth: number; nodes: number; max_nodes: number; approximate: boolean; unprefixed: { keys: number; bytes: number; memory: number } };
  rules?: { path: string; rules: number; unmatched_mode: string; warnings: string[] };
  by_category?: Record<string, CategoryStats>;
  by_rule?: Record<string, RuleStats>;
  unmatched?: { keys: number; bytes: number; memory: number; mode: string; samples: KeyRef[] };
  collisions?: { keys: number; samples: Array<{ db: number; new_key: Printable; source_key: Printable }> };
  migration?: {
    keys_to_write: number;
    bytes_to_write: number;
    estimated_memory: number;
    expired_dropped: number;
    unmatched_dropped: number;
    unmatched_errors: number;
    /** Keys a rule would rename to an empty name (each an error in transform/import). */
    rename_errors?: number;
    collisions_dropped: number;
    ttl_changed: number;
    by_db: Record<string, number>;
  };
  bad_lines_skipped?: number;
  /** With --verify: values checked, and those refused as corrupt (first 1000 named with the reason). */
  verify?: { checked: number; bad_keys: number; keys: Array<{ db: number; key: Printable; offset: number; error: string }> };
  /** Every input of the dataset, in order. */
  files: FileStats[];
  /** Which cluster slots the files hold, gaps, overlaps and misplaced keys (checked for 2+ files). */
  slot_coverage: SlotCoverage;
  /** Keys found in more than one input file (only checked when the dataset has several files). */
  duplicates: { checked: boolean; keys: number; samples: Array<KeyRef & { file: string }> };
  /** Enough of the analyzer's state for `analyze --merge` to give what one run over all the inputs gives. */
  merge_state?: AnalyzerState;
}

/** What `--merge` needs from a partial analysis (JSON-safe). */
export interface AnalyzerState {
  version: typeof MERGE_STATE_VERSION;
  options: { now: number; top: number; samples: number; prefix_depth: number; prefix_max_nodes: number; max_key_bytes: number; rules: string | null; unmatched: string | null; filter: boolean };
  counters: number[];
  total: number[];
  per_key_memory: HistogramState;
  sizes: HistogramState;
  by_type: Array<{ type: LogicalType; g: number[]; elements: HistogramState; sizes: HistogramState; samples: KeySampleState<KeyRef> }>;
  by_encoding: Array<{ type: LogicalType; encoding: string; g: number[]; elements: HistogramState }>;
  by_db: Array<{ db: number; g: number[]; by_type: number[] }>;
  ttl: { no_ttl: number; with_ttl: number; expired: number; buckets: Record<TtlBucket, number>; earliest: number | null; latest: number | null };
  field_ttl: { hashes: number; fields: number; expired: number; buckets: Record<TtlBucket, number>; earliest: number | null; latest: number | null };
  big_bytes: BigKey[];
  big_elements: BigKey[];
  big_memory: BigKey[];
  prefixes: PrefixTreeState;
  header: { rdbVersion: number; flavor: string; magic: string } | null;
  aux: Array<[string, string]>;
  functions: AnalysisReport['metadata']['functions'];
  modules: Array<[string, { aux: number; keys: number }]>;
  resize: Array<[number, { keys: number; expires: number }]>;
  slot_info: number;
  files: Array<{ stats: FileStats; holdings: { keys: number[]; info: number[] | null } }>;
  duplicates: { checked: boolean; keys: number; samples: Array<KeyRef & { file: string }> };
  rules: null | {
    categories: Array<{ name: string; g: number[]; rules: string[]; samples: KeySampleState<{ db: number; key: Printable; new_key: Printable }> }>;
    per_rule: Array<[number, number[]]>;
    unmatched: number[];
    unmatched_samples: KeySampleState<KeyRef>;
    collisions: number;
    collision_samples: Array<{ db: number; new_key: Printable; source_key: Printable }>;
    migration: number[];
    migration_by_db: Array<[number, { keys: number; expires: number }]>;
  };
  bad_lines_skipped: number;
}

class Group {
  keys = 0;
  bytes = 0;
  memory = 0;
  withTtl = 0;
  expired = 0;
  add(bytes: number, memory: number, ttl: boolean, expired: boolean): void {
    this.keys++;
    this.bytes += bytes;
    this.memory += memory;
    if (ttl) this.withTtl++;
    if (expired) this.expired++;
  }
  json(): GroupStats {
    return { keys: this.keys, bytes: this.bytes, memory: Math.round(this.memory), with_ttl: this.withTtl, expired: this.expired };
  }
  state(): number[] {
    return [this.keys, this.bytes, this.memory, this.withTtl, this.expired];
  }
  merge(st: readonly number[]): void {
    this.keys += st[0] ?? 0;
    this.bytes += st[1] ?? 0;
    this.memory += st[2] ?? 0;
    this.withTtl += st[3] ?? 0;
    this.expired += st[4] ?? 0;
  }
}

class TypeGroup extends Group {
  readonly elements = new LogHistogram();
  readonly sizes = new LogHistogram();
  constructor(readonly samples: KeySample<KeyRef>) {
    super();
  }
}

class EncodingGroup extends Group {
  readonly elements = new LogHistogram();
  constructor(
    readonly type: LogicalType,
    readonly encoding: string,
  ) {
    super();
  }
}

const TYPE_INDEX: Record<LogicalType, number> = { string: 0, list: 1, set: 2, zset: 3, hash: 4, stream: 5, module: 6 };

class DbGroup extends Group {
  /** Keys per type, indexed like LOGICAL_TYPES. */
  readonly byType = new Float64Array(LOGICAL_TYPES.length);
}

function emptyBuckets(): Record<TtlBucket, number> {
  return { '<1m': 0, '<1h': 0, '<1d': 0, '<7d': 0, '<30d': 0, '>=30d': 0 };
}

function ttlBucket(remaining: number): TtlBucket {
  for (let i = 0; i < TTL_LIMITS.length; i++) if (remaining < TTL_LIMITS[i]!) return TTL_BUCKETS[i]!;
  return '>=30d';
}

function iso(ms: number | null): string | null {
  if (ms === null) return null;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** Library name, engine and registered function names from a FUNCTION LOAD source. */
export function describeFunction(code: Buffer): { library: string; engine: string; functions: string[] } {
  const text = code.toString('utf8');
  const first = text.split('\n', 1)[0] ?? '';
  const m = /^#!(\S+)(.*)$/.exec(first);
  const engine = m?.[1] ?? '?';
  const name = m ? (/\bname=(\S+)/.exec(m[2] ?? '')?.[1] ?? '?') : '?';
  const functions = new Set<string>();
  for (const r of text.matchAll(/register_function\s*\(\s*['"]([^'"]+)['"]/g)) functions.add(r[1]!);
  for (const r of text.matchAll(/function_name\s*=\s*['"]([^'"]+)['"]/g)) functions.add(r[1]!);
  return { library: name, engine, functions: [...functions] };
}

/**
 * What analyze learns from one key's value alone, independent of every other key: the costly part
 * (decoding), which analyze/jobs.ts runs on worker threads. `fault` is only looked for with `verify`.
 */
export interface KeyMeasure {
  elements: number | null;
  /** Estimated value memory, rounded. */
  valueMem: number;
  /** Hash field expiries (hash types that can hold them), else null. */
  fieldExpiries: number[] | null;
  /** A module value's module name, else null. */
  moduleName: string | null;
  fault: { at: number; reason: string } | null;
}

export function measureKey(rec: KeyRecord, verify: boolean): KeyMeasure {
  // A value the decoder refuses makes the file corrupt input (exit 2), unless --verify is on: then it
  // is a named bad key, and its statistics stop at what the payload's size tells.
  const fault = verify ? verifyPayload(rec) : null;
  const bad = fault !== null;
  let elements: number | null = null;
  try {
    if (!bad) elements = elementCount(rec);
  } catch (e) {
    if (e instanceof RekeyInputError) throw e;
    elements = null;
  }
  const valueMem = Math.round(estimateValueMemory(rec));
  let fieldExpiries: number[] | null = null;
  if (!bad && rec.type === 'hash' && mayHaveFieldTtls(rec.rdbType)) {
    try {
      fieldExpiries = fieldExpiries_(rec);
    } catch (e) {
      if (e instanceof RekeyInputError) throw e;
    }
  }
  return { elements, valueMem, fieldExpiries, moduleName: rec.type === 'module' ? moduleName(rec) : null, fault: fault === null ? null : { at: fault.at, reason: fault.reason } };
}

function moduleName(rec: KeyRecord): string {
  try {
    const v = rec.decode();
    if (v.type === 'module') return v.moduleName;
  } catch {
    try {
      return moduleNameFromId(rec.payload.readBigUInt64BE(1)).name;
    } catch {
      /* keep unknown */
    }
  }
  return 'unknown';
}

export class Analyzer {
  private readonly now: number;
  private readonly top: number;
  private readonly nSamples: number;
  private readonly filter: KeyFilter | null;
  private readonly rules: CompiledRules | null;
  private readonly rulesPath: string | undefined;
  private readonly maxKeyBytes: number;
  private readonly started = Date.now();

  private recordsRead = 0;
  private filteredOut = 0;
  private readonly total = new Group();
  private keyBytes = 0;
  private valueBytes = 0;
  private elementsTotal = 0;
  private memKeys = 0;
  private memValues = 0;
  private memExpires = 0;
  private readonly perKeyMemory = new LogHistogram();
  private readonly sizes = new LogHistogram();
  private readonly byType: Array<TypeGroup | undefined> = new Array(LOGICAL_TYPES.length);
  /** Indexed by rdbType * 2 + (valkey ? 1 : 0); the encoding name follows from the type byte. */
  private readonly byEncodingSlot: Array<EncodingGroup | undefined> = [];
  private readonly byEncoding = new Map<string, EncodingGroup>();
  private readonly byDb = new Map<number, DbGroup>();
  private lastDb = -1;
  private lastDbGroup: DbGroup | null = null;
  private readonly ttl = {
    noTtl: 0,
    withTtl: 0,
    expired: 0,
    buckets: emptyBuckets(),
    earliest: null as number | null,
    latest: null as number | null,
  };
  private readonly fieldTtl = {
    hashes: 0,
    fields: 0,
    expired: 0,
    buckets: emptyBuckets(),
    earliest: null as number | null,
    latest: null as number | null,
  };
  private readonly bigBytes: TopN<BigKey>;
  private readonly bigElements: TopN<BigKey>;
  private readonly bigMemory: TopN<BigKey>;
  private readonly prefixes: PrefixTree;

  // metadata
  private header: Extract<MetaRecord, { kind: 'header' }> | null = null;
  private readonly aux = new Map<string, Buffer>();
  private readonly functions: AnalysisReport['metadata']['functions'] = [];
  private readonly modules = new Map<string, { aux: number; keys: number }>();
  private readonly resize = new Map<number, { keys: number; expires: number }>();
  private slotInfo = 0;
  private checksum: AnalysisReport['metadata']['checksum'] = 'not-present';

  // rules
  private readonly categories = new Map<string, { g: Group; rules: Set<string>; samples: KeySample<{ db: number; key: Printable; new_key: Printable }> }>();
  private readonly perRule = new Map<number, Group>();
  private readonly unmatched = new Group();
  private readonly unmatchedSamples: KeySample<KeyRef>;
  private readonly guard: DigestKeyGuard | null;
  private collisions = 0;
  private readonly collisionSamples: Array<{ db: number; new_key: Printable; source_key: Printable }> = [];
  private readonly migration = {
    keys: 0,
    bytes: 0,
    memory: 0,
    expiredDropped: 0,
    unmatchedDropped: 0,
    unmatchedErrors: 0,
    renameErrors: 0,
    collisionsDropped: 0,
    ttlChanged: 0,
    byDb: new Map<number, { keys: number; expires: number }>(),
  };

  // the dataset's files
  private readonly multiFile: boolean;
  private readonly onKey: ((row: KeyRow) => void) | null;
  private readonly fileList: Array<{ stats: FileStats; holdings: SlotHoldings }> = [];
  private cur: { stats: FileStats; holdings: SlotHoldings } | null = null;
  private readonly seenKeys: DigestKeyGuard | null;
  private duplicateKeys = 0;
  private readonly duplicateSamples: Array<KeyRef & { file: string }> = [];
  private readonly prefixDepth: number;
  private readonly prefixMaxNodes: number;

  badLinesSkipped = 0;
  /**
   * Set by `analyze --merge` (analyze/merge.ts): whether duplicates across the parts are known to be
   * counted (null: this analyzer read the files itself, and checked when it read several).
   */
  duplicatesChecked: boolean | null = null;
  private readonly verify: boolean;
  private readonly verified = { checked: 0, bad: 0, keys: [] as Array<{ db: number; key: Printable; offset: number; error: string }> };

  constructor(o: AnalyzerOptions) {
    this.verify = o.verify === true;
    this.now = o.now;
    this.top = Math.max(0, Math.floor(o.top ?? 20));
    this.nSamples = Math.max(0, Math.floor(o.samples ?? 5));
    this.filter = o.filter ?? null;
    this.rules = o.rules ?? null;
    this.rulesPath = o.rulesPath;
    this.maxKeyBytes = o.maxKeyBytes ?? 1024;
    this.bigBytes = new TopN(this.top);
    this.bigElements = new TopN(this.top);
    this.bigMemory = new TopN(this.top);
    this.prefixes = new PrefixTree({ maxDepth: o.prefixDepth ?? 3, maxNodes: o.prefixMaxNodes ?? 20_000 });
    this.unmatchedSamples = new KeySample(this.nSamples);
    this.guard = this.rules ? new DigestKeyGuard() : null;
    this.multiFile = o.multiFile ?? false;
    this.onKey = o.onKey ?? null;
    this.seenKeys = this.multiFile ? new DigestKeyGuard() : null;
    this.prefixDepth = o.prefixDepth ?? 3;
    this.prefixMaxNodes = o.prefixMaxNodes ?? 20_000;
  }

  /** Start the next input file of the dataset: the records that follow are counted in its row. */
  beginFile(input: InputInfo | null): void {
    const stats: FileStats = {
      path: input?.path ?? '',
      format: input?.format ?? 'rdb',
      gzip: input?.gzip ?? false,
      size: input?.size ?? input?.fileSize ?? null,
      rdb_version: null,
      flavor: null,
      checksum: 'not-present',
      keys: 0,
      bytes: 0,
      memory: 0,
      expired: 0,
      slot_info: 0,
      slots_held: 0,
      slots: '',
      from_slot_info: false,
    };
    this.cur = { stats, holdings: new SlotHoldings() };
    this.fileList.push(this.cur);
  }

  addBatch(batch: readonly RdbRecord[]): void {
    for (const rec of batch) this.add(rec);
  }

  add(rec: RdbRecord): void {
    if (this.cur === null) this.beginFile(null);
    if (rec.kind === 'key') this.addKey(rec);
    else this.addMeta(rec);
  }

  /** Every prefix of the tree (parent first) and the keys without one, for the prefix CSV. */
  prefixList(): { prefixes: PrefixStat[]; unprefixed: { keys: number; bytes: number; memory: number } } {
    return { prefixes: this.prefixes.list(), unprefixed: { ...this.prefixes.unprefixed } };
  }

  /** Keys seen so far (after filtering). */
  get keys(): number {
    return this.total.keys;
  }

  private addMeta(rec: MetaRecord): void {
    switch (rec.kind) {
      case 'header':
        this.header = rec;
        this.cur!.stats.rdb_version = rec.rdbVersion;
        this.cur!.stats.flavor = rec.flavor;
        return;
      case 'aux':
        this.aux.set(rec.key.toString('latin1'), Buffer.from(rec.value));
        return;
      case 'function': {
        const d = describeFunction(rec.code);
        this.functions.push({ ...d, bytes: rec.code.length });
        return;
      }
      case 'function-pre-ga':
        this.functions.push({ library: rec.name.toString('utf8'), engine: rec.engine.toString('utf8'), functions: [rec.name.toString('utf8')], bytes: rec.code.length });
        return;
      case 'module-aux': {
        const m = this.modules.get(rec.moduleName) ?? { aux: 0, keys: 0 };
        m.aux++;
        this.modules.set(rec.moduleName, m);
        return;
      }
      case 'resizedb':
        this.resize.set(rec.db, { keys: rec.dbSize, expires: rec.expiresSize });
        return;
      case 'slot-info':
        this.slotInfo++;
        this.cur!.stats.slot_info++;
        this.cur!.holdings.addInfo(rec.slot);
        return;
      case 'eof':
        this.checksum = rec.checksumOk === null ? 'absent' : rec.checksumOk ? 'ok' : 'mismatch';
        this.cur!.stats.checksum = this.checksum;
        return;
      case 'selectdb':
        return;
    }
  }

  private ref(db: number, key: Buffer): KeyRef {
    const shown = key.length > this.maxKeyBytes ? key.subarray(0, this.maxKeyBytes) : key;
    return { db, key: toPrintable(shown), key_length: key.length };
  }

  /** Whether `rec` passes the filter (a key filtered out is counted, never decoded). */
  passes(rec: KeyRecord): boolean {
    return this.filter === null || this.filter(rec);
  }

  /** Whether values are verified (`--verify`): what measureKey must be told. */
  get verifying(): boolean {
    return this.verify;
  }

  /**
   * Count one key. `m` is its measurement (measureKey), made here unless a worker made it already
   * (analyze/jobs.ts); everything that depends on the order of keys happens here.
   */
  addKey(rec: KeyRecord, m?: KeyMeasure): void {
    this.recordsRead++;
    if (this.filter !== null && !this.filter(rec)) {
      this.filteredOut++;
      return;
    }
    const { db, key, type } = rec;
    const bytes = key.length + rec.payload.length;
    m ??= measureKey(rec, this.verify);
    const bad = m.fault !== null;
    if (this.verify) {
      this.verified.checked++;
      if (m.fault !== null) {
        this.verified.bad++;
        if (this.verified.keys.length < VERIFY_LISTED) this.verified.keys.push({ db, key: this.ref(db, key).key, offset: rec.offset, error: `payload byte ${m.fault.at}: ${m.fault.reason}` });
      }
    }
    const elements = m.elements;
    const valueMem = m.valueMem;
    const hasTtl = rec.expireAtMs !== null;
    const keyMem = sdsAllocSize(key.length) + ALLOCATED_DICT_ENTRY;
    const expireMem = hasTtl ? ALLOCATED_EXPIRE_ENTRY : 0;
    const memory = valueMem + keyMem + expireMem;
    const expired = hasTtl && rec.expireAtMs! <= this.now;

    this.total.add(bytes, memory, hasTtl, expired);
    this.keyBytes += key.length;
    this.valueBytes += rec.payload.length;
    this.memKeys += keyMem;
    this.memValues += valueMem;
    this.memExpires += expireMem;
    this.perKeyMemory.add(memory);
    this.sizes.add(bytes);
    if (elements !== null) this.elementsTotal += elements;

    const ti = TYPE_INDEX[type];
    let tg = this.byType[ti];
    if (tg === undefined) tg = this.byType[ti] = new TypeGroup(new KeySample(this.nSamples));
    tg.add(bytes, memory, hasTtl, expired);
    if (elements !== null) tg.elements.add(elements);
    tg.sizes.add(bytes);
    const prio = keyPriority(db, key);
    if (tg.samples.wants(prio)) tg.samples.put(prio, this.ref(db, key));

    const es = rec.rdbType * 2 + (rec.flavor === 'valkey' ? 1 : 0);
    let eg = this.byEncodingSlot[es];
    if (eg === undefined || eg.encoding !== rec.encoding || eg.type !== type) {
      const encKey = `${type}:${rec.encoding}`;
      eg = this.byEncoding.get(encKey);
      if (eg === undefined) this.byEncoding.set(encKey, (eg = new EncodingGroup(type, rec.encoding)));
      this.byEncodingSlot[es] = eg;
    }
    eg.add(bytes, memory, hasTtl, expired);
    if (elements !== null) eg.elements.add(elements);

    let dg = this.lastDbGroup;
    if (db !== this.lastDb || dg === null) {
      dg = this.byDb.get(db) ?? null;
      if (dg === null) this.byDb.set(db, (dg = new DbGroup()));
      this.lastDb = db;
      this.lastDbGroup = dg;
    }
    dg.add(bytes, memory, hasTtl, expired);
    dg.byType[ti]!++;

    // TTLs
    const t = this.ttl;
    if (!hasTtl) t.noTtl++;
    else {
      const at = rec.expireAtMs!;
      t.withTtl++;
      if (expired) t.expired++;
      else t.buckets[ttlBucket(at - this.now)]++;
      if (t.earliest === null || at < t.earliest) t.earliest = at;
      if (t.latest === null || at > t.latest) t.latest = at;
    }
    if (!bad && m.fieldExpiries !== null && m.fieldExpiries.length > 0) this.addFieldTtls(m.fieldExpiries);
    if (m.moduleName !== null) this.addModuleKey(m.moduleName);

    // top lists: build the entry only when one of them keeps it
    // A string's "elements" are its bytes: it competes on bytes, not in the by-elements list.
    const ranked = type !== 'string' ? elements : null;
    if (this.bigBytes.wouldKeep(bytes) || (ranked !== null && this.bigElements.wouldKeep(ranked)) || this.bigMemory.wouldKeep(memory)) {
      const big: BigKey = { ...this.ref(db, key), type, encoding: rec.encoding, bytes, elements, memory, expire_at_ms: rec.expireAtMs };
      this.bigBytes.push(bytes, big);
      if (ranked !== null) this.bigElements.push(ranked, big);
      this.bigMemory.push(memory, big);
    }

    this.prefixes.add(key, bytes, memory);

    const file = this.cur!;
    const fs = file.stats;
    fs.keys++;
    fs.bytes += bytes;
    fs.memory += memory;
    if (expired) fs.expired++;
    file.holdings.addKey(keySlot(key));
    if (this.seenKeys !== null && this.seenKeys.add(db, key)) {
      this.duplicateKeys++;
      if (this.duplicateSamples.length < Math.max(this.nSamples, 1) * 4) this.duplicateSamples.push({ ...this.ref(db, key), file: fs.path });
    }
    if (this.onKey !== null) {
      this.onKey({ db, key, type, encoding: rec.encoding, elements, bytes, memory, expireAtMs: rec.expireAtMs, file: this.fileList.length - 1 });
    }

    if (this.rules !== null) this.addRules(rec, bytes, valueMem, memory);
  }

  private addFieldTtls(exp: readonly number[]): void {
    const f = this.fieldTtl;
    f.hashes++;
    for (const at of exp) {
      f.fields++;
      if (at <= this.now) f.expired++;
      else f.buckets[ttlBucket(at - this.now)]++;
      if (f.earliest === null || at < f.earliest) f.earliest = at;
      if (f.latest === null || at > f.latest) f.latest = at;
    }
  }

  private addModuleKey(name: string): void {
    const m = this.modules.get(name) ?? { aux: 0, keys: 0 };
    m.keys++;
    this.modules.set(name, m);
  }

  private addRules(rec: KeyRecord, bytes: number, valueMem: number, memory: number): void {
    const rules = this.rules!;
    const { db, key } = rec;
    const d = decideKey(rec, { rules, unmatched: rules.unmatched, dropExpired: true, now: this.now });
    if (isVerbose()) tellDecision(rec, d, true);
    const c = d.kind === 'keep' || d.kind === 'expired' || d.kind === 'rename-error' ? d.classification : null;
    if (c === null) {
      this.unmatched.add(bytes, memory, rec.expireAtMs !== null, rec.expireAtMs !== null && rec.expireAtMs <= this.now);
      const prio = keyPriority(db, key);
      if (this.unmatchedSamples.wants(prio)) this.unmatchedSamples.put(prio, this.ref(db, key));
      if (d.kind === 'unmatched-drop') {
        this.migration.unmatchedDropped++;
        return;
      }
      if (d.kind === 'unmatched-error') {
        this.migration.unmatchedErrors++;
        return;
      }
    } else {
      let cat = this.categories.get(c.category);
      if (cat === undefined) {
        cat = { g: new Group(), rules: new Set(), samples: new KeySample(this.nSamples) };
        this.categories.set(c.category, cat);
      }
      cat.g.add(bytes, memory, rec.expireAtMs !== null, false);
      cat.rules.add(c.rule);
      const prio = keyPriority(db, key);
      if (cat.samples.wants(prio)) cat.samples.put(prio, { db, key: this.ref(db, key).key, new_key: this.ref(db, c.newKey).key });
      let rg = this.perRule.get(c.ruleIndex);
      if (rg === undefined) this.perRule.set(c.ruleIndex, (rg = new Group()));
      rg.add(bytes, memory, rec.expireAtMs !== null, false);
      if (d.kind === 'expired' ? d.expireAtMs !== rec.expireAtMs : d.kind === 'keep' && d.ttlChanged) this.migration.ttlChanged++;
    }
    const m = this.migration;
    if (d.kind === 'rename-error') {
      m.renameErrors++;
      return;
    }
    if (d.kind !== 'keep') {
      m.expiredDropped++;
      return;
    }
    const { db: targetDb, key: newKey, expireAtMs: expireAt } = d;
    if (this.guard!.add(targetDb, newKey)) {
      this.collisions++;
      m.collisionsDropped++;
      if (this.collisionSamples.length < Math.max(this.nSamples, 1) * 4) {
        this.collisionSamples.push({ db: targetDb, new_key: this.ref(targetDb, newKey).key, source_key: this.ref(db, key).key });
      }
      return;
    }
    m.keys++;
    m.bytes += newKey.length + rec.payload.length;
    const km = keyMemory(newKey.length, expireAt !== null);
    m.memory += valueMem + km.key + km.expire;
    const perDb = m.byDb.get(targetDb) ?? { keys: 0, expires: 0 };
    perDb.keys++;
    if (expireAt !== null) perDb.expires++;
    m.byDb.set(targetDb, perDb);
  }

  /** The dataset's files with their slot summaries, and the coverage across them. */
  private filesReport(input: InputInfo | undefined): { files: FileStats[]; coverage: SlotCoverage } {
    const files = this.fileList.map((f) => ({ ...f.stats, memory: Math.round(f.stats.memory) }));
    if (files.length === 1 && files[0]!.path === '' && input) {
      Object.assign(files[0]!, { path: input.path, format: input.format, gzip: input.gzip ?? false, size: input.size ?? input.fileSize ?? null });
    }
    const { files: slots, coverage } = slotCoverage(
      files.map((f) => f.path),
      this.fileList.map((f) => f.holdings),
    );
    files.forEach((f, i) => {
      f.slots_held = slots[i]!.slots_held;
      f.slots = slots[i]!.ranges;
      f.from_slot_info = slots[i]!.from_slot_info;
    });
    return { files, coverage };
  }

  /** The finished report. `input` describes the dataset (default: from its files). */
  report(input?: InputInfo, o: { state?: boolean } = {}): AnalysisReport {
    const { files, coverage } = this.filesReport(input);
    if (input === undefined) {
      const first = files[0];
      const path = files.length === 1 ? first!.path : `${files.length} files`;
      input = { path, format: first?.format ?? 'rdb', gzip: first?.gzip ?? false };
      if (files.length === 1 && first!.size !== null) input.size = first!.size;
    }
    const checksum = combinedChecksum(files.map((f) => f.checksum), this.checksum);
    const seconds = (Date.now() - this.started) / 1000;
    let dbTables = 0;
    for (const g of this.byDb.values()) dbTables += dbTablesMemory(g.keys, g.withTtl);
    const memTotal = this.memKeys + this.memValues + this.memExpires + dbTables;
    const auxStr = (k: string): string | null => (this.aux.has(k) ? this.aux.get(k)!.toString('latin1') : null);
    const auxNum = (k: string): number | null => {
      const s = auxStr(k);
      if (s === null) return null;
      const n = Number(s);
      return Number.isFinite(n) ? n : null;
    };
    const ctime = auxNum('ctime');
    const seenDbs = new Set<number>([...this.byDb.keys(), ...this.resize.keys()]);

    const byType: Record<string, TypeStats> = {};
    for (const t of LOGICAL_TYPES) {
      const g = this.byType[TYPE_INDEX[t]];
      if (!g) continue;
      byType[t] = {
        ...g.json(),
        elements: g.elements.toJSON(),
        sizes: g.sizes.toJSON(),
        encodings: Object.fromEntries(
          [...this.byEncoding.values()]
            .filter((e) => e.type === t)
            .sort((a, b) => b.keys - a.keys)
            .map((e) => [e.encoding, e.keys]),
        ),
        samples: g.samples.values(),
      };
    }
    const byEncoding: Record<string, EncodingStats> = {};
    for (const [k, g] of [...this.byEncoding].sort((a, b) => b[1].keys - a[1].keys)) {
      byEncoding[k] = { type: g.type, encoding: g.encoding, ...g.json(), elements: g.elements.toJSON() };
    }
    const byDb: Record<string, DbStats> = {};
    for (const [db, g] of [...this.byDb].sort((a, b) => a[0] - b[0])) {
      const types: Record<string, number> = {};
      LOGICAL_TYPES.forEach((t, i) => {
        if (g.byType[i]! > 0) types[t] = g.byType[i]!;
      });
      byDb[String(db)] = { ...g.json(), by_type: types };
    }
    const t = this.ttl;
    const f = this.fieldTtl;
    const report: AnalysisReport = {
      schema_version: ANALYSIS_SCHEMA_VERSION,
      generated_at: new Date().toISOString(),
      now_ms: this.now,
      seconds,
      input: {
        path: input.path,
        format: input.format,
        gzip: input.gzip ?? false,
        rdb_version: this.header?.rdbVersion ?? null,
        flavor: this.header?.flavor ?? null,
        size: input.size ?? input.fileSize ?? null,
      },
      metadata: {
        rdb_version: this.header?.rdbVersion ?? null,
        magic: this.header?.magic ?? null,
        redis_ver: auxStr('redis-ver') ?? auxStr('valkey-ver'),
        redis_bits: auxNum('redis-bits'),
        ctime,
        ctime_iso: ctime === null ? null : iso(ctime * 1000),
        used_mem: auxNum('used-mem'),
        aux: Object.fromEntries([...this.aux].map(([k, v]) => [k, toPrintable(v)])),
        functions: this.functions,
        modules: [...this.modules].map(([name, m]) => ({ name, aux_records: m.aux, keys: m.keys })),
        dbs: [...seenDbs].sort((a, b) => a - b).map((db) => ({
          db,
          keys: this.byDb.get(db)?.keys ?? 0,
          keys_hint: this.resize.get(db)?.keys ?? null,
          expires_hint: this.resize.get(db)?.expires ?? null,
        })),
        slot_info: this.slotInfo,
        checksum,
      },
      totals: {
        keys: this.total.keys,
        with_ttl: this.total.withTtl,
        expired: this.total.expired,
        bytes: this.total.bytes,
        key_bytes: this.keyBytes,
        value_bytes: this.valueBytes,
        elements: this.elementsTotal,
        memory: Math.round(memTotal),
        records_read: this.recordsRead,
        filtered_out: this.filteredOut,
      },
      memory: {
        model: 'redis-7.0 jemalloc (docs/analyze.md)',
        convention: 'allocated',
        total: Math.round(memTotal),
        keys: Math.round(this.memKeys),
        values: Math.round(this.memValues),
        expires: Math.round(this.memExpires),
        db_tables: dbTables,
        per_key: this.perKeyMemory.toJSON(),
      },
      by_type: byType,
      by_encoding: byEncoding,
      by_db: byDb,
      sizes: this.sizes.toJSON(),
      ttl: {
        no_ttl: t.noTtl,
        with_ttl: t.withTtl,
        expired: t.expired,
        buckets: t.buckets,
        earliest_ms: t.earliest,
        latest_ms: t.latest,
        earliest: iso(t.earliest),
        latest: iso(t.latest),
        hash_fields: {
          hashes: f.hashes,
          fields: f.fields,
          expired: f.expired,
          buckets: f.buckets,
          earliest_ms: f.earliest,
          latest_ms: f.latest,
        },
      },
      biggest_keys: this.bigBytes.sorted().map(roundMem),
      biggest_keys_by_elements: this.bigElements.sorted().map(roundMem),
      biggest_keys_by_memory: this.bigMemory.sorted().map(roundMem),
      prefixes: this.prefixes.top(this.top, 'keys').map(roundPrefix),
      prefixes_by_bytes: this.prefixes.top(this.top, 'bytes').map(roundPrefix),
      prefix_tree: {
        separator: ':',
        max_depth: this.prefixes.maxDepth,
        nodes: this.prefixes.nodeCount,
        max_nodes: this.prefixes.maxNodes,
        approximate: this.prefixes.approximate,
        unprefixed: { ...this.prefixes.unprefixed, memory: Math.round(this.prefixes.unprefixed.memory) },
      },
      files,
      slot_coverage: coverage,
      duplicates: { checked: this.duplicatesChecked ?? this.multiFile, keys: this.duplicateKeys, samples: this.duplicateSamples },
    };
    if (this.rules !== null) this.addRulesReport(report);
    if (this.badLinesSkipped > 0) report.bad_lines_skipped = this.badLinesSkipped;
    if (this.verify) report.verify = { checked: this.verified.checked, bad_keys: this.verified.bad, keys: this.verified.keys };
    if (o.state !== false) report.merge_state = this.exportState();
    return report;
  }

  /** The analyzer's state, JSON-safe, for `analyze --merge` (see AnalyzerState). */
  exportState(): AnalyzerState {
    const r = this.rules;
    return {
      version: MERGE_STATE_VERSION,
      options: {
        now: this.now,
        top: this.top,
        samples: this.nSamples,
        prefix_depth: this.prefixDepth,
        prefix_max_nodes: this.prefixMaxNodes,
        max_key_bytes: this.maxKeyBytes,
        rules: r === null ? null : (this.rulesPath ?? r.source),
        unmatched: r === null ? null : r.unmatched,
        filter: this.filter !== null,
      },
      counters: [this.recordsRead, this.filteredOut, this.keyBytes, this.valueBytes, this.elementsTotal, this.memKeys, this.memValues, this.memExpires],
      total: this.total.state(),
      per_key_memory: this.perKeyMemory.toState(),
      sizes: this.sizes.toState(),
      by_type: LOGICAL_TYPES.flatMap((type) => {
        const g = this.byType[TYPE_INDEX[type]];
        return g ? [{ type, g: g.state(), elements: g.elements.toState(), sizes: g.sizes.toState(), samples: g.samples.toState() }] : [];
      }),
      by_encoding: [...this.byEncoding.values()].map((e) => ({ type: e.type, encoding: e.encoding, g: e.state(), elements: e.elements.toState() })),
      by_db: [...this.byDb].map(([db, g]) => ({ db, g: g.state(), by_type: [...g.byType] })),
      ttl: { no_ttl: this.ttl.noTtl, with_ttl: this.ttl.withTtl, expired: this.ttl.expired, buckets: { ...this.ttl.buckets }, earliest: this.ttl.earliest, latest: this.ttl.latest },
      field_ttl: { ...this.fieldTtl, buckets: { ...this.fieldTtl.buckets } },
      big_bytes: this.bigBytes.sorted(),
      big_elements: this.bigElements.sorted(),
      big_memory: this.bigMemory.sorted(),
      prefixes: this.prefixes.toState(),
      header: this.header === null ? null : { rdbVersion: this.header.rdbVersion, flavor: this.header.flavor, magic: this.header.magic },
      aux: [...this.aux].map(([k, v]) => [k, v.toString('base64')]),
      functions: this.functions,
      modules: [...this.modules].map(([k, v]) => [k, { ...v }]),
      resize: [...this.resize].map(([k, v]) => [k, { ...v }]),
      slot_info: this.slotInfo,
      files: this.fileList.map((f) => ({ stats: { ...f.stats }, holdings: f.holdings.toState() })),
      duplicates: { checked: this.duplicatesChecked ?? this.multiFile, keys: this.duplicateKeys, samples: this.duplicateSamples },
      rules:
        r === null
          ? null
          : {
              categories: [...this.categories].map(([name, c]) => ({ name, g: c.g.state(), rules: [...c.rules], samples: c.samples.toState() })),
              per_rule: [...this.perRule].map(([i, g]) => [i, g.state()]),
              unmatched: this.unmatched.state(),
              unmatched_samples: this.unmatchedSamples.toState(),
              collisions: this.collisions,
              collision_samples: this.collisionSamples,
              migration: [
                this.migration.keys,
                this.migration.bytes,
                this.migration.memory,
                this.migration.expiredDropped,
                this.migration.unmatchedDropped,
                this.migration.unmatchedErrors,
                this.migration.collisionsDropped,
                this.migration.ttlChanged,
                this.migration.renameErrors,
              ],
              migration_by_db: [...this.migration.byDb].map(([db, d]) => [db, { ...d }]),
            },
      bad_lines_skipped: this.badLinesSkipped,
    };
  }

  /**
   * Fold in a partial analysis (parts in the order one run would have read them). Exact for every counter,
   * histogram, top list and the prefix tree within its cap; samples exactly too (chosen by key hash, key-sample.ts);
   * duplicates and rule collisions across parts cannot be known (no key digests are stored).
   */
  /** A part's `verify` section (analyze --merge): counts add, keys named up to the report's cap. */
  mergeVerify(v: NonNullable<AnalysisReport['verify']>): void {
    this.verified.checked += v.checked;
    this.verified.bad += v.bad_keys;
    for (const k of v.keys) if (this.verified.keys.length < VERIFY_LISTED) this.verified.keys.push(k);
  }

  mergeState(st: AnalyzerState): void {
    if (st.version !== MERGE_STATE_VERSION) throw new Error(`merge state version ${String(st.version)} is not known`);
    const c = st.counters;
    this.recordsRead += c[0]!;
    this.filteredOut += c[1]!;
    this.keyBytes += c[2]!;
    this.valueBytes += c[3]!;
    this.elementsTotal += c[4]!;
    this.memKeys += c[5]!;
    this.memValues += c[6]!;
    this.memExpires += c[7]!;
    this.total.merge(st.total);
    this.perKeyMemory.merge(st.per_key_memory);
    this.sizes.merge(st.sizes);
    for (const t of st.by_type) {
      const ti = TYPE_INDEX[t.type];
      let g = this.byType[ti];
      if (g === undefined) g = this.byType[ti] = new TypeGroup(new KeySample(this.nSamples));
      g.merge(t.g);
      g.elements.merge(t.elements);
      g.sizes.merge(t.sizes);
      g.samples.merge(t.samples);
    }
    for (const e of st.by_encoding) {
      const k = `${e.type}:${e.encoding}`;
      let g = this.byEncoding.get(k);
      if (g === undefined) this.byEncoding.set(k, (g = new EncodingGroup(e.type, e.encoding)));
      g.merge(e.g);
      g.elements.merge(e.elements);
    }
    for (const d of st.by_db) {
      let g = this.byDb.get(d.db);
      if (g === undefined) this.byDb.set(d.db, (g = new DbGroup()));
      g.merge(d.g);
      d.by_type.forEach((n, i) => (g.byType[i]! += n));
    }
    this.lastDbGroup = null;
    this.lastDb = -1;
    mergeTtl(this.ttl, { noTtl: st.ttl.no_ttl, withTtl: st.ttl.with_ttl, expired: st.ttl.expired, buckets: st.ttl.buckets, earliest: st.ttl.earliest, latest: st.ttl.latest });
    const f = this.fieldTtl;
    f.hashes += st.field_ttl.hashes;
    f.fields += st.field_ttl.fields;
    f.expired += st.field_ttl.expired;
    for (const b of TTL_BUCKETS) f.buckets[b] += st.field_ttl.buckets[b];
    f.earliest = minOf(f.earliest, st.field_ttl.earliest);
    f.latest = maxOf(f.latest, st.field_ttl.latest);
    // Each part's list is in score order with ties in reading order, so pushing parts in reading order
    // keeps exactly the items one run would keep.
    for (const k of st.big_bytes) this.bigBytes.push(k.bytes, k);
    for (const k of st.big_elements) if (k.elements !== null) this.bigElements.push(k.elements, k);
    for (const k of st.big_memory) this.bigMemory.push(k.memory, k);
    this.prefixes.merge(st.prefixes);
    if (st.header !== null) this.header = { kind: 'header', rdbVersion: st.header.rdbVersion, flavor: st.header.flavor as 'redis' | 'valkey', magic: st.header.magic };
    for (const [k, v] of st.aux) this.aux.set(k, Buffer.from(v, 'base64'));
    for (const fn of st.functions) this.functions.push(fn);
    for (const [name, m] of st.modules) {
      const x = this.modules.get(name) ?? { aux: 0, keys: 0 };
      x.aux += m.aux;
      x.keys += m.keys;
      this.modules.set(name, x);
    }
    for (const [db, r] of st.resize) this.resize.set(db, { ...r });
    this.slotInfo += st.slot_info;
    for (const file of st.files) {
      this.cur = { stats: { ...file.stats }, holdings: SlotHoldings.fromState(file.holdings) };
      this.fileList.push(this.cur);
      if (file.stats.checksum !== 'not-present') this.checksum = file.stats.checksum;
    }
    this.duplicateKeys += st.duplicates.keys;
    for (const d of st.duplicates.samples) if (this.duplicateSamples.length < Math.max(this.nSamples, 1) * 4) this.duplicateSamples.push(d);
    if (st.rules !== null && this.rules !== null) {
      const r = st.rules;
      for (const cat of r.categories) {
        let x = this.categories.get(cat.name);
        if (x === undefined) {
          x = { g: new Group(), rules: new Set(), samples: new KeySample(this.nSamples) };
          this.categories.set(cat.name, x);
        }
        x.g.merge(cat.g);
        for (const n of cat.rules) x.rules.add(n);
        x.samples.merge(cat.samples);
      }
      for (const [i, g] of r.per_rule) {
        let x = this.perRule.get(i);
        if (x === undefined) this.perRule.set(i, (x = new Group()));
        x.merge(g);
      }
      this.unmatched.merge(r.unmatched);
      this.unmatchedSamples.merge(r.unmatched_samples);
      this.collisions += r.collisions;
      for (const cs of r.collision_samples) if (this.collisionSamples.length < Math.max(this.nSamples, 1) * 4) this.collisionSamples.push(cs);
      const m = this.migration;
      const v = r.migration;
      m.keys += v[0]!;
      m.bytes += v[1]!;
      m.memory += v[2]!;
      m.expiredDropped += v[3]!;
      m.unmatchedDropped += v[4]!;
      m.unmatchedErrors += v[5]!;
      m.collisionsDropped += v[6]!;
      m.ttlChanged += v[7]!;
      m.renameErrors += v[8] ?? 0;
      for (const [db, d] of r.migration_by_db) {
        const x = m.byDb.get(db) ?? { keys: 0, expires: 0 };
        x.keys += d.keys;
        x.expires += d.expires;
        m.byDb.set(db, x);
      }
    }
    this.badLinesSkipped += st.bad_lines_skipped;
  }

  private addRulesReport(report: AnalysisReport): void {
    const rules = this.rules!;
    report.rules = { path: this.rulesPath ?? rules.source, rules: rules.rules.length, unmatched_mode: rules.unmatched, warnings: rules.warnings.map(formatDiagnostic) };
    const byCategory: Record<string, CategoryStats> = {};
    // Every category of the rules file appears, in rule order, even with no keys.
    for (const cat of rules.categories) {
      const c = this.categories.get(cat);
      byCategory[cat] = {
        keys: c?.g.keys ?? 0,
        bytes: c?.g.bytes ?? 0,
        memory: Math.round(c?.g.memory ?? 0),
        rules: rules.rules.filter((r) => r.category === cat).map((r) => r.name),
        samples: c?.samples.values() ?? [],
      };
    }
    report.by_category = byCategory;
    const byRule: Record<string, RuleStats> = {};
    for (const r of rules.rules) {
      const g = this.perRule.get(r.index);
      byRule[r.name] = { index: r.index, category: r.category, keys: g?.keys ?? 0, bytes: g?.bytes ?? 0, memory: Math.round(g?.memory ?? 0) };
    }
    report.by_rule = byRule;
    report.unmatched = {
      keys: this.unmatched.keys,
      bytes: this.unmatched.bytes,
      memory: Math.round(this.unmatched.memory),
      mode: rules.unmatched,
      samples: this.unmatchedSamples.values(),
    };
    report.collisions = { keys: this.collisions, samples: this.collisionSamples };
    const m = this.migration;
    let tables = 0;
    for (const d of m.byDb.values()) tables += dbTablesMemory(d.keys, d.expires);
    report.migration = {
      keys_to_write: m.keys,
      bytes_to_write: m.bytes,
      estimated_memory: Math.round(m.memory + tables),
      expired_dropped: m.expiredDropped,
      unmatched_dropped: m.unmatchedDropped,
      unmatched_errors: m.unmatchedErrors,
      ...(m.renameErrors > 0 ? { rename_errors: m.renameErrors } : {}),
      collisions_dropped: m.collisionsDropped,
      ttl_changed: m.ttlChanged,
      by_db: Object.fromEntries([...m.byDb].sort((a, b) => a[0] - b[0]).map(([db, d]) => [String(db), d.keys])),
    };
  }
}

function minOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

function maxOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

type TtlAcc = { noTtl: number; withTtl: number; expired: number; buckets: Record<TtlBucket, number>; earliest: number | null; latest: number | null };

function mergeTtl(into: TtlAcc, from: TtlAcc): void {
  into.noTtl += from.noTtl;
  into.withTtl += from.withTtl;
  into.expired += from.expired;
  for (const b of TTL_BUCKETS) into.buckets[b] += from.buckets[b];
  into.earliest = minOf(into.earliest, from.earliest);
  into.latest = maxOf(into.latest, from.latest);
}

/** One checksum word for the dataset: any mismatch wins, then absent; all ok is ok. */
function combinedChecksum(files: ReadonlyArray<AnalysisReport['metadata']['checksum']>, last: AnalysisReport['metadata']['checksum']): AnalysisReport['metadata']['checksum'] {
  if (files.length <= 1) return files[0] ?? last;
  if (files.includes('mismatch')) return 'mismatch';
  if (files.every((c) => c === 'ok')) return 'ok';
  if (files.includes('absent')) return 'absent';
  return 'not-present';
}

function roundMem(k: BigKey): BigKey {
  return { ...k, memory: Math.round(k.memory) };
}

function roundPrefix(p: PrefixStat): PrefixStat {
  return { ...p, memory: Math.round(p.memory) };
}
