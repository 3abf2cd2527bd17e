import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { startProgress } from '../report/progress.js';
import { EXIT_OK, EXIT_PROBLEM, RekeyUsageError } from '../errors.js';
import { openInput } from '../sources/open.js';
import { loadRules, type CompiledRules } from '../rules/index.js';
import { fileStamp, toJson, writeReport } from '../report/files.js';
import { Analyzer, type AnalysisReport } from '../analyze/aggregator.js';
import { renderText } from '../analyze/render-text.js';
import { renderHtml } from '../analyze/render-html.js';
import { filterFrom, note, nowFrom, withCommon, type CommonArgs } from './common.js';
import { liveSourceOptions, withLiveSource } from '../sources/redis-source-cli.js';

export interface AnalyzeArgs extends CommonArgs {
  input: string;
  rules?: string;
  top: number;
  samples: number;
  html: boolean;
  now?: number;
  'prefix-depth': number;
  'skip-bad-lines'?: boolean;
  /** Show the progress bar (default: when stderr is a TTY and the input is large). */
  progress?: boolean;
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
export function analyzeExitCode(r: AnalysisReport): number {
  if (!r.collisions || !r.migration) return EXIT_OK;
  return r.collisions.keys > 0 || r.migration.unmatched_errors > 0 ? EXIT_PROBLEM : EXIT_OK;
}

/** Run the analysis and write its files; returns the report and paths (for tests and library users). */
export async function analyze(a: AnalyzeArgs): Promise<AnalyzeResult> {
  const started = new Date();
  const stamp = fileStamp(started);
  const now = nowFrom(a.now);
  const top = positiveInt(a.top ?? 20, '--top');
  const samples = positiveInt(a.samples ?? 5, '--samples');
  const prefixDepth = positiveInt(a['prefix-depth'] ?? 3, '--prefix-depth');
  const filter = filterFrom(a);
  const rules: CompiledRules | null = a.rules ? await loadRules(a.rules) : null;
  const analyzer = new Analyzer({
    now,
    top,
    samples,
    prefixDepth,
    filter,
    rules,
    ...(a.rules ? { rulesPath: a.rules } : {}),
  });
  const input = await openInput(a.input, {
    ignoreChecksum: a['ignore-checksum'],
    allowFutureVersion: a['allow-future-version'],
    skipBadLines: a['skip-bad-lines'] ?? false,
    onBadLine: () => {
      analyzer.badLinesSkipped++;
    },
    ...liveSourceOptions(a),
  });

  const progress = startProgress({
    label: 'analyze',
    flag: a.progress,
    input,
    snapshot: () => ({ keys: analyzer.keys, bytes: input.bytesRead(), errors: 0 }),
  });
  try {
    for await (const batch of input.batches) analyzer.addBatch(batch);
  } finally {
    progress?.stop();
  }

  const report = analyzer.report({
    path: input.name,
    format: input.format,
    gzip: input.gzip,
    ...(input.size !== undefined ? { size: input.size } : {}),
    ...(input.fileSize !== undefined ? { fileSize: input.fileSize } : {}),
  });
  const jsonPath = await writeReport(a['out-dir'], 'redis_analysis', stamp, report);
  const htmlPath = a.html ? await writeReport(a['out-dir'], 'redis_analysis', stamp, renderHtml(report), 'html') : null;
  return { report, jsonPath, htmlPath, exitCode: analyzeExitCode(report) };
}

/** `rekey analyze`: returns the exit code. */
export async function runAnalyze(a: AnalyzeArgs): Promise<number> {
  const { report, jsonPath, htmlPath, exitCode } = await analyze(a);
  if (a.json) {
    process.stdout.write(toJson(report, 2) + '\n');
  } else {
    const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
    process.stdout.write(renderText(report, { color }));
    note(`\nreport: ${jsonPath}${htmlPath ? `\nhtml:   ${htmlPath}` : ''}`);
  }
  return exitCode;
}

export const analyzeCommand: CommandModule<object, AnalyzeArgs> = {
  command: 'analyze <input>',
  describe: 'Audit a dump offline: keys, sizes, TTLs, estimated memory, prefixes, and what rules would do',
  builder: (y: Argv) =>
    withLiveSource(withCommon(y))
      .positional('input', { type: 'string', demandOption: true, describe: 'dump path (.rdb, .jsonl, .gz) or - for stdin' })
      .option('rules', { type: 'string', describe: 'rules file (YAML or JSON): categories, unmatched keys, collisions, migration impact' })
      .option('top', { type: 'number', default: 20, describe: 'length of the top lists (biggest keys, prefixes)' })
      .option('samples', { type: 'number', default: 5, describe: 'sample keys kept per type / category (reservoir sampling)' })
      .option('html', { type: 'boolean', default: false, describe: 'also write a self-contained HTML report with charts' })
      .option('now', { type: 'number', describe: 'judge expiry at this epoch ms (default: now)' })
      .option('prefix-depth', { type: 'number', default: 3, describe: 'how many ":"-separated segments the prefix tree goes down' })
      .option('skip-bad-lines', { type: 'boolean', default: false, describe: 'JSONL input: skip and count bad lines' })
      .option('progress', { type: 'boolean', describe: 'force the progress bar on or off (default: on for large inputs on a terminal)' }) as unknown as Argv<AnalyzeArgs>,
  handler: async (a: ArgumentsCamelCase<AnalyzeArgs>) => {
    process.exitCode = await runAnalyze(a);
  },
};
