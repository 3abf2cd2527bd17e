import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT_OK, EXIT_PROBLEM, RekeyUsageError } from '../errors.js';
import type { OpenedInput } from '../sources/open.js';
import { openInput } from '../sources/open.js';
import { loadRules } from '../rules/index.js';
import { CollisionError, runPipeline } from '../pipeline/run.js';
import { MigrationStats } from '../pipeline/stats.js';
import { DigestKeyGuard } from '../pipeline/key-guard.js';
import type { RdbRecord } from '../records/types.js';
import { fileStamp, OperationLog, toJson, writeReport } from '../report/files.js';
import { onInterrupt } from '../io/interrupt.js';
import { confirmOnTerminal, filterFrom, humanBytes, note, nowFrom, withCommon, type CommonArgs } from './common.js';
import { liveSourceOptions, withLiveSource, type LiveSourceArgs } from '../sources/redis-source-cli.js';
import { TargetConnectionError } from '../target/connect.js';
import { countTargetKeys, openTransport, probeTarget, type TargetSession } from '../target/session.js';
import { ConflictError, InterruptedError, TargetWriter, TooManyErrorsError, type ConflictPolicy, type ImportMode } from '../target/restore-writer.js';
import { DryRunSink } from '../target/dry-run.js';
import { LedgerWriter, readResumeState, type LedgerHeader, type ResumeState } from '../target/ledger.js';
import { Progress } from '../report/progress.js';
import type { Transport } from '../target/transport.js';
import type { ValidationResult } from '../target/validate.js';
import { printValidation, validateInput } from './validate.js';

export interface ImportArgs extends CommonArgs, LiveSourceArgs {
  input: string;
  target: string;
  rules?: string;
  live?: boolean;
  yes?: boolean;
  validate?: boolean;
  'on-conflict'?: ConflictPolicy;
  mode?: ImportMode;
  /** In-flight window per connection, in keys. */
  pipeline?: number;
  /** In-flight window per connection, in MB. */
  'pipeline-mb'?: number;
  resume?: string;
  expired?: 'drop' | 'keep';
  cluster?: boolean;
  'to-db'?: number;
  'tls-ca'?: string;
  'max-errors'?: number;
  'ttl-tolerance'?: number;
  sample?: number;
  lossy?: boolean;
  unmatched?: 'keep' | 'drop';
  'on-collision'?: 'keep-first' | 'fail';
  now?: number;
  /** Elements per variadic command in command mode. */
  chunk?: number;
  progress?: boolean;
}

export interface ImportHooks {
  /** Read these records instead of opening `a.input` (library use, tests). */
  input?: OpenedInput;
  /** Re-open the input for `--validate` when `input` was given. */
  reopenInput?: () => Promise<OpenedInput>;
  /** Ask the operator (default: a y/N question on the terminal). */
  confirm?: (question: string) => Promise<boolean>;
  /** Force the TTY progress bar on/off (default: stderr.isTTY). */
  tty?: boolean;
  /** Called with the writer once the live run started (tests). */
  onStart?: (w: TargetWriter) => void;
}

/** The result of runImport besides the exit code (library use). */
export interface ImportOutcome {
  exitCode: number;
  reportPath: string | null;
  ledgerPath: string | null;
  report: Record<string, unknown>;
}

interface Settings {
  mode: ImportMode;
  onConflict: ConflictPolicy;
  window: number;
  windowBytes: number;
  expired: 'drop' | 'keep';
  maxErrors: number | null;
  tolerance: number;
  sample: number;
  chunk: number;
}

function settings(a: ImportArgs): Settings {
  // 8000 keys in flight keeps the socket busy enough to match redis-cli --pipe; the MB bound caps big values.
  const window = a.pipeline ?? 8000;
  if (!(Number.isInteger(window) && window >= 1)) throw new RekeyUsageError(`--pipeline ${a.pipeline}: expected a whole number ≥ 1`);
  const mb = a['pipeline-mb'] ?? 16;
  if (!(mb > 0)) throw new RekeyUsageError(`--pipeline-mb ${a['pipeline-mb']}: expected MB > 0`);
  const maxErrors = a['max-errors'] ?? null;
  if (maxErrors !== null && !(Number.isInteger(maxErrors) && maxErrors >= 0)) throw new RekeyUsageError(`--max-errors ${a['max-errors']}: expected a whole number ≥ 0`);
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
  return { mode, onConflict, window, windowBytes: Math.round(mb * 1048576), expired: a.expired ?? 'drop', maxErrors, tolerance, sample, chunk };
}

