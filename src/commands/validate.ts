import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { EXIT_OK, EXIT_PROBLEM, RekeyUsageError } from '../errors.js';
import type { OpenedInput } from '../sources/open.js';
import { Dataset } from '../dataset/dataset.js';
import { datasetOutcome, inputList, withDataset, type DatasetArgs } from '../dataset/outcome.js';
import { loadRules, type CompiledRules } from '../rules/index.js';
import { runPipeline } from '../pipeline/run.js';
import { MigrationStats } from '../pipeline/stats.js';
import { DigestKeyGuard } from '../pipeline/key-guard.js';
import type { KeyFilter } from '../pipeline/filters.js';
import { decideKey } from '../pipeline/key-decision.js';
import type { KeyRecord } from '../records/types.js';
import { toJson, type OperationLog } from '../report/files.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { filterFrom, note, nowFrom, withCommon, type CommonArgs } from './common.js';
import { withExpiry, withLossy, withProgress, withRules, withTarget, withValidation } from './options/groups.js';
import { Progress } from '../report/progress.js';
import { CommandRun } from './run-context.js';
import { isLiveUrl, liveSourceOptions, withLiveSource, type LiveSourceArgs } from '../sources/redis-source-cli.js';
import { TargetConnectionError } from '../redis/connect.js';
import type { TargetSpec } from '../redis/endpoint.js';
import type { TargetInfo } from '../redis/server-info.js';
import { ValidateSink, type MismatchKind, type ValidationResult } from '../validate/validate.js';
import { displayKey } from '../records/printable.js';
import { findImportOutcome, type ImportOutcome } from '../validate/import-outcome.js';
import { validateRounds, type RoundInfo } from '../validate/rounds.js';

export interface ValidateArgs extends CommonArgs, LiveSourceArgs, DatasetArgs {
  /** One input, or several read as one dataset (paths and globs). */
  input: string | string[];
  target: string;
  rules?: string;
  sample?: number;
  'ttl-tolerance'?: number;
  'to-db'?: number;
  cluster?: boolean;
  'tls-ca'?: string;
  expired?: 'drop' | 'keep';
  unmatched?: 'keep' | 'drop';
  now?: number;
  /** Compare stream delivery/seen times exactly (default: only where RESTORE could carry them). */
  'stream-times'?: 'auto' | 'exact' | 'ignore';
  /** The import ran with --lossy: hash field TTLs the target cannot hold are not compared. */
  lossy?: boolean;
  /** Progress bar on a terminal (default on; never with --json or when stderr is not a terminal). */
  progress?: boolean;
  /** Compare keys found different again, up to this many rounds in all (default 1). */
  rounds?: number;
  /** Pause before each later round, ms (default 1000). */
  'round-pause'?: number;
  /** The import's ledger (default: the newest live import report for this input and target in --out-dir). */
  ledger?: string;
}

export interface ValidateInputOptions {
  input: OpenedInput;
  spec: TargetSpec;
  info: TargetInfo;
  cluster: boolean;
  rules: CompiledRules | null;
  filter: KeyFilter | null;
  unmatched: 'keep' | 'drop' | 'error';
  expired: 'drop' | 'keep';
  now: number;
  toDb: number | null;
  sample: number;
  ttlTolerance: number;
  streamTimes: boolean | 'auto';
  log: OperationLog;
  stats?: MigrationStats;
  ignoreFieldTtls?: boolean;
  outcome?: ImportOutcome | null;
  /** Skip the SCAN for unexplained keys. */
  noScan?: boolean;
  only?: (db: number, key: Buffer) => boolean;
  onDiffer?: (kind: MismatchKind, db: number, key: Buffer) => void;
  /** Called with the sink once it exists (progress reads its counters). */
  onSink?: (sink: ValidateSink) => void;
}

