import type { Cursor } from './cursor.js';
import type { StreamId } from '../records/types.js';

/**
 * RDB 14 (Redis 8.8) type 27 RDB_TYPE_STREAM_LISTPACKS_5 is the stream v4 layout (type 26; that its IDMP
 * tail stays is unverified) plus, in each consumer group right after its consumers, a NACK zone (XNACK):
 *   len nacked_count, then nacked_count × 16-byte raw stream IDs (ms, seq big-endian, as PEL IDs)
 * Each NACKed ID is a group PEL entry that no consumer owns (librdb 2.3.0 handleStreamNackZoneEntry,
 * "fired once per NACKed stream ID after the consumers section of each consumer group"; its fixture
 * stream_v14_xnack.json lists them as "nacked" in on-disk order, and its test calls them the group's
 * "NACK-zone (unowned) entries"; a third-party reader refuses a NACKed ID missing from the group PEL).
 * Not wired into the parser yet: type 27 is still refused by name there (see docs/rdb-format.md §5.5).
 */
export function readNackZone(c: Cursor, groupPel: ReadonlySet<string>, owned: ReadonlySet<string>): StreamId[] {
  const n = c.count(c.len('group NACK zone size'), 16, 'group NACK zone size');
  const out: StreamId[] = new Array<StreamId>(n);
  for (let i = 0; i < n; i++) {
    const at = c.pos;
    const b = c.bytes(16, 'NACKed stream id (16 bytes)');
    const id: StreamId = { ms: b.readBigUInt64BE(0), seq: b.readBigUInt64BE(8) };
    const text = `${id.ms}-${id.seq}`;
    if (!groupPel.has(text)) throw c.error(`NACKed id ${text} to exist in the group PEL`, at);
    if (owned.has(text)) throw c.error(`NACKed id ${text} to be owned by no consumer`, at);
    out[i] = id;
  }
  return out;
}

/** Step over one group's NACK zone. */
export function skipNackZone(c: Cursor): void {
  const n = c.count(c.len('group NACK zone size'), 16, 'group NACK zone size');
  c.skip(n * 16, 'NACKed stream ids');
}