/** A stamp none of the run's files uses yet (two runs in one second get _2, _3, …). */
function freeStamp(outDir: string, base: string): string {
  for (let i = 1; ; i++) {
    const s = i === 1 ? base : `${base}_${i}`;
    if (!['migration_report', 'migration_ledger', 'redis_migration'].some((p) => existsSync(join(outDir, `${p}_${s}.${p === 'redis_migration' ? 'log' : p === 'migration_ledger' ? 'jsonl' : 'json'}`)))) return s;
  }
}

/** Input records at or below the ledger's high-water mark, or acknowledged after it, are left out. */
async function* skipDone(batches: AsyncIterable<RdbRecord[]>, state: ResumeState, counter: { skipped: number }): AsyncGenerator<RdbRecord[]> {
  for await (const batch of batches) {
    const out: RdbRecord[] = [];
    for (const r of batch) {
      if (r.kind === 'key' && (r.offset <= state.hwm || state.done.has(r.offset))) counter.skipped++;
      else out.push(r);
    }
    if (out.length > 0) yield out;
  }
}

export async function runImport(a: ImportArgs, hooks: ImportHooks = {}): Promise<number> {
  return (await importWithOutcome(a, hooks)).exitCode;
}

/** `rekey import` as a library call: exit code, report, paths. */
export async function importWithOutcome(a: ImportArgs, hooks: ImportHooks = {}): Promise<ImportOutcome> {
  const started = new Date();
  const outDir = a['out-dir'] ?? '.';
  await mkdir(outDir, { recursive: true });
  const stamp = freeStamp(outDir, fileStamp(started));
  const s = settings(a);
  const now = nowFrom(a.now);
  const live = a.live === true;
  const log = new OperationLog();
  const rules = a.rules ? await loadRules(a.rules) : null;
  const unmatched = a.unmatched ?? rules?.unmatched ?? 'keep';
  const failEarly = async (msg: string): Promise<ImportOutcome> => {
    note(`rekey import: ${msg}`);
    log.log('ERROR', msg);
    await log.write(outDir, stamp).catch(() => undefined);
    return { exitCode: EXIT_PROBLEM, reportPath: null, ledgerPath: null, report: { error: msg } };
  };

  // 1. the target
  let session: TargetSession;
  try {
    session = await probeTarget(a.target, { ...(a['tls-ca'] !== undefined ? { tlsCa: a['tls-ca'] } : {}), ...(a.cluster ? { cluster: true } : {}) });
  } catch (e) {
    if (e instanceof TargetConnectionError) return failEarly(e.message);
    throw e;
  }
  const { spec, info, cluster } = session;
  const scrub = (t: string): string => spec.redactor.scrub(t);
  const toDb = a['to-db'] ?? spec.db ?? null;
  if (cluster && toDb !== null && toDb !== 0) throw new RekeyUsageError(`--to-db ${toDb}: a cluster has only db 0`);
  if (!cluster && toDb !== null && toDb >= info.databases) throw new RekeyUsageError(`--to-db ${toDb}: the target has ${info.databases} databases`);
  if (s.mode === 'restore' && (info.maxRdbVersion === 0 || info.restoreCommand === false)) {
    throw new RekeyUsageError(`--mode restore: ${spec.display} has no usable RESTORE (${info.maxRdbVersion === 0 ? 'too old' : 'renamed or refused'}); use --mode auto or commands`);
  }
  const targetLine = `${spec.display} (${info.server} ${info.valkeyVersion ?? info.redisVersion}, RDB ≤ ${info.maxRdbVersion}${cluster ? `, cluster of ${session.masters.length} masters` : ''}, ${session.keysBefore} keys)`;
  log.log('INFO', `target ${targetLine}`);

  // 2. resume
  let resume: ResumeState | null = null;
  if (a.resume) {
    resume = await readResumeState(a.resume);
    const h = resume.header;
    if (h.target !== spec.display) log.log('WARN', `resume: the ledger was written for ${h.target}, this run targets ${spec.display}`);
    if (h.on_conflict !== s.onConflict) log.log('WARN', `resume: the ledger's run used --on-conflict ${h.on_conflict}, this run ${s.onConflict}`);
    if ((h.rules ?? null) !== (a.rules ?? null)) log.log('WARN', `resume: the ledger's run used rules ${h.rules ?? '(none)'}, this run ${a.rules ?? '(none)'}: keys may map to other names`);
    if ((h.to_db ?? null) !== toDb) log.log('WARN', `resume: the ledger's run wrote to db ${h.to_db ?? '(the source dbs)'}, this run to ${toDb ?? '(the source dbs)'}`);
    log.log('INFO', `resume ${a.resume}: high-water mark ${resume.hwm}, ${resume.done.size} later records done, ${resume.inflight.size} unacknowledged at the stop, ${resume.acks} keys acknowledged (${resume.created} created)`);
  }

  // 3. the input (a dump file, or a live redis:// source read with SCAN + DUMP)
  const stats = new MigrationStats();
  const openOptions = {
    ignoreChecksum: a['ignore-checksum'] ?? false,
    allowFutureVersion: a['allow-future-version'] ?? false,
    ...liveSourceOptions(a, { rules, unmatched, stats, log, target: a.target, toDb }),
  };
  const input = hooks.input ?? (await openInput(a.input, openOptions));
  log.log('INFO', `${live ? 'import' : 'dry run'} ${input.name} (${input.format}${input.gzip ? ', gzip' : ''}) -> ${targetLine}; mode ${s.mode}, on conflict ${s.onConflict}, window ${s.window} keys / ${humanBytes(s.windowBytes)}`);
  if (resume && resume.header.input !== input.name) log.log('WARN', `resume: the ledger was written for input ${resume.header.input}, this run reads ${input.name}`);
  const resumeCounter = { skipped: 0 };
  const batches = resume ? skipDone(input.batches, resume, resumeCounter) : input.batches;

  // 4. confirmation
  if (live && !a.yes) {
    const interactive = hooks.confirm !== undefined || (process.stdin.isTTY === true && process.stderr.isTTY === true);
    if (interactive) {
      const ask = hooks.confirm ?? confirmOnTerminal;
      const ok = await ask(`Import ${input.name} into ${targetLine}${a.resume ? ` (resuming ${a.resume})` : ''}? Existing keys: ${s.onConflict}. [y/N] `);
      if (!ok) {
        note('rekey import: not confirmed; nothing written');
        log.log('INFO', 'not confirmed by the operator; nothing written');
        await log.write(outDir, stamp);
        return { exitCode: EXIT_PROBLEM, reportPath: null, ledgerPath: null, report: { aborted: 'not confirmed' } };
      }
    }
  }

  // Two input keys can only land on one name through renames, --to-db, or a JSONL file that repeats a key
  // (an RDB never holds a key twice in a db): only then is the collision guard worth its cost per key.
  const inner = rules !== null || toDb !== null || input.format !== 'rdb' ? new DigestKeyGuard() : null;
  const guard = inner ? { add: (db: number, key: Buffer) => inner.add(toDb ?? db, key) } : null;
  let transport: Transport;
  try {
    transport = await openTransport(spec, cluster, { count: s.window, bytes: s.windowBytes });
  } catch (e) {
    if (e instanceof TargetConnectionError) return failEarly(e.message);
    throw e;
  }

  const pipelineBase = {
    filter: filterFrom(a),
    rules,
    unmatched,
    expired: s.expired,
    now,
    onCollision: a['on-collision'] ?? 'keep-first',
    guard,
    stats,
    log,
  } as const;

  // 5a. dry run
  if (!live) {
    const sink = new DryRunSink({ transport, info, mode: s.mode, onConflict: s.onConflict, stats, toDb });
    try {
      await runPipeline(batches, { ...pipelineBase, sinks: [sink] });
    } catch (e) {
      transport.destroy();
      log.log('ERROR', scrub((e as Error).message));
      await log.write(outDir, stamp).catch(() => undefined);
      if (e instanceof TargetConnectionError || e instanceof CollisionError) {
        note(`rekey import: ${scrub((e as Error).message)}`);
        return { exitCode: EXIT_PROBLEM, reportPath: null, ledgerPath: null, report: {} };
      }
      if (isConnectionLoss(e)) return failEarly(scrub((e as Error).message));
      throw e;
    }
    await transport.close();
    const p = sink.plan;
    const estimate = p.serialized_bytes * 2;
    const headroom = session.maxmemory > 0 ? session.maxmemory - session.usedMemory : null;
    const memory = {
      maxmemory: session.maxmemory,
      used_memory: session.usedMemory,
      headroom,
      estimated_bytes: estimate,
      fits: headroom === null ? true : estimate <= headroom,
    };
    if (!memory.fits) log.log('WARN', `the estimated size (${humanBytes(estimate)}) exceeds the target's memory headroom (${humanBytes(headroom!)})`);
    const seconds = (Date.now() - started.getTime()) / 1000;
    const report = {
      migration_stats: stats.toJSON(),
      migrated_keys: sink.migratedKeys(stats.migratedKeys),
      error_keys: stats.errorKeys,
      dry_run: true,
      timestamp: started.toISOString(),
      validation: { performed: false, reason: 'dry run' },
      plan: { ...p, memory, on_conflict: s.onConflict, mode: s.mode, would_fail_on_conflict: s.onConflict === 'fail' && p.existing > 0 },
      target: targetReport(session),
      input: { path: input.name, format: input.format, gzip: input.gzip },
      ...(resume ? { resume: { ledger: a.resume, hwm: resume.hwm, already_done: resumeCounter.skipped } } : {}),
      seconds,
    };
    log.log('INFO', `dry run: ${toJson(report.migration_stats)}; plan ${toJson({ ...p, existing_samples: undefined, refused_samples: undefined })}`);
    const reportPath = await writeReport(outDir, 'migration_report', stamp, report);
    await log.write(outDir, stamp);
    if (a.json) process.stdout.write(toJson(report, 2) + '\n');
    else {
      note(`rekey import (DRY RUN, nothing written): ${input.name} -> ${targetLine}`);
      note(`  keys to import: ${p.keys}${resume ? ` (${resumeCounter.skipped} already done per the ledger)` : ''}; already in the target: ${p.existing} (${s.onConflict === 'skip' ? 'would be skipped' : s.onConflict === 'replace' ? 'would be replaced' : 'the live run would stop at the first'})`);
      note(`  as RESTORE: ${p.restore_verbatim}; needing conversion or commands: ${p.restore_converted_or_commands}; as commands: ${p.commands}${p.refused ? `; refused: ${p.refused}` : ''}`);
      note(`  size: ${humanBytes(p.serialized_bytes)} serialized (≈ ${humanBytes(estimate)} in memory)` + (headroom !== null ? `; headroom ${humanBytes(Math.max(0, headroom))}${memory.fits ? '' : ' — NOT ENOUGH'}` : '; no maxmemory set'));
      if (stats.unmatchedKeys) note(`  unmatched: ${stats.unmatchedKeys}${stats.unmatchedDropped ? ` (${stats.unmatchedDropped} dropped)` : ' (kept)'}`);
      if (stats.expiredDropped) note(`  expired (would be dropped): ${stats.expiredDropped}`);
      for (const [cat, n] of stats.perCategory) note(`  category ${cat}: ${n}`);
      note(`  report: ${reportPath}`);
      note('  run again with --live to import');
    }
    const problem = stats.migrationErrors > 0 || (s.onConflict === 'fail' && p.existing > 0);
    return { exitCode: problem ? EXIT_PROBLEM : EXIT_OK, reportPath, ledgerPath: null, report };
  }

  // 5b. live
  const ledgerPath = a.resume ?? join(outDir, `migration_ledger_${stamp}.jsonl`);
  const header: LedgerHeader = {
    $: 'ledger',
    version: 1,
    started: started.toISOString(),
    input: input.name,
    input_format: input.format,
    ...(input.size !== undefined ? { input_size: input.size } : {}),
    target: spec.display,
    mode: s.mode,
    on_conflict: s.onConflict,
    rules: a.rules ?? null,
    to_db: toDb,
  };
  let ledger: LedgerWriter;
  try {
    ledger = a.resume
      ? await LedgerWriter.append(a.resume, { started: started.toISOString(), input: input.name, target: spec.display, on_conflict: s.onConflict, mode: s.mode })
      : await LedgerWriter.create(ledgerPath, header);
  } catch (e) {
    transport.destroy();
    throw e;
  }
  const writer = new TargetWriter({
    transport,
    info,
    mode: s.mode,
    onConflict: s.onConflict,
    stats,
    log,
    ledger,
    toDb,
    lossy: a.lossy ?? false,
    maxErrors: s.maxErrors,
    ...(resume ? { uncertainOffsets: resume.inflight } : {}),
    chunk: s.chunk,
    scrub,
  });
  hooks.onStart?.(writer);
  const progress = new Progress({
    label: 'import',
    tty: hooks.tty ?? process.stderr.isTTY === true,
    ...(input.fileSize !== undefined ? { totalBytes: input.fileSize } : {}),
    inputBytesRead: () => input.bytesRead(),
    snapshot: () => ({ keys: writer.counters.created + writer.counters.replaced + writer.counters.skipped, bytes: writer.counters.bytes, errors: writer.counters.errors }),
    log,
    quiet: a.progress === false || a.json === true,
  });
  const offInterrupt = onInterrupt((signal) => writer.interrupt(`interrupted (${signal})`));
  progress.start();
  let failure: unknown = null;
  try {
    await runPipeline(batches, { ...pipelineBase, sinks: [writer] });
  } catch (e) {
    failure = e;
  } finally {
    progress.stop();
    offInterrupt();
  }
  const c = writer.counters;
  if (failure) log.log('ERROR', `import stopped: ${scrub((failure as Error).message)}`);
  await ledger
    .close({
      complete: failure === null,
      ...(failure ? { error: scrub((failure as Error).message) } : {}),
      created: c.created,
      replaced: c.replaced,
      skipped_existing: c.skipped,
      errors: c.errors,
    })
    .catch((e: unknown) => log.log('ERROR', (e as Error).message));
  let keysAfter: number | null = null;
  if (!transport.fatal) keysAfter = await countTargetKeys(transport).catch(() => null);
  if (failure) transport.destroy();
  else await transport.close();

  // 6. validation
  let validation: (ValidationResult & { performed: true }) | { performed: false; reason: string } = { performed: false, reason: 'not requested (--validate)' };
  if (a.validate && failure === null) {
    const vin = hooks.input
      ? hooks.reopenInput
        ? await hooks.reopenInput()
        : null
      : await openInput(a.input, { ...openOptions, ...liveSourceOptions(a, { rules, unmatched, log, target: a.target, toDb }) });
    if (vin === null) validation = { performed: false, reason: 'the input cannot be read a second time' };
    else {
      try {
        const v = await validateInput({
          input: vin,
          spec,
          info,
          cluster,
          rules,
          filter: filterFrom(a),
          unmatched,
          expired: s.expired,
          now,
          toDb,
          sample: s.sample,
          ttlTolerance: s.tolerance,
          streamTimes: s.mode === 'commands' || !writer.restoreAvailable ? false : 'auto',
          log,
          ignoreFieldTtls: a.lossy === true,
        });
        validation = { performed: true, ...v };
        log.log('INFO', `validation: ${v.checked} compared, ${v.mismatched} mismatches`);
      } catch (e) {
        log.log('ERROR', `validation failed: ${scrub((e as Error).message)}`);
        validation = { performed: false, reason: `failed: ${scrub((e as Error).message)}` };
      }
    }
  } else if (a.validate) validation = { performed: false, reason: 'the import did not finish' };

  const seconds = (Date.now() - started.getTime()) / 1000;
  const written = c.created + c.replaced;
  const report: Record<string, unknown> = {
    migration_stats: { ...stats.toJSON(), ...(resume ? { resumed_already_done: resumeCounter.skipped } : {}) },
    migrated_keys: writer.migratedKeys(stats.migratedKeys),
    error_keys: stats.errorKeys,
    dry_run: false,
    timestamp: started.toISOString(),
    validation,
    import: {
      created: c.created,
      replaced: c.replaced,
      skipped_existing: c.skipped,
      errors: c.errors,
      empty_collections_dropped: c.empty,
      uncertain_after_resume: c.uncertain,
      via_restore: c.restoreVerbatim,
      via_restore_converted: c.restoreConverted,
      via_commands: c.commands,
      hash_field_ttls_dropped: c.droppedFieldTtls,
      functions_not_imported: c.functionsSkipped,
      cluster_redirects: transport.redirectsSeen,
      bytes: c.bytes,
      seconds,
      keys_per_second: Math.round((written + c.skipped) / Math.max(seconds, 1e-6)),
      mode: s.mode,
      on_conflict: s.onConflict,
      window: { keys: s.window, bytes: s.windowBytes },
      ...(failure ? { stopped: scrub((failure as Error).message) } : {}),
    },
    target: { ...targetReport(session), keys_after: keysAfter },
    input: { path: input.name, format: input.format, gzip: input.gzip },
    ledger: ledger.path,
    ...(resume ? { resume: { ledger: a.resume, hwm: resume.hwm, already_done: resumeCounter.skipped } } : {}),
  };
  log.log('INFO', `done: ${toJson(report.migration_stats)}`);
  const reportPath = await writeReport(outDir, 'migration_report', stamp, report);
  await log.write(outDir, stamp);
  if (a.json) process.stdout.write(toJson(report, 2) + '\n');
  else {
    note(`rekey import: ${input.name} -> ${spec.display}: ${written} written (${c.created} created${c.replaced ? `, ${c.replaced} replaced` : ''}), ${c.skipped} already there (skipped), ${c.errors} errors in ${seconds.toFixed(2)}s`);
    if (resume) note(`  resumed: ${resumeCounter.skipped} input keys were already done per ${a.resume}`);
    if (c.commands || c.restoreConverted) note(`  as RESTORE: ${c.restoreVerbatim}, RESTORE of converted payloads: ${c.restoreConverted}, as commands: ${c.commands}`);
    if (stats.expiredDropped) note(`  expired (dropped): ${stats.expiredDropped}`);
    if (stats.unmatchedKeys) note(`  unmatched: ${stats.unmatchedKeys}${stats.unmatchedDropped ? ` (${stats.unmatchedDropped} dropped)` : ' (kept)'}`);
    if (c.empty) note(`  empty collections (not written): ${c.empty}`);
    if (c.uncertain) note(`  keys written by the interrupted run or already there (uncertain, see the ledger): ${c.uncertain}`);
    for (const [cat, n] of stats.perCategory) note(`  category ${cat}: ${n}`);
    if (failure) note(`  STOPPED: ${scrub((failure as Error).message)}; continue with --resume ${ledger.path}`);
    if (validation.performed) printValidation(validation);
    note(`  ledger: ${ledger.path}`);
    note(`  report: ${reportPath}`);
  }
  // Input errors keep their own exit code (2) and anything unexpected stays visible: rethrow (the report,
  // log and ledger are written already).
  if (failure && !(failure instanceof ConflictError || failure instanceof TooManyErrorsError || failure instanceof CollisionError || isConnectionLoss(failure))) throw failure;
  const problem = failure !== null || stats.migrationErrors > 0 || (validation.performed && validation.mismatched > 0);
  return { exitCode: problem ? EXIT_PROBLEM : EXIT_OK, reportPath, ledgerPath: ledger.path, report };
}

