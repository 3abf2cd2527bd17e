import type { Flavor, KeyRecord, LogicalType, Value } from './types.js';

export interface KeyChanges {
  key?: Buffer;
  db?: number;
  expireAtMs?: number | null;
}

/**
 * A key record seen under a new name, db or expiry. Everything else, the value's bytes and its
 * decode cache included, is read from the source record: renaming never decodes or re-encodes,
 * and lazily encoded payloads (JSONL sources) stay lazy. A class (not Object.create) keeps
 * property access in the sinks' hot loops monomorphic.
 */
export class KeyView implements KeyRecord {
  readonly kind = 'key' as const;
  constructor(
    readonly base: KeyRecord,
    readonly db: number,
    readonly key: Buffer,
    readonly expireAtMs: number | null,
  ) {}
  get type(): LogicalType { return this.base.type; }
  get rdbType(): number { return this.base.rdbType; }
  get encoding(): string { return this.base.encoding; }
  get flavor(): Flavor { return this.base.flavor; }
  get rdbVersion(): number { return this.base.rdbVersion; }
  get idle(): number | undefined { return this.base.idle; }
  get freq(): number | undefined { return this.base.freq; }
  get payload(): Buffer { return this.base.payload; }
  get offset(): number { return this.base.offset; }
  get inFile(): { file: string; offset: number } | undefined { return this.base.inFile; }
  /** RDB 13 key metadata of RDB sources, carried through for a verbatim rewrite. */
  get keyMeta(): Buffer | undefined { return (this.base as { keyMeta?: Buffer }).keyMeta; }
  get decodedFirst(): boolean | undefined { return this.base.decodedFirst; }
  decode(): Value { return this.base.decode(); }
}

export function rewriteKey(rec: KeyRecord, changes: KeyChanges): KeyRecord {
  const base = rec instanceof KeyView ? rec.base : rec;
  return new KeyView(base, changes.db ?? rec.db, changes.key ?? rec.key, changes.expireAtMs !== undefined ? changes.expireAtMs : rec.expireAtMs);
}
