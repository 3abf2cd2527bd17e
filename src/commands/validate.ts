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
import { toJson, type OperationLog } from '../report/files.js';
import { filterFrom, note, nowFrom, withCommon, type CommonArgs } from './common.js';
import { withExpiry, withLossy, withRules, withTarget, withValidation } from './options/groups.js';
import { CommandRun } from './run-context.js';
import { isLiveUrl, liveSourceOptions, withLiveSource, type LiveSourceArgs } from '../sources/redis-source-cli.js';
import { TargetConnectionError } from '../redis/connect.js';
import type { TargetSpec } from '../redis/endpoint.js';
import type { TargetInfo } from '../redis/server-info.js';
import { probeTarget } from '../redis/session.js';
import { ValidateSink, type ValidationResult } from '../validate/validate.js';
import { displayKey } from '../records/printable.js';

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
  });
  const inner = new DigestKeyGuard();
  const toDb = o.toDb;
  await runPipeline(o.input.batches, {
    filter: o.filter,
    rules: o.rules,
    // unmatched: error means those keys were refused, so they are not expected in the target
    unmatched: o.unmatched === 'error' ? 'drop' : o.unmatched,
    expired: o.expired,
    now: o.now,
    onCollision: 'keep-first',
    guard: { add: (db, key) => inner.add(toDb ?? db, key) },
    sinks: [sink],
    stats: o.stats ?? new MigrationStats(),
  });
  return sink.result;
}

function checkArgs(a: ValidateArgs): { sample: number; tolerance: number } {
  const sample = a.sample ?? 1;
  if (!(sample > 0 && sample <= 1)) throw new RekeyUsageError(`--sample ${a.sample}: expected a fraction in (0, 1]`);
  const tolerance = a['ttl-tolerance'] ?? 1000;
  if (!(tolerance >= 0)) throw new RekeyUsageError(`--ttl-tolerance ${a['ttl-tolerance']}: expected milliseconds ≥ 0`);
  if (a['to-db'] !== undefined && !(Number.isInteger(a['to-db']) && a['to-db'] >= 0)) throw new RekeyUsageError(`--to-db ${a['to-db']}: expected a db number`);
  return { sample, tolerance };
}

/** Print a validation result's summary on stderr. */
export function printValidation(v: ValidationResult): void {
  note(`  validation: ${v.checked} keys compared${v.sampled_out ? ` (${v.sampled_out} not sampled)` : ''}, ${v.matched} equal, ${v.mismatched} mismatches`);
  if (v.missing) note(`    missing: ${v.missing}`);
  if (v.type_mismatch) note(`    type differs: ${v.type_mismatch}`);
  if (v.value_mismatch) note(`    content differs: ${v.value_mismatch}`);
  if (v.ttl_mismatch) note(`    TTL differs (> ${v.ttl_tolerance_ms} ms): ${v.ttl_mismatch}`);
  if (v.read_errors) note(`    read errors: ${v.read_errors}`);
  if (v.unexplained_keys) note(`    keys under the new names the input does not explain: ${v.unexplained_keys}`);
  if (v.other_keys_in_target) note(`    other keys in the target (not from this input): ${v.other_keys_in_target}`);
  if (v.expired_meanwhile) note(`    expired since (not counted): ${v.expired_meanwhile}`);
  for (const m of v.mismatches.slice(0, 10)) {
    const k = typeof m.key === 'string' ? m.key : displayKey(Buffer.from((m.key as { base64: string }).base64, 'base64'));
    note(`    ${m.kind}: db ${m.db} ${k}: ${m.detail}`);
  }
  if (v.mismatches.length > 10) note(`    … ${v.mismatches.length - 10} more listed in the report`);
}

export interface ValidateHooks {
  /** Use this input instead of opening `a.input` (library use, tests). */
  input?: OpenedInput;
}

