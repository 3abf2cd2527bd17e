import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { startProgress } from '../report/progress.js';
import { EXIT_OK, EXIT_PROBLEM, RekeyUsageError } from '../errors.js';
import { loadRules, type CompiledRules } from '../rules/index.js';
import { toJson, writeReport } from '../report/files.js';
import { Analyzer, type AnalysisReport, type KeyRow } from '../analyze/aggregator.js';
import { mergeReports } from '../analyze/merge.js';
import { keyLine, memoryCsvRow, MEMORY_CSV_HEADER, prefixCsv } from '../analyze/key-listing.js';
import { expandInputs, openInputs } from '../sources/multi.js';
import { AtomicOutput, checkOutputPath, writeFileAtomic } from '../io/atomic-file.js';
import { once } from 'node:events';
import { DEFAULT_COLUMNS, num, renderText } from '../analyze/render-text.js';
import { renderHtml } from '../analyze/render-html.js';
import { filterFrom, note, nowFrom, withCommon, type CommonArgs } from './common.js';
import { withBadLines, withExpiry, withProgress, withRules } from './options/groups.js';
import { withSourceEndpoint } from './options/endpoint.js';
import { CommandRun } from './run-context.js';
import { isLiveUrl, liveSourceOptions, withLiveSource } from '../sources/redis-source-cli.js';
import { jobsOption, workersFor } from '../pipeline/worker-pool.js';
import type { AnalyzeJobs } from '../analyze/jobs.js';

export interface AnalyzeArgs extends CommonArgs {
  /** One input, or several read as one dataset (paths and globs). With `merge`: partial reports. */
  input: string | string[];
  /** Per-key memory report as CSV (also `--memory-csv`). */
  csv?: string;
  'memory-csv'?: string;
  /** Print `db<TAB>key` per key on stdout instead of the summary. */
  'keys-only'?: boolean;
  /** Per-key outputs only list keys of at least this many serialized bytes. */
  'min-bytes'?: number;
  /** Every prefix of the tree as CSV. */
  'prefix-csv'?: string;
  /** Several inputs that are knowingly not the whole cluster: missing slots do not fail the run. */
  partial?: boolean;
  /** The inputs are analysis JSON files to merge into one report. */
  merge?: boolean;
  rules?: string;
  top: number;
  samples: number;
  html: boolean;
  now?: number;
  'prefix-depth': number;
  'skip-bad-lines'?: boolean;
  /** Show the progress bar (default: when stderr is a TTY and the input is large). */
  progress?: boolean;
  /** Check every value's structure (codec/verify); bad keys are counted, named, and make the exit 1. */
  verify?: boolean;
  /** Worker threads measuring values (default: one per core; 1: all on the reading thread). */
  jobs?: number;
}

export interface AnalyzeResult {
  report: AnalysisReport;
  jsonPath: string;
  htmlPath: string | null;
  exitCode: number;
  /** Keys the per-key outputs listed (those of at least `--min-bytes`); null without per-key outputs. */
  listed: number | null;
  /** A per-key or prefix output went to stdout: the summary must stay off it. */
  stdoutTaken: boolean;
}

/** The per-key and prefix outputs of a run (`--csv`/`--memory-csv`, `--keys-only`, `--min-bytes`, `--prefix-csv`). */
interface ReportOutputs {
  csvPath: string | null;
  prefixCsvPath: string | null;
  keysOnly: boolean;
  minBytes: number;
  /** An output goes to stdout (`--keys-only`, or `-` as a CSV path): the summary stays off it. */
  stdoutTaken: boolean;
}

