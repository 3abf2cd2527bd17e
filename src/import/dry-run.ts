/**
 * The dry run's sink: nothing is written to the target. For every key it checks, pipelined, whether the
 * target already holds the (renamed) key (EXISTS through the same slot-aware transport the import uses),
 * and works out how the live run would send it (RESTORE verbatim, RESTORE of a down-converted payload,
 * or commands), so the plan shows conflicts, paths and the estimated size before anything happens.
 */
import type { KeyRecord, RdbRecord } from '../records/types.js';
import type { Sink } from '../sinks/sink.js';
import type { MigrationStats } from '../pipeline/stats.js';
import type { ByteWriter } from '../encode/rdb-primitives.js';
import { appendAsking, appendExists } from '../encode/resp.js';
import { toPrintable } from '../records/printable.js';
import { ReplyError, type Reply } from '../redis/resp-socket.js';
import { Transport, Unit } from '../redis/transport.js';
import type { TargetInfo } from '../redis/server-info.js';
import { keySlot } from '../redis/slot.js';
import type { ConflictPolicy } from './restore-writer.js';
import { planKey, targetFlavor, type ImportMode, type PlanContext } from './key-plan.js';
import { functionCode, libraryName, type FunctionRecord } from './function-loader.js';
import { targetHasFunctions } from '../redis/server-versions.js';
import { dbTablesMemory, estimateKeyMemory } from '../analyze/memory.js';
import { ErrorTally } from './error-reasons.js';
import { displayKey } from '../records/printable.js';

class ExistsUnit extends Unit {
  private asked = false;
  constructor(
    private readonly sink: DryRunSink,
    db: number,
    key: Buffer,
    slot: number,
    readonly index: number,
    /** What the key would take in the target's memory (analyze's model), and whether it has a TTL. */
    readonly memory: number,
    readonly ttl: boolean,
  ) {
    super(db, key, slot);
    this.bytes = key.length + 32;
  }

  write(out: ByteWriter, asking: boolean): number {
    this.asked = asking;
    if (asking) appendAsking(out);
    appendExists(out, this.key);
    return asking ? 2 : 1;
  }

  settle(replies: Reply[]): 'done' {
    const r = replies[this.asked ? 1 : 0];
    if (r instanceof ReplyError) this.sink.failed(this, r.message);
    else this.sink.checked(this, r === 1);
    return 'done';
  }

  fail(message: string): void {
    this.sink.failed(this, message);
  }
}

export interface DryRunOptions {
  transport: Transport;
  info: TargetInfo;
  mode: ImportMode;
  onConflict: ConflictPolicy;
  stats: MigrationStats;
  toDb: number | null;
  lossy?: boolean;
}

export interface DryRunPlan {
  keys: number;
  /** Keys already in the target under their (new) names. */
  existing: number;
  existing_samples: unknown[];
  /** How the live run would send the keys (the same per-key plan it uses: key-plan.ts). */
  restore_verbatim: number;
  restore_converted: number;
  commands: number;
  /** Keys the live run would refuse (db > 0 on a cluster, db beyond `databases`, no possible RESTORE in restore mode). */
  refused: number;
  /** Under --lossy, keys the target cannot hold at all (a module it lacks): counted losses, not written. */
  lost: number;
  refused_samples: Array<{ db: number; key: unknown; reason: string }>;
  /** Key + serialized value bytes (the RDB form). */
  serialized_bytes: number;
  /**
   * What the keys the live run would write take in the target's memory: analyze's per-key model
   * (estimateKeyMemory) plus each db's keyspace and expires bucket arrays (dbTablesMemory).
   */
  memory_bytes: number;
  by_db: Record<string, number>;
  exists_errors: number;
  /** Function libraries in the input: would load, already in the target, cannot be imported (no functions). */
  functions: { libraries: number; would_load: number; already_there: number; cannot_import: number };
}

export class DryRunSink implements Sink {
  readonly plan: DryRunPlan = {
    keys: 0, existing: 0, existing_samples: [], restore_verbatim: 0, restore_converted: 0, commands: 0,
    refused: 0, lost: 0, refused_samples: [], serialized_bytes: 0, memory_bytes: 0, by_db: {}, exists_errors: 0, functions: { libraries: 0, would_load: 0, already_there: 0, cannot_import: 0 },
  };
  private readonly ctx: PlanContext;
  private received = 0;
  /** Refusals and failed checks by reason (what the live run would report as errors). */
  readonly errors = new ErrorTally();
  /** Keys the live run would write, their memory and TTLs per db (keys already there under skip leave). */
  private keysMemory = 0;
  private readonly toWrite = new Map<number, { keys: number; expires: number }>();
  /** Indices (< 1000) of records that the live run would not write (existing under skip, refused). */
  readonly notWritten = new Set<number>();

