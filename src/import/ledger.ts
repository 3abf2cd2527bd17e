/**
 * The import ledger (`migration_ledger_*.jsonl`): an append-only JSONL record of what a run wrote.
 *
 *   {"$":"ledger","version":1,...}                    header (settings of the run)
 *   {"offset":123,"db":0,"key":"<base64>","created":true}   one per acknowledged key (created: the run made it;
 *                                                     false: it already existed and was skipped or replaced)
 *   {"$":"hwm","offset":456}                          every input record at or before this offset is done
 *   {"$":"sent","offset":600}                         records at or before this offset may have been sent
 *   {"$":"inflight","offset":789,"db":0,"key":"…"}    sent but not acknowledged when the run stopped
 *   {"$":"resume",...}                                a later run continued this ledger
 *   {"$":"end","complete":true,...}                   the run ended (complete: the whole input was processed)
 *
 * Exact after a crash of rekey (SIGKILL included): before any byte goes to the target, a `sent` line naming
 * the highest input offset handed to the connection is written to the file (a write(2): the kernel holds
 * it even if the process dies the next instant), and acknowledgements are written within one turn of the
 * event loop after their reply. So every key the target may hold from this run is either acknowledged in
 * the ledger or at/below a `sent` mark without an acknowledgement — the latter are re-checked on resume
 * and recorded `uncertain` when they exist. fsync (for power loss, not process death) runs every
 * `syncEvery` acknowledgements, every second and at the end.
 * Offsets of an import of several inputs are positions in the whole dataset (dataset/dataset.ts
 * `positions`), so one ledger and one resume cover every input.
 * `--resume` skips input records at or below the high-water mark and those listed after it; `rollback`
 * deletes exactly the keys listed with created:true.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { writeSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { EXIT_BAD_INPUT, RekeyUsageError } from '../errors.js';
import { ByteWriter } from '../encode/rdb-primitives.js';

export interface LedgerHeader {
  $: 'ledger';
  version: 1;
  started: string;
  input: string;
  input_format?: string;
  input_size?: number;
  target: string;
  mode: string;
  on_conflict: string;
  rules: string | null;
  to_db: number | null;
  [k: string]: unknown;
}

export interface LedgerAck {
  offset: number;
  db: number;
  key: Buffer;
  created: boolean;
  /**
   * The key existed at resume time after an unacknowledged write of the crashed run: ours or not, unknown
   * (also a key that was there before the first run: its one final state is uncertain, not skipped).
   */
  uncertain?: boolean;
  /** The run overwrote an existing key (--on-conflict replace). */
  replaced?: boolean;
}

export interface LedgerWriterOptions {
  /** fsync after this many acknowledgements (default 10000). */
  syncEvery?: number;
  /** Also flush at least this often (ms, default 1000). */
  flushIntervalMs?: number;
}

/** The ledger cannot be written (disk full, I/O error): the import must stop at once (exit 2). */
export class LedgerWriteError extends Error {
  override readonly name = 'LedgerWriteError';
  readonly exitCode = EXIT_BAD_INPUT;
}

const B64 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');

/** Flags of an acknowledgement line. */
export const ACK_UNCERTAIN = 1;
export const ACK_REPLACED = 2;

const T_OFFSET = Buffer.from('{"offset":', 'latin1');
const T_DB = Buffer.from(',"db":', 'latin1');
const T_KEY = Buffer.from(',"key":"', 'latin1');
const T_CREATED_TRUE = Buffer.from('","created":true', 'latin1');
const T_CREATED_FALSE = Buffer.from('","created":false', 'latin1');
const T_UNCERTAIN = Buffer.from(',"uncertain":true', 'latin1');
const T_REPLACED = Buffer.from(',"replaced":true', 'latin1');
const T_END = Buffer.from('}\n', 'latin1');

/**
 * Appends ledger lines. Acknowledgement lines are encoded straight into a byte buffer (digits and base64
 * by hand): a million-key import writes a million lines, and building them as strings cost more CPU and GC
 * than the RESTOREs themselves.
 */
