/**
 * Sample keys by a hash of the key rather than by a random draw (bottom-k sampling): each key gets a
 * priority from its db and bytes, and a sample keeps the k keys of lowest priority. The choice depends
 * only on which keys were seen, not on their order or on how the dataset was cut into parts, so samples
 * of separately analysed parts merge into exactly the sample one run over all of them keeps
 * (`analyze --merge`). A reservoir's random draws cannot be merged that way.
 */
import { fmix32 } from '../codec/fmix32.js';

/** 32-bit priority of a key: FNV-1a over db and bytes, then murmur3's finaliser to spread the low bits. */
export function keyPriority(db: number, key: Uint8Array): number {
  let h = (0x811c9dc5 ^ db) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key[i]!, 0x01000193);
  return fmix32(h ^ key.length);
}

export interface KeySampleState<T> {
  seen: number;
  items: T[];
  priorities: number[];
}

export class KeySample<T> {
  seen = 0;
  private items: Array<{ p: number; item: T }> = [];
  /** Index of the kept item of highest priority (the one a better key evicts); -1 while not full. */
  private worst = -1;

  constructor(readonly k: number) {}

  /** Count one key; true when a key of this priority is kept (build the item only then, and put it). */
  wants(p: number): boolean {
    this.seen++;
    return this.k > 0 && (this.items.length < this.k || p < this.items[this.worst]!.p);
  }

  /** Keep an item `wants(p)` said yes to. */
  put(p: number, item: T): void {
    if (this.items.length < this.k) this.items.push({ p, item });
    else this.items[this.worst] = { p, item };
    if (this.items.length === this.k) this.findWorst();
  }

  private findWorst(): void {
    let w = 0;
    for (let i = 1; i < this.items.length; i++) if (this.items[i]!.p > this.items[w]!.p) w = i;
    this.worst = w;
  }

  /** The sample, lowest priority first (the same order whatever order the keys came in). */
  values(): T[] {
    return [...this.items].sort((a, b) => a.p - b.p).map((x) => x.item);
  }

  toState(): KeySampleState<T> {
    const sorted = [...this.items].sort((a, b) => a.p - b.p);
    return { seen: this.seen, items: sorted.map((x) => x.item), priorities: sorted.map((x) => x.p) };
  }

  /** Fold in another part's sample: the union's k lowest priorities, as one pass over both keeps. */
  merge(st: KeySampleState<T>): void {
    const seen = this.seen + st.seen;
    st.items.forEach((item, i) => {
      const p = st.priorities[i];
      if (p !== undefined && this.wants(p)) this.put(p, item);
    });
    this.seen = seen;
  }
}
