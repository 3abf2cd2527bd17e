/**
 * The import sink: every key becomes one unit of work on the target —
 *   RESTORE key <expireAt> <payload> ABSTTL [REPLACE] [IDLETIME s | FREQ f]
 * with the DUMP payload built from the record's own value bytes (type byte + payload + footer; the CRC64 is
 * computed in place in the socket buffer), or, when the target cannot take the payload (older RDB version,
 * RESTORE renamed/refused, bigger than proto-max-bulk-len), the value as commands in one MULTI/EXEC.
 *
 * Units are pipelined through the Transport (bounded window per connection, coalesced writes). Each
 * acknowledged key is appended to the ledger; the ledger's high-water mark is the input offset up to which
 * every record is done, which `--resume` relies on.
 */
import type { KeyRecord, RdbRecord, Value } from '../records/types.js';
import type { Sink } from '../sinks/sink.js';
import type { MigrationStats } from '../pipeline/stats.js';
import type { OperationLog } from '../report/files.js';
import type { ByteWriter } from '../encode/rdb-primitives.js';
import { appendAsking, appendExists, appendRestore, appendTransaction } from '../encode/resp.js';
import { displayKey } from '../records/printable.js';
import { ReplyError, type Reply } from '../redis/resp-socket.js';
import { Transport, Unit, type Node, type OpenBatch } from '../redis/transport.js';
import type { TargetInfo } from '../redis/server-info.js';
import { ACK_REPLACED, ACK_UNCERTAIN, type LedgerWriter } from './ledger.js';
import { keySlot } from '../redis/slot.js';
import { buildValueCommands, isEmptyCollection } from './command-writer.js';
import { AckWindow } from './ack-window.js';
import { ErrorTally } from './error-reasons.js';
import { loadFunction, newFunctionCounters, type FunctionCounters } from './function-loader.js';
import { targetHasFunctions } from '../redis/server-versions.js';
import { bulkRefusal, footerVersion, isVerbatim, planKey, targetFlavor, type ImportMode, type PlanContext } from './key-plan.js';
import { commandLosses, LossTally, type Loss } from '../encode/losses.js';
import { keyMetaLoss, restoreLosses } from '../encode/down-convert.js';

export type { ImportMode } from './key-plan.js';
export { footerVersion, targetFlavor } from './key-plan.js';
/** Kept here for bench/import.mjs, which frames the same RESTORE stream. */
export { appendRestore } from '../encode/resp.js';
export type ConflictPolicy = 'skip' | 'replace' | 'fail';

// ---------------------------------------------------------------------------------------------
// the unit for one key

export type Outcome =
  | { kind: 'created' }
  | { kind: 'replaced' }
  | { kind: 'skipped' }
  | { kind: 'empty' }
  | { kind: 'lost'; losses: readonly Loss[] }
  | { kind: 'conflict' }
  | { kind: 'error'; message: string };

type Phase = 'restore' | 'check' | 'commands';

const CREATED: Outcome = { kind: 'created' };
const REPLACED: Outcome = { kind: 'replaced' };
const SKIPPED: Outcome = { kind: 'skipped' };
const EMPTY: Outcome = { kind: 'empty' };
const CONFLICT: Outcome = { kind: 'conflict' };

export class KeyUnit extends Unit {
  phase: Phase;
  /** Payload to RESTORE (verbatim or down-converted). */
  rdbType = 0;
  payload: Buffer | null = null;
  version = 0;
  converted = false;
  viaCommands = false;
  cmds: Buffer[][] | null = null;
  private asked = false;
  done = false;

  constructor(
    readonly w: TargetWriter,
    readonly rec: KeyRecord,
    db: number,
    /** Position among records the sink received (for the report's migrated_keys list). */
    readonly index: number,
    phase: Phase,
    /** The writer's --on-conflict, or 'skip' for a key an earlier run may have written (resume). */
    readonly policy: ConflictPolicy,
  ) {
    super(db, rec.key, w.cluster ? keySlot(rec.key) : 0);
    this.phase = phase;
  }

  get offset(): number {
    return this.rec.offset;
  }

