import { describe, expect, it } from 'vitest';
import { LogHistogram, Reservoir, TopN, seededRandom } from '../../src/analyze/stats.js';
import { PrefixTree } from '../../src/analyze/prefix-tree.js';

function exactPercentile(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

describe('LogHistogram', () => {
  it('is exact below 64 and within 1/16 above, never beyond max', () => {
    const rnd = seededRandom(1);
    for (const scale of [10, 1000, 1e6, 1e12]) {
      const h = new LogHistogram();
      const vals: number[] = [];
      for (let i = 0; i < 5000; i++) {
        const v = Math.floor(rnd() ** 3 * scale);
        vals.push(v);
        h.add(v);
      }
      vals.sort((a, b) => a - b);
      for (const q of [0.5, 0.9, 0.99, 1]) {
        const exact = exactPercentile(vals, q);
        const got = h.percentile(q);
        expect(got).toBeGreaterThanOrEqual(exact);
        if (exact < 64) expect(got).toBe(exact);
        else expect(got).toBeLessThanOrEqual(Math.ceil(exact * (1 + 1 / 16)));
        expect(got).toBeLessThanOrEqual(vals[vals.length - 1]!);
      }
      const j = h.toJSON();
      expect(j.count).toBe(5000);
      expect(j.max).toBe(vals[vals.length - 1]);
      expect(j.min).toBe(vals[0]);
      expect(j.total).toBe(vals.reduce((a, v) => a + v, 0));
      expect(j.histogram.reduce((a, x) => a + x.count, 0)).toBe(5000);
    }
  });

  it('puts values into power-of-two buckets', () => {
    const h = new LogHistogram();
    for (const v of [0, 1, 2, 3, 4, 7, 8, 100, 127, 128, 1 << 20]) h.add(v);
    const buckets = h.toJSON().histogram;
    const find = (v: number) => buckets.find((x) => x.from <= v && v <= x.to)!;
    expect(find(0)).toMatchObject({ from: 0, to: 0, count: 1 });
    expect(find(1)).toMatchObject({ from: 1, to: 1, count: 1 });
    expect(find(2)).toMatchObject({ from: 2, to: 3, count: 2 });
    expect(find(4)).toMatchObject({ from: 4, to: 7, count: 2 });
    expect(find(100)).toMatchObject({ from: 64, to: 127, count: 2 });
    expect(find(128)).toMatchObject({ from: 128, to: 255, count: 1 });
    expect(find(1 << 20)).toMatchObject({ from: 1 << 20, count: 1 });
    // contiguous, empty buckets included
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.from).toBe(buckets[i - 1]!.to + 1);
  });

  it('handles values around powers of two and beyond 2^32', () => {
    const h = new LogHistogram();
    for (const v of [2 ** 32 - 1, 2 ** 32, 2 ** 40 + 5, 2 ** 53 - 1]) h.add(v);
    expect(h.percentile(1)).toBe(2 ** 53 - 1);
    expect(h.percentile(0.25)).toBeGreaterThanOrEqual(2 ** 32 - 1);
    expect(h.percentile(0.25)).toBeLessThanOrEqual((2 ** 32 - 1) * (1 + 1 / 16));
  });

  it('reports zeros when empty', () => {
    expect(new LogHistogram().toJSON()).toEqual({ count: 0, total: 0, min: 0, p50: 0, p90: 0, p99: 0, max: 0, histogram: [] });
  });
});

describe('TopN', () => {
  it('keeps the N largest, largest first, ties to the earliest', () => {
    const t = new TopN<string>(3);
    const scores = [5, 1, 9, 9, 3, 7, 9, 2];
    scores.forEach((s, i) => t.offer(s, () => `${s}#${i}`));
    expect(t.sorted()).toEqual(['9#2', '9#3', '9#6']);
    const u = new TopN<number>(4);
    const rnd = seededRandom(7);
    const all: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const v = Math.floor(rnd() * 1e6);
      all.push(v);
      u.push(v, v);
    }
    expect(u.sorted()).toEqual(all.sort((a, b) => b - a).slice(0, 4));
    expect(u.size).toBe(4);
  });

  it('builds items only when kept', () => {
    const t = new TopN<number>(2);
    let built = 0;
    for (let i = 0; i < 100; i++) t.offer(i < 50 ? 1 : 0, () => ++built);
    expect(built).toBe(2);
    expect(new TopN<number>(0).wouldKeep(1)).toBe(false);
  });
});

