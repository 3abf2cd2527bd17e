/**
 * One replicated command with its keys renamed by the rules: every key argument (found through the
 * source's key specs) is classified like a snapshot key, so a write to an old name lands on its new
 * name. What cannot be carried exactly is refused with a reason (a counted loss), never guessed.
 */
import { LOGICAL_TYPES, type LogicalType } from '../records/types.js';
import type { CompiledRules, UnmatchedMode } from '../rules/index.js';
import { keyPositions, type CommandTable } from './key-specs.js';

export type Rewritten =
  | { kind: 'apply'; args: Buffer[]; db: number }
  | { kind: 'drop'; reason: string }
  | { kind: 'refuse'; reason: string; detail: string };

export interface RenameContext {
  table: CommandTable;
  rules: CompiledRules | null;
  unmatched: UnmatchedMode;
  /** --to-db (or the target URL's /db): every key goes there. */
  toDb: number | null;
}

/** Commands that act on a whole db: forwarding them would wipe or swap the target's other keys. */
const WHOLE_DB = new Set(['flushdb', 'flushall', 'swapdb']);
/** Commands whose own arguments name a db (the rules' db mapping cannot follow them). */
const DB_ARGUMENT = new Set(['move', 'copy']);
/** Commands that only set or clear a TTL: a rule with `ttl: drop` drops them. */
const TTL_ONLY = new Set(['expire', 'pexpire', 'expireat', 'pexpireat']);
/** Script and function calls: their keys are renamed; a script that reaches keys it did not declare is not. */
export const SCRIPT_CALLS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);

const TYPES: readonly LogicalType[] = LOGICAL_TYPES.filter((t) => t !== 'module');

export function hasTypedRules(rules: CompiledRules | null): boolean {
  return rules !== null && rules.rules.some((r) => r.types !== null);
}

export function renameCommand(args: Buffer[], db: number, ctx: RenameContext, typedRules: boolean): Rewritten {
  const name = args[0]!.toString('latin1').toLowerCase();
  const mappedDb = ctx.toDb ?? db;
  if (WHOLE_DB.has(name)) return { kind: 'refuse', reason: 'whole-db command', detail: `${name.toUpperCase()} would act on the whole target db (keys of other names included): apply it by hand if meant` };
  const spec = ctx.table.lookup(args);
  if (spec === null) return { kind: 'refuse', reason: 'unknown command', detail: `${name.toUpperCase()} is not in the source's COMMAND table: its keys cannot be found` };
  const kp = keyPositions(spec, args);
  if (!kp.ok) return { kind: 'refuse', reason: 'key positions unknown', detail: kp.reason };
  if (kp.positions.length === 0) return { kind: 'apply', args, db: mappedDb };
  if (DB_ARGUMENT.has(name) && (ctx.toDb !== null || (ctx.rules?.rules.some((r) => r.toDb !== null) ?? false))) {
    return { kind: 'refuse', reason: 'db argument', detail: `${name.toUpperCase()} names a db of its own, which the db mapping (--to-db / to_db) cannot follow` };
  }
  if (ctx.rules === null) return { kind: 'apply', args, db: mappedDb };

  const out = args.slice();
  let targetDb: number | null = null;
  let dropped = 0;
  let dropTtl = false;
  for (const p of kp.positions) {
    const key = args[p]!;
    const c = ctx.rules.classify(key, spec.type ?? undefined, db);
    if (spec.type === null && typedRules) {
      // The rules pick by type and this command does not say which type the key has: only go on when
      // every type gives the same answer.
      const first = c === null ? null : `${c.ruleIndex}`;
      for (const t of TYPES) {
        const ct = ctx.rules.classify(key, t, db);
        if ((ct === null ? null : `${ct.ruleIndex}`) !== first) {
          return { kind: 'refuse', reason: 'type-dependent rename', detail: `${name.toUpperCase()} on ${printable(key)}: the rules rename this key by type and the command does not tell its type` };
        }
      }
    }
    let kdb: number;
    if (c === null) {
      if (ctx.unmatched === 'drop') {
        dropped++;
        continue;
      }
      if (ctx.unmatched === 'error') return { kind: 'refuse', reason: 'unmatched key', detail: `${name.toUpperCase()} on ${printable(key)}: no rule matches and the rules say unmatched: error` };
      kdb = mappedDb;
    } else {
      if (c.newKey.length === 0) return { kind: 'refuse', reason: 'empty key', detail: `${name.toUpperCase()} on ${printable(key)}: rule "${c.rule}" renames it to an empty name` };
      out[p] = c.newKey;
      kdb = ctx.toDb ?? c.toDb ?? db;
      if (c.ttl === 'drop' && TTL_ONLY.has(name)) dropTtl = true;
    }
    if (targetDb === null) targetDb = kdb;
    else if (targetDb !== kdb) return { kind: 'refuse', reason: 'keys in several dbs', detail: `${name.toUpperCase()}: its keys map to db ${targetDb} and db ${kdb}; one command cannot span dbs` };
  }
  if (dropped === kp.positions.length) return { kind: 'drop', reason: 'unmatched (dropped by the rules)' };
  if (dropped > 0) return { kind: 'refuse', reason: 'partly unmatched', detail: `${name.toUpperCase()}: some keys are unmatched (dropped by the rules), others renamed` };
  if (dropTtl) return { kind: 'drop', reason: 'ttl dropped by a rule' };
  return { kind: 'apply', args: out, db: targetDb ?? mappedDb };
}

/** A key for messages: text when printable, else hex. */
export function printable(key: Buffer): string {
  const s = key.toString('utf8');
  return /^[\x20-\x7e]*$/.test(s) && s.length <= 200 ? JSON.stringify(s) : `0x${key.subarray(0, 100).toString('hex')}`;
}
