/**
 * RESP2 request encoding (`*n\r\n$len\r\narg\r\n…`), the form `redis-cli --pipe` and every server read.
 * Commands are appended into one growing buffer and handed out in ~1 MB chunks, so writing a million
 * small commands costs a few hundred stream writes, not a million.
 *
 * The one place requests are framed: the RESP sink, the import, its dry run and rollback all append
 * RESTORE / EXISTS / ASKING / MULTI…EXEC through the functions here.
 */
import { ByteWriter } from './rdb-primitives.js';
import { crc64Into } from '../codec/crc64.js';

export type RespArg = Buffer | string;

function argLen(a: RespArg): number {
  return typeof a === 'string' ? Buffer.byteLength(a, 'utf8') : a.length;
}

/** Append one command to `w`. Strings are sent as UTF-8. */
export function appendCommand(w: ByteWriter, args: readonly RespArg[]): void {
  let size = 16;
  for (const a of args) size += argLen(a) + 16;
  w.ensure(size);
  writeAscii(w, `*${args.length}\r\n`);
  for (const a of args) {
    const n = argLen(a);
    writeAscii(w, `$${n}\r\n`);
    if (typeof a === 'string') w.pos += w.buf.write(a, w.pos, 'utf8');
    else {
      w.buf.set(a, w.pos);
      w.pos += n;
    }
    w.buf[w.pos++] = 13;
    w.buf[w.pos++] = 10;
  }
}

function writeAscii(w: ByteWriter, s: string): void {
  w.pos += w.buf.write(s, w.pos, 'latin1');
}

/** One command as a standalone Buffer. */
export function encodeCommand(args: readonly RespArg[]): Buffer {
  let size = 16;
  for (const a of args) size += argLen(a) + 16;
  const w = new ByteWriter(size);
  appendCommand(w, args);
  return w.finish();
}

/** Where batched chunks go: a write that may return a promise to signal backpressure (AtomicOutput.write). */
export interface ChunkTarget {
  write(chunk: Buffer): Promise<void> | void;
}

/**
 * Batches commands and flushes them to `target` whenever `chunkSize` bytes have accumulated. Call
 * `maybeFlush()` after each key (it awaits backpressure only when a chunk was actually written) and
 * `flush()` at the end.
 */
export class RespBatchWriter {
  private w: ByteWriter;
  commands = 0;
  bytes = 0;

  constructor(
    private readonly target: ChunkTarget,
    private readonly chunkSize = 1 << 20,
  ) {
    this.w = new ByteWriter(Math.min(chunkSize * 2, 1 << 21));
  }

  add(args: readonly RespArg[]): void {
    const before = this.w.pos;
    appendCommand(this.w, args);
    this.bytes += this.w.pos - before;
    this.commands++;
  }

  /** Append with one of the framing functions above (`frame` appends `commands` commands). */
  append(frame: (w: ByteWriter) => void, commands = 1): void {
    const before = this.w.pos;
    frame(this.w);
    this.bytes += this.w.pos - before;
    this.commands += commands;
  }

  get pending(): number {
    return this.w.pos;
  }

  maybeFlush(): Promise<void> | void {
    if (this.w.pos >= this.chunkSize) return this.flush();
  }

  flush(): Promise<void> | void {
    if (this.w.pos === 0) return;
    return this.target.write(this.w.finish());
  }
}

// ---------------------------------------------------------------------------------------------
// hot-path framing straight into a ByteWriter (no argument arrays)

const ARG_ABSTTL = Buffer.from('$6\r\nABSTTL\r\n', 'latin1');
const ARG_REPLACE = Buffer.from('$7\r\nREPLACE\r\n', 'latin1');
const ARG_IDLETIME = Buffer.from('$8\r\nIDLETIME\r\n', 'latin1');
const ARG_FREQ = Buffer.from('$4\r\nFREQ\r\n', 'latin1');
const CMD_ASKING = Buffer.from('*1\r\n$6\r\nASKING\r\n', 'latin1');
const HDR_EXISTS = Buffer.from('*2\r\n$6\r\nEXISTS\r\n', 'latin1');
const CMD_MULTI = Buffer.from('*1\r\n$5\r\nMULTI\r\n', 'latin1');
const CMD_EXEC = Buffer.from('*1\r\n$4\r\nEXEC\r\n', 'latin1');
/** `*<argc>\r\n$7\r\nRESTORE\r\n` for argc 4..8. */
const RESTORE_HEADS = [4, 5, 6, 7, 8].map((n) => Buffer.from(`*${n}\r\n$7\r\nRESTORE\r\n`, 'latin1'));