/** The per-key and prefix outputs asked for, refused before the pass starts when they cannot be written. */
function reportOutputs(a: AnalyzeArgs, inputs: readonly string[]): ReportOutputs {
  const csvPath = a.csv ?? a['memory-csv'] ?? null;
  const prefixCsvPath = a['prefix-csv'] ?? null;
  const keysOnly = a['keys-only'] === true;
  const minBytes = positiveInt(a['min-bytes'] ?? 0, '--min-bytes');
  if (a.merge && (csvPath !== null || keysOnly || a['min-bytes'] !== undefined)) {
    throw new RekeyUsageError('--csv, --memory-csv, --keys-only and --min-bytes need the dumps, not partial reports');
  }
  if (a['min-bytes'] !== undefined && csvPath === null && !keysOnly) {
    throw new RekeyUsageError('--min-bytes selects the keys of the per-key outputs: add --memory-csv FILE or --keys-only');
  }
  const onStdout = [csvPath === '-' ? '--memory-csv -' : null, prefixCsvPath === '-' ? '--prefix-csv -' : null, keysOnly ? '--keys-only' : null].filter((x) => x !== null);
  if (onStdout.length > 1) throw new RekeyUsageError(`${onStdout.join(' and ')} would both write to stdout: give one of them a FILE`);
  if (onStdout.length > 0 && a.json) throw new RekeyUsageError(`${onStdout[0]!} and --json would both write to stdout: give the CSV a FILE`);
  // A wrong folder or the input itself as output: refused now, not after a long pass.
  for (const p of [csvPath, prefixCsvPath]) if (p !== null) checkOutputPath(p, inputs);
  return { csvPath, prefixCsvPath, keysOnly, minBytes, stdoutTaken: onStdout.length > 0 };
}

/** Width the summary is fitted to: the terminal's, else $COLUMNS, else 100. */
function summaryColumns(): number {
  if (process.stdout.isTTY === true && process.stdout.columns > 0) return process.stdout.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : DEFAULT_COLUMNS;
}

/** Inputs at least this big get a progress bar (when stderr is a terminal). */

function positiveInt(v: unknown, flag: string, min = 0): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new RekeyUsageError(`${flag} ${String(v)}: expected an integer ≥ ${min}`);
  return n;
}

/**
 * Exit code of an analysis: 1 when rules are given and the migration would hit a problem (collisions, or
 * unmatched keys under `unmatched: error`), else 0.
 */
export function analyzeExitCode(r: AnalysisReport, o: { partial?: boolean } = {}): number {
  const cov = r.slot_coverage;
  if (cov && cov.checked && cov.missing.slots > 0 && !o.partial) return EXIT_PROBLEM;
  if (r.verify && r.verify.bad_keys > 0) return EXIT_PROBLEM;
  if (!r.collisions || !r.migration) return EXIT_OK;
  return r.collisions.keys > 0 || r.migration.unmatched_errors > 0 ? EXIT_PROBLEM : EXIT_OK;
}

