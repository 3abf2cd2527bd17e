/**
 * Worker threads for one file: the reading thread walks the input (cheap) and packs runs of RDB key
 * records into one transferred buffer per job; workers rebuild the records, do the costly part (decode,
 * JSON, statistics) and answer; answers are used strictly in input order (OrderedJobs), so a run with
 * workers gives exactly what one thread gives. Used by pipeline/batch-workers.ts (rdb→jsonl) and
 * analyze/jobs.ts (analyze).
 *
 * A decode error in a worker comes back as the same RekeyInputError (file, offset, expected) and is
 * raised at that key's place in the order, after every earlier job was used.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { statSync } from 'node:fs';
import { RekeyInputError, RekeyUsageError } from '../errors.js';
import { RdbKeyRecord } from '../rdb/parser.js';
import { KeyView } from '../records/rewrite.js';
import { LOGICAL_TYPES, type KeyRecord, type LogicalType } from '../records/types.js';

/** Numbers per packed key (see KeyPacker.add). */
const F = 14;
/** A job is dispatched once its keys hold this many bytes (or keys): big enough to pay for a message. */
export const JOB_BYTES = 512 * 1024;
export const JOB_KEYS = 4096;
/** Values at least this big stay on the reading thread: copying them into a job would double them. */
export const MAX_PACKED_VALUE = 8 * 1024 * 1024;
/**
 * Inputs smaller than this are read on one thread: starting a worker (a thread loading rekey's
 * modules) costs ~40-80 ms of CPU, about what one thread needs for 8 MB of dump.
 */
export const MIN_PARALLEL_BYTES = 16 * 1024 * 1024;

/** The threshold; `REKEY_JOBS_MIN_BYTES` sets another (tests use 0 to run workers on small fixtures). */
export function minParallelBytes(): number {
  const env = process.env.REKEY_JOBS_MIN_BYTES;
  const n = env === undefined || env === '' ? NaN : Number(env);
  return Number.isFinite(n) && n >= 0 ? n : MIN_PARALLEL_BYTES;
}

/**
 * `--jobs` default: a worker per core beyond the reading thread's, and none (one thread) when that
 * leaves fewer than two. Measured on 2 shared cores, a reading thread and workers competing for them
 * took 1.5× the CPU of one thread and more wall time (README, Performance), so 2-core machines keep
 * one thread unless `--jobs` asks.
 */
export function defaultJobs(): number {
  const workers = availableParallelism() - 1;
  return workers >= 2 ? workers : 1;
}

/**
 * Workers to start for `n` jobs over `paths`: none (1: one thread) unless every input is a regular file
 * and they hold at least minParallelBytes() in all (stdin and live sources stay on one thread).
 */
export function workersFor(n: number, paths: readonly string[]): number {
  if (n <= 1) return 1;
  let bytes = 0;
  for (const p of paths) {
    if (p === '-' || /^rediss?:\/\//i.test(p)) return 1;
    try {
      bytes += statSync(p).size;
    } catch {
      return 1; // opening it will say why
    }
  }
  return bytes < minParallelBytes() ? 1 : n;
}

/** `--jobs N`, checked. */
export function jobsOption(v: unknown): number {
  if (v === undefined) return defaultJobs();
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new RekeyUsageError(`--jobs ${String(v)}: expected an integer ≥ 1`);
  return n;
}

export interface KeyJob {
  file: string;
  /** Key bytes, payload bytes and KEY_META bytes of every key, back to back. */
  bytes: Uint8Array;
  /** F numbers per key: db, type, rdb type, encoding, flavor, rdb version, expiry, idle, freq, three lengths, two offsets. */
  meta: Float64Array;
  encodings: string[];
}

/** The RDB key record behind `rec` when a worker can rebuild it from its bytes, else null. */
export function packable(rec: KeyRecord): RdbKeyRecord | null {
  const src = rec instanceof KeyView ? rec.base : rec;
  return src instanceof RdbKeyRecord && src.payload.length < MAX_PACKED_VALUE ? src : null;
}

/** One run of keys being packed. */
export class KeyPacker {
  private parts: Buffer[] = [];
  private meta: number[] = [];
  private encodings: string[] = [];
  private encodingIndex = new Map<string, number>();
  bytes = 0;
  keys = 0;
  file = '';

  /** Add `rec` (its db, key and TTL, which a rule may have changed) with the value of `src`. */
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

  get full(): boolean {
    return this.bytes >= JOB_BYTES || this.keys >= JOB_KEYS;
  }

  take(): KeyJob {
    // A buffer of its own (never Node's shared pool): it is transferred, which detaches it here.
    const bytes = Buffer.allocUnsafeSlow(this.bytes);
    let at = 0;
    for (const p of this.parts) at += p.copy(bytes, at);
    const job: KeyJob = { file: this.file, bytes, meta: Float64Array.from(this.meta), encodings: this.encodings };
    this.parts = [];
    this.meta = [];
    this.encodings = [];
    this.encodingIndex = new Map();
    this.bytes = 0;
    this.keys = 0;
    return job;
  }
}

/** The key records of a job, rebuilt in a worker (their buffers are views of the job's bytes). */
export function unpackKeys(job: KeyJob): RdbKeyRecord[] {
  const bytes = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
  const m = job.meta;
  const out: RdbKeyRecord[] = [];
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
    out.push(rec);
  }
  return out;
}

