/**
 * One run of a command: its start time, file stamp, out dir, operation log, the redactor of its
 * endpoints' secrets, and the two ways a run ends (a failure before any result, or the report). Each
 * command used to repeat these lines in its own epilogue.
 */
import { mkdir } from 'node:fs/promises';
import { fileStamp, OperationLog, toJson, writeReport } from '../report/files.js';
import type { Redactor } from '../redis/redact.js';
import type { TargetSession } from '../redis/session.js';
import { collect, final, verbosity } from '../report/verbosity.js';
import { note } from './common.js';
import { DEFAULTS } from './options/defaults.js';

export class CommandRun {
  readonly started = new Date();
  readonly log = new OperationLog();
  readonly outDir: string;
  /** The suffix of every file of the run (report, log, ledger). */
  stamp: string;
  /** Set once the endpoint is parsed: its secrets are scrubbed from everything the run prints or writes. */
  redactor: Redactor | null = null;

  constructor(readonly command: string, outDir: string | undefined, o: { stamp?: (outDir: string, base: string) => string } = {}) {
    this.outDir = outDir ?? DEFAULTS.outDir;
    const base = fileStamp(this.started);
    this.stamp = o.stamp ? o.stamp(this.outDir, base) : base;
  }

  /** A run that writes files creates its out dir first (and may then pick a stamp no file uses). */
  static async start(command: string, outDir: string | undefined, o: { stamp?: (outDir: string, base: string) => string } = {}): Promise<CommandRun> {
    await mkdir(outDir ?? DEFAULTS.outDir, { recursive: true });
    return new CommandRun(command, outDir, o);
  }

  scrub(text: string): string {
    return this.redactor ? this.redactor.scrub(text) : text;
  }

  /** The (scrubbed) message of anything thrown. */
  message(e: unknown): string {
    return this.scrub(e instanceof Error ? e.message : String(e));
  }

  seconds(): number {
    return (Date.now() - this.started.getTime()) / 1000;
  }

  /** A line on stderr, prefixed with the command. */
  say(msg: string): void {
    note(`rekey ${this.command}: ${msg}`);
  }

  /** The log so far, written even if the run dies (a failing write must not hide the run's own error). */
  async keepLog(): Promise<void> {
    await this.log.write(this.outDir, this.stamp).catch(() => undefined);
  }

  /** The run stops before any result: say why (at every verbosity), log it, keep the log; returns the exit code. */
  async fail(msg: string, exitCode: number): Promise<number> {
    const m = this.scrub(msg);
    final(`rekey ${this.command}: ${m}`);
    this.log.log('ERROR', m);
    await this.keepLog();
    return exitCode;
  }

  /**
   * Connect to the command's target (`--target`, `--tls-ca`, `--cluster`) and scrub with its redactor from
   * then on; a target that cannot be reached stops the run: `onFail` (default `fail`, whose exit code is
   * returned) says why, so a command that also reports an early failure (import) shares this one block.
   * Loaded on demand: commands without a target never load the Redis half.
   */
  async connectTarget<F = number>(
    a: { target: string; 'tls-ca'?: string | undefined; cluster?: boolean | undefined },
    onFail?: (msg: string, exitCode: number) => Promise<F>,
  ): Promise<TargetSession | F> {
    const [{ probeTarget }, { TargetConnectionError }] = await Promise.all([import('../redis/session.js'), import('../redis/connect.js')]);
    try {
      const session = await probeTarget(a.target, { ...(a['tls-ca'] !== undefined ? { tlsCa: a['tls-ca'] } : {}), ...(a.cluster ? { cluster: true } : {}) });
      this.redactor = session.spec.redactor;
      return session;
    } catch (e) {
      if (!(e instanceof TargetConnectionError)) throw e;
      return onFail ? onFail(e.message, e.exitCode) : (this.fail(e.message, e.exitCode) as Promise<F>);
    }
  }

  /** An error thrown mid-run: logged (scrubbed) and the log kept, before the caller rethrows or maps it. */
  async abandon(e: unknown): Promise<void> {
    this.log.log('ERROR', this.message(e));
    await this.keepLog();
  }

  /**
   * The normal end: the report file, then the log, then either the JSON report on stdout (`--json`) or
   * the human summary (given the report's path); under --quiet only the summary's headline (its first
   * `rekey …` line) with the report's path. Returns the report's path.
   */
  async finish(report: unknown, o: { json: boolean | undefined; summary: (reportPath: string) => void; prefix?: string }): Promise<string> {
    const path = await writeReport(this.outDir, o.prefix ?? 'migration_report', this.stamp, report);
    await this.log.write(this.outDir, this.stamp);
    if (o.json) process.stdout.write(toJson(report, 2) + '\n');
    else if (verbosity() !== 'quiet') o.summary(path);
    else {
      const head = collect(() => o.summary(path)).find((l) => l.startsWith('rekey ')) ?? `rekey ${this.command}: done`;
      final(head.includes(path) ? head : `${head} (report: ${path})`);
    }
    return path;
  }
}
