/**
 * `transform --split-by-slots`: one RDB per master of a cluster plan (split-by-slots-plan.ts), each key
 * in the file of the master that owns its hash slot (keySlot: CRC16 with hash tags, cluster.c
 * keyHashSlot), so every file is what that master loads. Records that every master needs (header, AUX,
 * function libraries, module AUX) go to every file; a slot-info record goes to the owner of its slot.
 *
 * A cluster has only db 0 (cluster.c verifyClusterConfigWithData refuses to start with keys in another
 * db), so a key in db ≠ 0 cannot be carried: refused and named, or under `--lossy` skipped and counted
 * (encode/losses.ts). A key whose slot no master of the plan serves is refused and named.
 *
 * Outputs: `-o base.rdb` writes `base-<i>.rdb` for master i in slot order. Each file is atomic; if any
 * fails, the others are aborted, and the ones already finished are removed.
 */
import { unlink } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { KeyRecord, RdbRecord } from '../records/types.js';
import { keySlot } from '../redis/slot.js';
import { RekeyUsageError } from '../errors.js';
import { applyLossPolicy, KeyLossError, LossTally } from '../encode/losses.js';
import { checkOutputPath } from '../io/atomic-file.js';
import { RdbSink, type RdbSinkOptions, type RdbSinkStats } from './rdb-sink.js';
import type { KeyOutcomes, Sink } from './sink.js';
import { NO_OWNER, planJson, type SplitPlan } from './split-by-slots-plan.js';

export interface SplitSinkOptions extends Omit<RdbSinkOptions, 'path'> {
  /** `-o`: the base name; master i's file is `<base>-<i><ext>`. */
  output: string;
  plan: SplitPlan;
  /** Inputs, so no output overwrites one. */
  inputs?: readonly string[];
}

/** The output file of master `i` for `-o base.rdb`. */
export function splitPath(output: string, i: number): string {
  const ext = extname(output) || '.rdb';
  return join(dirname(output), `${basename(output, extname(output))}-${i}${ext}`);
}

export class SplitBySlotsSink implements Sink {
  readonly paths: string[];
  private readonly sinks: RdbSink[];
  private readonly lost = new LossTally();
  private refused = 0;

  constructor(private readonly o: SplitSinkOptions) {
    if (o.output === '-') throw new RekeyUsageError('--split-by-slots writes one file per master: give -o base.rdb, not -');
    this.paths = o.plan.owners.map((_, i) => splitPath(o.output, i));
    for (const p of this.paths) checkOutputPath(p, o.inputs ?? []);
    const { output: _o, plan: _p, inputs: _i, ...rdb } = o;
    this.sinks = this.paths.map((path) => new RdbSink({ ...rdb, path }));
  }

  /** A key no file can hold: told to `outcomes` (or thrown), or under lossy counted and skipped. */
  private refuse(rec: KeyRecord, kind: string, what: string, outcomes: KeyOutcomes | undefined): void {
    try {
      applyLossPolicy(rec, [{ kind, what }], 'a cluster master', this.o, this.lost);
    } catch (e) {
      if (!(e instanceof KeyLossError) || !outcomes) throw e;
      this.refused++;
      outcomes.refused(rec, e);
    }
  }

  async writeBatch(records: readonly RdbRecord[], outcomes?: KeyOutcomes): Promise<void> {
    const per: RdbRecord[][] = this.sinks.map(() => []);
    const { ownerOf } = this.o.plan;
    for (const r of records) {
      if (r.kind === 'key') {
        if (r.db !== 0) {
          this.refuse(r, 'cluster_db', `db ${r.db} (a cluster has only db 0; a rule's to_db: 0 moves it)`, outcomes);
          continue;
        }
        const slot = keySlot(r.key);
        const owner = ownerOf[slot]!;
        if (owner === NO_OWNER) {
          this.refuse(r, 'unserved_slot', `slot ${slot} (no master of ${this.o.plan.source} serves it)`, outcomes);
          continue;
        }
        per[owner]!.push(r);
      } else if (r.kind === 'slot-info') {
        const owner = ownerOf[r.slot] ?? NO_OWNER;
        if (owner !== NO_OWNER) per[owner]!.push(r);
      } else {
        for (const p of per) p.push(r);
      }
    }
    for (let i = 0; i < this.sinks.length; i++) if (per[i]!.length > 0) await this.sinks[i]!.writeBatch(per[i]!, outcomes);
  }

  async close(): Promise<void> {
    const done: string[] = [];
    try {
      for (let i = 0; i < this.sinks.length; i++) {
        await this.sinks[i]!.close();
        done.push(this.paths[i]!);
      }
    } catch (e) {
      for (let i = done.length + 1; i < this.sinks.length; i++) await this.sinks[i]!.abort(e).catch(() => undefined);
      for (const p of done) await unlink(p).catch(() => undefined);
      throw e;
    }
  }

  async abort(err: unknown): Promise<void> {
    for (const s of this.sinks) await s.abort(err).catch(() => undefined);
  }

  get rdbVersion(): number {
    return this.sinks[0]?.rdbVersion ?? 0;
  }

  /** The files' stats summed (functions and metadata go to every file: counted once), for the report. */
  get stats(): RdbSinkStats {
    const all = this.sinks.map((s) => s.stats);
    const lost = new LossTally();
    for (const t of [this.lost, ...all.map((s) => s.lost)]) {
      lost.total += t.total;
      for (const [k, n] of Object.entries(t.byKind)) lost.byKind[k] = (lost.byKind[k] ?? 0) + n;
      for (const k of t.keys) if (lost.keys.length < 1000) lost.keys.push(k);
    }
    const perDb: RdbSinkStats['perDb'] = {};
    for (const s of all) {
      for (const [db, c] of Object.entries(s.perDb)) {
        const x = (perDb[Number(db)] ??= { keys: 0, expires: 0 });
        x.keys += c.keys;
        x.expires += c.expires;
      }
    }
    const sum = (f: (s: RdbSinkStats) => number): number => all.reduce((n, s) => n + f(s), 0);
    return {
      keys: sum((s) => s.keys),
      perDb,
      droppedMeta: Math.max(0, ...all.map((s) => s.droppedMeta)),
      functionsDropped: Math.max(0, ...all.map((s) => s.functionsDropped)),
      convertedKeys: sum((s) => s.convertedKeys),
      droppedFieldTtls: sum((s) => s.droppedFieldTtls),
      skippedKeys: sum((s) => s.skippedKeys) + this.refused,
      lost,
    };
  }

  /** Per master: its file, address, slots and keys written. */
  report(): { plan: ReturnType<typeof planJson>; files: Array<{ path: string; master: string; slots: string; keys: number }> } {
    const plan = planJson(this.o.plan);
    return { plan, files: this.paths.map((path, i) => ({ path, master: plan.masters[i]!.name, slots: plan.masters[i]!.slots, keys: this.sinks[i]!.stats.keys })) };
  }
}
