import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { extname } from 'node:path';
import { RekeyUsageError, EXIT_OK, EXIT_PROBLEM } from '../errors.js';
import { Dataset } from '../dataset/dataset.js';
import { datasetOutcome, inputList, withDataset, type DatasetArgs } from '../dataset/outcome.js';
import { expandInputs } from '../sources/multi.js';
import { loadRules } from '../rules/index.js';
import { runPipeline } from '../pipeline/run.js';
import { MigrationStats } from '../pipeline/stats.js';
import { DigestKeyGuard } from '../pipeline/key-guard.js';
import { JsonlSink } from '../sinks/jsonl-sink.js';
import { ParallelJsonlSink } from '../pipeline/batch-workers.js';
import { jobsOption, workersFor } from '../pipeline/worker-pool.js';
import { RdbSink, type RdbSinkStats } from '../sinks/rdb-sink.js';
import { SplitBySlotsSink } from '../sinks/split-by-slots.js';
import { splitPlan } from '../sinks/split-by-slots-plan.js';
import { RespSink } from '../sinks/resp-sink.js';
import type { Sink } from '../sinks/sink.js';
import type { KeyRecord } from '../records/types.js';
import { toJson } from '../report/files.js';
import { startProgress } from '../report/progress.js';
import { filterFrom, humanBytes, note, nowFrom, withCommon, type CommonArgs } from './common.js';
import { withBadLines, withExpiry, withLossy, withProgress, withRules } from './options/groups.js';
import { withSourceEndpoint } from './options/endpoint.js';
import { CommandRun } from './run-context.js';
import { checkOutputPath } from '../io/atomic-file.js';
import { isLiveUrl, liveSourceOptions, withLiveSource } from '../sources/redis-source-cli.js';
import { namedTarget, namedTargetList, type NamedTarget } from '../redis/server-versions.js';

/** `--rdb-version`: a plain version number, or a server line whose version, magic and modules are known. */
export function parseRdbVersion(given: number | string): { rdbVersion: number; named: NamedTarget | null } {
  const text = String(given).trim();
  if (/^\d+$/.test(text)) return { rdbVersion: Number(text), named: null };
  const named = namedTarget(text);
  if (!named) throw new RekeyUsageError(`--rdb-version ${text}: not a version number or a known server (${namedTargetList().join(', ')})`);
  return { rdbVersion: named.rdbVersion, named };
}

export interface TransformArgs extends CommonArgs, DatasetArgs {
  /** One input, or several read as one dataset (paths and globs). */
  input: string | string[];
  output: string;
  rules?: string;
  format?: 'rdb' | 'jsonl' | 'resp';
  /** A number, or a named server line (`redis-8.6`, `valkey-9.0`: redis/server-versions.ts). */
  'rdb-version'?: number | string;
  unmatched?: 'keep' | 'drop';
  expired: 'drop' | 'keep';
  now?: number;
  /** Unset: keep the first (and, over several inputs, exit 1); given: that policy. */
  'on-collision'?: 'keep-first' | 'fail';
  lossy: boolean;
  compress: boolean;
  commands: boolean;
  'skip-bad-lines': boolean;
  progress?: boolean;
  jobs?: number;
}

/**
 * The output format: --format, else the extension. An unknown extension is refused rather than
 * guessed (`x.txt` used to get RESP), and `.gz` too: the sinks do not compress, so the name would lie.
 */
export function formatFor(output: string, given?: string): 'rdb' | 'jsonl' | 'resp' {
  if (/\.gz$/i.test(output)) throw new RekeyUsageError(`-o ${output}: rekey does not write gzip; write -o - and pipe it through gzip`);
  if (given) return given as 'rdb' | 'jsonl' | 'resp';
  const ext = extname(output).toLowerCase();
  if (ext === '.rdb') return 'rdb';
  if (ext === '.resp') return 'resp';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json' || output === '-') return 'jsonl';
  throw new RekeyUsageError(`-o ${output}: cannot tell the format from the extension${ext ? ` "${ext}"` : ''} (known: .rdb, .jsonl, .ndjson, .json, .resp); give --format rdb|jsonl|resp`);
}