  constructor(private readonly o: DryRunOptions) {
    this.ctx = {
      info: o.info,
      flavor: targetFlavor(o.info),
      mode: o.mode,
      cluster: o.transport.cluster,
      restoreOk: o.info.restoreCommand !== false && o.info.maxRdbVersion > 0,
      lossy: o.lossy ?? false,
    };
  }

  /** Read-only: FUNCTION LIST LIBRARYNAME on the first master tells whether the library is there. */
  private async planFunction(rec: FunctionRecord): Promise<void> {
    const f = this.plan.functions;
    f.libraries++;
    if (!targetHasFunctions(this.o.info)) {
      f.cannot_import++;
      return;
    }
    const name = libraryName(functionCode(rec));
    const n = this.o.transport.masters[0];
    let exists = false;
    if (n?.sock) {
      n.openBatch = null;
      const r = await n.sock.call(['FUNCTION', 'LIST', 'LIBRARYNAME', name]);
      // LIBRARYNAME is a pattern: only an exact name counts.
      exists = Array.isArray(r) && r.some((lib) => Array.isArray(lib) && lib.some((x, i) => i > 0 && String(lib[i - 1]) === 'library_name' && String(x) === name));
    }
    if (exists) f.already_there++;
    else f.would_load++;
  }

  async writeBatch(records: readonly RdbRecord[]): Promise<void> {
    const t = this.o.transport;
    for (const rec of records) {
      if (rec.kind !== 'key') {
        if (rec.kind === 'function' || rec.kind === 'function-pre-ga') await this.planFunction(rec);
        continue;
      }
      const index = this.received++;
      const db = this.o.toDb ?? rec.db;
      const p = this.plan;
      p.keys++;
      p.by_db[db] = (p.by_db[db] ?? 0) + 1;
      p.serialized_bytes += rec.key.length + safePayloadLength(rec);
      const plan = planKey(rec, db, this.ctx);
      if (plan.kind === 'refused') {
        p.refused++;
        this.notWrittenAt(index);
        this.o.stats.error(db, rec.key, plan.reason);
        this.errors.add(db, displayKey(rec.key), plan.reason);
        if (p.refused_samples.length < 20) p.refused_samples.push({ db, key: toPrintable(rec.key), reason: plan.reason });
        continue;
      }
      if (plan.kind === 'lost') {
        p.lost++;
        this.notWrittenAt(index);
        continue;
      }
      if (plan.kind === 'verbatim') p.restore_verbatim++;
      else if (plan.kind === 'converted') p.restore_converted++;
      else p.commands++;
      const u = new ExistsUnit(this, db, rec.key, t.cluster ? keySlot(rec.key) : 0, index, estimateKeyMemory(rec).total, rec.expireAtMs !== null);
      this.counted(u, 1);
      const w = t.submit(u);
      if (w) await w;
    }
    t.flushAll();
  }

  private notWrittenAt(index: number): void {
    this.o.stats.migratedSuccessfully--;
    if (index < 1000) this.notWritten.add(index);
  }

  checked(u: ExistsUnit, exists: boolean): void {
    if (!exists) return;
    const p = this.plan;
    p.existing++;
    if (p.existing_samples.length < 20) p.existing_samples.push({ db: u.db, key: toPrintable(u.key) });
    if (this.o.onConflict !== 'replace') {
      this.counted(u, -1);
      this.notWrittenAt(u.index);
      this.o.stats.skippedExisting++;
    }
  }

  failed(u: ExistsUnit, message: string): void {
    this.plan.exists_errors++;
    this.o.stats.error(u.db, u.key, `EXISTS: ${message}`);
    this.errors.add(u.db, displayKey(u.key), `EXISTS: ${message}`);
    this.counted(u, -1);
    this.notWrittenAt(u.index);
  }

  /** Add (+1) or take back (-1) a key the live run would write. */
  private counted(u: ExistsUnit, sign: 1 | -1): void {
    this.keysMemory += sign * u.memory;
    let d = this.toWrite.get(u.db);
    if (!d) this.toWrite.set(u.db, (d = { keys: 0, expires: 0 }));
    d.keys += sign;
    if (u.ttl) d.expires += sign;
  }

  async close(): Promise<void> {
    await this.o.transport.whenIdle();
    let tables = 0;
    for (const d of this.toWrite.values()) tables += dbTablesMemory(d.keys, d.expires);
    this.plan.memory_bytes = this.keysMemory + tables;
  }

  async abort(): Promise<void> {
    /* nothing written */
  }

  migratedKeys(list: ReadonlyArray<{ db: number; old_key: unknown; new_key: unknown; category: string | null }>): unknown[] {
    return list.filter((_, i) => !this.notWritten.has(i)).map((e) => ({ ...e, db: this.o.toDb ?? e.db }));
  }
}

function safePayloadLength(rec: KeyRecord): number {
  try {
    return rec.payload.length;
  } catch {
    return 0;
  }
}