/** One pass over the input through filters and rules, comparing every (sampled) key with the target. */
export async function validateInput(o: ValidateInputOptions): Promise<ValidationResult> {
  const sink = new ValidateSink({
    spec: o.spec,
    info: o.info,
    cluster: o.cluster,
    sample: o.sample,
    ttlTolerance: o.ttlTolerance,
    toDb: o.toDb,
    rules: o.rules,
    streamTimes: o.streamTimes,
    log: o.log,
    ...(o.ignoreFieldTtls ? { ignoreFieldTtls: true } : {}),
    ...(o.outcome ? { outcome: o.outcome } : {}),
    ...(o.noScan ? { noScan: true } : {}),
    ...(o.only ? { only: o.only } : {}),
    ...(o.onDiffer ? { onDiffer: o.onDiffer } : {}),
  });
  o.onSink?.(sink);
  const inner = new DigestKeyGuard();
  const toDb = o.toDb;
  const stats = o.stats ?? new MigrationStats();
  await runPipeline(o.input.batches, {
    filter: excludingFilter(o, sink),
    rules: o.rules,
    // unmatched: error means those keys were refused, so they are not expected in the target
    unmatched: o.unmatched === 'error' ? 'drop' : o.unmatched,
    expired: o.expired,
    now: o.now,
    onCollision: 'keep-first',
    guard: { add: (db, key) => inner.add(toDb ?? db, key) },
    sinks: [sink],
    stats,
  });
  // Collisions are decided by the same pipeline step as the import's, so they are the keys it dropped.
  sink.result.collisions = stats.collisions;
  sink.result.collision_keys = stats.collisionKeys.slice(0, 100);
  return sink.result;
}

/**
 * The command's filter, telling the sink about every key it leaves out — filtered, or no rule matching
 * under `unmatched: drop|error` — under the name(s) it would have in the target (its own, and the rules'
 * new one), so a copy of it there is not an "unexplained" key. Null when nothing is left out.
 */
function excludingFilter(o: ValidateInputOptions, sink: ValidateSink): KeyFilter | null {
  const { filter, rules } = o;
  const dropsUnmatched = rules !== null && o.unmatched !== 'keep';
  if (filter === null && !dropsUnmatched) return null;
  const leaveOut = (rec: KeyRecord): void => {
    sink.exclude(rec.db, rec.key);
    const d = decideKey(rec, { rules, unmatched: 'keep', dropExpired: false, now: o.now });
    if (d.kind === 'keep' && (d.renamed || d.db !== rec.db)) sink.exclude(d.db, d.key);
  };
  return (rec) => {
    if (filter !== null && !filter(rec)) {
      leaveOut(rec);
      return false;
    }
    // The pipeline drops these next (the same classification): record their names first.
    if (dropsUnmatched && rules.classify(rec.key, rec.type, rec.db) === null) leaveOut(rec);
    return true;
  };
}

function checkArgs(a: ValidateArgs): { sample: number; tolerance: number; rounds: number; pause: number } {
  const sample = a.sample ?? 1;
  if (!(sample > 0 && sample <= 1)) throw new RekeyUsageError(`--sample ${a.sample}: expected a fraction in (0, 1]`);
  const tolerance = a['ttl-tolerance'] ?? 1000;
  if (!(tolerance >= 0)) throw new RekeyUsageError(`--ttl-tolerance ${a['ttl-tolerance']}: expected milliseconds ≥ 0`);
  if (a['to-db'] !== undefined && !(Number.isInteger(a['to-db']) && a['to-db'] >= 0)) throw new RekeyUsageError(`--to-db ${a['to-db']}: expected a db number`);
  const rounds = a.rounds ?? 1;
  if (!(Number.isInteger(rounds) && rounds >= 1)) throw new RekeyUsageError(`--rounds ${a.rounds}: expected a whole number ≥ 1`);
  const pause = a['round-pause'] ?? 1000;
  if (!(pause >= 0)) throw new RekeyUsageError(`--round-pause ${a['round-pause']}: expected milliseconds ≥ 0`);
  if (rounds > 1 && a.input === '-') throw new RekeyUsageError('--rounds: standard input cannot be read a second time; give a file');
  return { sample, tolerance, rounds, pause };
}

