import type { KeyRecord } from './types.js';

export interface KeyChanges {
  key?: Buffer;
  db?: number;
  expireAtMs?: number | null;
}

/**
 * A view of `rec` with a new name, db or expiry. The value (payload, decode cache) is shared, not
 * copied: renaming never decodes or re-encodes a value.
 */
export function rewriteKey<R extends KeyRecord>(rec: R, changes: KeyChanges): R {
  const out = Object.create(rec) as R & { -readonly [K in keyof KeyRecord]: KeyRecord[K] };
  if (changes.key !== undefined) out.key = changes.key;
  if (changes.db !== undefined) out.db = changes.db;
  if (changes.expireAtMs !== undefined) out.expireAtMs = changes.expireAtMs;
  return out;
}
