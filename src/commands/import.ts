import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { EXIT_PROBLEM, RekeyUsageError } from '../errors.js';
import type { OpenedInput } from '../sources/open.js';
import { Dataset } from '../dataset/dataset.js';
import { inputList, withDataset, type DatasetArgs } from '../dataset/outcome.js';
import { expandInputs } from '../sources/multi.js';
import { loadRules } from '../rules/index.js';
import { MigrationStats } from '../pipeline/stats.js';
import { DigestKeyGuard } from '../pipeline/key-guard.js';
import { confirmOnTerminal, filterFrom, humanBytes, note, nowFrom, withCommon, type CommonArgs } from './common.js';
import { DEFAULTS, withExpiry, withLive, withLossy, withProgress, withRules, withTarget, withValidation } from './options/index.js';
import { CommandRun } from './run-context.js';
import { isLiveUrl, liveSourceOptions, withLiveSource, type LiveSourceArgs } from '../sources/redis-source-cli.js';
import { TargetConnectionError } from '../redis/connect.js';
import { openTransport } from '../redis/session.js';
import type { ConflictPolicy, ImportMode, TargetWriter } from '../import/restore-writer.js';
import type { ResumeState } from '../import/ledger.js';
import type { Transport } from '../redis/transport.js';
import { applyProfile } from '../redis/server-info.js';
import { profileNames, targetProfile, type TargetProfile } from '../encode/target-profiles.js';
import { countPlan, freeStamp, loadResume, planSentence, settings, skipDone } from './import-plan.js';
import { dryRun, liveRun, type RunContext } from './import-run.js';

