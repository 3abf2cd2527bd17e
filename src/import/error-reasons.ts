/**
 * Why a key failed, as a reason an operator can act on: the live run stops at the first error that will
 * repeat for every key after it (trying the rest only piles up the same refusal), and the screen groups
 * errors by reason with a count and a sample key each (the report keeps the per-key list).
 */

export interface ErrorReason {
  /** Stable id (report, tests). */
  id: string;
  /** What the operator reads. */
  label: string;
  /** Every later key would fail the same way: stop the run at the first. */
  repeats: boolean;
  /** What to do about it. */
  hint?: string;
}

interface Rule extends ErrorReason {
  test: RegExp;
}

// Order matters: the first match wins (a RESTORE refusal followed by a failed command fallback names both).
const RULES: readonly Rule[] = [
  // processCommand's "-OOM command not allowed when used memory > 'maxmemory'" (noeviction or nothing to evict).
  { id: 'oom', test: /\bOOM\b/, label: 'the target is out of memory (maxmemory)', repeats: true, hint: 'raise maxmemory or free memory on the target, then --resume' },
  { id: 'db-cluster', test: /a cluster has only db 0/, label: 'db other than 0 refused by the cluster', repeats: true, hint: 'use --to-db 0 to import other dbs into it' },
  { id: 'db-missing', test: /the target has only \d+ databases/, label: 'db beyond the target\'s databases', repeats: false, hint: 'use --to-db, or start the target with more databases' },
  // A replica (or a failed-over master): processCommand's "-READONLY You can't write against a read only replica."
  { id: 'readonly', test: /\bREADONLY\b/, label: 'the target is read-only (a replica)', repeats: true, hint: 'import into the master' },
  // ACL key patterns refuse some keys only: getAclErrorMessage's ACL_DENIED_KEY ("…access one of the keys
  // used as arguments" up to 7.0, "No permissions to access a key" since 7.2); a refused command repeats.
  { id: 'noperm-key', test: /\bNOPERM\b.*permissions to access (one of the keys|a key)/i, label: 'the target\'s ACL refuses these keys', repeats: false, hint: 'grant the user the key patterns (~pattern), or leave those keys out' },
  { id: 'noperm', test: /\bNOPERM\b/, label: 'the target\'s ACL refuses the write', repeats: true, hint: 'grant the user the write commands (RESTORE, or the type\'s write commands) and the keys' },
  { id: 'module', test: /module value|unknown module|module type/i, label: 'a module value the target cannot load', /* only keys of that module type fail */ repeats: false, hint: 'load the module on the target, or leave those keys out (--key-regex / --type)' },
  { id: 'bulk-len', test: /proto-max-bulk-len|invalid bulk length/i, label: 'a value larger than the target\'s proto-max-bulk-len', repeats: false, hint: 'raise proto-max-bulk-len on the target (CONFIG SET)' },
  { id: 'field-ttl', test: /hash field TTLs|HPEXPIREAT/, label: 'hash field TTLs the target cannot hold', repeats: false, hint: 'use --lossy to drop them' },
  { id: 'cannot-hold', test: /the target cannot hold|--lossy/, label: 'data the target cannot hold', repeats: false, hint: 'use --lossy to import without it' },
  { id: 'payload', test: /Bad data format|payload version or checksum|DUMP payload|RESTORE impossible|cannot be converted/i, label: 'payload refused by the target', repeats: false },
  { id: 'exists', test: /--on-conflict fail/, label: 'the key exists in the target (--on-conflict fail)', repeats: false },
  { id: 'corrupt', test: /offset \d+|corrupt|expected/i, label: 'a value that does not decode', repeats: false },
];

const OTHER: ErrorReason = { id: 'other', label: 'other errors', repeats: false };

export function errorReason(message: string): ErrorReason {
  for (const r of RULES) {
    if (r.test.test(message)) {
      const { test: _test, ...reason } = r;
      return reason;
    }
  }
  return OTHER;
}

export interface ErrorGroup {
  reason: ErrorReason;
  count: number;
  /** The first key that failed this way. */
  sample: { db: number; key: string; error: string };
}

/** Errors counted by reason as they happen (exact counts; the report's per-key list stops at 1000). */
export class ErrorTally {
  private readonly groups = new Map<string, ErrorGroup>();

  /** Count one error; returns its reason. */
  add(db: number, key: string, message: string): ErrorReason {
    const reason = errorReason(message);
    const g = this.groups.get(reason.id);
    if (g) g.count++;
    else this.groups.set(reason.id, { reason, count: 1, sample: { db, key, error: message } });
    return reason;
  }

  /** Most frequent first. */
  list(): ErrorGroup[] {
    return [...this.groups.values()].sort((a, b) => b.count - a.count);
  }

  /** For the report: reason id → count, label, hint, sample. */
  toJSON(): Array<Record<string, unknown>> {
    return this.list().map((g) => ({ reason: g.reason.id, label: g.reason.label, count: g.count, ...(g.reason.hint ? { hint: g.reason.hint } : {}), sample: g.sample }));
  }
}