export class LedgerWriter {
  private buf = new ByteWriter(1 << 20);
  private pendingLines = 0;
  private sinceSync = 0;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private lastHwm = -1;
  private writtenHwm = -1;
  private closed = false;
  private failure: LedgerWriteError | null = null;
  private pushScheduled = false;
  private sentMark = -1;
  /**
   * Bytes of the input file read so far (compressed for .gz), written beside each high-water mark: a
   * resumed run's progress starts there, since the mark itself is an offset in the decompressed stream.
   */
  inputBytes: (() => number) | null = null;
  /** Called once when a write fails (the writer stops the import). */
  onFailure: ((e: LedgerWriteError) => void) | null = null;
  acks = 0;
  created = 0;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private readonly opts: Required<LedgerWriterOptions>,
  ) {
    this.timer = setInterval(() => {
      if (this.pendingLines > 0 || this.lastHwm > this.writtenHwm) this.flush(true).catch(() => undefined);
    }, this.opts.flushIntervalMs);
    this.timer.unref();
  }

  /** Start a new ledger (fails if the file exists). */
  static async create(path: string, header: LedgerHeader, opts: LedgerWriterOptions = {}): Promise<LedgerWriter> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'wx');
    } catch (e) {
      throw new RekeyUsageError(`ledger ${path}: cannot create (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const w = new LedgerWriter(path, fh, withDefaults(opts));
    w.text(JSON.stringify(header) + '\n');
    await w.flush(true);
    return w;
  }

  /** Continue an existing ledger (resume). */
  static async append(path: string, note: Record<string, unknown>, opts: LedgerWriterOptions = {}): Promise<LedgerWriter> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'a');
    } catch (e) {
      throw new RekeyUsageError(`ledger ${path}: cannot open for appending (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const w = new LedgerWriter(path, fh, withDefaults(opts));
    // A crash may have left a partial last line: start on a fresh one.
    const st = await fh.stat();
    const head = st.size > 0 ? Buffer.alloc(1) : null;
    if (head) {
      const r = await open(path, 'r');
      try {
        await r.read(head, 0, 1, st.size - 1);
      } finally {
        await r.close();
      }
    }
    w.text((head && head[0] !== 0x0a ? '\n' : '') + JSON.stringify({ $: 'resume', ...note }) + '\n');
    await w.flush(true);
    return w;
  }

  private text(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.buf.ensure(n);
    this.buf.pos += this.buf.buf.write(s, this.buf.pos, 'utf8');
    this.pendingLines++;
  }

  /** One acknowledged key: `created` (the run made it) and ACK_* flags. */
  ack(offset: number, db: number, key: Buffer, created: boolean, flags = 0): void {
    const w = this.buf;
    w.ensure(key.length * 2 + 128);
    put(w, T_OFFSET);
    w.decimal(offset);
    put(w, T_DB);
    w.decimal(db);
    put(w, T_KEY);
    base64Into(w, key);
    put(w, created ? T_CREATED_TRUE : T_CREATED_FALSE);
    if (flags & ACK_UNCERTAIN) put(w, T_UNCERTAIN);
    if (flags & ACK_REPLACED) put(w, T_REPLACED);
    put(w, T_END);
    this.pendingLines++;
    this.acks++;
    if (created) this.created++;
    if (++this.sinceSync >= this.opts.syncEvery) {
      this.sinceSync = 0;
      this.flush(true).catch(() => undefined);
    } else if (!this.pushScheduled) {
      // All acknowledgements of one burst of replies go to the kernel together, right after it.
      this.pushScheduled = true;
      setImmediate(() => {
        this.pushScheduled = false;
        this.push();
      });
    }
  }

  /**
   * Records at or before `offset` are about to be sent: the mark reaches the file before the bytes reach
   * the socket. False when the ledger cannot be written (then nothing may be sent).
   */
  sent(offset: number): boolean {
    if (this.failure) return false;
    if (offset > this.sentMark) {
      this.sentMark = offset;
      this.text(`{"$":"sent","offset":${offset}}\n`);
      this.push();
    }
    return this.failure === null;
  }

  get failed(): LedgerWriteError | null {
    return this.failure;
  }

  /** Hand the buffered lines to the kernel now (write(2), no fsync). */
  push(): void {
    if (this.failure || this.buf.pos === 0) return;
    const chunk = this.buf.finish();
    this.pendingLines = 0;
    try {
      let done = 0;
      while (done < chunk.length) done += writeSync(this.fh.fd, chunk, done, chunk.length - done);
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    if (this.failure) return;
    const code = (e as NodeJS.ErrnoException).code;
    this.failure = new LedgerWriteError(`ledger ${this.path}: write failed (${code ?? (e as Error).message}): the import stops; keys sent since the last ledger line are uncertain`);
    this.onFailure?.(this.failure);
  }

  /** Every input record at or before `offset` is done. Written with the next flush. */
  hwm(offset: number): void {
    if (offset > this.lastHwm) this.lastHwm = offset;
  }

  inflight(offset: number, db: number, key: Buffer): void {
    this.text(`{"$":"inflight","offset":${offset},"db":${db},"key":"${key.toString('base64')}"}\n`);
  }

  note(obj: Record<string, unknown>): void {
    this.text(JSON.stringify(obj) + '\n');
  }

  private hwmLine(): void {
    if (this.lastHwm > this.writtenHwm) {
      const at = this.inputBytes?.();
      this.text(`{"$":"hwm","offset":${this.lastHwm}${at !== undefined ? `,"in":${at}` : ''}}\n`);
      this.writtenHwm = this.lastHwm;
    }
  }

  /** Write buffered lines (and an fsync when `sync`; fsyncs are serialized). */
  flush(sync: boolean): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.hwmLine();
    this.push();
    if (this.failure) return Promise.reject(this.failure);
    if (!sync) return this.chain;
    this.chain = this.chain.then(async () => {
      if (this.failure) throw this.failure;
      try {
        await this.fh.datasync();
      } catch (e) {
        this.fail(e);
        throw this.failure;
      }
    });
    return this.chain;
  }

  /** Final line, flush, fsync, close. */
  async close(end: Record<string, unknown>): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    // The end line is the last: a pending high-water mark goes before it.
    this.hwmLine();
    this.text(JSON.stringify({ $: 'end', finished: new Date().toISOString(), ...end }) + '\n');
    try {
      await this.flush(true);
    } finally {
      await this.fh.close().catch(() => undefined);
    }
  }
}

