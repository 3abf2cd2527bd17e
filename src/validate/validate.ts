/**
 * Validation: read back what the input says the target should hold, through the same rename map the
 * import used (filters, rules, to_db, expired keys dropped), and compare each key: it exists, has the same
 * type, equal content (a logical compare; a SHA-256 digest of the canonical form for big values) and a TTL
 * within the tolerance. Then SCAN the target for keys under the new names (the rules' rename templates)
 * that the input does not explain. Mismatches are listed, bounded.
 */
import { createHash } from 'node:crypto';
import type { Redis, Cluster } from 'ioredis';
import type { KeyRecord, RdbRecord, Value } from '../records/types.js';
import type { Sink } from '../sinks/sink.js';
import type { CompiledRules } from '../rules/index.js';
import type { OperationLog } from '../report/files.js';
import type { Segment } from '../rules/template.js';
import { DigestKeyGuard } from '../pipeline/key-guard.js';
import { displayKey, toPrintable } from '../records/printable.js';
import { loadsVerbatim } from '../encode/down-convert.js';
import { normalizeValue, readValue, valuesEqual, formatStreamId, type CommandClient } from './read-value.js';
import { clusterClient, connectClient, standaloneClient } from '../redis/connect.js';
import type { TargetSpec } from '../redis/endpoint.js';
import type { TargetInfo } from '../redis/server-info.js';
import { isEmptyCollection } from '../import/command-writer.js';
import { targetFlavor } from '../import/restore-writer.js';
import { DEFAULT_MARKER_KEY } from '../sync/marker-key.js';
import type { ImportOutcome } from './import-outcome.js';

/** A sync's marker key in the target (`--checkpoint-key` default). */
const MARKER = Buffer.from(DEFAULT_MARKER_KEY);

export type MismatchKind = 'missing' | 'type' | 'value' | 'ttl' | 'unexplained' | 'error';

export interface Mismatch {
  kind: MismatchKind;
  db: number;
  key: unknown;
  detail: string;
}

export interface ValidationResult {
  /** Keys the input says the target should hold. */
  expected_keys: number;
  checked: number;
  sampled_out: number;
  matched: number;
  mismatched: number;
  missing: number;
  type_mismatch: number;
  value_mismatch: number;
  ttl_mismatch: number;
  read_errors: number;
  /** Keys under the new names (rename templates) that the input does not explain. */
  unexplained_keys: number;
  /** Other target keys, in the dbs written to, that the input does not explain (not counted as mismatches). */
  other_keys_in_target: number;
  other_key_samples: unknown[];
  /**
   * Target keys that input keys left out of this validation would take (--db/--match/--type/regex
   * filters, or `unmatched: drop`): explained, not counted as unexplained or other keys.
   */
  excluded_in_target: number;
  /**
   * `rekey sync`'s checkpoint marker (its default key, sync/target-marker.ts) where the input holds no
   * such key: the sync's, not the input's, so neither unexplained nor another key. Absent when not seen.
   */
  sync_marker?: { db: number; key: string };
  /** Gone from the target because their TTL ran out meanwhile (not mismatches). */
  expired_meanwhile: number;
  /** Empty collections in the input (Redis cannot hold them; not mismatches). */
  empty_in_input: number;
  /**
   * Input keys renamed onto a name an earlier input key already took (the pipeline's keep-first decision,
   * as import and transform make it): not written by the import, so not compared and not mismatches.
   */
  collisions: number;
  collision_keys: Array<{ source_db: number; source_key: unknown; new_key: unknown }>;
  /**
   * Keys the import did not write as the input holds them (refused with an error, skipped because they
   * existed, never reached), known from its ledger/report: listed with the reason, not counted as mismatches.
   */
  not_imported: number;
  not_imported_keys: Array<{ db: number; key: unknown; reason: string; target: string }>;
  /** Where the import's outcome was read from (null: no ledger or report found). */
  import_outcome: { ledger: string | null; reports: string[] } | null;
  /** Big values compared by digest. */
  digest_compared: number;
  ttl_tolerance_ms: number;
  sample: number;
  mismatches: Mismatch[];
  mismatches_listed: number;
  seconds: number;
}

export interface ValidateOptions {
  spec: TargetSpec;
  info: TargetInfo;
  cluster: boolean;
  /** Fraction of keys to compare (1 = all). Every key still counts for the unexplained-keys scan. */
  sample: number;
  ttlTolerance: number;
  toDb: number | null;
  rules: CompiledRules | null;
  /** Compare stream delivery/seen times: false when the keys went as commands; 'auto' decides per key. */
  streamTimes: boolean | 'auto';
  log?: OperationLog;
  concurrency?: number;
  maxListed?: number;
  /** Values above this many serialized bytes (or 10000 elements) are compared by digest. */
  bigValueBytes?: number;
  /** Skip the SCAN for unexplained keys. */
  noScan?: boolean;
  /** The import dropped hash field TTLs (--lossy): do not compare them. */
  ignoreFieldTtls?: boolean;
  /** What the import did per key (its ledger/report): a refused key is "not imported", not a mismatch. */
  outcome?: ImportOutcome | null;
  /** Compare only the keys (target db, name) this accepts; the others are not expected at all (rollback). */
  only?: (db: number, key: Buffer) => boolean;
  /** Told about every key found different (any mismatch kind but 'unexplained'). */
  onDiffer?: (kind: MismatchKind, db: number, key: Buffer) => void;
}