  write(out: ByteWriter, asking: boolean): number {
    this.asked = asking;
    const policy = this.policy;
    switch (this.phase) {
      case 'restore': {
        const replace = policy === 'replace';
        if (replace) {
          if (asking) appendAsking(out);
          appendExists(out, this.key);
        }
        if (asking) appendAsking(out);
        appendRestore(out, this.key, this.rdbType, this.payload!, this.version, this.rec.expireAtMs, replace, this.rec.idle, this.rec.idle === undefined ? this.rec.freq : undefined);
        return (replace ? 2 : 1) * (asking ? 2 : 1);
      }
      case 'check':
        if (asking) appendAsking(out);
        appendExists(out, this.key);
        return asking ? 2 : 1;
      case 'commands':
        if (asking) appendAsking(out);
        return appendTransaction(out, this.cmds!) + (asking ? 1 : 0);
    }
  }

  settle(all: Reply[]): 'done' | 'again' {
    const replies = !this.asked ? all : this.phase !== 'commands' ? all.filter((_, i) => i % 2 === 1) : all.slice(1);
    const policy = this.policy;
    switch (this.phase) {
      case 'restore': {
        const r = replies[replies.length - 1];
        if (r === 'OK') {
          if (policy === 'replace') return this.finish(replies[0] === 1 ? REPLACED : CREATED);
          return this.finish(CREATED);
        }
        if (r instanceof ReplyError) {
          if (r.code === 'BUSYKEY') return this.finish(policy === 'fail' ? CONFLICT : SKIPPED);
          return this.restoreFailed(r);
        }
        return this.finish({ kind: 'error', message: `unexpected RESTORE reply ${String(r)}` });
      }
      case 'check': {
        const r = replies[0];
        if (r instanceof ReplyError) return this.finish({ kind: 'error', message: `EXISTS: ${r.message}` });
        if (r === 1) return this.finish(policy === 'fail' ? CONFLICT : SKIPPED);
        this.phase = 'commands';
        return 'again';
      }
      case 'commands': {
        // MULTI, QUEUED × n, EXEC
        const exec = replies[replies.length - 1];
        for (let i = 0; i < replies.length - 1; i++) {
          const q = replies[i];
          if (q instanceof ReplyError) return this.finish({ kind: 'error', message: `${commandName(this.cmds, i - 1)}: ${q.message}` });
        }
        if (exec instanceof ReplyError) return this.finish({ kind: 'error', message: `EXEC: ${exec.message}` });
        if (!Array.isArray(exec)) return this.finish({ kind: 'error', message: `EXEC: unexpected reply ${String(exec)}` });
        for (let i = 0; i < exec.length; i++) {
          const e = exec[i];
          if (e instanceof ReplyError) {
            return this.finish({ kind: 'error', message: `${commandName(this.cmds, i)}: ${e.message} (the key may be partly written)` });
          }
        }
        if (policy === 'replace') return this.finish(exec[0] === 1 ? REPLACED : CREATED);
        return this.finish(CREATED);
      }
    }
  }

  /** RESTORE refused: in auto mode the value goes as commands (or is dropped when it is an empty collection). */
  private restoreFailed(r: ReplyError): 'done' | 'again' {
    const msg = r.message;
    // Only a refusal of RESTORE itself or of the payload calls for commands; OOM, READONLY, … would fail those too.
    const refused = /unknown command|NOPERM|payload version or checksum|Bad data format/i.test(msg);
    if (this.w.mode !== 'auto' || !refused) return this.finish({ kind: 'error', message: `RESTORE: ${msg}` });
    if (/unknown command|NOPERM/i.test(msg)) this.w.restoreRefused(msg);
    let value: Value;
    try {
      value = this.rec.decode();
    } catch (e) {
      return this.finish({ kind: 'error', message: `RESTORE: ${msg}; the value does not decode either: ${(e as Error).message}` });
    }
    if (isEmptyCollection(value)) return this.finish(EMPTY);
    return this.toCommands(value, `RESTORE refused: ${msg}`);
  }

  /** Switch to commands (from a failed RESTORE); returns 'again' or a finished error. */
  toCommands(value: Value, why: string): 'done' | 'again' {
    try {
      this.cmds = this.w.commandsFor(this.rec, value, this.policy === 'replace');
    } catch (e) {
      return this.finish({ kind: 'error', message: `${why}; as commands: ${(e as Error).message}` });
    }
    this.viaCommands = true;
    this.w.noteCommandsFallback(this, why);
    this.phase = this.policy === 'replace' ? 'commands' : 'check';
    return 'again';
  }

  fail(message: string): void {
    this.finish({ kind: 'error', message });
  }

