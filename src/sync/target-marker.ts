/**
 * The target's own record of how far it has applied the stream: one key (default
 * `rekey-sync:checkpoint` in the target db of the keys) SET inside every batch's MULTI…EXEC, so it
 * changes atomically with the data. The checkpoint file is written after the target replied, which
 * leaves a window (a SIGKILL between the reply and the rename) where the file is behind the target;
 * the marker closes it. It lives only while a sync runs: a clean stop deletes it.
 */
import { RekeyUsageError } from '../errors.js';
import { ReplyError, type Link } from './importer-adapter.js';
import type { Marker, Planned } from './stream-applier.js';

export { DEFAULT_MARKER_KEY } from './marker-key.js';

export interface MarkerValue {
  replid: string;
  offset: number;
  db: number;
}

export function marker(db: number, key: string, replid: () => string): Marker {
  return { db, key, value: (p: Planned) => JSON.stringify({ $: 'rekey-sync-marker', replid: replid(), offset: p.offset, db: p.db }) };
}

const sel = (db: number): string[] => ['SELECT', String(db)];

/** The marker the target holds (null: none). A key of that name that is not ours is refused. */
export async function readMarker(target: Link, db: number, key: string): Promise<MarkerValue | null> {
  const r = await target.send([sel(db), ['GET', key], sel(0)]);
  const v = r[1];
  if (v instanceof ReplyError) throw new RekeyUsageError(`the target key ${key} (db ${db}) is not a rekey sync marker (${v.message}): choose another --checkpoint-key`);
  if (v === null || v === undefined) return null;
  let j: Partial<MarkerValue> & { $?: unknown };
  try {
    j = JSON.parse(Buffer.isBuffer(v) ? v.toString('utf8') : String(v)) as typeof j;
  } catch {
    j = {};
  }
  if (j.$ !== 'rekey-sync-marker' || typeof j.replid !== 'string' || !Number.isSafeInteger(j.offset) || !Number.isSafeInteger(j.db)) {
    throw new RekeyUsageError(`the target key ${key} (db ${db}) holds something other than a rekey sync marker: choose another --checkpoint-key`);
  }
  return { replid: j.replid, offset: j.offset!, db: j.db! };
}

export async function clearMarker(target: Link, db: number, key: string): Promise<void> {
  await target.send([sel(db), ['DEL', key], sel(0)]);
}