/** A key as the report holds it (string, or {base64}) for the screen. */
function printable(k: unknown): string {
  return typeof k === 'string' ? k : displayKey(Buffer.from((k as { base64: string }).base64, 'base64'));
}

/** The summary of a validation result, one line each: on screen (`listed` keys named) and in the .txt report (all listed). */
export function validationLines(v: ValidationResult & { rounds?: RoundInfo[] }, listed = 10): string[] {
  const out: string[] = [];
  const say = (l: string): void => void out.push(l);
  if (v.rounds && v.rounds.length > 1) {
    say(`  rounds: ${v.rounds.map((r) => (r.round === 1 ? `1: ${r.compared} compared, ${r.different} different` : `${r.round}: ${r.compared} re-compared, ${r.different} still different`)).join('; ')}`);
  }
  say(`  validation: ${v.checked} keys compared${v.sampled_out ? ` (${v.sampled_out} not sampled)` : ''}, ${v.matched} equal, ${v.mismatched} mismatches${v.not_imported ? `, ${v.not_imported} not imported` : ''}`);
  if (v.not_imported) {
    const from = v.import_outcome?.ledger ?? v.import_outcome?.reports[0] ?? 'the import';
    say(`    not imported (reasons from ${from}): ${v.not_imported}`);
    for (const n of v.not_imported_keys.slice(0, listed)) say(`      db ${n.db} ${printable(n.key)}: ${n.reason}`);
    if (v.not_imported_keys.length > listed) say(`      … ${v.not_imported_keys.length - listed} more listed in the report`);
  }
  if (v.missing) say(`    missing: ${v.missing}`);
  if (v.type_mismatch) say(`    type differs: ${v.type_mismatch}`);
  if (v.value_mismatch) say(`    content differs: ${v.value_mismatch}`);
  if (v.ttl_mismatch) say(`    TTL differs (> ${v.ttl_tolerance_ms} ms): ${v.ttl_mismatch}`);
  if (v.read_errors) say(`    read errors: ${v.read_errors}`);
  if (v.unexplained_keys) say(`    keys under the new names the input does not explain: ${v.unexplained_keys}`);
  if (v.other_keys_in_target) say(`    other keys in the target (not from this input): ${v.other_keys_in_target}`);
  if (v.excluded_in_target) say(`    target keys of input keys left out (filters, unmatched: drop; not counted): ${v.excluded_in_target}`);
  if (v.sync_marker) say(`    rekey sync's checkpoint marker ${v.sync_marker.key} (db ${v.sync_marker.db}; not counted)`);
  if (v.expired_meanwhile) say(`    expired since (not counted): ${v.expired_meanwhile}`);
  if (v.collisions) {
    say(`    collisions (renamed onto a name an earlier key took; not imported, not compared): ${v.collisions}`);
    for (const c of v.collision_keys.slice(0, Math.min(listed, 5))) say(`      db ${c.source_db} ${printable(c.source_key)} -> ${printable(c.new_key)}`);
  }
  for (const m of v.mismatches.slice(0, listed)) say(`    ${m.kind}: db ${m.db} ${printable(m.key)}: ${m.detail}`);
  if (v.mismatches.length > listed) say(`    … ${v.mismatches.length - listed} more listed in the report`);
  return out;
}

/** Print a validation result's summary on stderr. */
export function printValidation(v: ValidationResult): void {
  for (const l of validationLines(v)) note(l);
}

export interface ValidateHooks {
  /** Use this input instead of opening `a.input` (library use, tests). */
  input?: OpenedInput;
  /** With `input` and --rounds: a fresh pass over the same input. */
  reopen?: () => Promise<OpenedInput>;
}

