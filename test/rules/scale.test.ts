/**
 * Rules at scale: tens of thousands of rules compile into one trie of bounded size, and the trie
 * gives exactly what trying every rule in file order gives (first match wins).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// a seeded PRNG, so a failure names a seed that reproduces it
import { seededRandom as rng } from '../../src/analyze/stats.js';
import { compileRules, type RulesDocInput } from '../../src/rules/index.js';
import { b } from './helpers.js';

const DIST = join(import.meta.dirname, '..', '..', 'dist', 'rules', 'index.js');
const SHADOWING = join(import.meta.dirname, '..', '..', 'dist', 'rules', 'shadowing.js');

describe('first match wins, whatever the prefixes', () => {
  it.each([1, 2, 3, 4, 5])('seed %i: the trie agrees with trying every rule in order', (seed) => {
    const r = rng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    // Nested and shared prefixes (a, ab, abc...), exact keys, rules with no prefix and regexes with
    // several leading alternatives, some of which nest: every way a key can meet several lists.
    const words = ['a', 'ab', 'abc', 'b', 'ba', 'a:b', ''];
    const rules: NonNullable<RulesDocInput['rules']> = [];
    for (let i = 0; i < 120; i++) {
      const w = pick(words);
      const k = r();
      if (k < 0.15) rules.push({ name: `r${i}`, match: `${w}${pick(words)}` || 'c' }); // exact key
      else if (k < 0.3) rules.push({ name: `r${i}`, regex: `(?:${w}|${pick(words)}x)(?<v>.*)`, rename: `R${i}:{v}` });
      else if (k < 0.4) rules.push({ name: `r${i}`, match: `{p}:${w}{q:*}`, rename: `R${i}:{p}{q}` });
      else rules.push({ name: `r${i}`, match: `${w}{id:*}`, rename: `R${i}:{id}` });
    }
    const set = compileRules({ rules });
    for (let n = 0; n < 2000; n++) {
      let key = '';
      const parts = 1 + Math.floor(r() * 4);
      for (let p = 0; p < parts; p++) key += pick(['a', 'b', 'c', 'x', ':', 'ab', 'a:b']);
      const k = b(key);
      let naive = -1;
      for (let i = 0; i < set.rules.length && naive < 0; i++) if (set.ruleMatches(i, k)) naive = i;
      const c = set.classify(k);
      expect(c === null ? -1 : c.ruleIndex, `seed ${seed}, key ${JSON.stringify(key)}`).toBe(naive);
      const all = set.matchingRules(k);
      const naiveAll = set.rules.map((_, i) => i).filter((i) => set.ruleMatches(i, k));
      expect(all, `seed ${seed}, key ${JSON.stringify(key)}`).toEqual(naiveAll);
    }
  });
});

describe('60k rules', () => {
  it('compile and classify in a 640 MB heap (the trie costs nodes per rule, not per prefix byte)', () => {
    // A separate process with a bounded heap: a matcher that allocates a node per byte of prefix
    // (60k rules of ~90-byte prefixes = 5M nodes, 1.8 GB) dies of heap exhaustion; one whose trie is
    // linear in rules stays under ~490 MB (most of it the compiled rules themselves).
    const script = `
      import { compileRules } from ${JSON.stringify(DIST)};
      const rules = [];
      for (let i = 0; i < 60000; i++) {
        const p = 'tenant-' + i + '-' + 'x'.repeat(80);
        rules.push(i % 10 === 0
          ? { name: 'r' + i, regex: '^' + p + ':session:(?<sid>[0-9a-f]+)$', rename: 's:' + i + ':{sid}' }
          : { name: 'r' + i, match: p + ':user:{id:int}', rename: 'u:' + i + ':{id}' });
      }
      const set = compileRules({ rules });
      let hits = 0, right = 0;
      for (let j = 0; j < 50000; j++) {
        const i = (j * 7919) % 70000;
        const p = 'tenant-' + i + '-' + 'x'.repeat(80);
        const key = Buffer.from(i % 10 === 0 ? p + ':session:ab' + j : p + ':user:' + j);
        const c = set.classify(key);
        if (c === null) continue;
        hits++;
        if (c.ruleIndex === i && c.newKey.toString() === (i % 10 === 0 ? 's:' + i + ':ab' + j : 'u:' + i + ':' + j)) right++;
      }
      console.log(JSON.stringify({ hits, right }));
    `;
    const res = spawnSync(process.execPath, ['--max-old-space-size=640', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 300_000 });
    expect(res.stderr).not.toMatch(/heap out of memory/i);
    expect(res.status, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { hits: number; right: number };
    // Keys with i < 60000 have a rule (50000 * 60000/70000 of them, give or take the modulo pattern).
    let expected = 0;
    for (let j = 0; j < 50000; j++) if ((j * 7919) % 70000 < 60000) expected++;
    expect(out).toEqual({ hits: expected, right: expected });
  }, 300_000);

  it('the static shadowing/collision analysis (rules test) looks only at rules whose prefixes are compatible', () => {
    // Trying every pair is 1.8 billion pairs and an automaton per rule (over 4 GB, never finished);
    // the prefix index finds the few pairs that can meet. Three are planted and must be found.
    const script = `
      import { compileRules } from ${JSON.stringify(DIST)};
      import { analyzeStatic } from ${JSON.stringify(SHADOWING)};
      const rules = [];
      for (let i = 0; i < 60000; i++) {
        const p = 'tenant-' + i + '-' + 'x'.repeat(80);
        rules.push({ name: 'r' + i, match: p + ':user:{id:int}', rename: 'u:' + i + ':{id}' });
      }
      const p7 = 'tenant-7-' + 'x'.repeat(80);
      rules.push({ name: 'shadowed', match: p7 + ':user:{n:int}', rename: 'w:{n}' });
      rules.push({ name: 'overlap', match: p7 + ':{rest:*}', rename: 'v:{rest}' });
      rules.push({ name: 'collides', match: 'other:{id:int}', rename: 'u:9:{id}' });
      const st = analyzeStatic(compileRules({ rules }));
      console.log(JSON.stringify({
        shadowed: st.shadowed.map((f) => [f.rule, f.by]),
        overlaps: st.overlaps.map((f) => [f.rule, f.other]),
        collisions: st.potentialCollisions.map((f) => [f.kind, f.rule, f.other]),
      }));
    `;
    const res = spawnSync(process.execPath, ['--max-old-space-size=640', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 600_000 });
    expect(res.stderr).not.toMatch(/heap out of memory/i);
    expect(res.status, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { shadowed: unknown[]; overlaps: unknown[]; collisions: unknown[] };
    expect(out.shadowed).toEqual([[60000, [7]]]);
    expect(out.overlaps).toEqual([[7, 60001], [60000, 60001]]);
    expect(out.collisions).toEqual([['new_keys_overlap', 9, 60002]]);
  }, 600_000);
});

