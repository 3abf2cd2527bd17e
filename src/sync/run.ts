/**
 * `rekey sync`: become a replica of the source (PSYNC), load the full-sync snapshot through the importer
 * (the same parser, rules and writer as a file), then apply the replication stream to the target with
 * every key renamed, acknowledging and checkpointing the offset the target has applied.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseRdb } from '../rdb/parser.js';
import { loadRules, type CompiledRules, type UnmatchedMode } from '../rules/index.js';
import type { OpenedInput } from '../sources/open.js';
import { fileStamp, toJson, writeReport } from '../report/files.js';
import { onInterrupt } from '../io/interrupt.js';
import { EXIT_COULD_NOT_RUN, EXIT_PROBLEM } from '../errors.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { importSnapshot, openLink, parseSourceUrl, parseTargetUrl, tlsOptions, ReplyError, type ImportArgs, type Link, type Reply, type TargetSpec } from './importer-adapter.js';
import { runScanSync, type ScanSyncResult } from './scan-sync.js';
import { CommandTable } from './key-specs.js';
import { ReplicaLink, type SyncStart } from './replica-link.js';
import { SyncStatus } from './status.js';
import { serveStatus } from './status-server.js';
import { StreamApplier } from './stream-applier.js';
import { clearMarker, DEFAULT_MARKER_KEY, marker, readMarker, type MarkerValue } from './target-marker.js';

export interface SyncOptions {
  source: string;
  target: string;
  rules?: string;
  checkpoint?: string;
  /** The target key that records the applied offset atomically with each batch (target-marker.ts). */
  checkpointKey?: string;
  outDir: string;
  toDb?: number;
  unmatched?: 'keep' | 'drop';
  onConflict?: 'skip' | 'replace' | 'fail';
  tlsCa?: string;
  sourceTlsCa?: string;
  lossy?: boolean;
  /** Seconds between status lines on stderr (0: none). */
  statusInterval?: number;
  /** Commands applied per target round trip at most. */
  batch?: number;
  json?: boolean;
  /** SCAN fallback: allow CONFIG SET notify-keyspace-events on the source (restored at the end). */
  enableNotifications?: boolean;
  /** Serve GET /status (JSON) on 127.0.0.1 at this port (0: any free port, logged). */
  statusPort?: number;
  /** Where messages go (default: stderr). */
  say?: (line: string) => void;
  /** Where warnings and errors go (default: `say`), so a quiet `say` never swallows them. */
  warn?: (line: string) => void;
  /** Library use and tests: resolve this to stop cleanly (like Ctrl-C). */
  stopSignal?: Promise<void>;
  /** Install SIGINT/SIGTERM/SIGUSR1 handlers (the CLI does). */
  signals?: boolean;
}

export interface SyncOutcome {
  exitCode: number;
  status: Record<string, unknown>;
  checkpoint: string;
  reportPath: string | null;
}

const ACK_EVERY_MS = 1000;
const CHECKPOINT_EVERY_MS = 200;

/** The status views that live for the whole run (snapshot included): SIGUSR1 and GET /status. */
export async function runSync(o: SyncOptions): Promise<SyncOutcome> {
  const status = new SyncStatus();
  const say = o.say ?? ((l: string) => process.stderr.write(l + '\n'));
  const server = o.statusPort !== undefined ? await serveStatus(o.statusPort, () => status.toJSON()) : null;
  if (server) say(`rekey sync: status on http://127.0.0.1:${server.port}/status`);
  const onUsr1 = (): void => {
    process.stderr.write(toJson(status.toJSON()) + '\n');
  };
  if (o.signals) process.on('SIGUSR1', onUsr1);
  try {
    return await sync(o, status, say);
  } finally {
    if (o.signals) process.removeListener('SIGUSR1', onUsr1);
    await server?.close();
  }
}