/** The bar while keys are compared: only on a terminal, never with --json (stdout is the report) or --no-progress. */
function validationProgress(a: ValidateArgs, input: OpenedInput, log: OperationLog, sink: () => ValidateSink | null): Progress | null {
  if (a.json === true || a.progress === false || process.stderr.isTTY !== true) return null;
  const p = new Progress({
    label: 'validate',
    tty: true,
    ...(input.fileSize !== undefined ? { totalBytes: input.fileSize } : {}),
    inputBytesRead: () => input.bytesRead(),
    // "errors" on the bar: keys found different so far (mismatches and read errors).
    snapshot: () => {
      const r = sink()?.result;
      return { keys: r?.checked ?? 0, bytes: input.bytesRead(), errors: (r?.mismatched ?? 0) + (r?.not_imported ?? 0) };
    },
    log,
  });
  p.start();
  return p;
}

export async function runValidate(a: ValidateArgs, hooks: ValidateHooks = {}): Promise<number> {
  const run = new CommandRun('validate', a['out-dir']);
  const { started, log } = run;
  const { sample, tolerance, rounds, pause } = checkArgs(a);
  const now = nowFrom(a.now);
  const rules = a.rules ? await loadRules(a.rules) : null;
  const session = await run.connectTarget(a);
  if (typeof session === 'number') return session;
  const { spec, info, cluster } = session;
  const toDb = a['to-db'] ?? spec.db ?? null;
  if (cluster && toDb !== null && toDb !== 0) throw new RekeyUsageError(`--to-db ${toDb}: a cluster has only db 0`);
  const stats = new MigrationStats();
  const unmatched = a.unmatched ?? rules?.unmatched ?? 'keep';
  const inputs = inputList(a.input);
  const openDataset = (s: MigrationStats): Promise<Dataset> =>
    Dataset.open(inputs, {
      ignoreChecksum: a['ignore-checksum'] ?? false,
      allowFutureVersion: a['allow-future-version'] ?? false,
      ...liveSourceOptions({ ...a, input: inputs.find((p) => isLiveUrl(p)) }, { rules, unmatched, stats: s, log, target: a.target, toDb }),
    });
  if (rounds > 1 && hooks.input && !hooks.reopen) throw new RekeyUsageError('--rounds: this input cannot be read a second time');
  const dataset = hooks.input ? null : await openDataset(stats);
  const input = hooks.input ?? dataset!.input;
  let outcome: ImportOutcome | null = null;
  try {
    outcome = await findImportOutcome({ ledger: a.ledger ?? null, outDir: run.outDir, input: input.name, target: spec.display });
  } catch (e) {
    // A ledger named with --ledger must be readable; one found by looking around only helps.
    if (a.ledger !== undefined) throw e;
    log.log('WARN', `the import's ledger found in ${run.outDir} cannot be read: ${run.message(e)}`);
    run.say(`warning: the import's ledger found in ${run.outDir} cannot be read (${run.message(e)}); keys it refused count as mismatches`);
  }
  if (outcome) log.log('INFO', `import outcome from ${[outcome.source.ledger, ...outcome.source.reports].filter((x) => x !== null).join(', ')}`);
  log.log('INFO', `validate ${input.name} against ${spec.display} (${info.server} ${info.valkeyVersion ?? info.redisVersion}${cluster ? ', cluster' : ''})`);
  const st = a['stream-times'] ?? 'auto';
  let v: ValidationResult & { rounds?: RoundInfo[] };
  let sink: ValidateSink | null = null;
  const progress = validationProgress(a, input, log, () => sink);
  try {
    const base: ValidateInputOptions = {
      input,
      spec,
      info,
      cluster,
      rules,
      filter: filterFrom(a),
      unmatched,
      expired: a.expired ?? 'drop',
      now,
      toDb,
      sample,
      ttlTolerance: tolerance,
      streamTimes: st === 'auto' ? 'auto' : st === 'exact',
      log,
      stats,
      ignoreFieldTtls: a.lossy === true,
      outcome,
      onSink: (s) => (sink = s),
    };
    v =
      rounds > 1
        ? await validateRounds({
            ...base,
            pass: validateInput,
            rounds,
            pauseMs: pause,
            reopen: hooks.reopen ?? (async () => (await openDataset(new MigrationStats())).input),
            onRound: (r) => {
              const line = `round ${r.round}: ${r.different} of ${r.compared} keys differ; comparing them again in ${pause / 1000} s`;
              log.log('INFO', line);
              if (!a.json) {
                progress?.stop();
                run.say(line);
              }
            },
          })
        : await validateInput(base);
  } catch (e) {
    progress?.stop();
    await run.abandon(e);
    if (e instanceof TargetConnectionError) {
      run.say(run.message(e));
      return e.exitCode;
    }
    throw e;
  }
  progress?.stop();
  log.log('INFO', `validation: ${toJson({ ...v, mismatches: undefined, not_imported_keys: undefined, collision_keys: undefined })}`);
  const ds = dataset ? datasetOutcome(dataset, { partial: a.partial ?? false }) : { fields: {}, problems: [], lines: [] };
  for (const p of ds.problems) log.log('ERROR', p);
  const verdict =
    [v.mismatched ? `${v.mismatched} MISMATCHES` : '', v.not_imported ? `${v.not_imported} NOT IMPORTED` : '', ds.problems.length ? `${ds.problems.length} DATASET PROBLEMS` : ''].filter(Boolean).join(', ') || 'OK';
  const target = { url: spec.display, server: info.server, version: info.valkeyVersion ?? info.redisVersion, cluster };
  // A validation report of its own (validation_report_*), not a migration report: validate migrates nothing.
  const report = {
    validation: v,
    verdict,
    timestamp: started.toISOString(),
    input: { path: input.name, format: input.format, gzip: input.gzip },
    target,
    input_stats: stats.toJSON(),
    ...ds.fields,
  };
  const headline = `${input.name} vs ${spec.display}: ${verdict}`;
  const path = await run.finish(report, {
    json: a.json,
    prefix: 'validation_report',
    summary: (path) => {
      run.say(headline);
      printValidation(v);
      for (const line of ds.lines) note(line);
      note(`  report: ${path} (and .txt)`);
    },
  });
  // The same summary for people, every listed key named, beside the JSON.
  const text = [`rekey validate, ${started.toISOString()}`, headline, ...validationLines(v, Infinity), ...ds.lines].join('\n') + '\n';
  await writeFileAtomic(path.replace(/\.json$/, '.txt'), run.scrub(text));
  // A key the import refused is explained, not equal: the target still lacks what the input holds.
  return v.mismatched > 0 || v.not_imported > 0 || ds.problems.length > 0 ? EXIT_PROBLEM : EXIT_OK;
}

