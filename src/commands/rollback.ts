import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { EXIT_OK, EXIT_PROBLEM, RekeyUsageError } from '../errors.js';
import { toJson, type OperationLog } from '../report/files.js';
import { displayKey, toPrintable } from '../records/printable.js';
import type { ByteWriter } from '../encode/rdb-primitives.js';
import { appendCommand } from '../encode/resp.js';
import { confirmOnTerminal, note } from './common.js';
import { DEFAULTS, withLive, withOutput, withTarget } from './options/index.js';
import { CommandRun } from './run-context.js';
import { openTransport } from '../redis/session.js';
import { readLedger } from '../import/ledger.js';
import { ReplyError, type Reply } from '../redis/resp-socket.js';
import { Unit, type Transport } from '../redis/transport.js';
import { keySlot } from '../redis/slot.js';
import { changedSinceImport, changeId, type ChangeCheck } from '../validate/changed-since.js';

export interface RollbackArgs {
  ledger: string;
  target: string;
  live?: boolean;
  yes?: boolean;
  'include-uncertain'?: boolean;
  'tls-ca'?: string;
  cluster?: boolean;
  pipeline?: number;
  'out-dir'?: string;
  json?: boolean;
  /** Delete created keys even when they changed since the import (or when that cannot be checked). */
  force?: boolean;
}

export interface RollbackResult {
  ledger: string;
  dry_run: boolean;
  /** Keys the ledger lists as created by the run(s). */
  created_keys: number;
  /** Deleted now (live) / present now (dry run). */
  deleted: number;
  /** Listed as created but no longer in the target. */
  already_gone: number;
  /** Keys whose creation is uncertain (existed when a crashed run resumed); left alone unless --include-uncertain. */
  uncertain_left: number;
  /** Keys the run overwrote (--on-conflict replace): they existed before, so they are left (their old value is gone). */
  replaced_left: number;
  /** Created keys whose value changed since the import: left alone unless --force. */
  changed_left: number;
  /** Changed since the import, deleted all the same (--force). */
  changed_deleted: number;
  changed_samples: Array<{ db: number; key: unknown; kind: string }>;
  /** Whether the target's values were compared with what the import wrote (false: why not). */
  changes_checked: boolean;
  changes_unchecked_reason?: string;
  errors: number;
  error_samples: Array<{ db: number; key: unknown; error: string }>;
  runs: number;
  ledger_complete: boolean;
  seconds: number;
}

const ASKING = Buffer.from('*1\r\n$6\r\nASKING\r\n', 'latin1');

class KeyCommandUnit extends Unit {
  private asked = false;
  constructor(
    private readonly cmd: 'DEL' | 'EXISTS',
    db: number,
    key: Buffer,
    slot: number,
    private readonly done: (r: Reply) => void,
  ) {
    super(db, key, slot);
    this.bytes = key.length + 32;
  }
  write(out: ByteWriter, asking: boolean): number {
    this.asked = asking;
    if (asking) out.bytes(ASKING);
    appendCommand(out, [this.cmd, this.key]);
    return asking ? 2 : 1;
  }
  settle(replies: Reply[]): 'done' {
    this.done(replies[this.asked ? 1 : 0] ?? null);
    return 'done';
  }
  fail(message: string): void {
    this.done(new ReplyError(message));
  }
}