/** A short constant (room ensured by the caller). */
function put(w: ByteWriter, b: Buffer): void {
  const out = w.buf;
  let p = w.pos;
  for (let i = 0; i < b.length; i++) out[p++] = b[i]!;
  w.pos = p;
}

/** Standard base64 (with padding) of `src`, written into `w` (room ensured by the caller). */
function base64Into(w: ByteWriter, src: Buffer): void {
  const out = w.buf;
  let o = w.pos;
  const n = src.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (src[i]! << 16) | (src[i + 1]! << 8) | src[i + 2]!;
    out[o++] = B64[v >>> 18]!;
    out[o++] = B64[(v >>> 12) & 63]!;
    out[o++] = B64[(v >>> 6) & 63]!;
    out[o++] = B64[v & 63]!;
  }
  if (i < n) {
    const v = (src[i]! << 16) | (i + 1 < n ? src[i + 1]! << 8 : 0);
    out[o++] = B64[v >>> 18]!;
    out[o++] = B64[(v >>> 12) & 63]!;
    out[o++] = i + 1 < n ? B64[(v >>> 6) & 63]! : 0x3d;
    out[o++] = 0x3d;
  }
  w.pos = o;
}

function withDefaults(o: LedgerWriterOptions): Required<LedgerWriterOptions> {
  return { syncEvery: o.syncEvery ?? 10_000, flushIntervalMs: o.flushIntervalMs ?? 1000 };
}

// ---------------------------------------------------------------------------------------------
// reading

export type LedgerLine =
  | { kind: 'header'; header: LedgerHeader }
  | { kind: 'ack'; ack: LedgerAck }
  | { kind: 'hwm'; offset: number; inputBytes?: number }
  | { kind: 'sent'; offset: number }
  | { kind: 'inflight'; offset: number; db: number; key: Buffer }
  | { kind: 'resume'; data: Record<string, unknown> }
  | { kind: 'end'; data: Record<string, unknown> }
  | { kind: 'other'; data: Record<string, unknown> };