export const validateCommand: CommandModule<object, ValidateArgs> = {
  command: 'validate <input..>',
  describe: 'Check that a target holds what the input says (through the rename rules)',
  builder: (y: Argv) =>
    withProgress(withLossy(
      withValidation(withExpiry(withRules(withTarget(withLiveSource(withDataset(withCommon(y))), { toDb: 'the import put every key into this db' }), { describe: 'rules file (YAML or JSON) the import used' }))),
      'the import used --lossy: do not compare hash field TTLs the target cannot hold',
    ), { default: true, describe: 'progress bar on a terminal (never with --json or when stderr is not a terminal)' })
      .positional('input', { type: 'string', array: true, demandOption: true, describe: 'dump paths or globs (.rdb, .jsonl, .gz; several are one dataset), - for stdin, or a redis:// source (read-only)' })
      .option('ledger', { type: 'string', describe: "the import's migration_ledger_*.jsonl: keys it refused or skipped are reported as not imported, with the reason (default: found from the newest import report in --out-dir)" })
      .option('rounds', { type: 'number', default: 1, describe: 'compare keys found different again, after a pause, up to N rounds in all (a target still being written to); only keys still different at the end are mismatches' })
      .option('round-pause', { type: 'number', default: 1000, describe: 'pause before each later round (ms)' })
      .option('stream-times', { choices: ['auto', 'exact', 'ignore'] as const, default: 'auto' as const, describe: 'compare stream delivery/seen times' }) as unknown as Argv<ValidateArgs>,
  handler: async (a: ArgumentsCamelCase<ValidateArgs>) => {
    process.exitCode = await runValidate(a);
  },
};