  private finish(o: Outcome): 'done' {
    if (!this.done) {
      this.done = true;
      this.payload = null;
      this.cmds = null;
      this.w.outcome(this, o);
    }
    return 'done';
  }
}

function commandName(cmds: Buffer[][] | null, i: number): string {
  if (i < 0) return 'MULTI';
  const c = cmds?.[i];
  return c ? c[0]!.toString('latin1') : 'EXEC';
}

// ---------------------------------------------------------------------------------------------
// the sink

export interface TargetWriterOptions {
  transport: Transport;
  info: TargetInfo;
  mode: ImportMode;
  onConflict: ConflictPolicy;
  stats: MigrationStats;
  log: OperationLog;
  ledger: LedgerWriter | null;
  /** Every key goes to this db (from --to-db or the URL's /db). */
  toDb: number | null;
  /** Drop hash field TTLs the target cannot hold instead of failing the key. */
  lossy: boolean;
  /** Stop (exit 1) after this many errors. */
  maxErrors: number | null;
  /**
   * Resume: true for a record an earlier run may have written without acknowledging it (ledger.ts
   * mayHaveBeenSent). Such a key is never overwritten; when it exists it is recorded "uncertain".
   */
  mayExist?: (offset: number) => boolean;
  /** Elements per variadic command in commands mode. */
  chunk?: number;
  /** Scrub secrets from messages. */
  scrub?: (s: string) => string;
}

export interface WriterCounters {
  keys: number;
  created: number;
  replaced: number;
  skipped: number;
  errors: number;
  empty: number;
  uncertain: number;
  restoreVerbatim: number;
  restoreConverted: number;
  commands: number;
  droppedFieldTtls: number;
  /** Keys not written at all under --lossy (a module the target lacks): counted losses, not errors. */
  lost: number;
  bytes: number;
}

/** `--on-conflict fail` met an existing key. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

/** The operator interrupted the run (SIGINT). */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
}

/** `--max-errors` errors reached. */
export class TooManyErrorsError extends Error {
  override readonly name = 'TooManyErrorsError';
}

/** An error every later key would hit too (OOM, READONLY, NOPERM, db refused by a cluster, module missing). */
export class RepeatingError extends Error {
  override readonly name = 'RepeatingError';
}

/**
 * The fast path: verbatim RESTOREs of many keys answered as one pending operation (no per-key objects).
 * Anything but OK / BUSYKEY for a key (redirects, retries, refusals) hands that key to a KeyUnit.
 */
class RestoreBatch implements OpenBatch {
  replies = 0;
  private readonly recs: KeyRecord[] = [];
  private readonly seqs: number[] = [];
  private existsReply: Reply = null;

  constructor(
    private readonly w: TargetWriter,
    readonly node: Node,
    readonly db: number,
    readonly replace: boolean,
  ) {}

  add(rec: KeyRecord, seq: number): void {
    this.recs.push(rec);
    this.seqs.push(seq);
    this.replies += this.replace ? 2 : 1;
  }

  onReply(r: Reply, i: number): void {
    if (this.replace) {
      if ((i & 1) === 0) {
        this.existsReply = r;
        return;
      }
      const k = i >> 1;
      const rec = this.recs[k]!;
      this.recs[k] = undefined as unknown as KeyRecord;
      this.w.batchReply(this, rec, this.seqs[k]!, this.existsReply, r);
      this.existsReply = null;
      return;
    }
    const rec = this.recs[i]!;
    this.recs[i] = undefined as unknown as KeyRecord;
    this.w.batchReply(this, rec, this.seqs[i]!, null, r);
  }
}

/** Window charge of a verbatim RESTORE (the same estimate when charged and released). */
function restoreBytes(rec: KeyRecord): number {
  return rec.payload.length + rec.key.length + 64;
}