/** Every line of a ledger, in order. A torn last line (crash) is ignored; a bad line elsewhere is an error. */
export async function* readLedger(path: string): AsyncGenerator<LedgerLine> {
  let stream;
  try {
    stream = createReadStream(path, { encoding: 'utf8' });
    await new Promise<void>((resolve, reject) => {
      stream!.once('open', () => resolve());
      stream!.once('error', reject);
    });
  } catch (e) {
    throw new RekeyUsageError(`ledger ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  let bad: { line: number; text: string } | null = null;
  let first = true;
  for await (const text of rl) {
    lineNo++;
    if (text.trim() === '') continue;
    if (bad) throw new RekeyUsageError(`ledger ${path}: line ${bad.line} is not valid JSON`);
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(text) as Record<string, unknown>;
    } catch {
      bad = { line: lineNo, text };
      continue;
    }
    if (first) {
      first = false;
      if (obj.$ !== 'ledger') throw new RekeyUsageError(`ledger ${path}: not a rekey ledger (the first line has no "$":"ledger")`);
      yield { kind: 'header', header: obj as unknown as LedgerHeader };
      continue;
    }
    const tag = obj.$;
    if (tag === undefined) {
      if (typeof obj.offset !== 'number' || typeof obj.db !== 'number' || typeof obj.key !== 'string') {
        throw new RekeyUsageError(`ledger ${path}: line ${lineNo}: expected {offset, db, key, created}`);
      }
      const ack: LedgerAck = { offset: obj.offset, db: obj.db, key: Buffer.from(obj.key, 'base64'), created: obj.created === true };
      if (obj.uncertain === true) ack.uncertain = true;
      if (obj.replaced === true) ack.replaced = true;
      yield { kind: 'ack', ack };
    } else if (tag === 'hwm') yield typeof obj.in === 'number' ? { kind: 'hwm', offset: Number(obj.offset), inputBytes: obj.in } : { kind: 'hwm', offset: Number(obj.offset) };
    else if (tag === 'sent') yield { kind: 'sent', offset: Number(obj.offset) };
    else if (tag === 'inflight') yield { kind: 'inflight', offset: Number(obj.offset), db: Number(obj.db), key: Buffer.from(String(obj.key), 'base64') };
    else if (tag === 'resume') yield { kind: 'resume', data: obj };
    else if (tag === 'end') yield { kind: 'end', data: obj };
    else yield { kind: 'other', data: obj };
  }
  if (first) throw new RekeyUsageError(`ledger ${path}: empty`);
}

/** What `--resume` needs from a ledger. */
export interface ResumeState {
  header: LedgerHeader;
  /** Every input record at or before this offset is done (-1: none). */
  hwm: number;
  /** Input file bytes (compressed for .gz) read when that mark was written; null: not recorded. */
  hwmInputBytes: number | null;
  /** Offsets above the high-water mark that were acknowledged. */
  done: Set<number>;
  /** Offsets that were in flight when a run stopped and not acknowledged since. */
  inflight: Set<number>;
  /** Every record at or before this offset may have been sent by an earlier run (-1: none). */
  sentUpTo: number;
  acks: number;
  created: number;
  /** The last run of this ledger reached its end line with complete:true. */
  complete: boolean;
  runs: number;
}

export async function readResumeState(path: string): Promise<ResumeState> {
  let header: LedgerHeader | null = null;
  let hwm = -1;
  let hwmInputBytes: number | null = null;
  const done = new Set<number>();
  const inflight = new Set<number>();
  let sentUpTo = -1;
  let acks = 0;
  let created = 0;
  let complete = false;
  let runs = 1;
  const prune = (): void => {
    for (const o of done) if (o <= hwm) done.delete(o);
    for (const o of inflight) if (o <= hwm) inflight.delete(o);
  };
  for await (const l of readLedger(path)) {
    switch (l.kind) {
      case 'header':
        header = l.header;
        break;
      case 'ack':
        acks++;
        if (l.ack.created) created++;
        if (l.ack.offset > hwm) done.add(l.ack.offset);
        inflight.delete(l.ack.offset);
        break;
      case 'hwm':
        if (l.offset > hwm) {
          hwm = l.offset;
          hwmInputBytes = l.inputBytes ?? null;
          if (done.size > 65536) prune();
        }
        break;
      case 'inflight':
        if (!done.has(l.offset) && l.offset > hwm) inflight.add(l.offset);
        break;
      case 'sent':
        if (l.offset > sentUpTo) sentUpTo = l.offset;
        break;
      case 'resume':
        runs++;
        complete = false;
        break;
      case 'end':
        complete = l.data.complete === true;
        break;
      default:
        break;
    }
  }
  prune();
  return { header: header!, hwm, hwmInputBytes, done, inflight, sentUpTo, acks, created, complete, runs };
}

/**
 * Whether a record the resumed run still has to do may already be in the target from an earlier run
 * (sent, or in flight at a stop, without an acknowledgement): such a key is re-checked, never overwritten.
 */
export function mayHaveBeenSent(state: Pick<ResumeState, 'sentUpTo' | 'inflight'>, offset: number): boolean {
  return offset <= state.sentUpTo || state.inflight.has(offset);
}
