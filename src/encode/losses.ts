/**
 * The one policy for what an output cannot carry (key metadata on paths without KEY_META, stream IDMP
 * state below stream v4, a module value for a server without that module, …): nothing is lost in silence.
 *
 *  - without `lossy` the key is refused: it is not written, the sink reports it refused (sinks/sink.ts KeyOutcomes)
 *    (the command counts it as an error and exits 1), naming the key and what could not be carried;
 *  - with `lossy` the key is written without the part (or skipped when nothing of it can be written),
 *    the loss is counted per kind and named per key in the sink's stats (the report) and through `onLoss`.
 */
import type { KeyRecord } from '../records/types.js';
import type { CommandLoss } from './value-commands.js';
import { displayKey, toPrintable } from '../records/printable.js';

/** What a path dropped from one key. */
export interface Loss {
  /** Stable kind, used as the counter name: `key_meta`, `stream_idmp`, `module`, … */
  kind: string;
  /** Human text for messages, e.g. `key metadata (KEY_META, 12 bytes)`. */
  what: string;
}

/** A key refused because the output cannot carry part of it and `lossy` is off. */
export class KeyLossError extends Error {
  override readonly name = 'KeyLossError';
  constructor(message: string, readonly losses: readonly Loss[]) {
    super(message);
  }
}

const MAX_LISTED = 1000;

/** Counters per kind and a bounded per-key list, for the report. */
export class LossTally {
  readonly byKind: Record<string, number> = {};
  readonly keys: Array<{ db: number; key: unknown; lost: string[] }> = [];
  total = 0;

  add(rec: KeyRecord, losses: readonly Loss[]): void {
    for (const l of losses) this.byKind[l.kind] = (this.byKind[l.kind] ?? 0) + 1;
    this.total++;
    if (this.keys.length < MAX_LISTED) this.keys.push({ db: rec.db, key: toPrintable(rec.key), lost: losses.map((l) => l.what) });
  }

  toJSON(): { total_keys: number; by_kind: Record<string, number>; keys: Array<{ db: number; key: unknown; lost: string[] }> } {
    return { total_keys: this.total, by_kind: this.byKind, keys: this.keys };
  }
}

export interface LossOptions {
  lossy?: boolean;
  /** Called once per key written (or skipped) with losses under `lossy`. */
  onLoss?: (rec: KeyRecord, message: string) => void;
}

/** Short label of a key for messages. */
export function keyText(key: Buffer): string {
  const s = displayKey(key);
  return s.length > 120 ? s.slice(0, 117) + '...' : s;
}

/** The error that refuses `rec` because `where` cannot carry `losses` (what applyLossPolicy throws). */
export function lossRefusal(rec: KeyRecord, losses: readonly Loss[], where: string): KeyLossError {
  const list = losses.map((l) => l.what).join(', ');
  return new KeyLossError(`key ${keyText(rec.key)}: ${where} cannot carry its ${list}; the key was not written (--lossy writes it without them)`, losses);
}

/**
 * Apply the policy to `losses` of `rec` bound for `where` (e.g. `RDB 12`): returns normally when the key
 * may be written (no loss, or `lossy`: tallied and reported), throws KeyLossError otherwise.
 */
export function applyLossPolicy(rec: KeyRecord, losses: readonly Loss[], where: string, opts: LossOptions, tally: LossTally): void {
  if (losses.length === 0) return;
  const list = losses.map((l) => l.what).join(', ');
  if (!opts.lossy) throw lossRefusal(rec, losses, where);
  tally.add(rec, losses);
  opts.onLoss?.(rec, `key ${keyText(rec.key)}: ${list} dropped (${where} cannot carry it; --lossy)`);
}

/**
 * Losses of a command path (value-commands.ts) in this policy's terms. Consumer seen/active times are left
 * out: no command sets them on any server, so they are a property of every command path, said once in the
 * README, not a loss of one target.
 */
export function commandLosses(losses: readonly CommandLoss[]): Loss[] {
  return losses.filter((l) => l.kind !== 'consumer-times').map((l) => ({ kind: l.kind.replace(/-/g, '_'), what: l.detail }));
}