function isConnectionLoss(e: unknown): boolean {
  return e instanceof Error && (e.name === 'ConnectionLostError' || e.name === 'TargetConnectionError' || e instanceof InterruptedError);
}

function targetReport(s: TargetSession): Record<string, unknown> {
  return {
    url: s.spec.display,
    server: s.info.server,
    version: s.info.valkeyVersion ?? s.info.redisVersion,
    max_rdb_version: s.info.maxRdbVersion,
    cluster: s.cluster,
    masters: s.masters,
    keys_before: s.keysBefore,
    restore_available: s.info.restoreCommand !== false,
    proto_max_bulk_len: s.info.protoMaxBulkLen,
  };
}

export const importCommand: CommandModule<object, ImportArgs> = {
  command: 'import <input>',
  describe: 'Import a dump into Redis or Redis Cluster (a dry run unless --live)',
  builder: (y: Argv) =>
    withLiveSource(withCommon(y))
      .positional('input', { type: 'string', demandOption: true, describe: 'dump path (.rdb, .jsonl, .gz), - for stdin, or a redis:// source (read-only)' })
      .option('target', { type: 'string', demandOption: true, describe: 'redis://[user:pass@]host:port[/db] or rediss://… (password also from REKEY_TARGET_PASSWORD)' })
      .option('rules', { type: 'string', describe: 'rules file (YAML or JSON)' })
      .option('live', { type: 'boolean', default: false, describe: 'really write (without it: a dry run that only reads the target)' })
      .option('yes', { type: 'boolean', default: false, describe: 'do not ask for confirmation on a terminal' })
      .option('validate', { type: 'boolean', default: false, describe: 'validate the target against the input afterwards' })
      .option('on-conflict', { choices: ['skip', 'replace', 'fail'] as const, default: 'skip' as const, describe: 'keys already in the target' })
      .option('mode', { choices: ['auto', 'restore', 'commands'] as const, default: 'auto' as const, describe: 'RESTORE payloads, plain commands, or RESTORE with commands where needed' })
      .option('pipeline', { type: 'number', default: 8000, describe: 'keys in flight per connection' })
      .option('pipeline-mb', { type: 'number', default: 16, describe: 'MB in flight per connection' })
      .option('resume', { type: 'string', describe: 'continue the run recorded in this ledger (migration_ledger_*.jsonl)' })
      .option('expired', { choices: ['drop', 'keep'] as const, default: 'drop' as const, describe: 'keys already expired at --now' })
      .option('cluster', { type: 'boolean', default: false, describe: 'the target is a Redis Cluster (detected anyway)' })
      .option('to-db', { type: 'number', describe: 'put every key into this db (0 for a cluster)' })
      .option('tls-ca', { type: 'string', describe: 'CA certificate file for rediss://' })
      .option('max-errors', { type: 'number', describe: 'stop after this many errors (default: unlimited)' })
      .option('ttl-tolerance', { type: 'number', default: 1000, describe: 'validation: allowed TTL difference in ms' })
      .option('sample', { type: 'number', default: 1, describe: 'validation: fraction of keys to compare' })
      .option('lossy', { type: 'boolean', default: false, describe: 'drop hash field TTLs the target cannot hold instead of failing those keys' })
      .option('unmatched', { choices: ['keep', 'drop'] as const, describe: 'keys no rule matches (default: the rules file\'s setting)' })
      .option('on-collision', { choices: ['keep-first', 'fail'] as const, default: 'keep-first' as const })
      .option('now', { type: 'number', describe: 'judge expiry at this epoch ms (default: now)' })
      .option('chunk', { type: 'number', default: 1000, describe: 'command mode: elements per variadic command' })
      .option('progress', { type: 'boolean', default: true, describe: 'progress bar / periodic progress lines' }) as unknown as Argv<ImportArgs>,
  handler: async (a: ArgumentsCamelCase<ImportArgs>) => {
    process.exitCode = await runImport(a);
  },
};
