/**
 * Where a sync stands: the source's replication id and the last stream offset the target acknowledged,
 * and the source db selected at that offset (the stream only says SELECT when the db changes, so a
 * continued stream needs it). Written atomically (temp file + rename): a crash leaves the old one.
 */
import { readFile } from 'node:fs/promises';
import { RekeyInputError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';

export interface Checkpoint {
  $: 'rekey-sync-checkpoint';
  version: 1;
  replid: string;
  /** Last stream byte applied to the target and acknowledged by it. PSYNC asks for offset + 1. */
  offset: number;
  /** Source db selected at `offset`. */
  db: number;
  source: string;
  target: string;
  rules: string | null;
  updated: string;
}

export async function readCheckpoint(path: string): Promise<Checkpoint | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new RekeyInputError(path, 0, `expected a readable checkpoint file (${(e as Error).message})`);
  }
  let v: Partial<Checkpoint>;
  try {
    v = JSON.parse(text) as Partial<Checkpoint>;
  } catch (e) {
    throw new RekeyInputError(path, 0, `expected a JSON checkpoint (${(e as Error).message})`);
  }
  if (v.$ !== 'rekey-sync-checkpoint' || v.version !== 1) throw new RekeyInputError(path, 0, 'expected a rekey sync checkpoint ("$": "rekey-sync-checkpoint", version 1)');
  if (typeof v.replid !== 'string' || !/^[0-9a-f]{40}$/i.test(v.replid)) throw new RekeyInputError(path, 0, 'expected "replid": 40 hex characters');
  if (!Number.isSafeInteger(v.offset) || v.offset! < 0) throw new RekeyInputError(path, 0, 'expected "offset": a whole number ≥ 0');
  if (!Number.isSafeInteger(v.db) || v.db! < 0) throw new RekeyInputError(path, 0, 'expected "db": a whole number ≥ 0');
  return v as Checkpoint;
}

export async function writeCheckpoint(path: string, c: Omit<Checkpoint, '$' | 'version' | 'updated'>): Promise<void> {
  const full: Checkpoint = { $: 'rekey-sync-checkpoint', version: 1, ...c, updated: new Date().toISOString() };
  await writeFileAtomic(path, JSON.stringify(full, null, 2) + '\n');
}
