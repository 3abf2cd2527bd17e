/**
 * `rekey import`, part 2: the run — the dry run (EXISTS for every key through the import's transport, the
 * per-key plan) or the live run (the writer, the ledger, the optional validation), each producing the
 * report that part 3 (import-render.ts) shows.
 */
import { join } from 'node:path';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { EXIT_BAD_INPUT, EXIT_OK, EXIT_PROBLEM } from '../errors.js';
import type { OpenedInput } from '../sources/open.js';
import type { CompiledRules, UnmatchedMode } from '../rules/index.js';
import { CollisionError, runPipeline, type PipelineOptions } from '../pipeline/run.js';
import type { MigrationStats } from '../pipeline/stats.js';
import type { RdbRecord } from '../records/types.js';
import { toJson, type OperationLog } from '../report/files.js';
import type { CommandRun } from './run-context.js';
import { filterFrom, humanBytes, note } from './common.js';
import { TargetConnectionError } from '../redis/connect.js';
import type { TargetSpec } from '../redis/endpoint.js';
import { countTargetKeys, type TargetSession } from '../redis/session.js';
import { ConflictError, InterruptedError, RepeatingError, TargetWriter, TooManyErrorsError } from '../import/restore-writer.js';
import { DryRunSink } from '../import/dry-run.js';
import { LedgerWriteError, LedgerWriter, mayHaveBeenSent, type LedgerHeader, type ResumeState } from '../import/ledger.js';
import type { TargetInfo } from '../redis/server-info.js';
import { Progress } from '../report/progress.js';
import { onInterrupt } from '../io/interrupt.js';
import type { Transport } from '../redis/transport.js';
import type { ValidationResult } from '../validate/validate.js';
import { validateInput } from './validate.js';
import { ImportOutcome as ImportLedgerOutcome } from '../validate/import-outcome.js';
import type { Settings } from './import-plan.js';
import { renderDryRun, renderLive, targetReport } from './import-render.js';
import type { Dataset } from '../dataset/dataset.js';
import { datasetOutcome, type DatasetOutcome } from '../dataset/outcome.js';
import type { ImportArgs, ImportHooks, ImportOutcome } from './import.js';

/** Everything the plan settled, handed to the run. */
export interface RunContext {
  /** The command's run: out dir, stamp, log, redactor, report epilogue. */
  run: CommandRun;
  a: ImportArgs;
  hooks: ImportHooks;
  s: Settings;
  started: Date;
  outDir: string;
  stamp: string;
  now: number;
  log: OperationLog;
  rules: CompiledRules | null;
  unmatched: UnmatchedMode;
  session: TargetSession;
  spec: TargetSpec;
  info: TargetInfo;
  cluster: boolean;
  scrub: (t: string) => string;
  toDb: number | null;
  targetLine: string;
  resume: ResumeState | null;
  input: OpenedInput;
  openOptions: Record<string, unknown>;
  resumeCounter: { skipped: number };
  batches: AsyncIterable<RdbRecord[]>;
  transport: Transport;
  pipelineBase: Omit<PipelineOptions, 'sinks'>;
  stats: MigrationStats;
  failEarly: (msg: string) => Promise<ImportOutcome>;
  /** Several inputs: the per-file table and slot coverage (null for one input or a caller's input). */
  dataset: Dataset | null;
}

/** The dataset's report fields, summary lines and exit-1 problems (empty for one input). */
function datasetPart(ctx: RunContext): DatasetOutcome {
  if (ctx.dataset === null) return { fields: {}, problems: [], lines: [] };
  const ds = datasetOutcome(ctx.dataset, { partial: ctx.a.partial ?? false, stats: ctx.stats, collisionPolicy: ctx.a['on-collision'] });
  for (const p of ds.problems) ctx.log.log('ERROR', p);
  return ds;
}