const BIG_ELEMENTS = 10_000;
/** Every diff names its sides: the input (what should be there) first, then the target. */
const SIDES = ['input', 'target'] as const;

/** A sink for runPipeline that compares every (sampled) renamed record with the target. */
export class ValidateSink implements Sink {
  readonly result: ValidationResult;
  private readonly expected = new DigestKeyGuard();
  /** Names (db, key) that input keys excluded from the comparison map to: the scan does not count them. */
  private readonly excluded = new DigestKeyGuard();
  private readonly dbs = new Set<number>();
  private readonly clients = new Map<number, Redis>();
  private readonly connecting = new Map<number, Promise<Redis>>();
  private cluster: Cluster | null = null;
  /** The one cluster client being connected: concurrent reads must not each open (and leak) their own. */
  private clusterConnecting: Promise<Cluster> | null = null;
  private clusterPending: Cluster | null = null;
  private active = 0;
  private slotFree: Array<() => void> = [];
  private readonly started = Date.now();
  private readonly concurrency: number;
  private readonly maxListed: number;
  private readonly bigBytes: number;
  private readonly patterns: RegExp[];

  constructor(private readonly o: ValidateOptions) {
    this.concurrency = o.concurrency ?? 64;
    this.maxListed = o.maxListed ?? 1000;
    this.bigBytes = o.bigValueBytes ?? 1 << 20;
    this.patterns = renamePatterns(o.rules);
    this.result = {
      expected_keys: 0, checked: 0, sampled_out: 0, matched: 0, mismatched: 0, missing: 0, type_mismatch: 0,
      value_mismatch: 0, ttl_mismatch: 0, read_errors: 0, unexplained_keys: 0, other_keys_in_target: 0,
      other_key_samples: [], excluded_in_target: 0, expired_meanwhile: 0, empty_in_input: 0, collisions: 0, collision_keys: [],
      not_imported: 0, not_imported_keys: [], import_outcome: o.outcome ? o.outcome.source : null, digest_compared: 0,
      ttl_tolerance_ms: o.ttlTolerance, sample: o.sample, mismatches: [], mismatches_listed: 0, seconds: 0,
    };
  }

  private async client(db: number): Promise<CommandClient> {
    if (this.o.cluster) {
      if (this.cluster) return this.cluster;
      if (!this.clusterConnecting) {
        const c = clusterClient(this.o.spec);
        this.clusterConnecting = connectClient(c, this.o.spec).then((cc) => (this.cluster = cc));
        this.clusterPending = c;
      }
      return this.clusterConnecting;
    }
    let c = this.clients.get(db);
    if (!c) {
      c = standaloneClient(this.o.spec, db);
      this.clients.set(db, c);
      this.connecting.set(db, connectClient(c, this.o.spec));
    }
    // every caller waits for the one connect (a command on a half-open client would start its own)
    await this.connecting.get(db);
    return c;
  }

  async writeBatch(records: readonly RdbRecord[]): Promise<void> {
    for (const rec of records) {
      if (rec.kind !== 'key') continue;
      const db = this.o.toDb ?? rec.db;
      if (this.o.only && !this.o.only(db, rec.key)) continue;
      this.expected.add(db, rec.key);
      this.dbs.add(db);
      this.result.expected_keys++;
      if (this.o.sample < 1 && Math.random() >= this.o.sample) {
        this.result.sampled_out++;
        continue;
      }
      while (this.active >= this.concurrency) await new Promise<void>((r) => this.slotFree.push(r));
      this.active++;
      void this.check(db, rec).finally(() => {
        this.active--;
        this.slotFree.shift()?.();
      });
    }
  }

  /** A key that is not as the input holds it: not imported when the import's outcome says why, else a mismatch. */
  private differs(kind: MismatchKind, db: number, key: Buffer, detail: string): void {
    const why = this.o.outcome?.reason(db, key) ?? null;
    if (why === null) {
      this.mismatch(kind, db, key, detail);
      return;
    }
    const r = this.result;
    r.not_imported++;
    if (r.not_imported_keys.length < this.maxListed) r.not_imported_keys.push({ db, key: toPrintable(key), reason: why, target: detail });
    if (r.not_imported <= 100) this.o.log?.log('WARN', `validate: db ${db} ${displayKey(key)}: not imported: ${why} (${detail})`);
  }