export class TargetWriter implements Sink {
  readonly mode: ImportMode;
  readonly onConflict: ConflictPolicy;
  readonly cluster: boolean;
  /** Function libraries seen in the input and what became of them. */
  readonly functions: FunctionCounters = newFunctionCounters();
  readonly counters: WriterCounters = {
    keys: 0, created: 0, replaced: 0, skipped: 0, errors: 0, empty: 0, uncertain: 0,
    restoreVerbatim: 0, restoreConverted: 0, commands: 0, droppedFieldTtls: 0, lost: 0, bytes: 0,
  };
  /** What --lossy let go, per kind and named per key (encode/losses.ts, the one policy): the report's `lost`. */
  readonly losses = new LossTally();
  /**
   * Indices (< 1000) of received records the target acknowledged as written: the report lists only those
   * (a key skipped, failed, or still unanswered when the run stopped is not migrated).
   */
  private readonly written = new Set<number>();
  private readonly acks = new AckWindow();
  /** Errors by reason (the screen's grouping; exact counts). */
  readonly errors = new ErrorTally();
  private stop: Error | null = null;
  /** The shared per-key decision (restoreOk turns false once the target refused RESTORE). */
  private readonly ctx: PlanContext;
  private readonly scrub: (s: string) => string;
  private readonly replace: boolean;
  private fallbackLogged = 0;
  /** Input offset of the last key handed to the transport (what the ledger's `sent` mark covers). */
  private lastOffset = -1;
  private readonly mayExist: ((offset: number) => boolean) | null;

  constructor(private readonly o: TargetWriterOptions) {
    this.mode = o.mode;
    this.onConflict = o.onConflict;
    this.replace = o.onConflict === 'replace';
    this.cluster = o.transport.cluster;
    this.ctx = {
      info: o.info,
      flavor: targetFlavor(o.info),
      mode: o.mode,
      cluster: this.cluster,
      restoreOk: o.info.restoreCommand !== false && o.info.maxRdbVersion > 0,
      lossy: o.lossy,
    };
    this.scrub = o.scrub ?? ((s) => s);
    this.mayExist = o.mayExist ?? null;
    const ledger = o.ledger;
    if (ledger) {
      // Intent before bytes: the ledger's `sent` mark reaches the file before each socket write; a ledger
      // that cannot be written stops everything before anything more is sent.
      o.transport.beforeSend = () => ledger.sent(this.lastOffset);
      ledger.onFailure = (e) => {
        if (!this.stop) this.stop = e;
        o.transport.setFatal(e);
      };
    }
    if (!this.ctx.restoreOk && o.mode === 'auto') o.log.log('INFO', 'RESTORE is not available on the target: values go as commands');
  }

  /** False once the target refused RESTORE (renamed, ACL): everything after went as commands. */
  get restoreAvailable(): boolean {
    return this.ctx.restoreOk;
  }

  /** Stop submitting (the pipeline then aborts and the ledger records what is in flight). */
  interrupt(reason: string): void {
    if (!this.stop) this.stop = new InterruptedError(reason);
  }

  get transport(): Transport {
    return this.o.transport;
  }

  async writeBatch(records: readonly RdbRecord[]): Promise<void> {
    const t = this.o.transport;
    const ctx = this.ctx;
    const toDb = this.o.toDb;
    for (let i = 0; i < records.length; i++) {
      const rec = records[i]!;
      if (rec.kind !== 'key') {
        if (rec.kind === 'function' || rec.kind === 'function-pre-ga') {
          if (this.stop) throw this.stop;
          await loadFunction(rec, {
            transport: t,
            onConflict: this.onConflict,
            targetHasFunctions: targetHasFunctions(this.o.info),
            lossy: this.o.lossy,
            counters: this.functions,
            log: (level, msg) => this.o.log.log(level, this.scrub(msg)),
          });
        }
        continue;
      }
      if (this.stop) throw this.stop;
      const seq = this.acks.push(rec);
      this.counters.keys++;
      this.lastOffset = rec.offset;
      const db = toDb ?? rec.db;
      const recheck = this.mayExist !== null && this.mayExist(rec.offset);
      // Fast path: a verbatim RESTORE into the open batch of the key's node.
      if (!recheck && isVerbatim(rec, db, ctx)) {
        const slot = this.cluster ? keySlot(rec.key) : 0;
        let n = t.nodeForKey(slot);
        if (n !== null) {
          const bytes = restoreBytes(rec);
          while (!t.tryCharge(n, bytes)) {
            await t.waitForRoom(n, bytes);
            if (this.stop) throw this.stop;
            n = t.nodeForKey(slot);
            if (n === null) break;
          }
          if (n !== null) {
            t.selectDb(n, db);
            let b = n.openBatch as RestoreBatch | null;
            if (b === null) {
              b = new RestoreBatch(this, n, db, this.replace);
              n.openBatch = b;
              n.sock!.enqueue(b);
            }
            b.add(rec, seq);
            const out = n.sock!.out;
            if (this.replace) appendExists(out, rec.key);
            appendRestore(out, rec.key, rec.rdbType, rec.payload, footerVersion(rec, ctx.info.maxRdbVersion, ctx.flavor), rec.expireAtMs, this.replace, rec.idle, rec.idle === undefined ? rec.freq : undefined);
            t.maybeFlush(n);
            continue;
          }
        }
      }
      const unit = this.plan(rec, db, seq, recheck ? 'skip' : this.onConflict);
      if (unit === null) continue;
      const p = t.submit(unit);
      if (p) await p;
    }
    if (this.stop) throw this.stop;
    t.flushAll();
  }

