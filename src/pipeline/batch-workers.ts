/**
 * Both cores for one file: the reading thread walks the RDB (cheap), worker threads decode values
 * and build the JSONL text (the cost of rdb→jsonl). Runs of key records are packed into one
 * transferred buffer per job; jobs are written back strictly in input order, so the output is
 * byte-for-byte what JsonlSink writes on one thread (test/transform/batch-workers.test.ts).
 *
 * Only RDB keys go to workers (their payload is raw bytes). Non-key lines, keys of other sources
 * (JSONL input) and values big enough to be streamed piece by piece (blob-json.ts) are written on
 * this thread, in their place.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { AtomicOutput } from '../io/atomic-file.js';
import { RekeyInputError } from '../errors.js';
import { keyToJsonLine, metaToJsonLine } from '../jsonl/value-json.js';
import { keyToJsonPieces } from '../jsonl/blob-json.js';
import { RdbKeyRecord } from '../rdb/parser.js';
import { KeyView } from '../records/rewrite.js';
import { LOGICAL_TYPES, type KeyRecord, type LogicalType, type RdbRecord } from '../records/types.js';
import type { Sink } from '../sinks/sink.js';

const ROLE = 'rekey-jsonl-batch';
/** Numbers per packed key (see Packer.add). */
const F = 14;
/** A job is dispatched once its keys hold this many bytes (or keys): big enough to pay for a message. */
const JOB_BYTES = 512 * 1024;
const JOB_KEYS = 4096;

interface Job {
  file: string;
  /** Key bytes, payload bytes and KEY_META bytes of every key, back to back. */
  bytes: Uint8Array;
  /** F numbers per key: db, type, rdb type, encoding, flavor, rdb version, expiry, idle, freq, three lengths, two offsets. */
  meta: Float64Array;
  encodings: string[];
}

type Reply = { id: number; text: Uint8Array } | { id: number; error: { file: string; offset: number; expected: string } | { message: string } };

/** One run of keys being packed. */
class Packer {
  private parts: Buffer[] = [];
  private meta: number[] = [];
  private encodings: string[] = [];
  private encodingIndex = new Map<string, number>();
  bytes = 0;
  keys = 0;
  file = '';

  add(rec: KeyRecord, src: RdbKeyRecord): void {
    let enc = this.encodingIndex.get(src.encoding);
    if (enc === undefined) {
      enc = this.encodings.push(src.encoding) - 1;
      this.encodingIndex.set(src.encoding, enc);
    }
    const keyMeta = rec.keyMeta;
    this.parts.push(rec.key, src.payload);
    if (keyMeta !== undefined) this.parts.push(keyMeta);
    this.meta.push(rec.db, LOGICAL_TYPES.indexOf(src.type), src.rdbType, enc, src.flavor === 'valkey' ? 1 : 0, src.rdbVersion,
      rec.expireAtMs ?? NaN, rec.idle ?? NaN, rec.freq ?? NaN, rec.key.length, src.payload.length, keyMeta?.length ?? -1,
      // Where decode errors point: the entry's and its payload's offsets in the input.
      src.offset, src.payloadOffset);
    this.bytes += rec.key.length + src.payload.length + (keyMeta?.length ?? 0);
    this.keys++;
    this.file = src.file;
  }

  take(): Job {
    // A buffer of its own (never Node's shared pool): it is transferred, which detaches it here.
    const bytes = Buffer.allocUnsafeSlow(this.bytes);
    let at = 0;
    for (const p of this.parts) at += p.copy(bytes, at);
    const job: Job = { file: this.file, bytes, meta: Float64Array.from(this.meta), encodings: this.encodings };
    this.parts = [];
    this.meta = [];
    this.encodings = [];
    this.encodingIndex = new Map();
    this.bytes = 0;
    this.keys = 0;
    return job;
  }
}

/** Runs a job in a worker: the JSONL lines of its keys, each ending in "\n", as UTF-8. */
function runJob(job: Job): Uint8Array {
  const bytes = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
  const m = job.meta;
  const lines: string[] = [];
  let pos = 0;
  for (let i = 0; i < m.length; i += F) {
    const keyLen = m[i + 9]!;
    const payloadLen = m[i + 10]!;
    const keyMetaLen = m[i + 11]!;
    const key = bytes.subarray(pos, (pos += keyLen));
    const payload = bytes.subarray(pos, (pos += payloadLen));
    const rec = new RdbKeyRecord(m[i]!, key, LOGICAL_TYPES[m[i + 1]!] as LogicalType, m[i + 2]!, job.encodings[m[i + 3]!] ?? '',
      m[i + 4] === 1 ? 'valkey' : 'redis', m[i + 5]!, Number.isNaN(m[i + 6]!) ? null : m[i + 6]!, payload, m[i + 12]!, m[i + 13]!, job.file);
    if (!Number.isNaN(m[i + 7]!)) rec.idle = m[i + 7]!;
    if (!Number.isNaN(m[i + 8]!)) rec.freq = m[i + 8]!;
    if (keyMetaLen >= 0) rec.keyMeta = bytes.subarray(pos, (pos += keyMetaLen));
    lines.push(keyToJsonLine(rec));
  }
  lines.push('');
  // TextEncoder's array owns its buffer (Buffer.from may hand out a slice of the shared pool).
  return encoder.encode(lines.join('\n'));
}
const encoder = new TextEncoder();

