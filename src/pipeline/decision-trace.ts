/**
 * --verbose: each key's decision as one line on stderr (`db 0 old -> db 2 new: renamed (rule x)`),
 * the same words for transform, import, validate and analyze's migration preview.
 */
import { displayKey } from '../records/printable.js';
import { trace } from '../report/verbosity.js';
import type { KeyDecision } from './key-decision.js';

/** One line: the key, where it goes when that differs, and what happens to it. */
export function tellKey(rec: { db: number; key: Buffer }, what: string, to?: { db: number; key: Buffer }): void {
  const dest = to === undefined || (to.db === rec.db && to.key.equals(rec.key)) ? '' : ` -> ${to.db === rec.db ? '' : `db ${to.db} `}${displayKey(to.key)}`;
  trace(`db ${rec.db} ${displayKey(rec.key)}${dest}: ${what}`);
}

/** Why, in brackets: the rule, or that none matched. */
export function decidedBy(d: KeyDecision, hasRules: boolean): string {
  const c = d.kind === 'keep' || d.kind === 'expired' || d.kind === 'rename-error' ? d.classification : null;
  return c !== null ? `rule ${c.rule}` : hasRules ? 'no rule matches' : 'no rules';
}

/** The rules-and-expiry decision (decideKey's result) as a line. */
export function tellDecision(rec: { db: number; key: Buffer; expireAtMs: number | null }, d: KeyDecision, hasRules: boolean): void {
  if (d.kind === 'unmatched-drop' || d.kind === 'unmatched-error') {
    tellKey(rec, `no rule matches, ${d.kind === 'unmatched-drop' ? 'dropped (unmatched: drop)' : 'an error (unmatched: error)'}`);
  } else if (d.kind === 'rename-error') {
    tellKey(rec, `an error: ${d.message} (${decidedBy(d, hasRules)})`);
  } else if (d.kind === 'expired') {
    tellKey(rec, `expired at ${new Date(d.expireAtMs).toISOString()}, dropped (${decidedBy(d, hasRules)})`, d);
  } else {
    const ttl = d.ttlChanged ? `; TTL ${d.expireAtMs === null ? 'removed' : `now ${new Date(d.expireAtMs).toISOString()}`}` : '';
    tellKey(rec, `${d.renamed || d.db !== rec.db ? 'renamed' : 'kept'} (${decidedBy(d, hasRules)}${ttl})`, d);
  }
}