  /** A reply for a batched key. */
  batchReply(b: RestoreBatch, rec: KeyRecord, seq: number, exists: Reply, r: Reply): void {
    const t = this.o.transport;
    if (r === 'OK' && (!b.replace || typeof exists === 'number')) {
      t.releaseKey(b.node, restoreBytes(rec));
      this.counters.restoreVerbatim++;
      this.finishKey(rec, b.db, seq, exists === 1 ? REPLACED : CREATED, rec.payload.length);
      return;
    }
    if (!b.replace && r instanceof ReplyError && r.code === 'BUSYKEY') {
      t.releaseKey(b.node, restoreBytes(rec));
      this.counters.restoreVerbatim++;
      this.finishKey(rec, b.db, seq, this.onConflict === 'fail' ? CONFLICT : SKIPPED, 0);
      return;
    }
    // Slow path: the key continues as a unit of its own (redirect, retry, fallback to commands, error).
    const u = new KeyUnit(this, rec, b.db, seq, 'restore', this.onConflict);
    u.rdbType = rec.rdbType;
    u.payload = rec.payload;
    u.version = footerVersion(rec, this.ctx.info.maxRdbVersion, this.ctx.flavor);
    u.bytes = restoreBytes(rec);
    t.adopt(u, b.node, u.bytes);
    u.replies = b.replace ? 2 : 1;
    t.completed(u, b.replace ? [exists, r] : [r]);
  }

  /** Build the unit for a key off the fast path (or finish it right away with an error). */
  private plan(rec: KeyRecord, db: number, seq: number, policy: ConflictPolicy): KeyUnit | null {
    const p = planKey(rec, db, this.ctx);
    if (p.kind === 'refused') return this.planFailed(db, rec, seq, this.scrub(p.reason));
    if (p.kind === 'lost') {
      this.finishKey(rec, db, seq, { kind: 'lost', losses: p.losses }, 0);
      return null;
    }
    const unit = new KeyUnit(this, rec, db, seq, 'restore', policy);
    if (p.kind === 'verbatim' || p.kind === 'converted') {
      unit.rdbType = p.rdbType;
      unit.payload = p.payload;
      unit.version = p.version;
      unit.converted = p.kind === 'converted';
      const lost = this.o.lossy ? restoreLosses(rec, this.ctx.info.maxRdbVersion, this.ctx.flavor) : [];
      if (p.kind === 'converted' && p.droppedFieldTtls) {
        this.counters.droppedFieldTtls += p.droppedFieldTtls;
        lost.push({ kind: 'hash_field_ttl', what: `${p.droppedFieldTtls} hash field TTLs` });
      }
      this.lossesOf(db, rec, lost, 'RESTORE');
      unit.bytes = unit.payload.length + unit.key.length + 64;
      return unit;
    }
    try {
      const value = rec.decode();
      if (isEmptyCollection(value)) return this.emptyDropped(db, rec, seq);
      unit.cmds = this.commandsFor(rec, value, policy === 'replace');
    } catch (e) {
      return this.planFailed(db, rec, seq, this.scrub((e as Error).message));
    }
    unit.viaCommands = true;
    unit.phase = policy === 'replace' ? 'commands' : 'check';
    unit.bytes = estimateCommandBytes(unit.cmds);
    return unit;
  }

  private planFailed(db: number, rec: KeyRecord, seq: number, msg: string): null {
    this.finishKey(rec, db, seq, { kind: 'error', message: msg }, 0);
    return null;
  }

  private emptyDropped(db: number, rec: KeyRecord, seq: number): null {
    this.finishKey(rec, db, seq, EMPTY, 0);
    return null;
  }

