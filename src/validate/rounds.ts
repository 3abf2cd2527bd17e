/**
 * `validate --rounds N`, as RedisFullCheck compares a target still being written to (a running sync, an
 * application at cut-over): round 1 compares every key; a key found different is compared again in the
 * next round, after a pause, and only keys still different after the last round are mismatches. Each
 * later round re-reads the input (streaming, as round 1 does) and compares only the keys the previous
 * round found different, held as digests (DigestKeyGuard, ~24 bytes a key), never as values.
 * The SCAN for unexplained target keys runs once, in round 1.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DigestKeyGuard } from '../pipeline/key-guard.js';
import { MigrationStats } from '../pipeline/stats.js';
import type { OpenedInput } from '../sources/open.js';
import type { ValidateInputOptions } from '../commands/validate.js';
import type { ValidationResult } from './validate.js';

export interface RoundInfo {
  round: number;
  /** Keys compared in this round (round 1: all; later: the ones the previous round found different). */
  compared: number;
  /** Of those, found different (re-compared in the next round, if any). */
  different: number;
  /** Keys the previous round found different that this round's input pass no longer yielded. */
  not_rechecked?: number;
  /** Pause before this round (ms). */
  pause_ms?: number;
}

export interface RoundsOptions extends ValidateInputOptions {
  rounds: number;
  pauseMs: number;
  /** A fresh pass over the same input for each later round. */
  reopen: () => Promise<OpenedInput>;
  /** One validation pass (commands/validate.ts validateInput), passed in so this module does not import it back. */
  pass: (o: ValidateInputOptions) => Promise<ValidationResult>;
  /** After each round but the last that found differences, before the pause (progress lines, tests). */
  onRound?: (info: RoundInfo) => void | Promise<void>;
}

/** The kinds a later round re-compares: a key found different, not an unexplained or not-imported one. */
const RECHECKED = new Set(['missing', 'type', 'value', 'ttl', 'error']);

export async function validateRounds(o: RoundsOptions): Promise<ValidationResult & { rounds: RoundInfo[] }> {
  let pending = new DigestKeyGuard();
  let pendingCount = 0;
  const collect = (kind: string, db: number, key: Buffer): void => {
    if (!RECHECKED.has(kind)) return;
    pending.add(db, key);
    pendingCount++;
  };
  const first = await o.pass({ ...o, onDiffer: collect });
  const rounds: RoundInfo[] = [{ round: 1, compared: first.checked, different: pendingCount }];
  const final: ValidationResult & { rounds: RoundInfo[] } = { ...first, rounds };
  let last: ValidationResult = first;
  for (let round = 2; round <= o.rounds && pendingCount > 0; round++) {
    await o.onRound?.(rounds[rounds.length - 1]!);
    await sleep(o.pauseMs);
    const previous = pending;
    const previousCount = pendingCount;
    pending = new DigestKeyGuard();
    pendingCount = 0;
    // Test-and-add is a lookup here: each input key is seen once per pass.
    const r = await o.pass({
      ...o,
      input: await o.reopen(),
      // This pass's pipeline counters are not the input's (round 1 counted it): keep them apart.
      stats: new MigrationStats(),
      sample: 1,
      noScan: true,
      only: (db, key) => previous.add(db, key),
      onDiffer: collect,
    });
    rounds.push({ round, compared: r.checked, different: pendingCount, pause_ms: o.pauseMs, ...(r.checked < previousCount ? { not_rechecked: previousCount - r.checked } : {}) });
    final.matched += r.matched;
    final.expired_meanwhile += r.expired_meanwhile;
    final.digest_compared += r.digest_compared;
    final.seconds += r.seconds;
    last = r;
  }
  if (last !== first) {
    // The differences are the last round's; the unexplained keys (round 1's scan) stay.
    final.missing = last.missing;
    final.type_mismatch = last.type_mismatch;
    final.value_mismatch = last.value_mismatch;
    final.ttl_mismatch = last.ttl_mismatch;
    final.read_errors = last.read_errors;
    final.mismatched = last.mismatched + first.unexplained_keys;
    final.mismatches = [...last.mismatches, ...first.mismatches.filter((m) => m.kind === 'unexplained')];
    final.mismatches_listed = final.mismatches.length;
  }
  return final;
}
