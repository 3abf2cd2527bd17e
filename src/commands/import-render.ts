/**
 * `rekey import`, part 3: what the operator reads — the dry run's plan and the live run's summary on
 * stderr (the JSON report is written by the run).
 */
import type { LossTally } from '../encode/losses.js';
import type { FunctionCounters } from '../import/function-loader.js';
import type { MigrationStats } from '../pipeline/stats.js';
import type { TargetSession } from '../redis/session.js';
import type { DryRunPlan } from '../import/dry-run.js';
import type { ConflictPolicy, WriterCounters } from '../import/restore-writer.js';
import type { ValidationResult } from '../validate/validate.js';
import type { ErrorGroup } from '../import/error-reasons.js';
import { humanBytes, note } from './common.js';
import { printValidation } from './validate.js';

export interface DryRunView {
  inputName: string;
  targetLine: string;
  plan: DryRunPlan;
  /** Keys the ledger had done already (resume), or null. */
  resumeSkipped: number | null;
  onConflict: ConflictPolicy;
  estimate: number;
  headroom: number | null;
  /** How much more memory the import needs than the target has left (0: it fits). */
  shortBy: number;
  stats: MigrationStats;
  /** Refusals (and failed EXISTS checks) by reason. */
  errors: ErrorGroup[];
  reportPath: string;
}

export function renderDryRun(v: DryRunView): void {
  const p = v.plan;
  const { stats } = v;
  note(`rekey import (DRY RUN, nothing written): ${v.inputName} -> ${v.targetLine}`);
  note(`  keys to import: ${p.keys}${v.resumeSkipped !== null ? ` (${v.resumeSkipped} already done per the ledger)` : ''}; already in the target: ${p.existing} (${v.onConflict === 'skip' ? 'would be skipped' : v.onConflict === 'replace' ? 'would be replaced' : 'the live run would stop at the first'})`);
  note(`  as RESTORE: ${p.restore_verbatim}; RESTORE of converted payloads: ${p.restore_converted}; as commands: ${p.commands}${p.refused ? `; refused: ${p.refused}` : ''}${p.lost ? `; lost (--lossy, not written): ${p.lost}` : ''}`);
  errorLines(v.errors, true);
  note(`  size: ${humanBytes(p.serialized_bytes)} serialized, ≈ ${humanBytes(v.estimate)} in memory` + (v.headroom !== null ? `; headroom ${humanBytes(Math.max(0, v.headroom))}${v.shortBy > 0 ? ` — DOES NOT FIT: ${humanBytes(v.shortBy)} short (raise maxmemory or free memory)` : ''}` : '; no maxmemory set'));
  if (stats.unmatchedKeys) note(`  unmatched: ${stats.unmatchedKeys}${stats.unmatchedDropped ? ` (${stats.unmatchedDropped} dropped)` : ' (kept)'}`);
  if (stats.expiredDropped) note(`  expired (would be dropped): ${stats.expiredDropped}`);
  if (stats.collisions) note(collisionLine(stats, 'would be dropped'));
  const fl = p.functions;
  if (fl.libraries > 0) {
    note(`  function libraries: ${fl.libraries} (would load: ${fl.would_load}; already in the target: ${fl.already_there}${fl.cannot_import ? `; CANNOT be imported, the target has no functions: ${fl.cannot_import}` : ''})`);
  }
  for (const [cat, n] of stats.perCategory) note(`  category ${cat}: ${n}`);
  note(`  report: ${v.reportPath}`);
  note('  run again with --live to import');
}

export interface LiveView {
  inputName: string;
  functions: FunctionCounters;
  display: string;
  counters: WriterCounters;
  seconds: number;
  resumeLedger: string | null;
  resumeSkipped: number;
  stats: MigrationStats;
  /** Why the run stopped early (scrubbed), or null. */
  stopped: string | null;
  /** Keys received but not answered when the run stopped (not counted as written). */
  unanswered: number;
  /** Failed keys by reason. */
  errors: ErrorGroup[];
  validation: (ValidationResult & { performed: true }) | { performed: false; reason: string };
  ledgerPath: string;
  reportPath: string;
  /** What --lossy let go (the writer's tally). */
  losses: LossTally;
}