  /** The value as write commands (hash field TTLs dropped under --lossy when the target has no HPEXPIREAT). */
  commandsFor(rec: KeyRecord, value: Value, replace: boolean): Buffer[][] {
    // Also on a fallback from a refused RESTORE (the plan had promised RESTORE, so it did not check this).
    const tooBig = bulkRefusal(rec.key, value, this.o.info.protoMaxBulkLen);
    if (tooBig) throw new Error(tooBig);
    const r = buildValueCommands(rec.key, value, rec.expireAtMs, {
      replace,
      chunk: this.o.chunk ?? 1000,
      maxBytes: this.o.info.protoMaxBulkLen,
      fieldTtl: this.o.info.hashFieldTtl,
      lossy: this.o.lossy,
      target: { product: this.o.info.server, version: this.o.info.valkeyVersion ?? this.o.info.redisVersion },
    });
    const lost = commandLosses(r.losses);
    if (rec.keyMeta !== undefined) lost.unshift(keyMetaLoss(rec.keyMeta.length));
    if (r.droppedFieldTtls) {
      this.counters.droppedFieldTtls += r.droppedFieldTtls;
      lost.push({ kind: 'hash_field_ttl', what: `${r.droppedFieldTtls} hash field TTLs (the target has no HPEXPIREAT)` });
    }
    this.lossesOf(rec.db, rec, lost, 'commands');
    return r.commands;
  }

  /** Losses --lossy accepted for a key that is written: tallied, named per key in the report and the log. */
  private lossesOf(db: number, rec: KeyRecord, lost: readonly Loss[], path: string): void {
    if (lost.length === 0) return;
    this.losses.add(rec, lost);
    this.o.log.log('WARN', `db ${db} ${displayKey(rec.key)}: ${lost.map((l) => l.what).join(', ')} dropped (${path} cannot carry it; --lossy)`);
  }

  restoreRefused(msg: string): void {
    if (this.ctx.restoreOk) {
      this.ctx.restoreOk = false;
      this.o.log.log('WARN', `RESTORE refused by the target (${this.scrub(msg)}): switching to commands`);
    }
  }

  noteCommandsFallback(u: KeyUnit, why: string): void {
    if (this.fallbackLogged++ < 20) this.o.log.log('INFO', `db ${u.db} ${displayKey(u.key)}: as commands (${this.scrub(why)})`);
  }

  /**
   * Keys the target acknowledged as written (created or replaced): the report's migrated_successfully,
   * whatever stopped the run — the pipeline counted every key it handed over, sent or not.
   */
  get acknowledged(): number {
    return this.counters.created + this.counters.replaced;
  }

  /** Keys received whose fate is unknown (unsent or unanswered when the run stopped; in flight in the ledger). */
  get unanswered(): number {
    const c = this.counters;
    return c.keys - c.created - c.replaced - c.skipped - c.errors - c.empty - c.lost;
  }

  /** Count a failed key; true when it stopped the run as an error every later key would repeat. */
  private keyError(db: number, rec: KeyRecord, message: string): boolean {
    this.counters.errors++;
    const msg = this.scrub(message);
    this.o.stats.error(db, rec.key, msg);
    const name = displayKey(rec.key);
    this.o.log.log('ERROR', `db ${db} ${name}: ${msg}`);
    const reason = this.errors.add(db, name, msg);
    if (this.stop) return false;
    if (this.o.maxErrors !== null) {
      if (this.counters.errors >= this.o.maxErrors) this.stop = new TooManyErrorsError(`${this.o.maxErrors} errors (--max-errors): stopped`);
      return false;
    }
    // Without an error budget (--max-errors), trying every other key would only pile up the same refusal.
    if (!reason.repeats) return false;
    this.stop = new RepeatingError(`${reason.label} (db ${db} ${name}: ${msg})${reason.hint ? `; ${reason.hint}` : ''}`);
    return true;
  }

  /** Errors after a stop are not counted and their keys stay in flight (--resume retries them). */
  private errorsClosed(): boolean {
    return (this.o.maxErrors !== null && this.counters.errors >= this.o.maxErrors) || this.stop instanceof RepeatingError;
  }

  /** Called once per KeyUnit when it finished. */
  outcome(u: KeyUnit, o: Outcome): void {
    if (o.kind !== 'error' && o.kind !== 'empty' && o.kind !== 'conflict') {
      if (u.viaCommands) this.counters.commands++;
      else if (u.converted) this.counters.restoreConverted++;
      else this.counters.restoreVerbatim++;
    }
    this.finishKey(u.rec, u.db, u.index, o, u.bytes);
  }

