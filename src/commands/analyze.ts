import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { startProgress } from '../report/progress.js';
import { EXIT_OK, EXIT_PROBLEM, RekeyInputError, RekeyUsageError } from '../errors.js';
import { loadRules, type CompiledRules } from '../rules/index.js';
import { toJson, writeReport } from '../report/files.js';
import { Analyzer, type AnalysisReport, type AnalyzerState, type KeyRow } from '../analyze/aggregator.js';
import { keyLine, memoryCsvRow, MEMORY_CSV_HEADER, prefixCsv } from '../analyze/key-listing.js';
import { expandInputs, openInputs } from '../sources/multi.js';
import { AtomicOutput, writeFileAtomic } from '../io/atomic-file.js';
import { readFile, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { renderText } from '../analyze/render-text.js';
import { renderHtml } from '../analyze/render-html.js';
import { filterFrom, note, nowFrom, withCommon, type CommonArgs } from './common.js';
import { withBadLines, withExpiry, withProgress, withRules } from './options/groups.js';
import { CommandRun } from './run-context.js';
import { isLiveUrl, liveSourceOptions, withLiveSource } from '../sources/redis-source-cli.js';

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
}

export interface AnalyzeResult {
  report: AnalysisReport;
  jsonPath: string;
  htmlPath: string | null;
  exitCode: number;
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

/** Partial reports are read whole: bound their size before reading (they are small unless tampered with). */
const MAX_PARTIAL_BYTES = 512 * 1024 * 1024;

async function readPartial(path: string): Promise<AnalyzerState> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new RekeyUsageError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (size > MAX_PARTIAL_BYTES) throw new RekeyInputError(path, 0, `expected an analysis report of at most ${MAX_PARTIAL_BYTES} bytes, found ${size}`);
  let j: Partial<AnalysisReport>;
  try {
    j = JSON.parse(await readFile(path, 'utf8')) as Partial<AnalysisReport>;
  } catch (e) {
    throw new RekeyInputError(path, 0, `expected an analysis report (JSON): ${(e as Error).message}`);
  }
  const st = j.merge_state;
  if (!st || st.version !== 1 || !Array.isArray(st.counters)) throw new RekeyInputError(path, 0, 'expected an analysis report with "merge_state" version 1 (written by rekey analyze)');
  return st;
}

/** Options that must agree across partial reports, or the merge would mix incomparable numbers. */
function sameOptions(a: AnalyzerState['options'], b: AnalyzerState['options']): string | null {
  for (const k of ['now', 'top', 'samples', 'prefix_depth', 'prefix_max_nodes', 'max_key_bytes', 'rules', 'unmatched'] as const) {
    if (a[k] !== b[k]) return `${k} ${String(b[k])} (the first report has ${String(a[k])})`;
  }
  return null;
}

/** `analyze --merge`: fold partial reports (in the order given) into the report of one run over all. */
async function mergeReports(a: AnalyzeArgs, paths: string[]): Promise<Analyzer> {
  const states: AnalyzerState[] = [];
  for (const p of paths) states.push(await readPartial(p));
  const o = states[0]!.options;
  states.forEach((st, i) => {
    const diff = sameOptions(o, st.options);
    if (diff !== null) throw new RekeyUsageError(`${paths[i]}: cannot merge: ${diff}; analyse every part with the same --now, --top, --samples, --prefix-depth and rules`);
  });
  const rulesPath = a.rules ?? o.rules;
  const rules: CompiledRules | null = rulesPath ? await loadRules(rulesPath) : null;
  const analyzer = new Analyzer({
    now: o.now,
    top: o.top,
    samples: o.samples,
    prefixDepth: o.prefix_depth,
    prefixMaxNodes: o.prefix_max_nodes,
    maxKeyBytes: o.max_key_bytes,
    rules,
    ...(rulesPath ? { rulesPath } : {}),
  });
  for (const st of states) analyzer.mergeState(st);
  return analyzer;
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
  let analyzer: Analyzer;
  const prefixCsvPath = a['prefix-csv'];
  if (a.merge) {
    if (a.csv || a['memory-csv'] || a['keys-only']) throw new RekeyUsageError('--csv, --memory-csv and --keys-only need the dumps, not partial reports');
    analyzer = await mergeReports(a, paths);
  } else {
    analyzer = await analyzeInputs(a, paths);
  }
  const report = analyzer.report();
  if (prefixCsvPath) {
    const pl = analyzer.prefixList();
    await writeFileAtomic(prefixCsvPath, prefixCsv(pl.prefixes, pl.unprefixed));
  }
  const jsonPath = await writeReport(run.outDir, 'redis_analysis', run.stamp, report);
  const htmlPath = a.html ? await writeReport(run.outDir, 'redis_analysis', run.stamp, renderHtml(report), 'html') : null;
  return { report, jsonPath, htmlPath, exitCode: analyzeExitCode(report, { partial: a.partial ?? false }) };
}

