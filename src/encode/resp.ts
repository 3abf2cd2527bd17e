/**
 * RESP2 request encoding (`*n\r\n$len\r\narg\r\n…`), the form `redis-cli --pipe` and every server read.
 * Commands are appended into one growing buffer and handed out in ~1 MB chunks, so writing a million
 * small commands costs a few hundred stream writes, not a million.
 */
import { ByteWriter } from './rdb-primitives.js';

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