describe('Reservoir', () => {
  it('samples uniformly and reproducibly', () => {
    const hits = new Array(20).fill(0);
    for (let trial = 0; trial < 4000; trial++) {
      const r = new Reservoir<number>(2, seededRandom(trial + 1));
      for (let i = 0; i < 20; i++) r.offer(() => i);
      for (const v of r.values()) hits[v]++;
    }
    // Each of 20 items is kept with probability 2/20: 400 of 4000 trials.
    for (const h of hits) expect(Math.abs(h - 400)).toBeLessThan(100);
    const a = new Reservoir<number>(3, seededRandom(42));
    const c = new Reservoir<number>(3, seededRandom(42));
    for (let i = 0; i < 1000; i++) {
      a.offer(() => i);
      c.offer(() => i);
    }
    expect(a.values()).toEqual(c.values());
    expect(a.seen).toBe(1000);
  });

  it('keeps everything below k and nothing with k = 0', () => {
    const r = new Reservoir<number>(5, seededRandom(1));
    for (let i = 0; i < 3; i++) r.offer(() => i);
    expect(r.values()).toEqual([0, 1, 2]);
    const z = new Reservoir<number>(0, seededRandom(1));
    z.offer(() => 1);
    expect(z.values()).toEqual([]);
  });
});

describe('PrefixTree', () => {
  const add = (t: PrefixTree, k: string | Buffer, bytes = 10, mem = 100): void => t.add(typeof k === 'string' ? Buffer.from(k) : k, bytes, mem);

  it('counts each prefix up to the depth, never the last segment', () => {
    const t = new PrefixTree({ maxDepth: 2 });
    add(t, 'a:b:c:1');
    add(t, 'a:b:c:2');
    add(t, 'a:x:1');
    add(t, 'plain');
    add(t, 'a:');
    const top = t.top(10);
    expect(top).toEqual([
      { prefix: 'a:', depth: 1, keys: 4, bytes: 40, memory: 400 },
      { prefix: 'a:b:', depth: 2, keys: 2, bytes: 20, memory: 200 },
      { prefix: 'a:x:', depth: 2, keys: 1, bytes: 10, memory: 100 },
    ]);
    expect(t.unprefixed).toEqual({ keys: 1, bytes: 10, memory: 100 });
    expect(t.approximate).toBe(false);
    expect(t.top(10, 'bytes')[0]!.prefix).toBe('a:');
  });

  it('shows binary prefixes as base64', () => {
    const t = new PrefixTree({ maxDepth: 1 });
    add(t, Buffer.from([0xff, 0xfe, 0x3a, 0x31]));
    expect(t.top(1)[0]!.prefix).toEqual({ base64: Buffer.from([0xff, 0xfe, 0x3a]).toString('base64') });
  });

  it('stays under its node cap and keeps the big prefixes exact', () => {
    const t = new PrefixTree({ maxDepth: 3, maxNodes: 200 });
    for (let i = 0; i < 50_000; i++) {
      add(t, `user:${i}:name`, 1, 1); // a new depth-2 prefix per key
      if (i % 10 === 0) add(t, `cache:hot:${i}`, 1, 1);
    }
    expect(t.nodeCount).toBeLessThanOrEqual(200);
    expect(t.approximate).toBe(true);
    const top = t.top(3);
    expect(top[0]).toMatchObject({ prefix: 'user:', keys: 50_000 });
    expect(top[1]).toMatchObject({ prefix: 'cache:', keys: 5000 });
    expect(top[2]).toMatchObject({ prefix: 'cache:hot:', keys: 5000 });
  });

  it('cuts very long segments', () => {
    const t = new PrefixTree({ maxDepth: 1, maxSegment: 8 });
    add(t, 'abcdefghijklmnop:1');
    add(t, 'abcdefghXYZ:2');
    expect(t.top(5)).toEqual([{ prefix: 'abcdefgh...:', depth: 1, keys: 2, bytes: 20, memory: 200 }]);
  });
});