  /** Stats, ledger and high-water mark for a finished key. */
  private finishKey(rec: KeyRecord, db: number, seq: number, o: Outcome, bytes: number): void {
    const c = this.counters;
    // --max-errors N stops at exactly N: a failure of a key still in flight after that is neither counted
    // nor marked done, so abort() records it in flight and --resume retries it.
    if ((o.kind === 'error' || o.kind === 'conflict') && this.errorsClosed()) return;
    const ledger = this.o.ledger;
    const key = rec.key;
    switch (o.kind) {
      case 'created':
      case 'replaced': {
        const existed = o.kind === 'replaced';
        c.bytes += bytes;
        if (seq < 1000) this.written.add(seq);
        if (existed) {
          c.replaced++;
          const uncertain = this.mayExist?.(rec.offset) === true;
          if (uncertain) c.uncertain++;
          ledger?.ack(rec.offset, db, key, false, ACK_REPLACED | (uncertain ? ACK_UNCERTAIN : 0));
        } else {
          c.created++;
          ledger?.ack(rec.offset, db, key, true);
        }
        break;
      }
      case 'skipped': {
        const uncertain = this.mayExist?.(rec.offset) === true;
        c.skipped++;
        if (uncertain) c.uncertain++;
        this.o.stats.skippedExisting++;
        ledger?.ack(rec.offset, db, key, false, uncertain ? ACK_UNCERTAIN : 0);
        break;
      }
      case 'lost':
        c.lost++;
        this.losses.add(rec, o.losses);
        this.o.log.log('WARN', `db ${db} ${displayKey(key)}: not written, ${o.losses.map((l) => l.what).join(', ')} (--lossy)`);
        break;
      case 'empty':
        c.empty++;
        this.o.log.log('WARN', `db ${db} ${displayKey(key)}: empty collection, not written (Redis refuses empty keys)`);
        break;
      case 'conflict':
        this.keyError(db, rec, 'the key exists in the target (--on-conflict fail)');
        if (!this.stop) this.stop = new ConflictError(`db ${db} ${displayKey(key)} exists in the target (--on-conflict fail): stopped`);
        break;
      case 'error':
        // The key that stopped the run is not done: the ledger keeps it in flight and --resume retries it.
        if (this.keyError(db, rec, o.message)) return;
        break;
    }
    const mark = this.acks.done(seq);
    if (mark >= 0 && ledger) ledger.hwm(mark);
  }

  async close(): Promise<void> {
    try {
      await this.o.transport.whenIdle();
    } finally {
      this.unhook();
    }
    if (this.stop) throw this.stop;
    await this.o.ledger?.flush(true);
  }

  /**
   * Every key is answered or given up: later commands on the transport (INFO keyspace, validate) are no
   * keys, so they need no `sent` mark — and once the ledger is closed that mark cannot be written, which
   * left such a command unsent forever when no key had been sent before (every key refused by the plan).
   */
  private unhook(): void {
    this.o.transport.beforeSend = null;
  }

  /**
   * The run failed: wait a little for in-flight replies (unless the connection is gone), then record what is
   * still unacknowledged as in flight in the ledger.
   */
  async abort(_err: unknown): Promise<void> {
    const t = this.o.transport;
    if (!t.fatal) {
      await Promise.race([t.whenIdle().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())]);
    }
    // One dead connection (a killed cluster master) leaves the others answering: cut them now, or their
    // replies would be acknowledged after the in-flight lines and the ledger's end (or lost once it is closed).
    if (t.fatal) t.destroy();
    const ledger = this.o.ledger;
    if (ledger) {
      for (const r of this.acks.pending()) ledger.inflight(r.offset, this.o.toDb ?? r.db, r.key);
      await ledger.flush(true).catch(() => undefined);
    }
    this.unhook();
  }

  /** Keys sent and not finished (progress). */
  get inflight(): number {
    return this.o.transport.inflight;
  }

  /** The report's migrated_keys: those of the pipeline's first 1000 the target acknowledged as written. */
  migratedKeys(list: ReadonlyArray<{ db: number; old_key: unknown; new_key: unknown; category: string | null }>): unknown[] {
    return list.filter((_, i) => this.written.has(i)).map((e) => ({ ...e, db: this.o.toDb ?? e.db }));
  }
}

function estimateCommandBytes(cmds: Buffer[][]): number {
  let n = 32;
  for (const c of cmds) {
    n += 16;
    for (const a of c) n += a.length + 16;
  }
  return n;
}