export async function dryRun(ctx: RunContext): Promise<ImportOutcome> {
  const { a, s, started, log, session, info, scrub, toDb, targetLine, resume, input, resumeCounter, batches, transport, pipelineBase, stats, failEarly } = ctx;
  const sink = new DryRunSink({ transport, info, mode: s.mode, onConflict: s.onConflict, stats, toDb, lossy: a.lossy ?? false });
  try {
    await runPipeline(batches, { ...pipelineBase, sinks: [sink] });
  } catch (e) {
    transport.destroy();
    await ctx.run.abandon(e);
    if (e instanceof TargetConnectionError || e instanceof CollisionError) {
      note(`rekey import: ${scrub((e as Error).message)}`);
      return { exitCode: EXIT_PROBLEM, reportPath: null, ledgerPath: null, report: {} };
    }
    if (isConnectionLoss(e)) return failEarly(scrub((e as Error).message));
    throw e;
  }
  await transport.close();
  const p = sink.plan;
  // analyze's memory model (the same figure `rekey analyze` shows), not a multiple of the RDB size.
  const estimate = p.memory_bytes;
  const headroom = session.maxmemory > 0 ? session.maxmemory - session.usedMemory : null;
  const shortBy = headroom === null ? 0 : Math.max(0, estimate - headroom);
  const memory = {
    maxmemory: session.maxmemory,
    used_memory: session.usedMemory,
    headroom,
    estimated_bytes: estimate,
    fits: shortBy === 0,
    ...(shortBy > 0 ? { short_by: shortBy } : {}),
  };
  if (!memory.fits) log.log('ERROR', `the estimated memory (${humanBytes(estimate)}) exceeds the target's headroom (${humanBytes(Math.max(0, headroom!))}) by ${humanBytes(shortBy)}`);
  const seconds = (Date.now() - started.getTime()) / 1000;
  const ds = datasetPart(ctx);
  const report = {
    migration_stats: stats.toJSON(),
    migrated_keys: sink.migratedKeys(stats.migratedKeys),
    error_keys: stats.errorKeys,
    collision_keys: stats.collisionKeys,
    dry_run: true,
    timestamp: started.toISOString(),
    validation: { performed: false, reason: 'dry run' },
    plan: { ...p, errors_by_reason: sink.errors.toJSON(), memory, on_conflict: s.onConflict, mode: s.mode, would_fail_on_conflict: s.onConflict === 'fail' && p.existing > 0 },
    target: targetReport(session),
    input: { path: input.name, format: input.format, gzip: input.gzip },
    ...(resume ? { resume: { ledger: a.resume, hwm: resume.hwm, already_done: resumeCounter.skipped } } : {}),
    ...ds.fields,
    seconds,
  };
  log.log('INFO', `dry run: ${toJson(report.migration_stats)}; plan ${toJson({ ...p, existing_samples: undefined, refused_samples: undefined })}`);
  const reportPath = await ctx.run.finish(report, {
    json: a.json,
    summary: (reportPath) => {
      for (const line of ds.lines) note(line);
      renderDryRun({ inputName: input.name, targetLine, plan: p, resumeSkipped: resume ? resumeCounter.skipped : null, onConflict: s.onConflict, estimate, headroom, shortBy, stats, errors: sink.errors.list(), reportPath });
    },
  });
  const problem =
    ds.problems.length > 0 ||
    !memory.fits ||
    stats.migrationErrors > 0 ||
    (s.onConflict === 'fail' && (p.existing > 0 || p.functions.already_there > 0)) ||
    (p.functions.cannot_import > 0 && a.lossy !== true) ||
    collisionsDropKeys(ctx);
  return { exitCode: problem ? EXIT_PROBLEM : EXIT_OK, reportPath, ledgerPath: null, report };
}

