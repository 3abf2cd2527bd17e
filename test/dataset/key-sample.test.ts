/** Samples chosen by key hash: the same keys whatever the order or the cut into parts. */
import { describe, expect, it } from 'vitest';
import { KeySample, keyPriority } from '../../src/analyze/key-sample.js';

const keys = Array.from({ length: 500 }, (_, i) => Buffer.from(`user:${i}`));

function sampleOf(list: readonly Buffer[], k = 5): KeySample<string> {
  const s = new KeySample<string>(k);
  for (const key of list) {
    const p = keyPriority(0, key);
    if (s.wants(p)) s.put(p, key.toString());
  }
  return s;
}

describe('KeySample', () => {
  it('keeps the same keys whatever order they come in, and merges parts into the one-pass sample', () => {
    const one = sampleOf(keys);
    expect(one.values()).toHaveLength(5);
    expect(sampleOf([...keys].reverse()).values()).toEqual(one.values());
    const a = sampleOf(keys.filter((_, i) => i % 3 === 0));
    const b = sampleOf(keys.filter((_, i) => i % 3 !== 0));
    a.merge(b.toState());
    expect(a.values()).toEqual(one.values());
    expect(a.seen).toBe(500);
  });

  it('spreads over the keys (each key kept about k/n of the time over many key sets)', () => {
    const hits = new Array(20).fill(0);
    for (let t = 0; t < 2000; t++) {
      const s = new KeySample<number>(2);
      for (let i = 0; i < 20; i++) {
        const p = keyPriority(t, Buffer.from(`k${i}`));
        if (s.wants(p)) s.put(p, i);
      }
      for (const v of s.values()) hits[v]++;
    }
    for (const h of hits) expect(Math.abs(h - 200)).toBeLessThan(70);
  });

  it('keeps everything below k, nothing with k = 0, and tells db apart', () => {
    expect(sampleOf(keys.slice(0, 3)).values()).toEqual(['user:0', 'user:1', 'user:2'].sort((x, y) => keyPriority(0, Buffer.from(x)) - keyPriority(0, Buffer.from(y))));
    expect(sampleOf(keys, 0).values()).toEqual([]);
    expect(keyPriority(0, keys[0]!)).not.toBe(keyPriority(1, keys[0]!));
  });
});
