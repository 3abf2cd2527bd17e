/**
 * Stream IDs (`<ms>-<seq>`, both unsigned 64-bit) in one place: printed, parsed (strictly from JSONL,
 * leniently from server replies), compared, and stepped. Every module that handles IDs uses these.
 */
import type { StreamId } from './types.js';

export const U64_MAX = 0xffffffffffffffffn;

/** `ms-seq`, as Redis prints IDs (also usable as a Map key). */
export function streamIdText(id: StreamId): string {
  return id.ms + '-' + id.seq;
}

const ID_RE = /^(\d{1,20})-(\d{1,20})$/;

/** Strict parse of `"ms-seq"` (both parts present, unsigned 64-bit), or null: for input files. */
export function parseStreamIdStrict(v: unknown): StreamId | null {
  if (typeof v !== 'string') return null;
  const m = ID_RE.exec(v);
  if (m === null) return null;
  const ms = BigInt(m[1]!);
  const seq = BigInt(m[2]!);
  if (ms > U64_MAX || seq > U64_MAX) return null;
  return { ms, seq };
}

/** An ID from a server reply (`ms-seq`, or `ms` alone meaning seq 0 as XADD/XSETID accept it). */
export function parseReplyStreamId(s: string | Buffer): StreamId {
  const t = typeof s === 'string' ? s : s.toString('latin1');
  const dash = t.indexOf('-');
  if (dash < 0) return { ms: BigInt(t), seq: 0n };
  return { ms: BigInt(t.slice(0, dash)), seq: BigInt(t.slice(dash + 1)) };
}

/** Order of IDs in a stream: by ms, then seq. */
export function compareStreamIds(a: StreamId, b: StreamId): number {
  return a.ms < b.ms ? -1 : a.ms > b.ms ? 1 : a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0;
}

/** The smallest ID above `id` (seq overflows into ms, as streamIncrID in t_stream.c does). */
export function nextStreamId(id: StreamId): StreamId {
  if (id.seq < U64_MAX) return { ms: id.ms, seq: id.seq + 1n };
  return { ms: id.ms + 1n, seq: 0n };
}