async function sync(o: SyncOptions, status: SyncStatus, say: (line: string) => void): Promise<SyncOutcome> {
  const warn = o.warn ?? say;
  const started = new Date();
  await mkdir(o.outDir, { recursive: true });
  const checkpointPath = o.checkpoint ?? join(o.outDir, 'rekey-sync.checkpoint.json');
  const sourceSpec = parseSourceUrl(o.source, o.sourceTlsCa ?? o.tlsCa);
  const targetSpec = parseTargetUrl(o.target, o.tlsCa);
  const scrub = (t: string): string => targetSpec.redactor.scrub(sourceSpec.redactor.scrub(t));
  const rules = o.rules ? await loadRules(o.rules) : null;
  const unmatched = o.unmatched ?? rules?.unmatched ?? 'keep';
  const toDb = o.toDb ?? targetSpec.db ?? null;
  const logLines: string[] = [];
  const log = (level: 'INFO' | 'WARN' | 'ERROR', msg: string): void => {
    const m = scrub(msg);
    logLines.push(`${new Date().toISOString()} ${level} ${m}`);
    (level === 'INFO' ? say : warn)(`rekey sync: ${m}`);
  };
  const prior = await readCheckpoint(checkpointPath);
  if (prior) {
    if (prior.source !== sourceSpec.display) log('WARN', `the checkpoint ${checkpointPath} was written for source ${prior.source}, this run reads ${sourceSpec.display}`);
    if (prior.target !== targetSpec.display) log('WARN', `the checkpoint was written for target ${prior.target}, this run writes ${targetSpec.display}`);
    if ((prior.rules ?? null) !== (o.rules ?? null)) log('WARN', `the checkpoint's run used rules ${prior.rules ?? '(none)'}, this run ${o.rules ?? '(none)'}`);
  }

  // 1. key positions from the source's own COMMAND table (a read; the source is never written)
  let admin: Link;
  let table: CommandTable;
  try {
    admin = await openLink(sourceSpec, 'rekey-sync-info');
    const r = await admin.call(['COMMAND']);
    if (!Array.isArray(r)) throw new Error(`COMMAND: ${r instanceof ReplyError ? r.message : 'unexpected reply'}`);
    table = new CommandTable(r as never);
  } catch (e) {
    log('ERROR', `cannot read the source's command table from ${sourceSpec.display}: ${(e as Error).message}`);
    return { exitCode: EXIT_COULD_NOT_RUN, status: status.toJSON(), checkpoint: checkpointPath, reportPath: null };
  }
  let target: Link;
  try {
    target = await openLink(targetSpec, 'rekey-sync');
  } catch (e) {
    admin.destroy();
    log('ERROR', `cannot connect to the target ${targetSpec.display}: ${(e as Error).message}`);
    return { exitCode: EXIT_COULD_NOT_RUN, status: status.toJSON(), checkpoint: checkpointPath, reportPath: null };
  }
  // Where the target itself says it stands: ahead of the file when a run was killed between a batch's
  // reply and the file's rename. Both only ever record what the target acknowledged.
  const markerKey = o.checkpointKey ?? DEFAULT_MARKER_KEY;
  const markerDb = toDb ?? 0;
  let held: MarkerValue | null;
  try {
    held = await readMarker(target, markerDb, markerKey);
  } catch (e) {
    admin.destroy();
    target.destroy();
    throw e;
  }
  let resume: { replid: string; offset: number; db: number } | null = prior ? { replid: prior.replid, offset: prior.offset, db: prior.db } : null;
  if (held && (!resume || (held.replid === resume.replid && held.offset > resume.offset))) {
    log('INFO', `the target's marker ${markerKey} is at offset ${held.offset}${resume ? `, the checkpoint file at ${resume.offset} (the last run stopped before recording it)` : ' (no checkpoint file)'}: continuing from the marker`);
    resume = held;
  } else if (held && held.replid !== resume!.replid) {
    log('WARN', `the target's marker ${markerKey} names replication id ${held.replid}, the checkpoint ${resume!.replid}: following the checkpoint`);
  }

  // 2. the replica link
  const linkOpts = {
    host: sourceSpec.host,
    port: sourceSpec.port,
    tls: tlsOptions(sourceSpec),
    username: sourceSpec.username,
    password: sourceSpec.password,
    resume: resume ? { replid: resume.replid, offset: resume.offset } : null,
    display: sourceSpec.display,
  };
  let link: ReplicaLink;
  let start: SyncStart;
  try {
    link = await ReplicaLink.open(linkOpts);
    start = await link.handshake(linkOpts).catch((e: unknown) => {
      link.close();
      throw e;
    });
  } catch (e) {
    const refused = (e as Error).name === 'PsyncRefusedError';
    if (refused) {
      log('WARN', `${(e as Error).message}: this source does not serve replicas; falling back to SCAN+DUMP with keyspace notifications`);
      return scanFallback(o, { sourceSpec, admin, target, rules, unmatched, toDb, status, log, say, logLines, started, checkpointPath });
    }
    admin.destroy();
    target.destroy();
    log('ERROR', (e as Error).message);
    return { exitCode: EXIT_COULD_NOT_RUN, status: status.toJSON(), checkpoint: checkpointPath, reportPath: null };
  }
  status.replid = start.replid;
  status.start = start.kind;
  const stamp = fileStamp(started);
  let state: { replid: string; offset: number; db: number };
  let savedOffset = -1;
  const save = async (): Promise<void> => {
    const at = state.offset;
    await writeCheckpoint(checkpointPath, { replid: state.replid, offset: at, db: state.db, source: sourceSpec.display, target: targetSpec.display, rules: o.rules ?? null });
    savedOffset = at;
  };

  // 3. a full sync goes through the importer
  if (start.kind === 'full') {
    log('INFO', `full resync from ${sourceSpec.display}: replid ${start.replid}, offset ${start.offset}${resume ? ` (the source could not continue from offset ${resume!.offset + 1}: its backlog no longer holds it, or the replication id changed)` : ''}; loading the snapshot into ${targetSpec.display}`);
    status.phase = 'full-sync';
    let read = 0;
    const payload = start.payload;
    const counted = (async function* () {
      for await (const c of payload) {
        read += c.length;
        yield c;
      }
    })();
    const name = `${sourceSpec.display} (full sync)`;
    const input: OpenedInput = {
      name,
      format: 'rdb',
      gzip: false,
      ...(start.payloadSize !== null ? { size: start.payloadSize } : {}),
      bytesRead: () => read,
      batches: parseRdb(counted, { file: name, trailing: 'ignore', ...(start.payloadSize !== null ? { size: start.payloadSize } : {}) }),
    };
    const args: ImportArgs = {
      input: name,
      target: o.target,
      ...(o.rules !== undefined ? { rules: o.rules } : {}),
      'out-dir': o.outDir,
      json: false,
      'ignore-checksum': false,
      'allow-future-version': false,
      'on-conflict': o.onConflict ?? 'replace',
      ...(o.toDb !== undefined ? { 'to-db': o.toDb } : {}),
      ...(o.unmatched !== undefined ? { unmatched: o.unmatched } : {}),
      ...(o.tlsCa !== undefined ? { 'tls-ca': o.tlsCa } : {}),
      ...(o.lossy ? { lossy: true } : {}),
      progress: false,
    };
    let outcome;
    try {
      outcome = await importSnapshot(args, input);
    } catch (e) {
      link.close();
      admin.destroy();
      target.destroy();
      log('ERROR', `the full-sync snapshot could not be loaded: ${(e as Error).message}`);
      return { exitCode: 1, status: status.toJSON(), checkpoint: checkpointPath, reportPath: null };
    }
    const imp = (outcome.report.import ?? {}) as Record<string, unknown>;
    if (typeof imp.stopped === 'string') {
      link.close();
      admin.destroy();
      target.destroy();
      log('ERROR', `the snapshot import stopped (${imp.stopped}); no checkpoint was recorded, the next run starts with a full resync`);
      return { exitCode: 1, status: status.toJSON(), checkpoint: checkpointPath, reportPath: outcome.reportPath };
    }
    if (read === 0 || (start.payloadSize !== null && read !== start.payloadSize)) {
      link.close();
      admin.destroy();
      target.destroy();
      log('ERROR', `the full-sync payload ended after ${read} of ${start.payloadSize ?? '?'} bytes`);
      return { exitCode: 1, status: status.toJSON(), checkpoint: checkpointPath, reportPath: outcome.reportPath };
    }
    if (outcome.exitCode !== 0) log('WARN', `the snapshot import reported problems (see ${outcome.reportPath}); the stream is applied anyway`);
    state = { replid: start.replid, offset: start.offset, db: 0 };
    // a marker of an earlier stream no longer says anything about this one
    if (held) await clearMarker(target, markerDb, markerKey).catch(() => undefined);
    log('INFO', `snapshot loaded (${read} bytes); streaming from offset ${start.offset}`);
  } else {
    state = { replid: start.replid, offset: start.offset, db: resume!.db };
    log('INFO', `PSYNC continue from ${sourceSpec.display} at offset ${start.offset + 1} (replid ${start.replid}, db ${resume!.db}): no full resync`);
  }
  status.appliedOffset = state.offset;
  status.readOffset = state.offset;
  await save();
  // A diskless master starts the stream only after our first ACK (replication.c: repl_start_cmd_stream_on_ack).
  link.ack(state.offset);

  // 4. the stream
  status.phase = 'streaming';
  const applier = new StreamApplier({ table, rules, unmatched, toDb }, status, { offset: state.offset, db: state.db });
  const mark = marker(markerDb, markerKey, () => state.replid);
  let stopping = false;
  let stopReason = '';
  const stop = (why: string): void => {
    if (!stopping) {
      stopping = true;
      stopReason = why;
    }
  };
  void o.stopSignal?.then(() => stop('stop requested'));
  let offInterrupt = (): void => undefined;
  if (o.signals) {
    // the CLI's one interrupt handler (io/interrupt.ts): the first signal stops after the applied batch
    offInterrupt = onInterrupt((signal) => stop(signal === 'SIGINT' ? 'interrupted (SIGINT)' : 'terminated (SIGTERM)'));
  }
  let lastAck = Date.now();
  let lastSave = Date.now();
  let lastStatus = Date.now();
  let polling = false;
  const poll = (): void => {
    if (polling || admin.error) return;
    polling = true;
    admin
      .call(['INFO', 'replication'])
      .then((r: Reply) => {
        const m = Buffer.isBuffer(r) ? /master_repl_offset:(\d+)/.exec(r.toString('latin1')) : null;
        if (m) status.sourceAt(Number(m[1]));
      })
      .catch(() => undefined)
      .finally(() => (polling = false));
  };
  const pollTimer = setInterval(poll, 500);
  poll();
  let failure: string | null = null;
  const batchMax = o.batch ?? 5000;
  try {
    while (!stopping) {
      const cmds = link.reader.takeCommands(batchMax);
      if (cmds.length > 0) {
        const p = applier.plan(cmds);
        try {
          await applier.apply(target, p, mark);
        } catch (e) {
          failure = `the target ${targetSpec.display} failed: ${(e as Error).message}`;
          break;
        }
        state = { replid: state.replid, offset: p.offset, db: p.db };
        if (p.getack) {
          link.ack(state.offset);
          lastAck = Date.now();
        }
      } else {
        if (target.error) {
          failure = `the target ${targetSpec.display} failed: ${target.error.message}`;
          break;
        }
        try {
          await link.reader.moreOrTimeout(200);
        } catch (e) {
          failure = `the replication link broke: ${(e as Error).message}`;
          break;
        }
      }
      const now = Date.now();
      if (now - lastAck >= ACK_EVERY_MS) {
        link.ack(state.offset);
        lastAck = now;
      }
      if (now - lastSave >= CHECKPOINT_EVERY_MS && state.offset !== savedOffset) {
        await save();
        lastSave = now;
      }
      if (o.statusInterval !== 0 && now - lastStatus >= (o.statusInterval ?? 5) * 1000) {
        say(status.line(now));
        lastStatus = now;
      }
    }
  } finally {
    clearInterval(pollTimer);
    if (o.signals) {
      offInterrupt();
    }
  }
  await save();
  // A clean stop leaves the target holding only data: the file now has the exact offset.
  if (!failure) await clearMarker(target, markerDb, markerKey).catch((e: Error) => log('WARN', `could not remove the marker ${markerKey} from the target: ${e.message}`));
  status.phase = 'stopped';
  link.ack(state.offset);
  link.close();
  await Promise.race([admin.close(), new Promise((r) => setTimeout(r, 500))]);
  if (failure) target.destroy();
  else await target.close();
  if (failure) log('ERROR', `${failure}; stopped at offset ${state.offset} (checkpoint ${checkpointPath}): run the same command again to continue`);
  else log('INFO', `${stopReason}: stopped at offset ${state.offset} (checkpoint ${checkpointPath})`);
  log('INFO', status.line());
  const s = status.toJSON();
  const report = { sync: s, checkpoint: checkpointPath, source: sourceSpec.display, target: targetSpec.display, rules: o.rules ?? null, stopped: failure ?? stopReason, timestamp: started.toISOString() };
  const reportPath = await writeReport(o.outDir, 'sync_report', stamp, report);
  await writeReport(o.outDir, 'rekey_sync', stamp, logLines.join('\n') + '\n', 'log');
  if (status.losses > 0) log('WARN', `${status.losses} commands were not applied (refused: ${toJson(s.refused)}); see ${reportPath}${o.lossy ? '' : ' (exit 1; --lossy accepts this)'}`);
  if (o.json) process.stdout.write(toJson(report, 2) + '\n');
  const problem = failure !== null || status.errorCount > 0 || (status.losses > 0 && !o.lossy);
  return { exitCode: failure !== null ? EXIT_COULD_NOT_RUN : problem ? EXIT_PROBLEM : 0, status: s, checkpoint: checkpointPath, reportPath };
}