/** One pass over every input, in order, as one dataset. */
async function analyzeInputs(a: AnalyzeArgs, paths: string[]): Promise<Analyzer> {
  const now = nowFrom(a.now);
  const top = positiveInt(a.top ?? 20, '--top');
  const samples = positiveInt(a.samples ?? 5, '--samples');
  const prefixDepth = positiveInt(a['prefix-depth'] ?? 3, '--prefix-depth');
  const minBytes = positiveInt(a['min-bytes'] ?? 0, '--min-bytes');
  const filter = filterFrom(a);
  const rules: CompiledRules | null = a.rules ? await loadRules(a.rules) : null;

  // Per-key outputs: rows of a batch are gathered, then written with backpressure between batches.
  const csvPath = a.csv ?? a['memory-csv'];
  const csv = csvPath ? AtomicOutput.open(csvPath) : null;
  const keysOnly = a['keys-only'] === true;
  const csvRows: Buffer[] = [];
  let keyLines = '';
  const onKey =
    csv !== null || keysOnly
      ? (row: KeyRow): void => {
          if (row.bytes < minBytes) return;
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
          analyzer.addBatch(batch);
          await flush();
        }
      } finally {
        progress?.stop();
      }
    }
    await flush();
    await csv?.commit();
  } catch (e) {
    await csv?.abort();
    throw e;
  }
  return analyzer;
}

/** `rekey analyze`: returns the exit code. */
export async function runAnalyze(a: AnalyzeArgs): Promise<number> {
  const { report, jsonPath, htmlPath, exitCode } = await analyze(a);
  if (report.verify) {
    const v = report.verify;
    note(`verify: ${v.checked} values checked, ${v.bad_keys} corrupt${v.bad_keys > 0 ? ' (named in the report\'s "verify.keys"):' : ''}`);
    for (const k of v.keys.slice(0, 10)) note(`  db ${k.db} ${JSON.stringify(k.key)} (entry at byte ${k.offset}): ${k.error}`);
    if (v.bad_keys > 10) note(`  ... and ${v.bad_keys - 10} more`);
  }
  if (a['keys-only']) {
    note(`report: ${jsonPath}${htmlPath ? `\nhtml:   ${htmlPath}` : ''}`);
  } else if (a.json) {
    process.stdout.write(toJson(report, 2) + '\n');
  } else {
    const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
    const columns = process.stdout.isTTY === true ? process.stdout.columns : undefined;
    process.stdout.write(renderText(report, { color, ...(columns ? { columns } : {}), partial: a.partial ?? false }));
    note(`\nreport: ${jsonPath}${htmlPath ? `\nhtml:   ${htmlPath}` : ''}`);
  }
  return exitCode;
}

export const analyzeCommand: CommandModule<object, AnalyzeArgs> = {
  command: 'analyze <input..>',
  describe: 'Audit a dump offline: keys, sizes, TTLs, estimated memory, prefixes, and what rules would do',
  builder: (y: Argv) =>
    withProgress(withBadLines(withExpiry(withRules(withLiveSource(withCommon(y)), { unmatched: false, describe: 'rules file (YAML or JSON): categories, unmatched keys, collisions, migration impact' }), { expired: false })))
      .positional('input', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'dump paths or globs (.rdb, .jsonl, .gz; several are one dataset), - for stdin; with --merge: analysis JSON files',
      })
      .option('csv', { type: 'string', describe: 'write a per-key memory report (db,key,type,encoding,elements,bytes,memory,ttl) as CSV to FILE' })
      .option('memory-csv', { type: 'string', describe: 'same as --csv' })
      .option('keys-only', { type: 'boolean', default: false, describe: 'print "db<TAB>key" per key on stdout instead of the summary' })
      .option('min-bytes', { type: 'number', describe: 'per-key outputs (--csv, --keys-only) list only keys of at least N serialized bytes' })
      .option('prefix-csv', { type: 'string', describe: 'write every prefix of the tree (and "(no prefix)") as CSV to FILE' })
      .option('partial', { type: 'boolean', default: false, describe: 'several inputs that are knowingly not every shard: missing slots do not fail the run' })
      .option('merge', { type: 'boolean', default: false, describe: 'the inputs are analysis JSON reports (from separate runs): merge them into one report' })
      .option('top', { type: 'number', default: 20, describe: 'length of the top lists (biggest keys, prefixes)' })
      .option('samples', { type: 'number', default: 5, describe: 'sample keys kept per type / category (reservoir sampling)' })
      .option('html', { type: 'boolean', default: false, describe: 'also write a self-contained HTML report with charts' })
      .option('verify', { type: 'boolean', default: false, describe: 'check every value\'s structure as Redis\' sanitize-dump-payload does; corrupt keys are named and the exit is 1' })
      .option('prefix-depth', { type: 'number', default: 3, describe: 'how many ":"-separated segments the prefix tree goes down' }) as unknown as Argv<AnalyzeArgs>,
  handler: async (a: ArgumentsCamelCase<AnalyzeArgs>) => {
    process.exitCode = await runAnalyze(a);
  },
};
