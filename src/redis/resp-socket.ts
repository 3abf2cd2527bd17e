/**
 * A raw RESP2 connection for the import's write path: commands are appended straight into one output
 * buffer (no per-command objects or promises) and written to the socket in coalesced chunks; replies are
 * parsed incrementally and handed, in order, to the pending operations that asked for them.
 *
 * ioredis stays in charge of everything that is not throughput-bound (INFO, validation reads).
 */
import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { dial } from './dial.js';
import { ByteWriter } from '../encode/rdb-primitives.js';
import { appendCommand, type RespArg } from '../encode/resp.js';

/** An error reply (`-ERR …`). Not an Error subclass: no stack capture per BUSYKEY. */
export class ReplyError {
  constructor(readonly message: string) {}
  /** First word: BUSYKEY, MOVED, ASK, ERR, WRONGTYPE, … */
  get code(): string {
    const i = this.message.indexOf(' ');
    return i < 0 ? this.message : this.message.slice(0, i);
  }
  toString(): string {
    return this.message;
  }
}

export type Reply = string | number | Buffer | null | ReplyError | Reply[];

/** Something waiting for `replies` replies on a connection; they are delivered in order. */
export interface PendingOp {
  readonly replies: number;
  onReply(reply: Reply, index: number): void;
}

export interface RespSocketOptions {
  host: string;
  port: number;
  tls?: ConnectionOptions | null;
  username?: string | null;
  password?: string | null;
  /** SELECT this db after connecting (0 or undefined: nothing sent). */
  db?: number;
  connectTimeoutMs?: number;
  /** Client name shown by CLIENT LIST. */
  name?: string;
  /** Fail the connection when requests wait this long without any reply byte (0/undefined: never). */
  requestTimeoutMs?: number;
}

const INCOMPLETE = Symbol('incomplete');
const OUT_BUFFER = 256 * 1024;
const OK = 'OK';
const QUEUED = 'QUEUED';

/** Thrown/recorded when the connection drops or errs; pending ops are then in an unknown state. */
export class ConnectionLostError extends Error {
  override readonly name = 'ConnectionLostError';
}

export class RespSocket {
  /** Append commands here (appendCommand / raw bytes), then enqueue() the op that reads their replies. */
  readonly out = new ByteWriter(OUT_BUFFER);
  private readonly spare: Buffer[] = [];
  /** Called once when the connection fails or closes unexpectedly. */
  onFatal: ((err: Error) => void) | null = null;
  /**
   * Called before buffered bytes go to the socket (the transport closes its open batch and the ledger
   * records the intent here); false keeps the bytes unsent.
   */
  beforeFlush: (() => boolean) | null = null;

  private readonly queue: PendingOp[] = [];
  private head = 0;
  private index = 0;
  private rest: Buffer | null = null;
  private restChunks: Buffer[] = [];
  private restLen = 0;
  private need = 0;
  private next = 0;
  private closing = false;
  private failed: Error | null = null;
  private flushScheduled = false;
  /** Database the connection has SELECTed (tracked by select()). */
  db = 0;
  bytesSent = 0;
  /** When a reply byte last arrived, or the queue last went from empty to busy. */
  private lastProgress = Date.now();
  private watchdog: NodeJS.Timeout | null = null;

  private constructor(
    private readonly socket: Socket,
    readonly host: string,
    readonly port: number,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.fail(new ConnectionLostError(`connection to ${host}:${port} failed: ${e.message}`)));
    socket.on('close', () => {
      if (!this.closing) this.fail(new ConnectionLostError(`connection to ${host}:${port} closed by the server`));
    });
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** Operations sent and not yet fully answered. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  get error(): Error | null {
    return this.failed;
  }

  /** The pending operations, oldest first (for recording what was in flight when a connection died). */
  pendingOps(): PendingOp[] {
    return this.queue.slice(this.head);
  }

