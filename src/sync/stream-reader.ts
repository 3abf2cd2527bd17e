/**
 * The byte side of a replica link: one socket read in order, as lines (handshake replies), a raw
 * byte range (the full-sync RDB payload) and then RESP commands (the replication stream), with the
 * number of bytes consumed counted so the replication offset is exact.
 *
 * The socket is paused while more than HIGH_WATER bytes wait, so a slow target backs up into the
 * source's output buffer for this replica instead of into our memory.
 */
import type { Socket } from 'node:net';

const HIGH_WATER = 8 * 1024 * 1024;
/** Bounds on what a command header may declare (Redis' own proto-max-bulk-len default is 512 MB). */
const MAX_ARGS = 1024 * 1024;
const MAX_BULK = 512 * 1024 * 1024;

export class ReplicationProtocolError extends Error {
  override readonly name = 'ReplicationProtocolError';
}

/** One command of the replication stream: its arguments and its size in stream bytes. */
export interface StreamCommand {
  args: Buffer[];
  bytes: number;
}

export class StreamReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  /** Bytes handed out so far (lines, payload and commands). */
  consumed = 0;

  constructor(
    private readonly socket: Socket,
    private readonly name: string,
  ) {
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.buffered += d.length;
      if (this.buffered > HIGH_WATER) socket.pause();
      this.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('close', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('error', (e) => {
      this.failure ??= e;
      this.notify();
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Bytes waiting to be read. */
  get available(): number {
    return this.buffered;
  }

  get closed(): boolean {
    return this.ended || this.failure !== null;
  }

  /** Resolves when more bytes arrived or the socket ended; rejects when it failed. */
  async more(): Promise<void> {
    if (this.failure) throw new ReplicationProtocolError(`${this.name}: ${this.failure.message}`);
    if (this.ended) throw new ReplicationProtocolError(`${this.name}: the connection was closed by the source`);
    if (this.socket.isPaused()) this.socket.resume();
    await new Promise<void>((r) => (this.wake = r));
    const f = this.failure as Error | null;
    if (f) throw new ReplicationProtocolError(`${this.name}: ${f.message}`);
  }

  /** Like more(), but resolves after `ms` too (false: nothing new). */
  async moreOrTimeout(ms: number): Promise<boolean> {
    if (this.closed) await this.more();
    if (this.socket.isPaused()) this.socket.resume();
    let timer: NodeJS.Timeout | undefined;
    const got = await new Promise<boolean>((r) => {
      this.wake = () => r(true);
      timer = setTimeout(() => r(false), ms);
    });
    clearTimeout(timer);
    if (!got) this.wake = null;
    if (this.failure) throw new ReplicationProtocolError(`${this.name}: ${this.failure.message}`);
    return got;
  }

  /** Everything buffered as one Buffer (concatenated once). */
  private joined(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private drop(n: number): void {
    const b = this.joined();
    this.chunks = n < b.length ? [b.subarray(n)] : [];
    this.buffered -= n;
    this.consumed += n;
    if (this.buffered <= HIGH_WATER / 2 && this.socket.isPaused()) this.socket.resume();
  }

  /** One `\r\n`-terminated line (without it). Lines are short handshake replies: bounded to 64 KB. */
  async readLine(): Promise<string> {
    for (;;) {
      const b = this.joined();
      const nl = b.indexOf('\n');
      if (nl >= 0) {
        const line = b.toString('latin1', 0, nl > 0 && b[nl - 1] === 13 ? nl - 1 : nl);
        this.drop(nl + 1);
        return line;
      }
      if (b.length > 65536) throw new ReplicationProtocolError(`${this.name}: offset ${this.consumed}: expected a reply line, got ${b.length} bytes without a newline`);
      await this.more();
    }
  }

  /** Exactly `n` bytes, chunk by chunk as they arrive (the RDB payload of a `$<len>` full sync). */
  async *bytes(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0) await this.more();
      const b = this.chunks[0]!;
      const take = Math.min(left, b.length);
      const out = b.subarray(0, take);
      if (take === b.length) this.chunks.shift();
      else this.chunks[0] = b.subarray(take);
      this.buffered -= take;
      this.consumed += take;
      left -= take;
      if (this.buffered <= HIGH_WATER / 2 && this.socket.isPaused()) this.socket.resume();
      yield out;
    }
  }

  /**
   * Bytes up to a 40-byte end mark (the diskless `$EOF:<mark>` full sync, replication.c
   * readSyncBulkPayload): the last 40 bytes are held back until they are known not to be the mark.
   */
  async *untilMark(mark: Buffer): AsyncGenerator<Buffer> {
    const m = mark.length;
    for (;;) {
      const b = this.joined();
      if (b.length >= m) {
        const at = b.indexOf(mark);
        // The mark ends the payload: the server writes it once, after the last RDB byte.
        if (at >= 0) {
          const out = b.subarray(0, at);
          this.drop(at + m);
          if (out.length > 0) yield out;
          return;
        }
        const safe = b.length - (m - 1);
        const out = b.subarray(0, safe);
        this.drop(safe);
        yield out;
      }
      await this.more();
    }
  }

  /**
   * Parse every complete command buffered now (up to `max`), synchronously. The replication stream is
   * multibulk only (the master propagates commands as `*<n>` arrays of `$<len>` bulks).
   *
   * Commands are parsed inside each received chunk; only a command that straddles two chunks makes
   * them one (its head plus the next chunk), so a large backlog is not copied again per chunk.
   */
  takeCommands(max: number): StreamCommand[] {
    const out: StreamCommand[] = [];
    while (out.length < max && this.chunks.length > 0) {
      const b = this.chunks[0]!;
      let pos = 0;
      while (out.length < max) {
        const r = parseCommand(b, pos, this.name, this.consumed + pos);
        if (r === null) break;
        out.push({ args: r.args, bytes: r.end - pos });
        pos = r.end;
      }
      if (pos > 0) this.dropHead(pos);
      if (out.length >= max || this.chunks.length < 2) break;
      // An incomplete command heads the first chunk: join it with the next one (all of them when the
      // command is large, so a big value arriving in many chunks is copied a bounded number of times).
      const head = this.chunks[0]!;
      const next = this.chunks[1]!;
      if (head.length > 4 * next.length) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
      else this.chunks.splice(0, 2, Buffer.concat([head, next]));
    }
    return out;
  }

  /** Drop `n` bytes of the first chunk. */
  private dropHead(n: number): void {
    const b = this.chunks[0]!;
    if (n >= b.length) this.chunks.shift();
    else this.chunks[0] = b.subarray(n);
    this.buffered -= n;
    this.consumed += n;
    if (this.buffered <= HIGH_WATER / 2 && this.socket.isPaused()) this.socket.resume();
  }
}

/** One multibulk command at `pos`, or null when it is not complete yet. */
export function parseCommand(b: Buffer, pos: number, name: string, at: number): { args: Buffer[]; end: number } | null {
  if (pos >= b.length) return null;
  if (b[pos] !== 0x2a) {
    throw new ReplicationProtocolError(`${name}: stream offset ${at}: expected a command array ('*'), found byte 0x${b[pos]!.toString(16)}`);
  }
  const eol = b.indexOf('\r\n', pos);
  if (eol < 0) return null;
  const n = parseDecimal(b, pos + 1, eol, name, at);
  if (n > MAX_ARGS) throw new ReplicationProtocolError(`${name}: stream offset ${at}: a command of ${n} arguments exceeds ${MAX_ARGS}`);
  const args: Buffer[] = [];
  let p = eol + 2;
  for (let i = 0; i < n; i++) {
    if (p >= b.length) return null;
    if (b[p] !== 0x24) throw new ReplicationProtocolError(`${name}: stream offset ${at + (p - pos)}: expected a bulk string ('$'), found byte 0x${b[p]!.toString(16)}`);
    const e = b.indexOf('\r\n', p);
    if (e < 0) return null;
    const len = parseDecimal(b, p + 1, e, name, at + (p - pos));
    if (len > MAX_BULK) throw new ReplicationProtocolError(`${name}: stream offset ${at + (p - pos)}: a bulk of ${len} bytes exceeds ${MAX_BULK}`);
    const start = e + 2;
    if (start + len + 2 > b.length) return null;
    args.push(b.subarray(start, start + len));
    p = start + len + 2;
  }
  return { args, end: p };
}

function parseDecimal(b: Buffer, s: number, e: number, name: string, at: number): number {
  if (e <= s || e - s > 12) throw new ReplicationProtocolError(`${name}: stream offset ${at}: expected a length, found "${b.toString('latin1', s, Math.min(e, s + 20))}"`);
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = b[i]! - 48;
    if (d < 0 || d > 9) throw new ReplicationProtocolError(`${name}: stream offset ${at}: expected a length, found "${b.toString('latin1', s, e)}"`);
    v = v * 10 + d;
  }
  return v;
}