/** Write a Buffer/string to a stream, waiting when its buffer is full. */
async function writeAll(out: NodeJS.WritableStream, chunk: Buffer | string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

/** Run the analysis and write its files; returns the report and paths (for tests and library users). */
export async function analyze(a: AnalyzeArgs): Promise<AnalyzeResult> {
  const run = new CommandRun('analyze', a['out-dir']);
  const args = Array.isArray(a.input) ? a.input : [a.input];
  const paths = expandInputs(args);
  const outputs = reportOutputs(a, paths);
  let analyzer: Analyzer;
  let listed: number | null = null;
  if (a.merge) {
    analyzer = await mergeReports(paths, a.rules);
  } else {
    ({ analyzer, listed } = await analyzeInputs(a, paths, outputs));
  }
  const report = analyzer.report();
  if (outputs.prefixCsvPath !== null) {
    const pl = analyzer.prefixList();
    await writeFileAtomic(outputs.prefixCsvPath, prefixCsv(pl.prefixes, pl.unprefixed));
  }
  const jsonPath = await writeReport(run.outDir, 'redis_analysis', run.stamp, report);
  // The HTML treemap draws the whole prefix tree, not only the report's top lists.
  const htmlPath = a.html ? await writeReport(run.outDir, 'redis_analysis', run.stamp, renderHtml(report, { prefixTree: analyzer.prefixList() }), 'html') : null;
  return { report, jsonPath, htmlPath, exitCode: analyzeExitCode(report, { partial: a.partial ?? false }), listed, stdoutTaken: outputs.stdoutTaken };
}

/** One pass over every input, in order, as one dataset. */
async function analyzeInputs(a: AnalyzeArgs, paths: string[], outputs: ReportOutputs): Promise<{ analyzer: Analyzer; listed: number | null }> {
  const now = nowFrom(a.now);
  const top = positiveInt(a.top ?? 20, '--top');
  const samples = positiveInt(a.samples ?? 5, '--samples');
  const prefixDepth = positiveInt(a['prefix-depth'] ?? 3, '--prefix-depth');
  const { minBytes, csvPath, keysOnly } = outputs;
  const filter = filterFrom(a);
  const rules: CompiledRules | null = a.rules ? await loadRules(a.rules) : null;

  // Per-key outputs: rows of a batch are gathered, then written with backpressure between batches.
  const csv = csvPath !== null ? AtomicOutput.open(csvPath) : null;
  const csvRows: Buffer[] = [];
  let keyLines = '';
  let listed = 0;
  const onKey =
    csv !== null || keysOnly
      ? (row: KeyRow): void => {
          if (row.bytes < minBytes) return;
          listed++;
          if (csv !== null) csvRows.push(memoryCsvRow(row, now));
          if (keysOnly) keyLines += keyLine(row);
        }
      : undefined;

  const analyzer = new Analyzer({
    now,
    top,
    samples,
    prefixDepth,
    filter,
    rules,
    multiFile: paths.length > 1,
    verify: a.verify === true,
    ...(onKey ? { onKey } : {}),
    ...(a.rules ? { rulesPath: a.rules } : {}),
  });
  const jobs = await analyzeJobs(analyzer, jobsOption(a.jobs), paths);
  const flush = async (): Promise<void> => {
    if (csv !== null && csvRows.length > 0) {
      const chunk = Buffer.concat(csvRows);
      csvRows.length = 0;
      await csv.write(chunk);
    }
    if (keyLines.length > 0) {
      const lines = keyLines;
      keyLines = '';
      await writeAll(process.stdout, lines);
    }
  };
  try {
    if (csv !== null) await csv.write(MEMORY_CSV_HEADER);
    const opened = openInputs(paths, {
      ignoreChecksum: a['ignore-checksum'],
      allowFutureVersion: a['allow-future-version'],
      skipBadLines: a['skip-bad-lines'] ?? false,
      onBadLine: () => {
        analyzer.badLinesSkipped++;
      },
      ...liveSourceOptions({ ...a, input: paths.find((p) => isLiveUrl(p)) }),
    });
    for await (const { index, count, input } of opened) {
      analyzer.beginFile({
        path: input.name,
        format: input.format,
        gzip: input.gzip,
        ...(input.size !== undefined ? { size: input.size } : {}),
        ...(input.fileSize !== undefined ? { fileSize: input.fileSize } : {}),
      });
      const progress = startProgress({
        label: count > 1 ? `analyze ${index + 1}/${count}` : 'analyze',
        flag: a.progress,
        input,
        snapshot: () => ({ keys: analyzer.keys, bytes: input.bytesRead(), errors: 0 }),
      });
      try {
        for await (const batch of input.batches) {
          if (jobs === null) analyzer.addBatch(batch);
          else await jobs.addBatch(batch);
          await flush();
        }
        await jobs?.settle();
      } finally {
        progress?.stop();
      }
    }
    await flush();
    await csv?.commit();
  } catch (e) {
    await csv?.abort();
    // A key a worker found corrupt comes before the reading thread's own later error: the first in input order wins.
    if (jobs !== null) await jobs.settle();
    throw e;
  } finally {
    await jobs?.close();
  }
  return { analyzer, listed: onKey ? listed : null };
}

/** Worker threads for `--jobs N`, or null for one thread (pipeline/worker-pool.ts workersFor: big regular files only). */
async function analyzeJobs(analyzer: Analyzer, n: number, paths: readonly string[]): Promise<AnalyzeJobs | null> {
  const workers = workersFor(n, paths);
  if (workers <= 1) return null;
  const { AnalyzeJobs } = await import('../analyze/jobs.js');
  return new AnalyzeJobs(analyzer, workers);
}

/** `rekey analyze`: returns the exit code. */
export async function runAnalyze(a: AnalyzeArgs): Promise<number> {
  const { report, jsonPath, htmlPath, exitCode, listed, stdoutTaken } = await analyze(a);
  if (report.verify) {
    const v = report.verify;
    note(`verify: ${v.checked} values checked, ${v.bad_keys} corrupt${v.bad_keys > 0 ? ' (named in the report\'s "verify.keys"):' : ''}`);
    for (const k of v.keys.slice(0, 10)) note(`  db ${k.db} ${JSON.stringify(k.key)} (entry at byte ${k.offset}): ${k.error}`);
    if (v.bad_keys > 10) note(`  ... and ${v.bad_keys - 10} more`);
  }
  const files = `report: ${jsonPath}${htmlPath ? `\nhtml:   ${htmlPath}` : ''}`;
  if (stdoutTaken) {
    note(files);
  } else if (a.json) {
    process.stdout.write(toJson(report, 2) + '\n');
  } else {
    const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
    process.stdout.write(renderText(report, { color, columns: summaryColumns(), partial: a.partial ?? false }));
    note(`\n${files}`);
  }
  if (listed !== null && a['min-bytes'] !== undefined) note(`per-key outputs: ${num(listed)} of ${num(report.totals.keys)} keys have at least ${num(a['min-bytes'])} serialized bytes`);
  return exitCode;
}

export const analyzeCommand: CommandModule<object, AnalyzeArgs> = {
  command: 'analyze <input..>',
  describe: 'Audit a dump offline: keys, sizes, TTLs, estimated memory, prefixes, and what rules would do',
  builder: (y: Argv) =>
    withProgress(withBadLines(withExpiry(withRules(withSourceEndpoint(withLiveSource(withCommon(y))), { unmatched: false, describe: 'rules file (YAML or JSON): categories, unmatched keys, collisions, migration impact' }), { expired: false })))
      .positional('input', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'dump paths or globs (.rdb, .jsonl, .gz; several are one dataset), - for stdin; with --merge: analysis JSON files',
      })
      .option('csv', { type: 'string', requiresArg: true, describe: 'write a per-key memory report (db,key,type,encoding,elements,bytes,memory,ttl) as CSV to FILE (- for stdout)' })
      .option('memory-csv', { type: 'string', requiresArg: true, describe: 'same as --csv' })
      .option('keys-only', { type: 'boolean', default: false, describe: 'print "db<TAB>key" per key on stdout instead of the summary' })
      .option('min-bytes', { type: 'number', describe: 'per-key outputs (--csv, --keys-only) list only keys of at least N serialized bytes' })
      .option('prefix-csv', { type: 'string', requiresArg: true, describe: 'write every prefix of the tree (and "(no prefix)") as CSV to FILE (- for stdout)' })
      .option('partial', { type: 'boolean', default: false, describe: 'several inputs that are knowingly not every shard: missing slots do not fail the run' })
      .option('merge', { type: 'boolean', default: false, describe: 'the inputs are analysis JSON reports (from separate runs): merge them into one report' })
      .option('top', { type: 'number', default: 20, describe: 'length of the top lists (biggest keys, prefixes)' })
      .option('samples', { type: 'number', default: 5, describe: 'sample keys kept per type / category (reservoir sampling)' })
      .option('html', { type: 'boolean', default: false, describe: 'also write a self-contained HTML report with charts' })
      .option('verify', { type: 'boolean', default: false, describe: 'check every value\'s structure as Redis\' sanitize-dump-payload does; corrupt keys are named and the exit is 1' })
      .option('jobs', { type: 'number', describe: 'worker threads that decode and measure values (default: cores - 1, and one thread on 2 cores; 1: one thread); inputs under 16 MiB are read on one thread' })
      .option('prefix-depth', { type: 'number', default: 3, describe: 'how many ":"-separated segments the prefix tree goes down' }) as unknown as Argv<AnalyzeArgs>,
  handler: async (a: ArgumentsCamelCase<AnalyzeArgs>) => {
    process.exitCode = await runAnalyze(a);
  },
};