  static async connect(o: RespSocketOptions): Promise<RespSocket> {
    const socket = await dial({ host: o.host, port: o.port, tls: o.tls, timeoutMs: o.connectTimeoutMs ?? 10_000 }, (kind, detail) =>
      kind === 'timeout'
        ? new ConnectionLostError(`connection to ${o.host}:${o.port} timed out after ${detail} ms`)
        : new ConnectionLostError(`cannot connect to ${o.host}:${o.port}: ${detail}`),
    );
    const c = new RespSocket(socket, o.host, o.port);
    if (o.requestTimeoutMs) c.watch(o.requestTimeoutMs);
    const hello: Array<readonly RespArg[]> = [];
    if (o.password) hello.push(o.username ? ['AUTH', o.username, o.password] : ['AUTH', o.password]);
    if (o.db) hello.push(['SELECT', String(o.db)]);
    if (o.name) hello.push(['CLIENT', 'SETNAME', o.name]);
    for (const args of hello) {
      const r = await c.call(args);
      if (r instanceof ReplyError) {
        // CLIENT SETNAME may be renamed or refused by ACL: not fatal.
        if (args[0] === 'CLIENT') continue;
        c.destroy();
        const what = args[0] === 'AUTH' ? 'authentication' : `SELECT ${o.db}`;
        throw new ConnectionLostError(`${what} failed on ${o.host}:${o.port}: ${r.message}`);
      }
    }
    if (o.db) c.db = o.db;
    return c;
  }

  /** Queue `op` for replies to what was appended to `out` since the last enqueue. */
  enqueue(op: PendingOp): void {
    if (this.head === this.queue.length) this.lastProgress = Date.now();
    this.queue.push(op);
  }

  /**
   * A server (or link) that stalls would leave every pending request waiting forever: fail the connection
   * once requests have waited `ms` without a single reply byte. Checked a few times per period.
   */
  private watch(ms: number): void {
    this.watchdog = setInterval(() => {
      if (this.pending > 0 && Date.now() - this.lastProgress > ms) {
        this.fail(new ConnectionLostError(`no reply from ${this.address} for ${ms} ms (--request-timeout): the connection is given up`));
      }
    }, Math.max(10, Math.floor(ms / 4)));
    this.watchdog.unref();
  }

  private unwatch(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  /** Append one command (convenience; hot paths write into `out` directly). */
  command(args: readonly RespArg[]): void {
    appendCommand(this.out, args);
  }

  /** One command, one reply, as a promise (handshakes, admin calls). */
  call(args: readonly RespArg[]): Promise<Reply> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<Reply>((resolve, reject) => {
      appendCommand(this.out, args);
      const op: PendingOp & { reject: (e: Error) => void } = {
        replies: 1,
        onReply: (r) => resolve(r),
        reject,
      };
      this.enqueue(op);
      this.flush();
    });
  }

  /**
   * Write what is buffered in `out` to the socket. The buffer goes to the socket as is and `out` continues on
   * a recycled one: the socket hands buffers back once written, so a long import allocates a few, not one
   * per flush.
   */
  flush(): void {
    const w = this.out;
    if (w.pos === 0 || this.failed) return;
    if (this.beforeFlush !== null && !this.beforeFlush()) return;
    const buf = w.buf;
    const chunk = buf.subarray(0, w.pos);
    w.buf = this.spare.pop() ?? Buffer.allocUnsafe(OUT_BUFFER);
    w.pos = 0;
    this.bytesSent += chunk.length;
    this.socket.write(chunk, () => {
      if (buf.length <= OUT_BUFFER * 4 && this.spare.length < 8) this.spare.push(buf);
    });
  }

  /** Flush on the next turn of the event loop (for writes made from reply handlers). */
  scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Bytes written to the socket but not yet handed to the kernel. */
  get socketBacklog(): number {
    return this.socket.writableLength;
  }