/** Delete exactly the keys a ledger lists as created (a dry run unless `live`). */
export async function rollbackLedger(
  t: Transport,
  ledgerPath: string,
  o: { live: boolean; includeUncertain: boolean; log: OperationLog; changes?: ChangeCheck; force?: boolean },
): Promise<RollbackResult> {
  const started = Date.now();
  const changes = o.changes ?? null;
  const r: RollbackResult = {
    ledger: ledgerPath, dry_run: !o.live, created_keys: 0, deleted: 0, already_gone: 0, uncertain_left: 0, replaced_left: 0,
    changed_left: 0, changed_deleted: 0, changed_samples: [], changes_checked: changes?.checked === true,
    ...(changes && !changes.checked ? { changes_unchecked_reason: changes.reason } : {}),
    errors: 0, error_samples: [], runs: 0, ledger_complete: false, seconds: 0,
  };
  for await (const l of readLedger(ledgerPath)) {
    if (l.kind === 'header' || l.kind === 'resume') {
      r.runs++;
      r.ledger_complete = false;
      continue;
    }
    if (l.kind === 'end') {
      r.ledger_complete = l.data.complete === true;
      continue;
    }
    if (l.kind !== 'ack') continue;
    const a = l.ack;
    if (a.replaced) {
      r.replaced_left++;
      continue;
    }
    if (a.uncertain && !o.includeUncertain) {
      r.uncertain_left++;
      continue;
    }
    if (!a.created && !a.uncertain) continue;
    r.created_keys++;
    if (t.cluster && a.db !== 0) {
      r.errors++;
      if (r.error_samples.length < 100) r.error_samples.push({ db: a.db, key: toPrintable(a.key), error: 'a cluster has only db 0' });
      continue;
    }
    if (changes?.checked && changes.changed.has(changeId(a.db, a.key))) {
      if (r.changed_samples.length < 100) {
        r.changed_samples.push({ db: a.db, key: toPrintable(a.key), kind: changes.samples.find((x) => x.db === a.db && x.key.equals(a.key))?.kind ?? 'value' });
      }
      if (!o.force) {
        r.changed_left++;
        continue;
      }
      r.changed_deleted++;
    }
    const unit = new KeyCommandUnit(o.live ? 'DEL' : 'EXISTS', a.db, a.key, t.cluster ? keySlot(a.key) : 0, (reply) => {
      if (reply instanceof ReplyError) {
        r.errors++;
        if (r.error_samples.length < 100) r.error_samples.push({ db: a.db, key: toPrintable(a.key), error: reply.message });
        o.log.log('ERROR', `db ${a.db} ${displayKey(a.key)}: ${reply.message}`);
      } else if (reply === 1) r.deleted++;
      else r.already_gone++;
    });
    const p = t.submit(unit);
    if (p) await p;
  }
  await t.whenIdle();
  r.seconds = (Date.now() - started) / 1000;
  return r;
}