  /** An input key left out by the filters or by `unmatched: drop`: its name in the target is explained. */
  exclude(db: number, key: Buffer): void {
    this.excluded.add(this.o.toDb ?? db, key);
  }

  private mismatch(kind: MismatchKind, db: number, key: Buffer, detail: string): void {
    const r = this.result;
    if (kind !== 'unexplained') this.o.onDiffer?.(kind, db, key);
    r.mismatched++;
    if (kind === 'missing') r.missing++;
    else if (kind === 'type') r.type_mismatch++;
    else if (kind === 'value') r.value_mismatch++;
    else if (kind === 'ttl') r.ttl_mismatch++;
    else if (kind === 'error') r.read_errors++;
    else if (kind === 'unexplained') r.unexplained_keys++;
    if (r.mismatches.length < this.maxListed) r.mismatches.push({ kind, db, key: toPrintable(key), detail });
    if (r.mismatched <= 100) this.o.log?.log('WARN', `validate: db ${db} ${displayKey(key)}: ${kind}: ${detail}`);
  }

  private async check(db: number, rec: KeyRecord): Promise<void> {
    const r = this.result;
    r.checked++;
    let want: Value;
    try {
      want = rec.decode();
    } catch (e) {
      this.mismatch('error', db, rec.key, `the input value does not decode: ${(e as Error).message}`);
      return;
    }
    if (this.o.ignoreFieldTtls && want.type === 'hash' && want.expires && !this.o.info.hashFieldTtl) want = { type: 'hash', entries: want.entries };
    let got;
    try {
      got = await readValue(await this.client(db), rec.key);
    } catch (e) {
      this.mismatch('error', db, rec.key, `reading the target failed: ${this.o.spec.redactor.message(e)}`);
      return;
    }
    if (got.type === 'none' || got.value === null) {
      if (isEmptyCollection(want)) {
        r.empty_in_input++;
        r.matched++;
        return;
      }
      if (rec.expireAtMs !== null && rec.expireAtMs <= Date.now() + this.o.ttlTolerance) {
        r.expired_meanwhile++;
        r.matched++;
        return;
      }
      const hint = this.o.outcome ? '' : '; no import ledger or report found to say why (--ledger FILE)';
      this.differs('missing', db, rec.key, `not in the target (input: a ${want.type} / target: none${hint})`);
      return;
    }
    if (got.type !== want.type) {
      this.differs('type', db, rec.key, `type differs: input: ${want.type} / target: ${got.type}`);
      return;
    }
    const diff = this.compare(rec, want, got.value);
    if (diff !== null) {
      this.differs('value', db, rec.key, diff);
      return;
    }
    const a = rec.expireAtMs;
    const b = got.expireAtMs;
    if (a === null && b !== null) {
      this.differs('ttl', db, rec.key, `TTL differs: input: none / target: expires at ${b}`);
      return;
    }
    if (a !== null && b === null) {
      this.differs('ttl', db, rec.key, `TTL differs: input: expires at ${a} / target: none`);
      return;
    }
    if (a !== null && b !== null && Math.abs(a - b) > this.o.ttlTolerance) {
      this.differs('ttl', db, rec.key, `TTL differs: input: expires at ${a} / target: expires at ${b} (${b - a} ms apart, tolerance ${this.o.ttlTolerance})`);
      return;
    }
    r.matched++;
  }

  private streamTimes(rec: KeyRecord): boolean {
    const s = this.o.streamTimes;
    if (s !== 'auto') return s;
    if (this.o.info.restoreCommand === false) return false;
    try {
      return loadsVerbatim(rec, this.o.info.maxRdbVersion, targetFlavor(this.o.info));
    } catch {
      return false;
    }
  }

  /** null when equal, else what differs. */
  private compare(rec: KeyRecord, want: Value, got: Value): string | null {
    const big = want.type !== 'stream' && want.type !== 'module' && (safeLength(rec) > this.bigBytes || elementCount(want) > BIG_ELEMENTS);
    if (big) {
      this.result.digest_compared++;
      const d1 = valueDigest(want);
      const d2 = valueDigest(got);
      if (d1 === d2) return null;
      const eq = valuesEqual(want, got, { labels: SIDES });
      return `content digest: input: sha256:${d1.slice(0, 16)}… / target: sha256:${d2.slice(0, 16)}…${eq.diff ? ` (${eq.diff})` : ''}`;
    }
    const eq = valuesEqual(want, got, { streamTimes: this.streamTimes(rec), labels: SIDES });
    return eq.equal ? null : (eq.diff ?? 'values differ');
  }

