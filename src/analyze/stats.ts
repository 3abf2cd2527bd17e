/**
 * Bounded-memory statistics for the analyzer: a log-linear histogram with percentiles, a top-N heap and a
 * reservoir sample. Each uses a fixed amount of memory whatever the number of keys fed to it.
 */

// ------------------------------------------------------------------------------------------------------------
// Histogram with percentiles

const EXACT = 64; // values below this get a bucket each
const SUB_BITS = 4; // 16 sub-buckets per power of two above that
const SUB = 1 << SUB_BITS;
const FIRST_EXP = 6; // log2(EXACT)
const MAX_EXP = 62;
const BUCKETS = EXACT + (MAX_EXP - FIRST_EXP + 1) * SUB;

export interface HistogramBucket {
  /** Smallest value the bucket holds. */
  from: number;
  /** Largest value the bucket holds. */
  to: number;
  count: number;
}

export interface Distribution {
  /** How many values were recorded. */
  count: number;
  /** Their sum. */
  total: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Power-of-two buckets ([0], [1], [2,3], [4,7], …) from the smallest to the largest non-empty one. */
  histogram: HistogramBucket[];
}

function bucketOf(v: number): number {
  if (v < EXACT) return v < 0 ? 0 : Math.floor(v);
  let e: number;
  let top: number;
  if (v < 4294967296) {
    const x = v >>> 0;
    e = 31 - Math.clz32(x);
    top = x >>> (e - SUB_BITS);
  } else {
    e = Math.floor(Math.log2(v));
    if (2 ** e > v) e--; // log2 rounding just below a power of two
    if (e > MAX_EXP) return BUCKETS - 1;
    top = Math.floor(v / 2 ** (e - SUB_BITS));
  }
  return EXACT + (e - FIRST_EXP) * SUB + Math.min(SUB - 1, top - SUB);
}

function bucketUpper(i: number): number {
  if (i < EXACT) return i;
  const j = i - EXACT;
  const e = FIRST_EXP + Math.floor(j / SUB);
  const sub = j % SUB;
  return (SUB + sub + 1) * 2 ** (e - SUB_BITS) - 1;
}

export interface HistogramState {
  counts: number[];
  count: number;
  total: number;
  min: number | null;
  max: number;
}

/**
 * Non-negative integer values (element counts, byte sizes). Values below 64 are counted exactly; above,
 * 16 buckets per power of two, so a percentile is at most 1/16 (6.25 %) above the true value (and never
 * above the maximum, which is exact). 832 counters, about 6.5 KiB, whatever the number of values.
 */
export class LogHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  total = 0;
  min = Infinity;
  max = 0;

  add(v: number): void {
    this.counts[bucketOf(v)]!++;
    this.count++;
    this.total += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** The q-quantile (0 < q ≤ 1): the upper bound of the bucket holding the ⌈q·count⌉-th value, capped at max. */
  percentile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.max(this.min, Math.min(this.max, bucketUpper(i)));
    }
    return this.max;
  }

  /** Counts in power-of-two buckets: [0], [1], [2,3], [4,7], … */
  powerOfTwoBuckets(): HistogramBucket[] {
    if (this.count === 0) return [];
    const coarse = new Map<number, number>();
    for (let i = 0; i < BUCKETS; i++) {
      const c = this.counts[i]!;
      if (c === 0) continue;
      const lo = i < EXACT ? i : bucketUpper(i);
      const k = lo === 0 ? -1 : Math.floor(Math.log2(lo));
      coarse.set(k, (coarse.get(k) ?? 0) + c);
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (const k of coarse.keys()) {
      if (k < lo) lo = k;
      if (k > hi) hi = k;
    }
    const out: HistogramBucket[] = [];
    for (let k = lo; k <= hi; k++) {
      const from = k < 0 ? 0 : 2 ** k;
      const to = k < 0 ? 0 : 2 ** (k + 1) - 1;
      out.push({ from, to, count: coarse.get(k) ?? 0 });
    }
    return out;
  }

  /** Everything needed to merge this histogram into another: non-empty counters as [index, count] pairs. */
  toState(): HistogramState {
    const counts: number[] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) counts.push(i, this.counts[i]!);
    return { counts, count: this.count, total: this.total, min: this.count === 0 ? null : this.min, max: this.max };
  }

  /** Add another histogram's values (from toState): the result is what one histogram over both gives. */
  merge(st: HistogramState): void {
    for (let i = 0; i + 1 < st.counts.length; i += 2) {
      const at = st.counts[i]!;
      if (at >= 0 && at < BUCKETS) this.counts[at]! += st.counts[i + 1]!;
    }
    this.count += st.count;
    this.total += st.total;
    if (st.min !== null && st.min < this.min) this.min = st.min;
    if (st.max > this.max) this.max = st.max;
  }

  toJSON(): Distribution {
    return {
      count: this.count,
      total: this.total,
      min: this.count === 0 ? 0 : this.min,
      p50: this.percentile(0.5),
      p90: this.percentile(0.9),
      p99: this.percentile(0.99),
      max: this.max,
      histogram: this.powerOfTwoBuckets(),
    };
  }
}

