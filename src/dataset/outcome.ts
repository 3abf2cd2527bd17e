/**
 * What a command run over several inputs adds to its report, its summary and its exit code: the
 * per-file table, slot coverage, and the problems that make the run exit 1 (README "Cluster backups"):
 * - slots no file holds (a missing shard), unless `--partial` says the dataset is knowingly incomplete;
 * - keys dropped because two inputs hold them (or rules rename keys of two inputs onto one name), unless
 *   `--on-collision` was given explicitly;
 * - a function library two inputs define with different code (the first file's is kept).
 * Overlapping files and keys sitting in a file whose slots do not own them are flagged, not failed: the
 * run still wrote every key once.
 */
import type { Argv } from 'yargs';
import type { Dataset, DatasetReport } from './dataset.js';
import type { MigrationStats } from '../pipeline/stats.js';

export interface DatasetArgs {
  /** Several inputs that are knowingly not every shard: missing slots do not fail the run. */
  partial?: boolean;
  /** transform: one RDB per master of `N`, a CLUSTER NODES file, or a cluster node's URL. */
  'split-by-slots'?: string;
}

export function withDataset<T>(y: Argv<T>, o: { split?: boolean } = {}): Argv<T & DatasetArgs> {
  const z = y.option('partial', {
    type: 'boolean',
    default: false,
    describe: 'several inputs that are knowingly not every shard: slots no file holds do not fail the run',
  });
  const w = o.split
    ? z.option('split-by-slots', {
        type: 'string',
        describe: 'write one RDB per cluster master (-o base.rdb → base-<i>.rdb): N masters, a CLUSTER NODES file, or a cluster node URL',
      })
    : z;
  return w as unknown as Argv<T & DatasetArgs>;
}

/** The inputs of a command whose positional is `<input..>`. */
export function inputList(input: string | readonly string[]): string[] {
  return typeof input === 'string' ? [input] : [...input];
}

export interface DatasetOutcome {
  /** Report fields: `files`, `slot_coverage`, `function_conflicts`, and with collisions their keys. */
  fields: Record<string, unknown>;
  /** Why the run exits 1 (empty: it need not). */
  problems: string[];
  /** Summary lines for the screen. */
  lines: string[];
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** The per-file table and coverage as lines (the same words as the report's fields). */
export function datasetLines(r: DatasetReport): string[] {
  const w = Math.min(60, Math.max(4, ...r.files.map((f) => f.path.length)));
  const out = [`  ${pad('file', w)}  rdb  ${pad('keys', 10)} ${pad('bytes', 12)} slots held  ranges`];
  for (const f of r.files) {
    const ver = f.format === 'rdb' ? String(f.rdb_version ?? '?') : 'jsonl';
    const ranges = f.slots.length > 60 ? `${f.slots.slice(0, 57)}...` : f.slots;
    out.push(`  ${pad(f.path, w)}  ${pad(ver, 4)} ${pad(String(f.keys), 10)} ${pad(String(f.bytes), 12)} ${pad(String(f.slots_held), 10)}  ${ranges}${f.from_slot_info ? ' (slot-info)' : ''}`);
  }
  const c = r.slot_coverage;
  out.push(`  slots held by some file: ${c.slots_held} of 16384`);
  if (c.missing.slots > 0) out.push(`  MISSING: ${c.missing.slots} slots held by no file (${c.missing.ranges})`);
  for (const o of c.overlaps) out.push(`  overlap: ${o.files[0]} and ${o.files[1]} both hold ${o.slots} slots (${o.ranges})`);
  for (const m of c.misplaced.by_file) out.push(`  misplaced: ${m.keys} keys in ${m.file} hash to slots another file owns (${m.ranges})`);
  for (const f of r.function_conflicts) out.push(`  function library ${f.library}: other code in ${f.dropped}; kept ${f.kept}'s`);
  return out;
}

/**
 * The dataset's part of a run's result. `collisionPolicy` is the `--on-collision` the user gave (undefined
 * when none was given: then a collision across inputs is a problem).
 */
export function datasetOutcome(ds: Dataset, o: { partial?: boolean; stats?: MigrationStats; collisionPolicy?: string | undefined }): DatasetOutcome {
  const r = ds.report();
  if (r === null) return { fields: {}, problems: [], lines: [] };
  const problems: string[] = [];
  const c = r.slot_coverage;
  if (c.missing.slots > 0 && !o.partial) problems.push(`${c.missing.slots} slots are held by no input (${c.missing.ranges}): a missing shard? (--partial if the dataset is knowingly incomplete)`);
  const st = o.stats;
  if (st !== undefined && st.collisions > 0 && o.collisionPolicy === undefined) {
    problems.push(`${st.collisions} keys collide across the inputs (held twice, or renamed onto one name); the first was kept and the others are named in collision_keys (--on-collision keep-first accepts that, fail stops)`);
  }
  if (r.function_conflicts.length > 0) problems.push(`${r.function_conflicts.length} function libraries differ between inputs (the first file's code was kept)`);
  const fields: Record<string, unknown> = { files: r.files, slot_coverage: c, function_conflicts: r.function_conflicts };
  if (st !== undefined) fields.collision_keys = st.collisionKeys;
  return { fields, problems, lines: [`  ${r.files.length} inputs:`, ...datasetLines(r), ...problems.map((p) => `  PROBLEM: ${p}`)] };
}