if (!isMainThread && parentPort && (workerData as { role?: string } | null)?.role === ROLE) {
  const port = parentPort;
  port.on('message', (msg: { id: number; job: Job }) => {
    let reply: Reply;
    try {
      reply = { id: msg.id, text: runJob(msg.job) };
    } catch (e) {
      reply = { id: msg.id, error: e instanceof RekeyInputError ? { file: e.file, offset: e.offset, expected: e.expected } : { message: e instanceof Error ? e.message : String(e) } };
    }
    const transfer = 'text' in reply ? [reply.text.buffer as ArrayBuffer] : [];
    port.postMessage(reply, transfer);
  });
}

/** A fixed set of workers; each job's answer comes back as a promise. */
class Pool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();
  private next = 0;
  private failure: Error | null = null;

  constructor(n: number) {
    for (let i = 0; i < n; i++) {
      const w = new Worker(new URL(import.meta.url), { workerData: { role: ROLE } });
      w.on('message', (r: Reply) => {
        const p = this.waiting.get(r.id);
        if (!p) return;
        this.waiting.delete(r.id);
        if ('text' in r) p.resolve(r.text);
        else p.reject('file' in r.error ? new RekeyInputError(r.error.file, r.error.offset, r.error.expected) : new Error(r.error.message));
      });
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`a batch worker exited with code ${code}`));
      });
      this.workers.push(w);
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
  }

  run(job: Job): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    const w = this.workers[id % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.postMessage({ id, job }, [job.bytes.buffer as ArrayBuffer, job.meta.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** A piece of output in input order: text made here, a worker's answer, or a value streamed in pieces. */
type Piece = string | Promise<Uint8Array> | { pieces: Iterable<string> };

export interface ParallelJsonlSinkOptions {
  path: string | '-';
  workers: number;
}

/** JsonlSink's output, with decoding and JSON building on worker threads. */
export class ParallelJsonlSink implements Sink {
  private readonly out: AtomicOutput;
  private readonly pool: Pool;
  private readonly packer = new Packer();
  private readonly queue: Piece[] = [];
  private inFlight = 0;
  private readonly maxInFlight: number;
  /** A rejected job is remembered so a later write or close reports it (and the pipeline aborts). */
  private writing: Promise<void> = Promise.resolve();

  constructor(opts: ParallelJsonlSinkOptions) {
    this.out = AtomicOutput.open(opts.path);
    this.pool = new Pool(Math.max(1, opts.workers));
    // Two jobs per worker keep every worker busy while the oldest answer is written.
    this.maxInFlight = 2 * Math.max(1, opts.workers);
  }

  writeBatch(records: readonly RdbRecord[]): void | Promise<void> {
    let meta = '';
    let bigValue = false;
    for (const r of records) {
      if (r.kind !== 'key') {
        const line = metaToJsonLine(r);
        if (line === null) continue;
        if (this.packer.keys > 0) this.dispatch();
        meta += line + '\n';
        continue;
      }
      const src = r instanceof KeyView ? r.base : r;
      const pieces = keyToJsonPieces(r);
      if (!(src instanceof RdbKeyRecord) || pieces !== null) {
        // Written here, in its place: a key of another source, or a value streamed in pieces.
        if (this.packer.keys > 0) this.dispatch();
        if (meta) this.queue.push(meta);
        meta = '';
        this.queue.push(pieces !== null ? { pieces } : keyToJsonLine(r) + '\n');
        // A streamed value is written before reading on, so it is held no longer than on one thread.
        if (pieces !== null) bigValue = true;
        continue;
      }
      if (meta) {
        this.queue.push(meta);
        meta = '';
      }
      this.packer.add(r, src);
      if (this.packer.bytes >= JOB_BYTES || this.packer.keys >= JOB_KEYS) this.dispatch();
    }
    if (meta) this.queue.push(meta);
    return this.drain(bigValue ? 0 : this.maxInFlight);
  }

  private dispatch(): void {
    const p = this.pool.run(this.packer.take());
    p.catch(() => undefined); // awaited in order by drain(); not an unhandled rejection meanwhile
    this.queue.push(p);
    this.inFlight++;
  }

  /** Writes queued pieces in order until at most `keep` jobs are still in flight. */
  private drain(keep: number): Promise<void> | void {
    const ready = (): boolean => this.queue.length > 0 && (this.inFlight > keep || !(this.queue[0] instanceof Promise));
    if (!ready()) return;
    this.writing = this.writing.then(async () => {
      while (ready()) {
        const head = this.queue.shift()!;
        if (typeof head === 'string') await this.out.write(head);
        else if (head instanceof Promise) {
          this.inFlight--;
          const text = await head;
          await this.out.write(Buffer.from(text.buffer, text.byteOffset, text.byteLength));
        } else for (const piece of head.pieces) await this.out.write(piece);
      }
    });
    return this.writing;
  }

  async close(): Promise<void> {
    try {
      if (this.packer.keys > 0) this.dispatch();
      await this.drain(0);
      await this.out.commit();
    } finally {
      await this.pool.close();
    }
  }

  async abort(_err: unknown): Promise<void> {
    await this.pool.close();
    await this.out.abort();
  }
}