export async function runRollback(a: RollbackArgs, hooks: { confirm?: (q: string) => Promise<boolean> } = {}): Promise<number> {
  const run = await CommandRun.start('rollback', a['out-dir']);
  const { started, log } = run;
  const window = a.pipeline ?? DEFAULTS.pipeline.rollback;
  if (!(Number.isInteger(window) && window >= 1)) throw new RekeyUsageError(`--pipeline ${a.pipeline}: expected a whole number ≥ 1`);
  const session = await run.connectTarget(a);
  if (typeof session === 'number') return session;
  const { spec, cluster } = session;
  // Validate the ledger before touching anything (throws on a file that is not a ledger).
  const gen = readLedger(a.ledger);
  const first = await gen.next();
  await gen.return(undefined);
  if (first.done || first.value.kind !== 'header') throw new RekeyUsageError(`ledger ${a.ledger}: no header`);
  const header = first.value.header;
  if (header.target !== spec.display) log.log('WARN', `the ledger was written for ${header.target}; rolling back on ${spec.display}`);
  const live = a.live === true;
  if (live && !a.yes) {
    const interactive = hooks.confirm !== undefined || (process.stdin.isTTY === true && process.stderr.isTTY === true);
    if (interactive && !(await (hooks.confirm ?? confirmOnTerminal)(`Delete the keys ${a.ledger} lists as created from ${spec.display}? [y/N] `))) {
      run.say('not confirmed; nothing deleted');
      return EXIT_PROBLEM;
    }
  }
  log.log('INFO', `rollback ${a.ledger} on ${spec.display}${live ? '' : ' (dry run)'}`);
  let t: Transport;
  try {
    t = await openTransport(spec, cluster, { count: window, bytes: 16 << 20 });
  } catch (e) {
    run.say(run.message(e));
    return EXIT_PROBLEM;
  }
  // Keys changed since the import are not ours to delete any more: compare before touching anything.
  const includeUncertain = a['include-uncertain'] === true;
  let changes: ChangeCheck;
  try {
    changes = await changedSinceImport({ ledger: a.ledger, header, includeUncertain, session, log });
  } catch (e) {
    changes = { checked: false, reason: run.message(e) };
  }
  if (!changes.checked) {
    log.log('WARN', `rollback: cannot tell which keys changed since the import: ${changes.reason}`);
    if (live && !a.force) {
      t.destroy();
      return run.fail(`cannot tell which keys changed since the import: ${changes.reason}; nothing deleted (--force deletes every key the import created all the same)`, EXIT_PROBLEM);
    }
  }
  let r: RollbackResult;
  try {
    r = await rollbackLedger(t, a.ledger, { live, includeUncertain, log, changes, force: a.force === true });
  } catch (e) {
    t.destroy();
    await run.abandon(e);
    if (e instanceof RekeyUsageError) throw e;
    run.say(run.message(e));
    return EXIT_PROBLEM;
  }
  await t.close();
  log.log('INFO', `rollback: ${toJson({ ...r, error_samples: undefined })}`);
  const report = { rollback: r, dry_run: !live, timestamp: started.toISOString(), target: { url: spec.display, cluster } };
  await run.finish(report, { json: a.json, summary: (path) => {
    note(`rekey rollback${live ? '' : ' (DRY RUN, nothing deleted)'}: ${a.ledger} on ${spec.display}`);
    note(`  keys the run created: ${r.created_keys}; ${live ? 'deleted' : 'still present'}: ${r.deleted}; already gone: ${r.already_gone}`);
    if (r.uncertain_left) note(`  left alone (creation uncertain after a resume; --include-uncertain deletes them): ${r.uncertain_left}`);
    if (r.replaced_left) note(`  left alone (existed before and were replaced; the old values are not recoverable): ${r.replaced_left}`);
    if (r.changed_left) {
      note(`  WARNING: left alone (changed since the import; --force deletes them): ${r.changed_left}`);
      for (const c of r.changed_samples.slice(0, 10)) note(`    db ${c.db} ${typeof c.key === 'string' ? c.key : JSON.stringify(c.key)}: ${c.kind} differs from what the import wrote`);
    }
    if (r.changed_deleted) note(`  WARNING: deleted although changed since the import (--force): ${r.changed_deleted}`);
    if (!r.changes_checked) note(`  WARNING: not checked for changes since the import (${r.changes_unchecked_reason ?? 'unknown'})`);
    if (r.errors) note(`  errors: ${r.errors}`);
    if (!r.ledger_complete) note('  note: the ledger does not end with a complete run');
    note(`  report: ${path}`);
    if (!live) note('  run again with --live to delete');
  } });
  // Keys left because they changed are the operator's to decide: exit 1 so a script notices.
  return r.errors > 0 || r.changed_left > 0 ? EXIT_PROBLEM : EXIT_OK;
}

export const rollbackCommand: CommandModule<object, RollbackArgs> = {
  command: 'rollback <ledger>',
  describe: 'Delete exactly the keys an import created, from its ledger (a dry run unless --live)',
  builder: (y: Argv) =>
    withOutput(withLive(withTarget(y, { toDb: false }), 'delete'))
      .positional('ledger', { type: 'string', demandOption: true, describe: 'migration_ledger_*.jsonl of the import' })
      .option('force', { type: 'boolean', default: false, describe: 'also delete created keys that changed since the import (or when that cannot be checked)' })
      .option('include-uncertain', { type: 'boolean', default: false, describe: 'also delete keys whose creation is uncertain (resumed runs)' })
      .option('pipeline', { type: 'number', default: DEFAULTS.pipeline.rollback, describe: 'keys in flight per connection' }) as unknown as Argv<RollbackArgs>,
  handler: async (a: ArgumentsCamelCase<RollbackArgs>) => {
    process.exitCode = await runRollback(a);
  },
};