export interface ImportArgs extends CommonArgs, LiveSourceArgs, DatasetArgs {
  /** One input, or several read as one dataset (paths and globs): one run, one ledger. */
  input: string | string[];
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
  /** Give a connection up when requests get no reply for this long (ms, 0: never). */
  'request-timeout'?: number;
  /** Where the ledger goes (default: out-dir/migration_ledger_<stamp>.jsonl). */
  ledger?: string;
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
  /** `auto` (from the live server's INFO) or a profile name (encode/target-profiles.ts). */
  'target-profile'?: string;
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

export async function runImport(a: ImportArgs, hooks: ImportHooks = {}): Promise<number> {
  return (await importWithOutcome(a, hooks)).exitCode;
}

/** `rekey import` as a library call: exit code, report, paths. */
export async function importWithOutcome(a: ImportArgs, hooks: ImportHooks = {}): Promise<ImportOutcome> {
  const run = await CommandRun.start('import', a['out-dir'], { stamp: freeStamp });
  const { started, outDir, stamp, log } = run;
  const s = settings(a);
  const now = nowFrom(a.now);
  const live = a.live === true;
  const rules = a.rules ? await loadRules(a.rules) : null;
  const unmatched = a.unmatched ?? rules?.unmatched ?? 'keep';
  const failEarly = async (msg: string, exitCode: number = EXIT_PROBLEM): Promise<ImportOutcome> => ({
    exitCode: await run.fail(msg, exitCode),
    reportPath: null,
    ledgerPath: null,
    report: { error: run.scrub(msg) },
  });

  // 1. the target
  const session = await run.connectTarget(a, failEarly);
  if (!('spec' in session)) return session;
  const { spec, info, cluster } = session;
  const named = namedProfile(a['target-profile']);
  const profileWarning = named ? applyProfile(info, named) : null;
  if (profileWarning) log.log('WARN', profileWarning);
  const scrub = (t: string): string => run.scrub(t);
  const toDb = a['to-db'] ?? spec.db ?? null;
  if (cluster && toDb !== null && toDb !== 0) throw new RekeyUsageError(`--to-db ${toDb}: a cluster has only db 0`);
  if (!cluster && toDb !== null && toDb >= info.databases) throw new RekeyUsageError(`--to-db ${toDb}: the target has ${info.databases} databases`);
  if (s.mode === 'restore' && (info.maxRdbVersion === 0 || info.restoreCommand === false)) {
    throw new RekeyUsageError(`--mode restore: ${spec.display} has no usable RESTORE (${info.maxRdbVersion === 0 ? 'too old' : 'renamed or refused'}); use --mode auto or commands`);
  }
  const targetLine = `${spec.display} (${info.server} ${info.valkeyVersion ?? info.redisVersion}, RDB ≤ ${info.maxRdbVersion}${info.profile ? `, profile ${info.profile}${info.profileNamed ? '' : ' (auto)'}` : ''}${cluster ? `, cluster of ${session.masters.length} masters` : ''}, ${session.keysBefore} keys)`;
  log.log('INFO', `target ${targetLine}`);

  // 2. resume
  const resume: ResumeState | null = a.resume ? await loadResume(a.resume, { display: spec.display, onConflict: s.onConflict, rules: a.rules ?? null, toDb, log }) : null;

  // 3. the input (a dump file, or a live redis:// source read with SCAN + DUMP)
  const stats = new MigrationStats();
  const inputs = inputList(a.input);
  const openOptions = {
    ignoreChecksum: a['ignore-checksum'] ?? false,
    allowFutureVersion: a['allow-future-version'] ?? false,
    ...liveSourceOptions({ ...a, input: inputs.find((p) => isLiveUrl(p)) }, { rules, unmatched, stats, log, target: a.target, toDb }),
  };
  // The second read (--validate) of a live source counts nothing into this run's stats.
  const reopenOptions = { ...openOptions, ...liveSourceOptions({ ...a, input: inputs.find((p) => isLiveUrl(p)) }, { rules, unmatched, log, target: a.target, toDb }) };
  const fromFiles = !hooks.input && !inputs.includes('-') && !inputs.some((p) => isLiveUrl(p));
  let dataset: Dataset | null = null;
  if (!hooks.input) {
    // Several inputs are one dataset (dataset/dataset.ts): one pipeline, key guard and ledger over all;
    // key offsets are dataset positions, so the one ledger resumes every input where it stands.
    dataset = await Dataset.open(inputs, openOptions, { positions: true });
    hooks = { ...hooks, input: dataset.input, reopenInput: hooks.reopenInput ?? (async () => (await Dataset.open(inputs, reopenOptions)).input) };
    if (!dataset.multi) dataset = null;
  }
  const input = hooks.input!;
  log.log('INFO', `${live ? 'import' : 'dry run'} ${input.name} (${input.format}${input.gzip ? ', gzip' : ''}) -> ${targetLine}; mode ${s.mode}, on conflict ${s.onConflict}, window ${s.window} keys / ${humanBytes(s.windowBytes)}`);
  if (resume && resume.header.input !== input.name) log.log('WARN', `resume: the ledger was written for input ${resume.header.input}, this run reads ${input.name}`);
  const resumeCounter = { skipped: 0 };
  const batches = resume ? skipDone(input.batches, resume, resumeCounter) : input.batches;

  // 4. confirmation
  if (live && !a.yes) {
    const interactive = hooks.confirm !== undefined || (process.stdin.isTTY === true && process.stderr.isTTY === true);
    if (interactive) {
      const ask = hooks.confirm ?? confirmOnTerminal;
      // A file can be read twice: count what the run will write (rules, filters and resume applied).
      let perDb: Map<number, number> | null = null;
      if (fromFiles) {
        const again = (await Dataset.open(inputs, reopenOptions, { positions: true })).input;
        const b = resume ? skipDone(again.batches, resume, { skipped: 0 }) : again.batches;
        perDb = await countPlan(b, { filter: filterFrom(a), rules, unmatched, expired: s.expired, now, onCollision: a['on-collision'] ?? DEFAULTS.onCollision, guard: null, stats, log }, toDb);
      }
      const ok = await ask(`Import ${input.name}: ${planSentence(perDb, spec.display, s.onConflict)}? (target ${targetLine}${a.resume ? `; resuming ${a.resume}` : ''}) [y/N] `);
      if (!ok) {
        run.say('not confirmed; nothing written');
        log.log('INFO', 'not confirmed by the operator; nothing written');
        await log.write(outDir, stamp);
        return { exitCode: EXIT_PROBLEM, reportPath: null, ledgerPath: null, report: { aborted: 'not confirmed' } };
      }
    }
  }

  // Two input keys land on one name through renames, --to-db, a JSONL file that repeats a key, or an RDB
  // that holds a key twice in a db (corrupt: Redis panics loading it). Always checked (~24 bytes a key).
  const inner = new DigestKeyGuard();
  const guard = { add: (db: number, key: Buffer) => inner.add(toDb ?? db, key) };
  let transport: Transport;
  try {
    transport = await openTransport(spec, cluster, { count: s.window, bytes: s.windowBytes, requestTimeoutMs: s.requestTimeoutMs });
  } catch (e) {
    if (e instanceof TargetConnectionError) return failEarly(e.message, e.exitCode);
    throw e;
  }

  const pipelineBase = {
    filter: filterFrom(a),
    rules,
    unmatched,
    expired: s.expired,
    now,
    onCollision: a['on-collision'] ?? DEFAULTS.onCollision,
    guard,
    stats,
    log,
  } as const;

  const ctx: RunContext = { run, a, hooks, s, started, outDir, stamp, now, log, rules, unmatched, session, spec, info, cluster, scrub, toDb, targetLine, resume, input, openOptions, resumeCounter, batches, transport, pipelineBase, stats, failEarly, dataset };
  return live ? liveRun(ctx) : dryRun(ctx);
}

export const importCommand: CommandModule<object, ImportArgs> = {
  command: 'import <input..>',
  describe: 'Import a dump into Redis or Redis Cluster (a dry run unless --live)',
  builder: (y: Argv) =>
    withProgress(
      withLossy(
        withValidation(withExpiry(withRules(withLive(withTarget(withLiveSource(withDataset(withCommon(y))))), { collision: 'no-default' }))),
        'drop hash field TTLs the target cannot hold instead of failing those keys',
      ),
      { default: true, describe: 'progress bar / periodic progress lines' },
    )
      .positional('input', { type: 'string', array: true, demandOption: true, describe: 'dump paths or globs (.rdb, .jsonl, .gz; several are one dataset), - for stdin, or a redis:// source (read-only)' })
      .option('validate', { type: 'boolean', default: false, describe: 'validate the target against the input afterwards' })
      .option('on-conflict', { choices: ['skip', 'replace', 'fail'] as const, default: DEFAULTS.onConflict.import, describe: 'keys already in the target' })
      .option('mode', { choices: ['auto', 'restore', 'commands'] as const, default: 'auto' as const, describe: 'RESTORE payloads, plain commands, or RESTORE with commands where needed' })
      .option('pipeline', { type: 'number', default: DEFAULTS.pipeline.import, describe: 'keys in flight per connection' })
      .option('pipeline-mb', { type: 'number', default: 16, describe: 'MB in flight per connection' })
      .option('request-timeout', { type: 'number', default: 60000, describe: 'ms without any reply before a connection is given up (the run stops, resumable; 0: wait forever)' })
      .option('ledger', { type: 'string', describe: 'write the ledger here (default: <out-dir>/migration_ledger_<stamp>.jsonl)' })
      .option('resume', { type: 'string', describe: 'continue the run recorded in this ledger (migration_ledger_*.jsonl)' })
      .option('max-errors', { type: 'number', describe: 'stop after this many errors (default: at the first error every later key would repeat — OOM, READONLY, NOPERM, a db a cluster refuses, a missing module — and never for others)' })
      .option('target-profile', { type: 'string', default: 'auto', describe: `write for this server line instead of the one INFO reports (auto): ${profileNames().join(', ')}` })
      .option('chunk', { type: 'number', default: 1000, describe: 'command mode: elements per variadic command' }) as unknown as Argv<ImportArgs>,
  handler: async (a: ArgumentsCamelCase<ImportArgs>) => {
    process.exitCode = await runImport(a);
  },
};

/** `--target-profile`: null for auto, the row for a known name, a usage error naming the choices otherwise. */
export function namedProfile(given: string | undefined): TargetProfile | null {
  if (given === undefined || given === 'auto') return null;
  const p = targetProfile(given);
  if (!p) throw new RekeyUsageError(`--target-profile ${given}: not auto or a known server (${profileNames().join(', ')})`);
  return p;
}
