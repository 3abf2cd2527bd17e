/**
 * Which keys an import created have changed in the target since: rollback must not delete a key an
 * application has written to meanwhile. "What the import wrote" is the import's input through its
 * rules and to_db (the ledger header names them), compared with the target's current value by the
 * same logical compare as validate, for the created keys only. A digest per key in the ledger would
 * not serve: RESTORE copies the input's bytes, the server re-encodes them, so a later DUMP never equals
 * them byte for byte, and a logical digest at import time would cost a decode of every value.
 * TTLs are not compared (a rule's `ttl: <ms>` depends on the import's clock); type and content are.
 */
import { openInput } from '../sources/open.js';
import { loadRules } from '../rules/index.js';
import { DigestKeyGuard } from '../pipeline/key-guard.js';
import { readLedger, type LedgerHeader } from '../import/ledger.js';
import type { OperationLog } from '../report/files.js';
import type { TargetSession } from '../redis/session.js';
import { validateInput } from '../commands/validate.js';
import { displayKey } from '../records/printable.js';

export type ChangeCheck =
  | { checked: true; compared: number; changed: Set<string>; samples: Array<{ db: number; key: Buffer; kind: string }> }
  | { checked: false; reason: string };

export function changeId(db: number, key: Buffer): string {
  return `${db}\0${key.toString('latin1')}`;
}

export async function changedSinceImport(o: {
  ledger: string;
  header: LedgerHeader;
  includeUncertain: boolean;
  session: Pick<TargetSession, 'spec' | 'info' | 'cluster'>;
  log: OperationLog;
}): Promise<ChangeCheck> {
  // The keys rollback would delete (each input key is looked up once: test-and-add is a lookup here).
  const created = new DigestKeyGuard();
  let n = 0;
  for await (const l of readLedger(o.ledger)) {
    if (l.kind !== 'ack') continue;
    const a = l.ack;
    if (a.replaced || !(a.created || (a.uncertain && o.includeUncertain))) continue;
    created.add(a.db, a.key);
    n++;
  }
  if (n === 0) return { checked: true, compared: 0, changed: new Set(), samples: [] };
  const h = o.header;
  let input;
  let rules = null;
  try {
    rules = typeof h.rules === 'string' ? await loadRules(h.rules) : null;
    input = await openInput(h.input, {});
  } catch (e) {
    return { checked: false, reason: `the import's ${rules === null && typeof h.rules === 'string' ? `rules ${h.rules}` : `input ${h.input}`} cannot be read (${(e as Error).message})` };
  }
  const changed = new Set<string>();
  const samples: Array<{ db: number; key: Buffer; kind: string }> = [];
  const v = await validateInput({
    input,
    spec: o.session.spec,
    info: o.session.info,
    cluster: o.session.cluster,
    rules,
    filter: null,
    unmatched: rules?.unmatched ?? 'keep',
    // Keys expired since the import are gone (rollback counts them already gone); compare the rest.
    expired: 'keep',
    now: Date.now(),
    toDb: h.to_db ?? null,
    sample: 1,
    ttlTolerance: Number.POSITIVE_INFINITY,
    streamTimes: false,
    log: o.log,
    noScan: true,
    only: (db, key) => created.add(db, key),
    onDiffer: (kind, db, key) => {
      // 'missing' is rollback's "already gone"; anything else present but different is a change.
      if (kind === 'missing') return;
      changed.add(changeId(db, key));
      if (samples.length < 100) samples.push({ db, key, kind });
      if (changed.size <= 100) o.log.log('WARN', `rollback: db ${db} ${displayKey(key)} changed since the import (${kind})`);
    },
  });
  return { checked: true, compared: v.checked, changed, samples };
}