export async function liveRun(ctx: RunContext): Promise<ImportOutcome> {
  const { a, hooks, s, started, outDir, stamp, now, log, rules, unmatched, session, spec, info, cluster, scrub, toDb, resume, input, openOptions, resumeCounter, batches, transport, pipelineBase, stats } = ctx;
  // 5b. live
  const ledgerPath = a.resume ?? a.ledger ?? join(outDir, `migration_ledger_${stamp}.jsonl`);
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
  ledger.inputBytes = () => input.bytesRead();
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
    ...(resume ? { mayExist: (offset: number) => mayHaveBeenSent(resume, offset) } : {}),
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
    // Resume: start at the ledger's high-water mark — for gzip (and several inputs) at the file bytes read
    // when it was written, since the mark is an offset in the decompressed stream (a dataset position).
    ...(resume ? { resumeAt: { bytes: resumeBytes(resume, input, ctx.dataset !== null), keys: resume.acks } } : {}),
  });
  const offInterrupt = onInterrupt((signal) => writer.interrupt(`interrupted (${signal})`));
  progress.start();
  let failure: unknown = null;
  try {
    await runPipeline(batches, { ...pipelineBase, sinks: [writer] });
  } catch (e) {
    failure = e;
  } finally {
    progress.stop(failure === null);
    offInterrupt();
  }
  const c = writer.counters;
  // Only what the target acknowledged is migrated (the pipeline counted every key it handed over).
  stats.migratedSuccessfully = writer.acknowledged;
  const unanswered = writer.unanswered;
  if (failure) log.log('ERROR', `import stopped: ${scrub((failure as Error).message)}${unanswered ? ` (${unanswered} keys unanswered, in flight in the ledger)` : ''}`);
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
      : null; // import.ts always opens the input (dataset/dataset.ts) and gives its reopenInput
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
          // keys this run refused or skipped are "not imported" with their reason, not mismatches
          outcome: await ImportLedgerOutcome.load({ ledger: ledger.path, reports: [], errors: stats.errorKeys }),
        });
        validation = { performed: true, ...v };
        log.log('INFO', `validation: ${v.checked} compared, ${v.mismatched} mismatches, ${v.not_imported} not imported`);
      } catch (e) {
        log.log('ERROR', `validation failed: ${scrub((e as Error).message)}`);
        validation = { performed: false, reason: `failed: ${scrub((e as Error).message)}` };
      }
    }
  } else if (a.validate) validation = { performed: false, reason: 'the import did not finish' };

  const seconds = (Date.now() - started.getTime()) / 1000;
  const written = c.created + c.replaced;
  const ds = datasetPart(ctx);
  const report: Record<string, unknown> = {
    migration_stats: { ...stats.toJSON(), ...(resume ? { resumed_already_done: resumeCounter.skipped } : {}) },
    migrated_keys: writer.migratedKeys(stats.migratedKeys),
    error_keys: stats.errorKeys,
    collision_keys: stats.collisionKeys,
    dry_run: false,
    timestamp: started.toISOString(),
    validation,
    import: {
      keys_received: c.keys,
      created: c.created,
      replaced: c.replaced,
      skipped_existing: c.skipped,
      errors: c.errors,
      errors_by_reason: writer.errors.toJSON(),
      empty_collections_dropped: c.empty,
      uncertain_after_resume: c.uncertain,
      via_restore: c.restoreVerbatim,
      via_restore_converted: c.restoreConverted,
      via_commands: c.commands,
      hash_field_ttls_dropped: c.droppedFieldTtls,
      keys_lost: c.lost,
      lost: writer.losses.toJSON(),
      functions: {
        loaded: writer.functions.loaded,
        skipped_existing: writer.functions.skippedExisting,
        errors: writer.functions.errors,
        not_imported_lost: writer.functions.lost,
        libraries: writer.functions.libraries,
      },
      cluster_redirects: transport.redirectsSeen,
      bytes: c.bytes,
      seconds,
      keys_per_second: Math.round((written + c.skipped) / Math.max(seconds, 1e-6)),
      mode: s.mode,
      on_conflict: s.onConflict,
      window: { keys: s.window, bytes: s.windowBytes },
      ...(failure ? { stopped: scrub((failure as Error).message), unanswered_at_stop: unanswered } : {}),
    },
    target: { ...targetReport(session), keys_after: keysAfter },
    input: { path: input.name, format: input.format, gzip: input.gzip },
    ledger: ledger.path,
    ...(resume ? { resume: { ledger: a.resume, hwm: resume.hwm, already_done: resumeCounter.skipped } } : {}),
    ...ds.fields,
  };
  log.log('INFO', `done: ${toJson(report.migration_stats)}`);
  const reportPath = await ctx.run.finish(report, {
    json: a.json,
    summary: (reportPath) => {
      for (const line of ds.lines) note(line);
      renderLive({ functions: writer.functions, inputName: input.name, display: spec.display, counters: c, seconds, resumeLedger: a.resume ?? null, resumeSkipped: resumeCounter.skipped, stats, stopped: failure ? scrub((failure as Error).message) : null, unanswered, errors: writer.errors.list(), losses: writer.losses, validation, ledgerPath: ledger.path, reportPath });
    },
  });
  // Input errors keep their own exit code (2) and anything unexpected stays visible: rethrow (the report,
  // log and ledger are written already).
  // A ledger that cannot be written is an environment fault like bad input: exit 2, with report and log.
  if (failure instanceof LedgerWriteError) return { exitCode: EXIT_BAD_INPUT, reportPath, ledgerPath: ledger.path, report };
  if (failure && !(failure instanceof ConflictError || failure instanceof TooManyErrorsError || failure instanceof RepeatingError || failure instanceof CollisionError || isConnectionLoss(failure))) throw failure;
  const fnProblem = writer.functions.errors > 0 || (writer.functions.lost > 0 && a.lossy !== true);
  const problem = ds.problems.length > 0 || failure !== null || stats.migrationErrors > 0 || fnProblem || (validation.performed && (validation.mismatched > 0 || validation.not_imported > 0)) || collisionsDropKeys(ctx);
  return { exitCode: problem ? EXIT_PROBLEM : EXIT_OK, reportPath, ledgerPath: ledger.path, report };
}

