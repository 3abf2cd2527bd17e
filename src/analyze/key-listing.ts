/**
 * Per-key operator outputs, in the spirit of redis-rdb-tools' `memory` and `justkeys` reports: a CSV row
 * per key (db, key, type, encoding, elements, bytes, memory, ttl), a keys-only listing, and the prefix
 * counts as CSV. Rows are built as Buffers so binary keys are written byte for byte.
 */
import type { KeyRow } from './aggregator.js';
import type { PrefixStat } from './prefix-tree.js';
import { displayKey } from '../records/printable.js';

export const MEMORY_CSV_HEADER = 'db,key,type,encoding,elements,bytes,memory,ttl\n';
export const PREFIX_CSV_HEADER = 'prefix,depth,keys,bytes,memory\n';

const NEEDS_QUOTES = /[",\r\n]/;
const QUOTE = Buffer.from('"');

/** A CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma, quote or line break. */
export function csvField(v: Buffer): Buffer {
  if (!NEEDS_QUOTES.test(v.toString('latin1'))) return v;
  return Buffer.concat([QUOTE, Buffer.from(v.toString('latin1').replace(/"/g, '""'), 'latin1'), QUOTE]);
}

/**
 * One memory-report row. `ttl` is the remaining time to live in milliseconds at `now` (0 or less:
 * already expired), empty for a key without TTL; `elements` is empty when the value could not be counted.
 */
export function memoryCsvRow(r: KeyRow, now: number): Buffer {
  const ttl = r.expireAtMs === null ? '' : String(r.expireAtMs - now);
  return Buffer.concat([
    Buffer.from(`${r.db},`),
    csvField(r.key),
    Buffer.from(`,${r.type},${r.encoding},${r.elements ?? ''},${r.bytes},${Math.round(r.memory)},${ttl}\n`),
  ]);
}

/**
 * One keys-only line: `db<TAB>key`, the key shown as text when it is printable UTF-8, else quoted with
 * \xNN escapes (displayKey), so a key holding a newline cannot split a line.
 */
export function keyLine(r: KeyRow): string {
  return `${r.db}\t${displayKey(r.key)}\n`;
}

/**
 * The prefix tree as CSV rows, with the keys that have no prefix as "(no prefix)" at depth 0. A prefix
 * is written byte for byte, as the memory report writes keys (a binary prefix is not re-encoded).
 */
export function prefixCsv(list: readonly PrefixStat[], unprefixed: { keys: number; bytes: number; memory: number }): Buffer {
  const rows: Buffer[] = [Buffer.from(PREFIX_CSV_HEADER)];
  for (const p of list) {
    const raw = typeof p.prefix === 'string' ? Buffer.from(p.prefix, 'utf8') : Buffer.from(p.prefix.base64, 'base64');
    rows.push(csvField(raw), Buffer.from(`,${p.depth},${p.keys},${p.bytes},${Math.round(p.memory)}\n`));
  }
  rows.push(Buffer.from(`(no prefix),0,${unprefixed.keys},${unprefixed.bytes},${Math.round(unprefixed.memory)}\n`));
  return Buffer.concat(rows);
}
