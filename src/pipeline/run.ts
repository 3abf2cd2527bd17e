import { EXIT_PROBLEM } from '../errors.js';
import type { KeyRecord, RdbRecord } from '../records/types.js';
import type { KeyOutcomes, Sink } from '../sinks/sink.js';
import type { CompiledRules } from '../rules/index.js';
import { rewriteKey, type KeyChanges } from '../records/rewrite.js';
import { displayKey } from '../records/printable.js';
import type { KeyFilter } from './filters.js';
import type { MigrationStats } from './stats.js';
import type { OperationLog } from '../report/files.js';
import { decideKey } from './key-decision.js';
import { isEmptyCollection } from '../analyze/element-count.js';
import { isVerbose } from '../report/verbosity.js';
import { decidedBy, tellDecision, tellKey } from './decision-trace.js';

/** Remembers output keys per db to catch two source keys landing on one name. */
export interface KeyGuard {
  /** Record the key; true when it was already there. */
  add(db: number, key: Buffer): boolean;
}

export interface PipelineOptions {
  filter: KeyFilter | null;
  rules: CompiledRules | null;
  unmatched: 'keep' | 'drop' | 'error';
  expired: 'drop' | 'keep';
  now: number;
  onCollision: 'keep-first' | 'fail';
  guard: KeyGuard | null;
  sinks: Sink[];
  stats: MigrationStats;
  log?: OperationLog;
  /** Called after each batch (progress bars). */
  onBatch?: (keysSoFar: number) => void;
}

/** Thrown when `--on-collision fail` meets a collision: the run stops and outputs are discarded. */
export class CollisionError extends Error {
  override readonly name = 'CollisionError';
  readonly exitCode = EXIT_PROBLEM;
}

/** A key passed on to the sinks, counted once they said what they did with it. */
interface Passed {
  rec: KeyRecord;
  sourceKey: Buffer;
  category: string | null;
}

/**
 * One pass: source batches → filter → rules (classify + rename) → expiry → collision check → every
 * sink. Values are never decoded here; a renamed key shares its payload bytes with the source. The
 * sinks tell what they did with each key (KeyOutcomes); this is the one place a key counts as
 * migrated or as an error.
 */
export async function runPipeline(batches: AsyncIterable<RdbRecord[]>, o: PipelineOptions): Promise<void> {
  const { stats } = o;
  // --verbose: each key's decision on stderr; read once, so the per-key path pays nothing without it
  const tell = isVerbose();
  try {
    for await (const batch of batches) {
      const out: RdbRecord[] = [];
      const passed: Passed[] = [];
      for (const rec of batch) {
        if (rec.kind !== 'key') {
          out.push(rec);
          continue;
        }
        const kept = processKey(rec, o, tell);
        if (kept !== null) {
          out.push(kept.rec);
          passed.push(kept);
        }
      }
      const refused = new Map<KeyRecord, string>();
      const outcomes: KeyOutcomes = { refused: (rec, err) => void (refused.has(rec) || refused.set(rec, err.message)) };
      for (const sink of o.sinks) {
        const p = sink.writeBatch(out, outcomes);
        if (p) await p;
      }
      for (const k of passed) {
        const why = refused.size > 0 ? refused.get(k.rec) : undefined;
        if (why === undefined) stats.migrated(k.rec.db, k.sourceKey, k.rec.key, k.category);
        else {
          // A key the output cannot hold (a module value as commands, an expiry past 2038 in RDB < 3):
          // an error of that key; the run goes on.
          stats.error(k.rec.db, k.rec.key, why);
          o.log?.log('ERROR', `db ${k.rec.db} ${displayKey(k.rec.key)}: ${why}`);
        }
      }
      o.onBatch?.(stats.totalKeysFound);
    }
    for (const sink of o.sinks) await sink.close();
  } catch (e) {
    for (const sink of o.sinks) await sink.abort(e).catch(() => undefined);
    throw e;
  }
}

function processKey(rec: KeyRecord, o: PipelineOptions, tell: boolean): Passed | null {
  const { stats } = o;
  stats.totalKeysFound++;
  if (o.filter !== null && !o.filter(rec)) {
    stats.filteredOut++;
    if (tell) tellKey(rec, 'filtered out');
    return null;
  }
  if (isEmptyCollection(rec)) {
    stats.emptyDropped++;
    if (tell) tellKey(rec, `empty ${rec.type}, skipped`);
    o.log?.log('WARN', `db ${rec.db} ${displayKey(rec.key)}: empty ${rec.type}; skipped (Redis skips empty keys when it loads a file)`);
    return null;
  }
  const d = decideKey(rec, { rules: o.rules, unmatched: o.unmatched, dropExpired: o.expired === 'drop', now: o.now });
  if (tell && d.kind !== 'keep') tellDecision(rec, d, o.rules !== null);
  if (d.kind === 'unmatched-drop' || d.kind === 'unmatched-error') {
    stats.unmatchedKeys++;
    if (d.kind === 'unmatched-drop') stats.unmatchedDropped++;
    else {
      stats.error(rec.db, rec.key, 'no rule matches this key (unmatched: error)');
      o.log?.log('ERROR', `db ${rec.db} ${displayKey(rec.key)}: no rule matches`);
    }
    return null;
  }
  if (d.kind === 'rename-error') {
    stats.error(rec.db, rec.key, d.message);
    o.log?.log('ERROR', `db ${rec.db} ${displayKey(rec.key)}: ${d.message}`);
    return null;
  }
  const category = d.classification?.category ?? null;
  if (category !== null) stats.category(category);
  else if (o.rules !== null) stats.unmatchedKeys++;
  if (d.kind === 'expired') {
    stats.expiredDropped++;
    return null;
  }
  const { db, key } = d;
  if (o.guard !== null && o.guard.add(db, key)) {
    stats.collided(rec.db, rec.key, key);
    const msg = key.equals(rec.key) && db === rec.db
      ? `db ${db} ${displayKey(key)}: the input holds this key more than once (duplicate key)`
      : `db ${db} ${displayKey(key)}: a second source key (${displayKey(rec.key)}) maps to this name`;
    if (o.onCollision === 'fail') {
      stats.error(db, rec.key, msg);
      throw new CollisionError(`collision: ${msg} (--on-collision fail)`);
    }
    if (tell) tellKey(rec, `collision, dropped (${decidedBy(d, o.rules !== null)}; the first key with this name is kept)`, d);
    o.log?.log('WARN', `${msg}; keeping the first`);
    return null;
  }
  if (tell) tellDecision(rec, d, o.rules !== null);
  if (!d.renamed && db === rec.db && !d.ttlChanged) return { rec, sourceKey: rec.key, category };
  const changes: KeyChanges = {};
  if (d.renamed) changes.key = key;
  if (db !== rec.db) changes.db = db;
  if (d.ttlChanged) changes.expireAtMs = d.expireAtMs;
  return { rec: rewriteKey(rec, changes), sourceKey: rec.key, category };
}