function digitCount(n: number): number {
  let len = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) len++;
  return len;
}

/** `$<len>\r\n` (room ensured by the caller). */
function bulkHeader(w: ByteWriter, len: number): void {
  w.buf[w.pos++] = 0x24;
  w.decimal(len);
  w.buf[w.pos++] = 13;
  w.buf[w.pos++] = 10;
}

/** One bulk string argument. */
export function appendBulk(w: ByteWriter, b: Uint8Array): void {
  const n = b.length;
  w.ensure(n + 32);
  bulkHeader(w, n);
  const out = w.buf;
  let p = w.pos;
  if (n <= 64) for (let i = 0; i < n; i++) out[p++] = b[i]!;
  else {
    out.set(b, p);
    p += n;
  }
  out[p++] = 13;
  out[p++] = 10;
  w.pos = p;
}

/** A non-negative integer as a bulk string. */
function bulkInt(w: ByteWriter, n: number): void {
  w.ensure(48);
  bulkHeader(w, n > 0xffffffff ? String(n).length : digitCount(n));
  w.decimal(n);
  w.buf[w.pos++] = 13;
  w.buf[w.pos++] = 10;
}

/** A short constant. */
function raw(w: ByteWriter, b: Buffer): void {
  const n = b.length;
  w.ensure(n);
  const out = w.buf;
  let p = w.pos;
  // Short constants: a loop beats TypedArray#set's call overhead.
  for (let i = 0; i < n; i++) out[p++] = b[i]!;
  w.pos = p;
}

/** Bytes of the DUMP envelope around a value payload: type byte, u16le version, CRC64. */
export const DUMP_ENVELOPE = 11;

/**
 * Append `RESTORE key ttl <dump payload> [ABSTTL] [REPLACE] [IDLETIME s | FREQ f]` to `w` (`expireAtMs`
 * absolute, null for none; IDLETIME wins over FREQ, as RESTORE takes only one). The DUMP payload (type,
 * value bytes, u16le version, CRC64 — the layout createDumpPayload in Redis' cluster.c builds) is assembled
 * in place: no intermediate payload buffer.
 */
export function appendRestore(
  w: ByteWriter,
  key: Uint8Array,
  rdbType: number,
  payload: Uint8Array,
  footerVersion: number,
  expireAtMs: number | null,
  replace = false,
  idle?: number,
  freq?: number,
): void {
  // ttl 0 means "no expiry" to RESTORE: an expiry at or before the epoch goes as 1 ms (already past).
  const ttl = expireAtMs === null ? 0 : Math.max(1, expireAtMs);
  let argc = 4;
  if (ttl !== 0) argc++;
  if (replace) argc++;
  if (idle !== undefined || freq !== undefined) argc += 2;
  raw(w, RESTORE_HEADS[argc - 4]!);
  appendBulk(w, key);
  bulkInt(w, ttl);
  const plen = payload.length + DUMP_ENVELOPE;
  w.ensure(plen + 32);
  bulkHeader(w, plen);
  const buf = w.buf;
  const start = w.pos;
  let p = start;
  buf[p++] = rdbType;
  const pl = payload.length;
  if (pl <= 64) for (let i = 0; i < pl; i++) buf[p++] = payload[i]!;
  else {
    buf.set(payload, p);
    p += pl;
  }
  buf[p++] = footerVersion & 0xff;
  buf[p++] = footerVersion >>> 8;
  crc64Into(buf, start, p, p);
  p += 8;
  buf[p++] = 13;
  buf[p++] = 10;
  w.pos = p;
  if (ttl !== 0) raw(w, ARG_ABSTTL);
  if (replace) raw(w, ARG_REPLACE);
  if (idle !== undefined) {
    raw(w, ARG_IDLETIME);
    bulkInt(w, idle);
  } else if (freq !== undefined) {
    raw(w, ARG_FREQ);
    bulkInt(w, freq);
  }
}

/** `EXISTS key` */
export function appendExists(w: ByteWriter, key: Uint8Array): void {
  raw(w, HDR_EXISTS);
  appendBulk(w, key);
}

/** `ASKING` (before a command sent to the node of an -ASK redirect). */
export function appendAsking(w: ByteWriter): void {
  raw(w, CMD_ASKING);
}

/** Append MULTI, the commands, EXEC; returns the number of replies (MULTI + one QUEUED each + EXEC). */
export function appendTransaction(w: ByteWriter, cmds: readonly (readonly RespArg[])[]): number {
  raw(w, CMD_MULTI);
  for (const c of cmds) appendCommand(w, c);
  raw(w, CMD_EXEC);
  return cmds.length + 2;
}