  /** Resolves when the socket's user-space write buffer drained. */
  waitWritable(): Promise<void> {
    if (this.socket.writableLength === 0 || this.failed) return Promise.resolve();
    return new Promise((r) => this.socket.once('drain', () => r()));
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.unwatch();
    this.flush();
    await new Promise<void>((resolve) => {
      if (this.socket.destroyed) return resolve();
      const t = setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 2000);
      this.socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      this.socket.end();
    });
  }

  destroy(): void {
    this.closing = true;
    this.unwatch();
    this.socket.destroy();
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    this.unwatch();
    this.socket.destroy();
    // Promise-style ops (call()) learn about it; writer ops are reported through onFatal.
    for (let i = this.head; i < this.queue.length; i++) {
      const op = this.queue[i] as PendingOp & { reject?: (e: Error) => void };
      op.reject?.(err);
    }
    this.onFatal?.(err);
  }

  // ------------------------------------------------------------------------------------------
  // reply parsing

  private onData(chunk: Buffer): void {
    this.lastProgress = Date.now();
    let buf: Buffer;
    if (this.rest !== null) {
      if (this.need > 0 && this.restLen + chunk.length < this.need) {
        // A big reply still arriving: collect, concatenate once it is complete.
        this.restChunks.push(chunk);
        this.restLen += chunk.length;
        return;
      }
      this.restChunks.push(chunk);
      buf = Buffer.concat([this.rest, ...this.restChunks.slice(1)], this.restLen + chunk.length);
      this.rest = null;
      this.restChunks = [];
      this.restLen = 0;
      this.need = 0;
    } else buf = chunk;
    let pos = 0;
    const n = buf.length;
    while (pos < n) {
      this.need = 0;
      const r = this.parse(buf, pos);
      if (r === INCOMPLETE) break;
      pos = this.next;
      this.dispatch(r);
      if (this.failed) return;
    }
    if (pos < n) {
      this.rest = buf.subarray(pos);
      this.restChunks = [this.rest];
      this.restLen = this.rest.length;
      if (this.need > 0) this.need -= pos;
    }
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private dispatch(r: Reply): void {
    const op = this.queue[this.head];
    if (op === undefined) {
      this.fail(new ConnectionLostError(`unexpected reply from ${this.address}: ${String(r)}`));
      return;
    }
    const i = this.index++;
    if (this.index >= op.replies) {
      this.index = 0;
      this.queue[this.head++] = undefined as unknown as PendingOp;
    }
    op.onReply(r, i);
  }

  /** Parse one reply at `pos`; sets this.next past it, or returns INCOMPLETE. */
  private parse(buf: Buffer, pos: number): Reply | typeof INCOMPLETE {
    const n = buf.length;
    if (pos >= n) return INCOMPLETE;
    const t = buf[pos]!;
    // Fast path: +OK\r\n
    if (t === 0x2b && pos + 4 < n && buf[pos + 1] === 0x4f && buf[pos + 2] === 0x4b && buf[pos + 3] === 13) {
      this.next = pos + 5;
      return OK;
    }
    const eol = buf.indexOf(13, pos + 1);
    if (eol < 0 || eol + 1 >= n) return INCOMPLETE;
    switch (t) {
      case 0x2b: {
        // +simple
        this.next = eol + 2;
        const s = buf.toString('latin1', pos + 1, eol);
        return s === QUEUED ? QUEUED : s;
      }
      case 0x2d: // -error
        this.next = eol + 2;
        return new ReplyError(buf.toString('utf8', pos + 1, eol));
      case 0x3a: // :integer
        this.next = eol + 2;
        return parseIntAscii(buf, pos + 1, eol);
      case 0x24: {
        // $bulk
        const len = parseIntAscii(buf, pos + 1, eol);
        if (len < 0) {
          this.next = eol + 2;
          return null;
        }
        const start = eol + 2;
        if (start + len + 2 > n) {
          this.need = start + len + 2;
          return INCOMPLETE;
        }
        this.next = start + len + 2;
        return buf.subarray(start, start + len);
      }
      case 0x2a: {
        // *array
        const count = parseIntAscii(buf, pos + 1, eol);
        if (count < 0) {
          this.next = eol + 2;
          return null;
        }
        const items: Reply[] = new Array<Reply>(count);
        let p = eol + 2;
        for (let i = 0; i < count; i++) {
          const r = this.parse(buf, p);
          if (r === INCOMPLETE) return INCOMPLETE;
          items[i] = r;
          p = this.next;
        }
        this.next = p;
        return items;
      }
      default:
        this.fail(new ConnectionLostError(`protocol error from ${this.address}: unexpected byte 0x${t.toString(16)}`));
        return INCOMPLETE;
    }
  }
}

function parseIntAscii(buf: Buffer, start: number, end: number): number {
  let i = start;
  let neg = false;
  if (buf[i] === 0x2d) {
    neg = true;
    i++;
  }
  let v = 0;
  for (; i < end; i++) v = v * 10 + (buf[i]! - 48);
  return neg ? -v : v;
}