  async close(): Promise<void> {
    while (this.active > 0) await new Promise<void>((r) => this.slotFree.push(r));
    // Wake anyone still queued (none expected).
    for (const f of this.slotFree.splice(0)) f();
    if (!this.o.noScan) await this.scanTarget();
    this.result.mismatches_listed = this.result.mismatches.length;
    this.result.seconds = (Date.now() - this.started) / 1000;
    this.disconnect();
  }

  async abort(): Promise<void> {
    this.disconnect();
  }

  private disconnect(): void {
    for (const c of this.clients.values()) c.disconnect();
    this.clients.clear();
    this.connecting.clear();
    this.cluster?.disconnect();
    this.clusterPending?.disconnect();
    this.cluster = null;
    this.clusterPending = null;
    this.clusterConnecting = null;
  }

  /** SCAN the dbs written to for keys the input does not explain. */
  private async scanTarget(): Promise<void> {
    const visit = (db: number, key: Buffer): void => {
      if (!this.expected.add(db, key)) {
        if (this.excluded.add(db, key)) {
          this.result.excluded_in_target++;
          return;
        }
        if (key.equals(MARKER)) {
          this.result.sync_marker = { db, key: DEFAULT_MARKER_KEY };
          return;
        }
        const latin = key.toString('latin1');
        if (this.patterns.some((p) => p.test(latin))) {
          this.mismatch('unexplained', db, key, 'under a new name the rules produce, but no input key maps to it');
        } else {
          this.result.other_keys_in_target++;
          if (this.result.other_key_samples.length < 20) this.result.other_key_samples.push({ db, key: toPrintable(key) });
        }
      }
    };
    if (this.o.cluster) {
      const c = (await this.client(0)) as Cluster;
      for (const node of c.nodes('master')) await scanNode(node, (k) => visit(0, k));
      return;
    }
    for (const db of [...this.dbs].sort((a, b) => a - b)) {
      const c = (await this.client(db)) as Redis;
      await scanNode(c, (k) => visit(db, k));
    }
  }
}

async function scanNode(c: Redis, visit: (key: Buffer) => void): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = (await c.callBuffer('SCAN', cursor, 'COUNT', '1000')) as [Buffer, Buffer[]];
    cursor = next.toString('latin1');
    for (const k of keys) visit(k);
  } while (cursor !== '0');
}

function safeLength(rec: KeyRecord): number {
  try {
    return rec.payload.length;
  } catch {
    return 0;
  }
}

function elementCount(v: Value): number {
  switch (v.type) {
    case 'list':
      return v.items.length;
    case 'set':
      return v.members.length;
    case 'zset':
    case 'hash':
      return v.entries.length;
    case 'stream':
      return v.entries.length;
    default:
      return 1;
  }
}

/** SHA-256 of the canonical form of a value (order-independent collections sorted, length-prefixed fields). */
export function valueDigest(v: Value): string {
  const h = createHash('sha256');
  const n = normalizeValue(v);
  const len = Buffer.alloc(8);
  const put = (b: Buffer): void => {
    len.writeUInt32LE(b.length, 0);
    h.update(len.subarray(0, 4));
    h.update(b);
  };
  const num = (x: number): void => {
    len.writeDoubleLE(x, 0);
    h.update(len);
  };
  h.update(n.type);
  switch (n.type) {
    case 'string':
      put(n.value);
      break;
    case 'list':
      for (const x of n.items) put(x);
      break;
    case 'set':
      for (const x of n.members) put(x);
      break;
    case 'zset':
      for (const [m, s] of n.entries) {
        put(m);
        num(s);
      }
      break;
    case 'hash':
      n.entries.forEach(([f, x], i) => {
        put(f);
        put(x);
        num(n.expires?.[i] ?? -1);
      });
      break;
    case 'stream':
      for (const e of n.entries) {
        h.update(formatStreamId(e.id));
        for (const [f, x] of e.fields) {
          put(f);
          put(x);
        }
      }
      break;
    case 'module':
      put(n.raw);
      break;
  }
  return h.digest('hex');
}

/** Regexps (over the key's latin1 view) matching the keys the rules' rename templates can produce. */
export function renamePatterns(rules: CompiledRules | null): RegExp[] {
  if (!rules) return [];
  const out: RegExp[] = [];
  for (const r of rules.rules) {
    const t = r.spec.rename;
    if (!t) continue;
    out.push(templateRegex(t.segments));
  }
  return out;
}

function templateRegex(segments: readonly Segment[]): RegExp {
  let re = '^';
  for (const s of segments) {
    if (s.kind === 'lit') re += s.bytes.toString('latin1').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else if (s.type === 'seg') re += '[^:]+';
    else if (s.type === 'any') re += '[\\s\\S]+';
    else if (s.type === 'base64') re += '[A-Za-z0-9+/=_-]+';
    else re += '[0-9]+';
  }
  return new RegExp(re + '$', 's');
}