export async function runValidate(a: ValidateArgs, hooks: ValidateHooks = {}): Promise<number> {
  const run = new CommandRun('validate', a['out-dir']);
  const { started, log } = run;
  const { sample, tolerance } = checkArgs(a);
  const now = nowFrom(a.now);
  const rules = a.rules ? await loadRules(a.rules) : null;
  let session;
  try {
    session = await probeTarget(a.target, { ...(a['tls-ca'] !== undefined ? { tlsCa: a['tls-ca'] } : {}), ...(a.cluster ? { cluster: true } : {}) });
  } catch (e) {
    if (!(e instanceof TargetConnectionError)) throw e;
    return run.fail(e.message, e.exitCode);
  }
  const { spec, info, cluster } = session;
  run.redactor = spec.redactor;
  const toDb = a['to-db'] ?? spec.db ?? null;
  if (cluster && toDb !== null && toDb !== 0) throw new RekeyUsageError(`--to-db ${toDb}: a cluster has only db 0`);
  const stats = new MigrationStats();
  const unmatched = a.unmatched ?? rules?.unmatched ?? 'keep';
  const inputs = inputList(a.input);
  const dataset = hooks.input
    ? null
    : await Dataset.open(inputs, {
        ignoreChecksum: a['ignore-checksum'] ?? false,
        allowFutureVersion: a['allow-future-version'] ?? false,
        ...liveSourceOptions({ ...a, input: inputs.find((p) => isLiveUrl(p)) }, { rules, unmatched, stats, log, target: a.target, toDb }),
      });
  const input = hooks.input ?? dataset!.input;
  log.log('INFO', `validate ${input.name} against ${spec.display} (${info.server} ${info.valkeyVersion ?? info.redisVersion}${cluster ? ', cluster' : ''})`);
  const st = a['stream-times'] ?? 'auto';
  let v: ValidationResult;
  try {
    v = await validateInput({
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
    });
  } catch (e) {
    await run.abandon(e);
    if (e instanceof TargetConnectionError) {
      run.say(run.message(e));
      return e.exitCode;
    }
    throw e;
  }
  log.log('INFO', `validation: ${toJson({ ...v, mismatches: undefined })}`);
  const ds = dataset ? datasetOutcome(dataset, { partial: a.partial ?? false }) : { fields: {}, problems: [], lines: [] };
  for (const p of ds.problems) log.log('ERROR', p);
  const report = {
    migration_stats: stats.toJSON(),
    migrated_keys: [],
    error_keys: stats.errorKeys,
    dry_run: true,
    timestamp: started.toISOString(),
    validation: { performed: true, ...v },
    input: { path: input.name, format: input.format, gzip: input.gzip },
    target: { url: spec.display, server: info.server, version: info.valkeyVersion ?? info.redisVersion, cluster },
    ...ds.fields,
  };
  await run.finish(report, {
    json: a.json,
    summary: (path) => {
      run.say(`${input.name} vs ${spec.display}: ${v.mismatched === 0 ? 'OK' : `${v.mismatched} MISMATCHES`}`);
      printValidation(v);
      for (const line of ds.lines) note(line);
      note(`  report: ${path}`);
    },
  });
  return v.mismatched > 0 || ds.problems.length > 0 ? EXIT_PROBLEM : EXIT_OK;
}

export const validateCommand: CommandModule<object, ValidateArgs> = {
  command: 'validate <input..>',
  describe: 'Check that a target holds what the input says (through the rename rules)',
  builder: (y: Argv) =>
    withLossy(
      withValidation(withExpiry(withRules(withTarget(withLiveSource(withDataset(withCommon(y))), { toDb: 'the import put every key into this db' }), { describe: 'rules file (YAML or JSON) the import used' }))),
      'the import used --lossy: do not compare hash field TTLs the target cannot hold',
    )
      .positional('input', { type: 'string', array: true, demandOption: true, describe: 'dump paths or globs (.rdb, .jsonl, .gz; several are one dataset), - for stdin, or a redis:// source (read-only)' })
      .option('stream-times', { choices: ['auto', 'exact', 'ignore'] as const, default: 'auto' as const, describe: 'compare stream delivery/seen times' }) as unknown as Argv<ValidateArgs>,
  handler: async (a: ArgumentsCamelCase<ValidateArgs>) => {
    process.exitCode = await runValidate(a);
  },
};