// ------------------------------------------------------------------------------------------------------------
// Top-N

/** The N items with the largest score (a min-heap of size N; ties keep the earlier item). */
export class TopN<T> {
  private readonly heap: Array<{ score: number; seq: number; item: T }> = [];
  private seq = 0;
  constructor(readonly n: number) {}

  /** Whether an item with this score would be kept (call before building an expensive item). */
  wouldKeep(score: number): boolean {
    if (this.n <= 0) return false;
    return this.heap.length < this.n || score > this.heap[0]!.score;
  }

  offer(score: number, make: () => T): void {
    if (this.wouldKeep(score)) this.push(score, make());
  }

  /** Add an item (call only after wouldKeep(score) said yes, or accept that it may be dropped at once). */
  push(score: number, item: T): void {
    if (!this.wouldKeep(score)) return;
    const entry = { score, seq: this.seq++, item };
    const h = this.heap;
    if (h.length < this.n) {
      h.push(entry);
      this.up(h.length - 1);
    } else {
      h[0] = entry;
      this.down(0);
    }
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a]!;
    const y = this.heap[b]!;
    // The root is the item to evict first: the smallest score, and among equal scores the latest.
    return x.score < y.score || (x.score === y.score && x.seq > y.seq);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(l, m)) m = l;
      if (r < h.length && this.less(r, m)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }

  /** Largest first. */
  sorted(): T[] {
    return [...this.heap].sort((a, b) => b.score - a.score || a.seq - b.seq).map((e) => e.item);
  }

  get size(): number {
    return this.heap.length;
  }
}

// ------------------------------------------------------------------------------------------------------------
// Reservoir sampling

/** mulberry32: a small seeded PRNG, so samples are reproducible for a given input and seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Algorithm R: a uniform sample of k items from a stream of unknown length. */
export class Reservoir<T> {
  private readonly items: T[] = [];
  seen = 0;
  constructor(
    readonly k: number,
    private readonly random: () => number,
  ) {}

  /** `make` builds the item only when it is kept. */
  offer(make: () => T): void {
    const i = this.slot();
    if (i >= 0) this.put(i, make());
  }

  /** Count one more item; returns the slot it goes to, or -1 when it is not sampled (then skip building it). */
  slot(): number {
    this.seen++;
    if (this.k <= 0) return -1;
    if (this.items.length < this.k) return this.items.length;
    const j = Math.floor(this.random() * this.seen);
    return j < this.k ? j : -1;
  }

  put(i: number, item: T): void {
    this.items[i] = item;
  }

  values(): T[] {
    return [...this.items];
  }

  toState(): { seen: number; items: T[] } {
    return { seen: this.seen, items: [...this.items] };
  }

  /**
   * Fold in another reservoir (from toState): each kept slot is drawn from either side in proportion to
   * the items each side saw, so the result is again a uniform sample of both streams (not the same
   * sample one pass over both would have drawn).
   */
  merge(st: { seen: number; items: T[] }): void {
    const a = [...this.items];
    const b = [...st.items];
    let sa = this.seen;
    let sb = st.seen;
    const out: T[] = [];
    while (out.length < this.k && (a.length > 0 || b.length > 0)) {
      const fromA = b.length === 0 || (a.length > 0 && this.random() * (sa + sb) < sa);
      const pool = fromA ? a : b;
      const pick = Math.floor(this.random() * pool.length);
      out.push(pool.splice(pick, 1)[0]!);
      if (fromA) sa = Math.max(0, sa - 1);
      else sb = Math.max(0, sb - 1);
    }
    this.items.length = 0;
    for (const x of out) this.items.push(x);
    this.seen += st.seen;
  }
}
