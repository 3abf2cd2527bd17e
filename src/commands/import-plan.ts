/**
 * `rekey import`, part 1: the plan — settings checked from the flags, the run's file stamp, and what a
 * `--resume` ledger says is done already.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RekeyUsageError } from '../errors.js';
import type { RdbRecord } from '../records/types.js';
import type { OperationLog } from '../report/files.js';
import type { ConflictPolicy, ImportMode } from '../import/restore-writer.js';
import { readResumeState, type ResumeState } from '../import/ledger.js';
import type { ImportArgs } from './import.js';
import { runPipeline, type PipelineOptions } from '../pipeline/run.js';
import { MigrationStats } from '../pipeline/stats.js';

/** What the live run will write, for the confirmation prompt: keys per target db (after rules, filters, resume). */
export async function countPlan(batches: AsyncIterable<RdbRecord[]>, base: Omit<PipelineOptions, 'sinks'>, toDb: number | null): Promise<Map<number, number>> {
  const perDb = new Map<number, number>();
  const sink = {
    writeBatch(records: readonly RdbRecord[]): void {
      for (const r of records) {
        if (r.kind !== 'key') continue;
        const db = toDb ?? r.db;
        perDb.set(db, (perDb.get(db) ?? 0) + 1);
      }
    },
    close: async () => undefined,
    abort: async () => undefined,
  };
  // Own stats and no collision guard: this pass must leave the real run's counters untouched.
  await runPipeline(batches, { ...base, stats: new MigrationStats(), guard: null, sinks: [sink] });
  return perDb;
}

/** "write 446 keys to dbs 0, 1, 3 of host:port, replace existing: no" */
export function planSentence(perDb: Map<number, number> | null, display: string, onConflict: ConflictPolicy): string {
  const replace = `replace existing: ${onConflict === 'replace' ? 'yes' : onConflict === 'skip' ? 'no' : 'no (stop at the first existing key)'}`;
  if (perDb === null) return `write the input's keys to ${display}, ${replace}`;
  const dbs = [...perDb.keys()].sort((a, b) => a - b);
  const n = [...perDb.values()].reduce((a, b) => a + b, 0);
  return `write ${n} keys to ${dbs.length === 1 ? 'db' : 'dbs'} ${dbs.join(', ') || '-'} of ${display}, ${replace}`;
}

export interface Settings {
  mode: ImportMode;
  onConflict: ConflictPolicy;
  window: number;
  windowBytes: number;
  expired: 'drop' | 'keep';
  maxErrors: number | null;
  tolerance: number;
  sample: number;
  chunk: number;
  requestTimeoutMs: number;
}

export function settings(a: ImportArgs): Settings {
  // 8000 keys in flight keeps the socket busy enough to match redis-cli --pipe; the MB bound caps big values.
  const window = a.pipeline ?? 8000;
  if (!(Number.isInteger(window) && window >= 1)) throw new RekeyUsageError(`--pipeline ${a.pipeline}: expected a whole number ≥ 1`);
  const mb = a['pipeline-mb'] ?? 16;
  if (!(mb > 0)) throw new RekeyUsageError(`--pipeline-mb ${a['pipeline-mb']}: expected MB > 0`);
  const maxErrors = a['max-errors'] ?? null;
  if (maxErrors !== null && !(Number.isInteger(maxErrors) && maxErrors >= 1)) throw new RekeyUsageError(`--max-errors ${a['max-errors']}: expected a whole number ≥ 1`);
  const tolerance = a['ttl-tolerance'] ?? 1000;
  if (!(tolerance >= 0)) throw new RekeyUsageError(`--ttl-tolerance ${a['ttl-tolerance']}: expected milliseconds ≥ 0`);
  const sample = a.sample ?? 1;
  if (!(sample > 0 && sample <= 1)) throw new RekeyUsageError(`--sample ${a.sample}: expected a fraction in (0, 1]`);
  if (a['to-db'] !== undefined && !(Number.isInteger(a['to-db']) && a['to-db'] >= 0)) throw new RekeyUsageError(`--to-db ${a['to-db']}: expected a db number`);
  const chunk = a.chunk ?? 1000;
  if (!(Number.isInteger(chunk) && chunk >= 1)) throw new RekeyUsageError(`--chunk ${a.chunk}: expected a whole number ≥ 1`);
  const mode = a.mode ?? 'auto';
  if (!['auto', 'restore', 'commands'].includes(mode)) throw new RekeyUsageError(`--mode ${mode}: expected auto, restore or commands`);
  const onConflict = a['on-conflict'] ?? 'skip';
  if (!['skip', 'replace', 'fail'].includes(onConflict)) throw new RekeyUsageError(`--on-conflict ${onConflict}: expected skip, replace or fail`);
  const requestTimeoutMs = a['request-timeout'] ?? 60_000;
  if (!(Number.isInteger(requestTimeoutMs) && requestTimeoutMs >= 0)) throw new RekeyUsageError(`--request-timeout ${a['request-timeout']}: expected milliseconds ≥ 0 (0: wait forever)`);
  return { requestTimeoutMs, mode, onConflict, window, windowBytes: Math.round(mb * 1048576), expired: a.expired ?? 'drop', maxErrors, tolerance, sample, chunk };
}

/** A stamp none of the run's files uses yet (two runs in one second get _2, _3, …). */
export function freeStamp(outDir: string, base: string): string {
  for (let i = 1; ; i++) {
    const s = i === 1 ? base : `${base}_${i}`;
    if (!['migration_report', 'migration_ledger', 'redis_migration'].some((p) => existsSync(join(outDir, `${p}_${s}.${p === 'redis_migration' ? 'log' : p === 'migration_ledger' ? 'jsonl' : 'json'}`)))) return s;
  }
}

/** Input records at or below the ledger's high-water mark, or acknowledged after it, are left out. */
export async function* skipDone(batches: AsyncIterable<RdbRecord[]>, state: ResumeState, counter: { skipped: number }): AsyncGenerator<RdbRecord[]> {
  for await (const batch of batches) {
    const out: RdbRecord[] = [];
    for (const r of batch) {
      if (r.kind === 'key' && (r.offset <= state.hwm || state.done.has(r.offset))) counter.skipped++;
      else out.push(r);
    }
    if (out.length > 0) yield out;
  }
}


/** Read the ledger to continue and log where it disagrees with this run's settings. */
export async function loadResume(path: string, o: { display: string; onConflict: ConflictPolicy; rules: string | null; toDb: number | null; log: OperationLog }): Promise<ResumeState> {
  const resume = await readResumeState(path);
  const h = resume.header;
  const log = o.log;
  if (h.target !== o.display) log.log('WARN', `resume: the ledger was written for ${h.target}, this run targets ${o.display}`);
  if (h.on_conflict !== o.onConflict) log.log('WARN', `resume: the ledger's run used --on-conflict ${h.on_conflict}, this run ${o.onConflict}`);
  if ((h.rules ?? null) !== o.rules) log.log('WARN', `resume: the ledger's run used rules ${h.rules ?? '(none)'}, this run ${o.rules ?? '(none)'}: keys may map to other names`);
  if ((h.to_db ?? null) !== o.toDb) log.log('WARN', `resume: the ledger's run wrote to db ${h.to_db ?? '(the source dbs)'}, this run to ${o.toDb ?? '(the source dbs)'}`);
  log.log('INFO', `resume ${path}: high-water mark ${resume.hwm}, ${resume.done.size} later records done, ${resume.inflight.size} unacknowledged at the stop, ${resume.acks} keys acknowledged (${resume.created} created)`);
  return resume;
}
