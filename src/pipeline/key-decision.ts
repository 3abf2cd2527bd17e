/**
 * The one per-key decision every command shares — rules (classify + rename + to_db + ttl policy), then
 * expiry — so transform, import, analyze's migration preview and rules test can never disagree about
 * where a key goes. Filters come before it and the collision guard after it (both stateful, owned by
 * the caller); this function has no side effects and counts nothing.
 */
import type { Classification, CompiledRules, UnmatchedMode } from '../rules/index.js';
import type { LogicalType } from '../records/types.js';

export interface DecisionInput {
  /** undefined: a bare key listing (rules with `db:` are then not restricted); the key goes to db 0. */
  db: number | undefined;
  key: Buffer;
  type?: LogicalType;
  expireAtMs: number | null;
}

export interface DecisionContext {
  rules: CompiledRules | null;
  /** What to do with keys no rule matches (the rules file's `unmatched`, or the command's override). */
  unmatched: UnmatchedMode;
  /** Drop keys whose (possibly new) expiry is at or before `now`. */
  dropExpired: boolean;
  now: number;
}

export type KeyDecision =
  /** The key goes out as db/key/expireAtMs (renamed when `renamed`). */
  | { kind: 'keep'; db: number; key: Buffer; expireAtMs: number | null; classification: Classification | null; renamed: boolean; ttlChanged: boolean }
  /** No rule matched and `unmatched` is drop / error. */
  | { kind: 'unmatched-drop' }
  | { kind: 'unmatched-error' }
  /** The matching rule gives the key an empty name (an empty or unset regex group): an error for this key. */
  | { kind: 'rename-error'; classification: Classification; message: string }
  /** Expired at `now` (after the rule's ttl policy applied); the classification is kept for reports. */
  | { kind: 'expired'; db: number; key: Buffer; expireAtMs: number; classification: Classification | null };

export function decideKey(rec: DecisionInput, o: DecisionContext): KeyDecision {
  let db = rec.db ?? 0;
  let key = rec.key;
  let expireAtMs = rec.expireAtMs;
  let c: Classification | null = null;
  if (o.rules !== null) {
    c = o.rules.classify(rec.key, rec.type, rec.db);
    if (c === null) {
      if (o.unmatched === 'drop') return { kind: 'unmatched-drop' };
      if (o.unmatched === 'error') return { kind: 'unmatched-error' };
    } else {
      // Redis accepts "" as a key, but no scheme means it: writing it would merge every such key into one.
      if (c.newKey.length === 0) {
        return { kind: 'rename-error', classification: c, message: `${ruleText(o.rules, c)} renames this key to an empty name (a regex group that matched nothing?)` };
      }
      key = c.newKey;
      if (c.toDb !== undefined) db = c.toDb;
      if (c.ttl === 'drop') expireAtMs = null;
      else if (typeof c.ttl === 'number') expireAtMs = o.now + c.ttl;
    }
  }
  if (o.dropExpired && expireAtMs !== null && expireAtMs <= o.now) return { kind: 'expired', db, key, expireAtMs, classification: c };
  return { kind: 'keep', db, key, expireAtMs, classification: c, renamed: !key.equals(rec.key), ttlChanged: expireAtMs !== rec.expireAtMs };
}

function ruleText(rules: CompiledRules, c: Classification): string {
  return rules.rules[c.ruleIndex]?.label ?? `rule "${c.rule}"`;
}
