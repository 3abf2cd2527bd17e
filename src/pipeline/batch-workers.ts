/**
 * Both cores for one file, RDB → JSONL: the reading thread walks the RDB (cheap), worker threads
 * decode values and build the JSONL text (the cost of rdb→jsonl) over packed, transferred jobs
 * (pipeline/worker-pool.ts); jobs are written back strictly in input order, so the output is
 * byte-for-byte what JsonlSink writes on one thread (test/transform/batch-workers.test.ts).
 *
 * Only RDB keys go to workers (their payload is raw bytes). Non-key lines, keys of other sources
 * (JSONL input) and values big enough to be streamed piece by piece (blob-json.ts) are written on
 * this thread, in their place.
 */
import { AtomicOutput } from '../io/atomic-file.js';
import { keyToJsonLine, metaToJsonLine } from '../jsonl/value-json.js';
import { keyToJsonPieces } from '../jsonl/blob-json.js';
import type { RdbRecord } from '../records/types.js';
import type { Sink } from '../sinks/sink.js';
import { KeyPacker, OrderedJobs, packable, serveJobs, unpackKeys, WorkerPool, type KeyJob } from './worker-pool.js';

const ROLE = 'rekey-jsonl-batch';
const encoder = new TextEncoder();

/** Runs a job in a worker: the JSONL lines of its keys, each ending in "\n", as UTF-8. */
serveJobs<KeyJob, Uint8Array>(ROLE, (job) => {
  const lines = unpackKeys(job).map((rec) => keyToJsonLine(rec));
  lines.push('');
  // TextEncoder's array owns its buffer (Buffer.from may hand out a slice of the shared pool).
  const text = encoder.encode(lines.join('\n'));
  return { value: text, transfer: [text.buffer as ArrayBuffer] };
});

/** A piece of output in input order: text made here, a worker's answer, or a value streamed in pieces. */
type Piece = string | { pieces: Iterable<string> } | null;

export interface ParallelJsonlSinkOptions {
  path: string | '-';
  workers: number;
}

/** JsonlSink's output, with decoding and JSON building on worker threads. */
export class ParallelJsonlSink implements Sink {
  private readonly out: AtomicOutput;
  private readonly pool: WorkerPool<KeyJob, Uint8Array>;
  private readonly packer = new KeyPacker();
  private readonly queue: OrderedJobs<Piece, Uint8Array>;

  constructor(opts: ParallelJsonlSinkOptions) {
    this.out = AtomicOutput.open(opts.path);
    this.pool = new WorkerPool(new URL(import.meta.url), ROLE, opts.workers);
    // Two jobs per worker keep every worker busy while the oldest answer is written.
    this.queue = new OrderedJobs(async (piece, text) => {
      if (text !== null) await this.out.write(Buffer.from(text.buffer, text.byteOffset, text.byteLength));
      else if (typeof piece === 'string') await this.out.write(piece);
      else if (piece !== null) for (const p of piece.pieces) await this.out.write(p);
    }, 2 * this.pool.size);
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
      const src = packable(r);
      const pieces = keyToJsonPieces(r);
      if (src === null || pieces !== null) {
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
      if (this.packer.full) this.dispatch();
    }
    if (meta) this.queue.push(meta);
    return this.queue.drain(bigValue ? 0 : this.queue.maxInFlight);
  }

  private dispatch(): void {
    const job = this.packer.take();
    this.queue.pushJob(null, this.pool.run(job, WorkerPool.transferOf(job)));
  }

  async close(): Promise<void> {
    try {
      if (this.packer.keys > 0) this.dispatch();
      await this.queue.settle();
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