interface FallbackContext {
  sourceSpec: TargetSpec;
  admin: Link;
  target: Link;
  rules: CompiledRules | null;
  unmatched: UnmatchedMode;
  toDb: number | null;
  status: SyncStatus;
  log: (level: 'INFO' | 'WARN' | 'ERROR', msg: string) => void;
  say: (line: string) => void;
  logLines: string[];
  started: Date;
  checkpointPath: string;
}

/** PSYNC refused: the SCAN+DUMP mode (scan-sync.ts), with the same stop, status, report and exit codes. */
async function scanFallback(o: SyncOptions, f: FallbackContext): Promise<SyncOutcome> {
  const { status, log } = f;
  status.start = 'scan';
  status.replid = '';
  let reads: Link;
  try {
    reads = await openLink(f.sourceSpec, 'rekey-sync-scan');
  } catch (e) {
    f.admin.destroy();
    f.target.destroy();
    log('ERROR', `cannot open a second connection to the source: ${(e as Error).message}`);
    return { exitCode: EXIT_COULD_NOT_RUN, status: status.toJSON(), checkpoint: f.checkpointPath, reportPath: null };
  }
  let stopReason = '';
  void o.stopSignal?.then(() => (stopReason ||= 'stop requested'));
  const offInterrupt = o.signals ? onInterrupt((signal) => (stopReason ||= signal === 'SIGINT' ? 'interrupted (SIGINT)' : 'terminated (SIGTERM)')) : () => undefined;
  let r: ScanSyncResult;
  try {
    r = await runScanSync({
      source: f.sourceSpec,
      rules: f.rules,
      unmatched: f.unmatched,
      toDb: f.toDb,
      status,
      log,
      admin: f.admin,
      reads,
      target: f.target,
      enableNotifications: o.enableNotifications === true,
      stopped: () => stopReason !== '',
      statusEvery: o.statusInterval ?? 5,
      say: f.say,
    });
  } catch (e) {
    r = { ok: false, failure: (e as Error).message };
  } finally {
    offInterrupt();
  }
  status.phase = 'stopped';
  await Promise.race([Promise.all([f.admin.close(), reads.close(), f.target.close()]), new Promise((res) => setTimeout(res, 1000))]);
  const failure = r.ok ? null : r.failure;
  if (failure) log('ERROR', failure);
  else log('INFO', `${stopReason}: SCAN+DUMP sync stopped (no checkpoint in this mode: a restart copies every key again)`);
  log('INFO', status.line());
  const s = status.toJSON();
  const stamp = fileStamp(f.started);
  const report = { sync: s, mode: 'scan', warning: 'keyspace notifications are fire-and-forget: this mode can miss writes', source: f.sourceSpec.display, target: f.target.display, rules: o.rules ?? null, stopped: failure ?? stopReason, timestamp: f.started.toISOString() };
  const reportPath = await writeReport(o.outDir, 'sync_report', stamp, report);
  await writeReport(o.outDir, 'rekey_sync', stamp, f.logLines.join('\n') + '\n', 'log');
  if (status.losses > 0) log('WARN', `${status.losses} keys were not copied (refused: ${toJson(s.refused)}); see ${reportPath}${o.lossy ? '' : ' (exit 1; --lossy accepts this)'}`);
  if (o.json) process.stdout.write(toJson(report, 2) + '\n');
  const refusedRun = !r.ok && r.refused === true;
  const exitCode = failure !== null ? (refusedRun ? EXIT_PROBLEM : EXIT_COULD_NOT_RUN) : status.errorCount > 0 || (status.losses > 0 && !o.lossy) ? EXIT_PROBLEM : 0;
  return { exitCode, status: s, checkpoint: f.checkpointPath, reportPath };
}