/**
 * Where a resumed run's progress starts, in the progress bar's unit (bytes of the input files read). For
 * one .gz file the mark scales by the file's compression ratio (the gzip trailer's ISIZE, RFC 1952: the
 * uncompressed length mod 2^32), capped by the bytes read when it was written (which include read-ahead).
 */
function resumeBytes(resume: ResumeState, input: OpenedInput, many: boolean): number {
  if (!input.gzip && !many) return Math.max(0, resume.hwm);
  const read = resume.hwmInputBytes; // null: a ledger of an older rekey, which has no file position
  if (many || resume.hwm < 0) return read ?? 0;
  const size = input.fileSize;
  const raw = size !== undefined ? gzipIsize(input.name) : null;
  const scaled = raw !== null && size !== undefined && raw > resume.hwm ? Math.floor((resume.hwm * size) / raw) : null;
  if (scaled === null) return read ?? 0;
  return read === null ? scaled : Math.min(scaled, read);
}

/** ISIZE of a gzip file's last member (null when it cannot be read). */
function gzipIsize(path: string): number | null {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    if (size < 18) return null;
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, size - 4);
    return b.readUInt32LE(0);
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

function isConnectionLoss(e: unknown): boolean {
  return e instanceof Error && (e.name === 'ConnectionLostError' || e.name === 'TargetConnectionError' || e instanceof InterruptedError);
}


/**
 * Keys dropped because an earlier key took their name are a loss: exit 1 unless the operator chose
 * `--on-collision keep-first` explicitly (import leaves the option unset to tell that from the default).
 */
function collisionsDropKeys(ctx: RunContext): boolean {
  return ctx.stats.collisions > 0 && ctx.a['on-collision'] !== 'keep-first';
}