export async function runTransform(a: TransformArgs): Promise<number> {
  const run = new CommandRun('transform', a['out-dir']);
  const { started, log } = run;
  const now = nowFrom(a.now);
  const format = formatFor(a.output, a.format);
  // Before reading anything: a missing folder or `-o` naming the input (a backup!) is refused here.
  const inputs = expandInputs(inputList(a.input));
  checkOutputPath(a.output, inputs);
  const rules = a.rules ? await loadRules(a.rules) : null;
  const stats = new MigrationStats();
  let badLines = 0;
  const dataset = await Dataset.open(inputs, {
    ignoreChecksum: a['ignore-checksum'],
    allowFutureVersion: a['allow-future-version'],
    skipBadLines: a['skip-bad-lines'],
    onBadLine: (line, msg) => {
      badLines++;
      log.log('WARN', `${dataset.input.name}: line ${line} skipped: ${msg}`);
    },
    ...liveSourceOptions({ ...a, input: inputs.find((p) => isLiveUrl(p)) }, { rules, unmatched: a.unmatched ?? rules?.unmatched ?? 'keep', stats, log }),
  });
  const input = dataset.input;
  log.log('INFO', `transform ${input.name} (${input.format}${input.gzip ? ', gzip' : ''}) -> ${a.output} as ${format}`);
  // A key written without a part the output cannot carry (--lossy): named in the log, counted in the report.
  const onLoss = (rec: KeyRecord, message: string): void => log.log('WARN', `db ${rec.db} ${message}`);
  const parsed = a['rdb-version'] !== undefined ? parseRdbVersion(a['rdb-version']) : null;
  const named = parsed?.named ?? null;
  const version = parsed
    ? { rdbVersion: parsed.rdbVersion, ...(named ? { flavor: named.flavor, target: { name: named.name, modules: named.modules } } : {}) }
    : {};
  if (named && named.rdbVersion < named.serverRdbVersion) {
    log.log('INFO', `${named.name} loads RDB ${named.serverRdbVersion}; rekey writes RDB ${named.rdbVersion}, which it also loads`);
  }
  const jsonlWorkers = workersFor(jobsOption(a.jobs), inputs);
  let sink: Sink;
  let rdbSink: { stats: RdbSinkStats; rdbVersion: number } | null = null;
  let split: SplitBySlotsSink | null = null;
  if (a['split-by-slots'] !== undefined) {
    if (format !== 'rdb') throw new RekeyUsageError('--split-by-slots writes RDB files: give -o base.rdb');
    const plan = await splitPlan(a['split-by-slots']);
    sink = rdbSink = split = new SplitBySlotsSink({ output: a.output, plan, inputs, ...version, lossy: a.lossy, compress: a.compress, onLoss });
  } else if (format === 'rdb') {
    sink = rdbSink = new RdbSink({ path: a.output, ...version, lossy: a.lossy, compress: a.compress, onLoss });
  } else if (format === 'resp') {
    sink = new RespSink({ path: a.output, mode: a.commands ? 'commands' : 'restore', lossy: a.lossy, onLoss, ...(parsed ? { payloadVersion: parsed.rdbVersion } : {}), ...(named ? { target: { name: named.name, modules: named.modules, server: named.server, version: named.version } } : {}) });
  } else if (input.format === 'rdb' && jsonlWorkers > 1) {
    // RDB → JSONL with --jobs N: values decoded and turned into JSON on N worker threads
    // (pipeline/batch-workers.ts), for big files only (worker-pool.ts workersFor).
    sink = new ParallelJsonlSink({ path: a.output, workers: jsonlWorkers });
  } else {
    sink = new JsonlSink({ path: a.output });
  }
  const unmatched = a.unmatched ?? rules?.unmatched ?? 'keep';
  const progress = startProgress({
    label: 'transform',
    flag: a.progress,
    input,
    snapshot: () => ({ keys: stats.totalKeysFound, bytes: input.bytesRead(), errors: stats.migrationErrors }),
    log,
  });
  try {
    await runPipeline(input.batches, {
      filter: filterFrom(a),
      rules,
      unmatched,
      expired: a.expired,
      now,
      onCollision: a['on-collision'] ?? 'keep-first',
      // Names collide through renames, a JSONL file that repeats a key, or a corrupt RDB holding a key
      // twice in a db (Redis panics loading such a file): always checked, ~24 bytes a key.
      guard: new DigestKeyGuard(),
      sinks: [sink],
      stats,
      log,
    });
  } catch (e) {
    progress?.stop();
    await run.abandon(e);
    throw e;
  }
  progress?.stop();
  const seconds = run.seconds();
  const ds = datasetOutcome(dataset, { partial: a.partial ?? false, stats, collisionPolicy: a['on-collision'] });
  for (const p of ds.problems) log.log('ERROR', p);
  const report = {
    migration_stats: stats.toJSON(),
    migrated_keys: stats.migratedKeys,
    error_keys: stats.errorKeys,
    dry_run: false,
    timestamp: started.toISOString(),
    input: { path: input.name, format: input.format, gzip: input.gzip },
    output: { path: a.output, format, ...(rdbSink ? { rdb: rdbSink.stats } : {}), ...(split ? { split: split.report() } : {}), ...(sink instanceof RespSink ? { lost: sink.stats.lost } : {}) },
    ...(badLines > 0 ? { bad_lines_skipped: badLines } : {}),
    ...ds.fields,
    seconds,
  };
  log.log('INFO', `done: ${toJson(stats.toJSON())}`);
  await run.finish(report, { json: a.json, summary: (reportPath) => {
    const s = stats;
    note(`rekey transform: ${s.totalKeysFound} keys read, ${s.migratedSuccessfully} written to ${a.output} (${format}) in ${seconds.toFixed(2)}s` +
      (input.size ? `, ${humanBytes(input.size / Math.max(seconds, 1e-9))}/s` : ''));
    if (badLines) note(`  bad lines skipped (--skip-bad-lines; each named in the log): ${badLines}`);
    if (s.filteredOut) note(`  filtered out: ${s.filteredOut}`);
    if (s.unmatchedKeys) note(`  unmatched: ${s.unmatchedKeys}${s.unmatchedDropped ? ` (${s.unmatchedDropped} dropped)` : ' (kept)'}`);
    if (s.expiredDropped) note(`  expired (dropped): ${s.expiredDropped}`);
    if (s.emptyDropped) note(`  empty collections (skipped, as Redis does on load): ${s.emptyDropped}`);
    if (s.vanished) note(`  vanished during the scan: ${s.vanished}`);
    if (s.collisions) note(`  collisions (later keys dropped): ${s.collisions}`);
    if (s.migrationErrors) note(`  errors: ${s.migrationErrors}`);
    const lost = rdbSink?.stats.lost ?? (sink instanceof RespSink ? sink.stats.lost : undefined);
    if (lost && lost.total > 0) note(`  written with losses (--lossy): ${lost.total} keys (${Object.entries(lost.byKind).map(([k, n]) => `${k} ${n}`).join(', ')})`);
    const fnLost = rdbSink?.stats.functionsDropped ?? 0;
    if (fnLost > 0) note(`  function libraries NOT written: ${fnLost} (RDB ${rdbSink!.rdbVersion} has no functions; RDB 10 / Redis 7.0 is the first)${a.lossy ? ' (--lossy)' : '; accept with --lossy'}`);
    for (const [cat, n] of s.perCategory) note(`  category ${cat}: ${n}`);
    for (const line of ds.lines) note(line);
    for (const f of split?.report().files ?? []) note(`  ${f.path}: ${f.keys} keys for ${f.master} (slots ${f.slots})`);
    note(`  report: ${reportPath}`);
  } });
  const functionsLost = (rdbSink?.stats.functionsDropped ?? 0) > 0 && !a.lossy;
  return stats.migrationErrors > 0 || functionsLost || ds.problems.length > 0 ? EXIT_PROBLEM : EXIT_OK;
}