type WireError = { file: string; offset: number; expected: string } | { usage: string } | { message: string };
type Reply<R> = { id: number; value: R } | { id: number; error: WireError };

function toWire(e: unknown): WireError {
  if (e instanceof RekeyInputError) return { file: e.file, offset: e.offset, expected: e.expected };
  if (e instanceof RekeyUsageError) return { usage: e.message };
  return { message: e instanceof Error ? e.message : String(e) };
}

function fromWire(w: WireError): Error {
  if ('file' in w) return new RekeyInputError(w.file, w.offset, w.expected);
  if ('usage' in w) return new RekeyUsageError(w.usage);
  return new Error(w.message);
}

/**
 * In a worker started by WorkerPool with this `role`: answer each job with `handler`'s value; the
 * ArrayBuffers it lists are transferred, not copied.
 */
export function serveJobs<J, R>(role: string, handler: (job: J, data: unknown) => { value: R; transfer: ArrayBuffer[] }): void {
  const wd = workerData as { role?: string; data?: unknown } | null;
  if (isMainThread || !parentPort || wd?.role !== role) return;
  const port = parentPort;
  port.on('message', (msg: { id: number; job: J }) => {
    let reply: Reply<R>;
    let transfer: ArrayBuffer[] = [];
    try {
      const r = handler(msg.job, wd.data);
      reply = { id: msg.id, value: r.value };
      transfer = r.transfer;
    } catch (e) {
      reply = { id: msg.id, error: toWire(e) };
    }
    port.postMessage(reply, transfer);
  });
}

/** A fixed set of workers running `module` (which calls serveJobs with `role`); each job's answer is a promise. */
export class WorkerPool<J, R> {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (r: R) => void; reject: (e: Error) => void }>();
  private next = 0;
  private failure: Error | null = null;

  constructor(module: URL, role: string, n: number, data?: unknown) {
    for (let i = 0; i < Math.max(1, n); i++) {
      // A larger young generation: a job's short-lived strings and records die there instead of being
      // copied by frequent scavenges (measured: GC was a quarter of a worker's time with the default).
      const w = new Worker(module, { workerData: { role, data }, resourceLimits: { maxYoungGenerationSizeMb: 64 } });
      w.on('message', (r: Reply<R>) => {
        const p = this.waiting.get(r.id);
        if (!p) return;
        this.waiting.delete(r.id);
        if ('value' in r) p.resolve(r.value);
        else p.reject(fromWire(r.error));
      });
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`a worker thread exited with code ${code}`));
      });
      this.workers.push(w);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
  }

  run(job: J, transfer: ArrayBuffer[]): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    const w = this.workers[id % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.postMessage({ id, job }, transfer);
    });
  }

  /** The buffers a packed key job transfers. */
  static transferOf(job: KeyJob): ArrayBuffer[] {
    return [job.bytes.buffer as ArrayBuffer, job.meta.buffer as ArrayBuffer];
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * Items used in input order: plain items at once, jobs when their answer is in. `use` sees every item
 * in order; at most `maxInFlight` jobs wait (bounded memory whatever the input size).
 */
export class OrderedJobs<T, R> {
  private readonly queue: Array<{ item: T; answer: Promise<R> | null }> = [];
  private inFlight = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly use: (item: T, answer: R | null) => void | Promise<void>,
    readonly maxInFlight: number,
  ) {}

  /** Queue a plain item (used in its place, with no answer). */
  push(item: T): void {
    this.queue.push({ item, answer: null });
  }

  /** Queue an item whose answer a worker computes. */
  pushJob(item: T, answer: Promise<R>): void {
    answer.catch(() => undefined); // awaited in order by drain(); not an unhandled rejection meanwhile
    this.queue.push({ item, answer });
    this.inFlight++;
  }

  /** Use everything queued; the first failure in input order is thrown. */
  async settle(): Promise<void> {
    await this.drain(0);
    await this.chain;
  }

  /** Use queued items in order until at most `keep` jobs are still in flight (0: everything). */
  drain(keep = this.maxInFlight): Promise<void> | void {
    const ready = (): boolean => this.queue.length > 0 && (this.inFlight > keep || this.queue[0]!.answer === null);
    if (!ready()) return;
    this.chain = this.chain.then(async () => {
      while (ready()) {
        const head = this.queue.shift()!;
        let answer: R | null = null;
        if (head.answer !== null) {
          this.inFlight--;
          answer = await head.answer;
        }
        const p = this.use(head.item, answer);
        if (p) await p;
      }
    });
    return this.chain;
  }
}