export function renderLive(v: LiveView): void {
  const c = v.counters;
  const { stats } = v;
  const written = c.created + c.replaced;
  note(`rekey import: ${v.inputName} -> ${v.display}: ${written} written (${c.created} created${c.replaced ? `, ${c.replaced} replaced` : ''}), ${c.skipped} already there (skipped), ${c.errors} errors in ${v.seconds.toFixed(2)}s`);
  if (v.resumeLedger !== null) note(`  resumed: ${v.resumeSkipped} input keys were already done per ${v.resumeLedger}`);
  errorLines(v.errors, false);
  if (c.commands || c.restoreConverted) note(`  as RESTORE: ${c.restoreVerbatim}, RESTORE of converted payloads: ${c.restoreConverted}, as commands: ${c.commands}`);
  if (stats.expiredDropped) note(`  expired (dropped): ${stats.expiredDropped}`);
  if (stats.collisions) note(collisionLine(stats, 'dropped'));
  if (stats.unmatchedKeys) note(`  unmatched: ${stats.unmatchedKeys}${stats.unmatchedDropped ? ` (${stats.unmatchedDropped} dropped)` : ' (kept)'}`);
  if (v.losses.total) note(`  lost (--lossy): ${v.losses.total} keys (${Object.entries(v.losses.byKind).map(([k, n]) => `${k}: ${n}`).join(', ')}; ${c.lost} of them not written), named in the report`);
  if (c.empty + stats.emptyDropped) note(`  empty collections (not written): ${c.empty + stats.emptyDropped}`);
  const f = v.functions;
  if (f.libraries.length > 0) {
    note(`  function libraries: ${f.loaded} loaded, ${f.skippedExisting} already there (skipped), ${f.errors} errors${f.lost ? `, ${f.lost} NOT IMPORTED (the target has no functions)` : ''}`);
    for (const l of f.libraries) if (l.message) note(`    ${l.message}`);
  }
  if (c.uncertain) note(`  keys written by the interrupted run or already there (uncertain, see the ledger): ${c.uncertain}`);
  for (const [cat, n] of stats.perCategory) note(`  category ${cat}: ${n}`);
  if (v.stopped !== null) note(`  STOPPED: ${v.stopped}${v.unanswered ? ` (${v.unanswered} keys unanswered, not counted as written)` : ''}; continue with --resume ${v.ledgerPath}`);
  if (v.validation.performed) printValidation(v.validation);
  note(`  ledger: ${v.ledgerPath}`);
  note(`  report: ${v.reportPath}`);
}

/**
 * Errors grouped by reason, with a count, a sample key and what to do: one line each instead of a bare
 * count (the report keeps the per-key list).
 */
function errorLines(groups: readonly ErrorGroup[], dry: boolean): void {
  const verb = dry ? 'would fail' : 'failed';
  if (groups.length === 0) return;
  const total = groups.reduce((n, g) => n + g.count, 0);
  note(`  errors: ${total} keys ${verb}, by reason (per key in the report's error_keys${total > 1000 ? ', the first 1000' : ''}):`);
  for (const g of groups) {
    const s = g.sample;
    const stops = dry && g.reason.repeats ? ' (the live run stops at the first)' : '';
    note(`    ${g.count} × ${g.reason.label}${stops}${g.reason.hint ? ` — ${g.reason.hint}` : ''}`);
    note(`        e.g. db ${s.db} ${s.key}: ${s.error}`);
  }
}

/** Two input keys landed on one (db, name): the later ones are not written; the report names them. */
function collisionLine(stats: MigrationStats, verb: string): string {
  return `  collisions: ${stats.collisions} (later keys ${verb}; --on-collision fail to stop)`;
}

export function targetReport(s: TargetSession): Record<string, unknown> {
  return {
    url: s.spec.display,
    server: s.info.server,
    version: s.info.valkeyVersion ?? s.info.redisVersion,
    max_rdb_version: s.info.maxRdbVersion,
    profile: s.info.profile ?? null,
    cluster: s.cluster,
    masters: s.masters,
    keys_before: s.keysBefore,
    restore_available: s.info.restoreCommand !== false,
    proto_max_bulk_len: s.info.protoMaxBulkLen,
  };
}