export const transformCommand: CommandModule<object, TransformArgs> = {
  command: 'transform <input..>',
  describe: 'Read a dump, filter and rename keys by rules, write RDB, JSONL or RESP',
  builder: (y: Argv) =>
    withProgress(withBadLines(withLossy(withExpiry(withRules(withSourceEndpoint(withLiveSource(withDataset(withCommon(y), { split: true }))), { collision: 'no-default' })), 'drop what the target version cannot hold (hash field TTLs) instead of failing')), {
      describe: 'progress bar (default: on for inputs of 16 MiB or more on a terminal)',
    })
      .positional('input', { type: 'string', array: true, demandOption: true, describe: 'dump paths or globs (.rdb, .jsonl, .gz; several are one dataset: merged into one output), or - for stdin' })
      .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'output path, or - for stdout' })
      .option('format', { choices: ['rdb', 'jsonl', 'resp'] as const, describe: 'output format (default: from the extension)' })
      .option('rdb-version', { type: 'string', describe: 'RDB version to write (down-converts encodings): a number, or a server such as redis-7.2, redis-8.6, valkey-8.1, valkey-9.0' })
      .option('compress', { type: 'boolean', default: true, describe: 'LZF-compress strings that re-encoded values write (verbatim values keep their bytes)' })
      .option('commands', { type: 'boolean', default: false, describe: 'RESP output as plain commands instead of RESTORE' })
      .option('jobs', { type: 'number', describe: 'RDB → JSONL: decode and build JSON on N worker threads (default: cores - 1, and one thread on 2 cores; 1: one thread); inputs under 16 MiB are read on one thread' }) as unknown as Argv<TransformArgs>,
  handler: async (a: ArgumentsCamelCase<TransformArgs>) => {
    process.exitCode = await runTransform(a);
  },
};
