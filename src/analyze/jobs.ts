/**
 * `analyze --jobs N` for one file: the reading thread walks the dump and packs runs of keys into jobs
 * (pipeline/worker-pool.ts); N worker threads measure each value (measureKey: decode, element count,
 * memory estimate, field TTLs, --verify's check), the costly part; the reading thread folds the
 * measurements into the Analyzer strictly in input order, so the report is the one a single thread
 * writes (test/analyze/jobs.test.ts). Everything that depends on the order of keys (top lists, prefix
 * tree, samples, duplicates, rule collisions) stays on the reading thread.
 */
import { Analyzer, measureKey, type KeyMeasure } from './aggregator.js';
import { KeyPacker, OrderedJobs, packable, serveJobs, unpackKeys, WorkerPool, type KeyJob } from '../pipeline/worker-pool.js';
import type { KeyRecord, RdbRecord } from '../records/types.js';

const ROLE = 'rekey-analyze-batch';
const JOB_KEYS = 1024;

/** A job's measurements: 4 numbers per key (elements or NaN, value memory, fault byte or NaN, field expiries or -1), and the texts. */
interface Measures {
  num: Float64Array;
  /** Field expiries of every key, back to back. */
  exp: Float64Array;
  /** [key index, fault reason] */
  faults: Array<[number, string]>;
  /** [key index, module name] */
  modules: Array<[number, string]>;
}

serveJobs<KeyJob, Measures>(ROLE, (job, data) => {
  const verify = (data as { verify: boolean }).verify;
  const recs = unpackKeys(job);
  const num = new Float64Array(recs.length * 4);
  const exp: number[] = [];
  const faults: Array<[number, string]> = [];
  const modules: Array<[number, string]> = [];
  recs.forEach((rec, i) => {
    const m = measureKey(rec, verify);
    num[i * 4] = m.elements ?? NaN;
    num[i * 4 + 1] = m.valueMem;
    num[i * 4 + 2] = m.fault?.at ?? NaN;
    num[i * 4 + 3] = m.fieldExpiries?.length ?? -1;
    if (m.fieldExpiries !== null) exp.push(...m.fieldExpiries);
    if (m.fault !== null) faults.push([i, m.fault.reason]);
    if (m.moduleName !== null) modules.push([i, m.moduleName]);
  });
  const e = Float64Array.from(exp);
  return { value: { num, exp: e, faults, modules }, transfer: [num.buffer, e.buffer] };
});

/** Reads a job's measurements key by key into one reused object (the Analyzer keeps none of it): no garbage per key. */
class MeasureReader {
  private readonly m: KeyMeasure = { elements: null, valueMem: 0, fieldExpiries: null, moduleName: null, fault: null };
  private i = 0;
  private e = 0;
  private readonly faults: Map<number, string> | null;
  private readonly modules: Map<number, string> | null;

  constructor(private readonly r: Measures) {
    this.faults = r.faults.length > 0 ? new Map(r.faults) : null;
    this.modules = r.modules.length > 0 ? new Map(r.modules) : null;
  }

  next(): KeyMeasure {
    const { num, exp } = this.r;
    const i = this.i++;
    const m = this.m;
    const el = num[i * 4]!;
    const at = num[i * 4 + 2]!;
    const n = num[i * 4 + 3]!;
    m.elements = Number.isNaN(el) ? null : el;
    m.valueMem = num[i * 4 + 1]!;
    m.fieldExpiries = n < 0 ? null : Array.from(exp.subarray(this.e, (this.e += n)));
    m.moduleName = this.modules?.get(i) ?? null;
    m.fault = Number.isNaN(at) ? null : { at, reason: this.faults?.get(i) ?? '' };
    return m;
  }
}

/** Records in input order: a metadata record or a key measured here, or a run of keys measured by a worker. */
type Item = RdbRecord | KeyRecord[];

/** Feeds an Analyzer, with values measured on worker threads. */
export class AnalyzeJobs {
  private readonly pool: WorkerPool<KeyJob, Measures>;
  private readonly packer = new KeyPacker();
  /** Keys of the job being packed, filtered-out ones included (they are counted in their place). */
  private recs: KeyRecord[] = [];
  private readonly queue: OrderedJobs<Item, Measures>;

  constructor(
    private readonly analyzer: Analyzer,
    workers: number,
  ) {
    this.pool = new WorkerPool(new URL(import.meta.url), ROLE, workers, { verify: analyzer.verifying });
    this.queue = new OrderedJobs((item, answer) => {
      if (!Array.isArray(item)) return this.analyzer.add(item);
      const ms = new MeasureReader(answer!);
      for (const rec of item) this.analyzer.addKey(rec, this.analyzer.passes(rec) ? ms.next() : undefined);
    }, 2 * this.pool.size);
  }

  /** Queue a batch; resolves once at most two jobs per worker are still in flight. */
  addBatch(batch: readonly RdbRecord[]): Promise<void> | void {
    for (const rec of batch) {
      if (rec.kind === 'key') {
        if (!this.analyzer.passes(rec)) {
          // Counted as filtered out in its place, never decoded.
          if (this.recs.length > 0) this.recs.push(rec);
          else this.queue.push(rec);
          continue;
        }
        const src = packable(rec);
        if (src !== null) {
          this.packer.add(rec, src);
          this.recs.push(rec);
          // Small jobs: the records wait for their answer, and short waits let them die young (cheap GC).
          if (this.packer.keys >= JOB_KEYS || this.packer.full) this.dispatch();
          continue;
        }
      }
      // Metadata, a JSONL key or a big value: used here, in its place.
      this.dispatch();
      this.queue.push(rec);
    }
    return this.queue.drain();
  }

  private dispatch(): void {
    if (this.recs.length === 0) return;
    const recs = this.recs;
    this.recs = [];
    if (this.packer.keys === 0) {
      for (const r of recs) this.queue.push(r);
      return;
    }
    const job = this.packer.take();
    this.queue.pushJob(recs, this.pool.run(job, WorkerPool.transferOf(job)));
  }

  /** Fold in everything queued (before a new file begins, and at the end); the first error in input order is thrown. */
  async settle(): Promise<void> {
    this.dispatch();
    await this.queue.settle();
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
