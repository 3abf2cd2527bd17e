/**
 * What the import did with each key, read back from its ledger (every acknowledgement: created, replaced,
 * skipped because it existed) and its migration reports (the refused keys with their reasons, first 1000
 * per run), so validate can say "not imported: <why>" instead of calling a refused key a mismatch.
 * Keys are held as digests (DigestKeyGuard), so a ledger of millions of keys costs ~24 bytes a key.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { DigestKeyGuard } from '../pipeline/key-guard.js';
import { readLedger } from '../import/ledger.js';
import { RekeyUsageError } from '../errors.js';

export interface ReportKey {
  db: number;
  key: unknown;
  error: string;
}

export interface ImportOutcomeSource {
  ledger: string | null;
  reports: string[];
}

export class ImportOutcome {
  private readonly written = new DigestKeyGuard();
  private readonly skipped = new DigestKeyGuard();
  /** Existed when a resumed run reached them, after the crashed run may have sent them. */
  private readonly uncertain = new DigestKeyGuard();
  /** `db\0latin1(key)` → reason, from the reports' error_keys (bounded lists). */
  private readonly errors = new Map<string, string>();
  private ledgerComplete = false;
  private haveLedger = false;
  acks = 0;

  constructor(readonly source: ImportOutcomeSource) {}

  /**
   * Load a ledger (`ledger`) and/or the reports that name it, or the error keys of a run in progress
   * (`errors`: `import --validate`, before its report exists); throws RekeyUsageError on a bad ledger.
   */
  static async load(o: { ledger: string | null; reports: string[]; errors?: readonly ReportKey[] }): Promise<ImportOutcome> {
    const out = new ImportOutcome({ ledger: o.ledger, reports: o.reports });
    const lists: Array<readonly ReportKey[]> = o.errors ? [o.errors] : [];
    for (const r of o.reports) lists.push((JSON.parse(await readFile(r, 'utf8')) as { error_keys?: ReportKey[] }).error_keys ?? []);
    for (const list of lists) {
      for (const e of list) {
        const key = keyBytes(e.key);
        if (key !== null && typeof e.db === 'number') out.errors.set(id(e.db, key), String(e.error));
      }
    }
    if (o.ledger !== null) {
      out.haveLedger = true;
      for await (const l of readLedger(o.ledger)) {
        if (l.kind === 'resume') out.ledgerComplete = false;
        else if (l.kind === 'end') out.ledgerComplete = l.data.complete === true;
        else if (l.kind === 'ack') {
          out.acks++;
          const a = l.ack;
          if (a.created || a.replaced) out.written.add(a.db, a.key);
          else if (a.uncertain) out.uncertain.add(a.db, a.key);
          else out.skipped.add(a.db, a.key);
        }
      }
    }
    return out;
  }

  /**
   * Why the target need not hold this key as the input does, or null when the import wrote it (then a
   * difference is a real mismatch) or nothing is known. Ask once per (db, key): a miss is remembered
   * (the digest sets only offer test-and-add), which is harmless because validate sees every key once.
   */
  reason(db: number, key: Buffer): string | null {
    const err = this.errors.get(id(db, key));
    if (err !== undefined) return `the import refused it: ${err}`;
    if (!this.haveLedger) return null;
    if (this.written.add(db, key)) return null;
    if (this.skipped.add(db, key)) return 'it existed in the target before the import, which left it (--on-conflict skip)';
    if (this.uncertain.add(db, key)) return 'it existed when the resumed import reached it (written by the stopped run, or by someone else), so it was left';
    return this.ledgerComplete
      ? 'the import never acknowledged it (refused or not sent; the reason is not among the ones its report lists)'
      : 'the import stopped before it (its ledger does not end with a complete run; --resume continues)';
  }
}

function id(db: number, key: Buffer): string {
  return `${db}\0${key.toString('latin1')}`;
}

function keyBytes(k: unknown): Buffer | null {
  if (typeof k === 'string') return Buffer.from(k, 'utf8');
  if (k !== null && typeof k === 'object' && typeof (k as { base64?: unknown }).base64 === 'string') return Buffer.from((k as { base64: string }).base64, 'base64');
  return null;
}

interface ReportHead {
  path: string;
  dry_run?: boolean;
  ledger?: string;
  input?: { path?: string };
  target?: { url?: string };
}

async function reportsIn(dir: string): Promise<ReportHead[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: ReportHead[] = [];
  // Oldest first: the stamp sorts by time (a resumed run's report comes after the first run's).
  for (const n of names.filter((x) => /^migration_report_.*\.json$/.test(x)).sort()) {
    const path = join(dir, n);
    try {
      const rep = JSON.parse(await readFile(path, 'utf8')) as Omit<ReportHead, 'path'>;
      out.push({ ...rep, path });
    } catch {
      // not a report of ours (or torn): ignore
    }
  }
  return out;
}

/** The report's ledger path as a file that exists (it was written relative to the import's cwd). */
function ledgerOf(r: ReportHead): string | null {
  if (typeof r.ledger !== 'string') return null;
  if (existsSync(r.ledger)) return resolve(r.ledger);
  const beside = join(dirname(r.path), basename(r.ledger));
  return existsSync(beside) ? resolve(beside) : null;
}

/**
 * Find what the import did: `ledger` given (`--ledger FILE`: the reports beside it that name it), else
 * the newest live import report in `outDir` for this input and target (and its ledger). Null when none.
 */
export async function findImportOutcome(o: { ledger: string | null; outDir: string; input: string; target: string }): Promise<ImportOutcome | null> {
  if (o.ledger !== null) {
    if (!existsSync(o.ledger)) throw new RekeyUsageError(`--ledger ${o.ledger}: no such file`);
    const want = resolve(o.ledger);
    const reports = (await reportsIn(dirname(o.ledger))).filter((r) => ledgerOf(r) === want).map((r) => r.path);
    return ImportOutcome.load({ ledger: o.ledger, reports });
  }
  const live = (await reportsIn(o.outDir)).filter((r) => r.dry_run === false && r.input?.path === o.input && r.target?.url === o.target);
  const last = live[live.length - 1];
  if (!last) return null;
  const ledger = ledgerOf(last);
  const reports = ledger === null ? [last.path] : live.filter((r) => ledgerOf(r) === ledger).map((r) => r.path);
  return ImportOutcome.load({ ledger, reports });
}
