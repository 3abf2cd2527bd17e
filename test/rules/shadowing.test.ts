import { describe, expect, it } from 'vitest';
import { analyzeStatic, ShadowObserver } from '../../src/rules/shadowing.js';
import { b, rulesFrom } from './helpers.js';

function shadowedNames(yaml: string): string[] {
  const r = rulesFrom(yaml);
  return analyzeStatic(r).shadowed.map((s) => r.rules[s.rule]!.name);
}

describe('static shadowing', () => {
  it('an identical later rule is shadowed', () => {
    expect(shadowedNames(`rules:\n  - {name: a, match: "u:{id}"}\n  - {name: b, match: "u:{x}", rename: "v:{x}"}\n`)).toEqual(['b']);
  });

  it('a more general earlier rule shadows a specific later one, not the other way round', () => {
    expect(shadowedNames(`rules:\n  - {name: gen, match: "u:{id:*}"}\n  - {name: spec, match: "u:{id:int}:x"}\n`)).toEqual(['spec']);
    expect(shadowedNames(`rules:\n  - {name: spec, match: "u:{id:int}:x"}\n  - {name: gen, match: "u:{id:*}"}\n`)).toEqual([]);
  });

  it('several earlier rules can cover a later one together', () => {
    // two or more digits, plus each single digit: together every {x:int}
    const digits = Array.from({ length: 10 }, (_, d) => `  - {name: d${d}, match: "g:${d}"}`).join('\n');
    const yaml = `rules:\n  - {name: long, match: "g:{a:int}{b:int}"}\n${digits}\n  - {name: all, match: "g:{x:int}"}\n`;
    expect(shadowedNames(yaml)).toEqual(['all']);
    const r = rulesFrom(yaml);
    expect(analyzeStatic(r).shadowed[0]!.by).toHaveLength(11);
    // without one of the digits it is reachable
    expect(shadowedNames(yaml.replace('  - {name: d7, match: "g:7"}\n', ''))).toEqual([]);
  });

  it('a union that misses an edge (leading ":") does not shadow', () => {
    const yaml = `rules:\n  - {name: short, match: "k:{a}"}\n  - {name: long, match: "k:{a}:{b:*}"}\n  - {name: all, match: "k:{x:*}"}\n`;
    expect(shadowedNames(yaml)).toEqual([]);
  });

  it('kinds: base64 ⊆ seg, int ⊆ base64; seg is not ⊆ base64', () => {
    expect(shadowedNames(`rules:\n  - {name: a, match: "p:{x}"}\n  - {name: b, match: "p:{y:base64}"}\n`)).toEqual(['b']);
    expect(shadowedNames(`rules:\n  - {name: a, match: "p:{x:base64}"}\n  - {name: b, match: "p:{y:int}"}\n`)).toEqual(['b']);
    expect(shadowedNames(`rules:\n  - {name: a, match: "p:{x:base64}"}\n  - {name: b, match: "p:{y}"}\n`)).toEqual([]);
  });

  it('type and db filters decide whether a rule can still be reached', () => {
    // the earlier rule only takes hashes: strings still reach the later one
    expect(shadowedNames(`rules:\n  - {name: a, match: "u:{id}", type: hash}\n  - {name: b, match: "u:{id}"}\n`)).toEqual([]);
    // ... unless the later one only takes hashes too
    expect(shadowedNames(`rules:\n  - {name: a, match: "u:{id}", type: hash}\n  - {name: b, match: "u:{id}", type: hash}\n`)).toEqual(['b']);
    // two earlier rules covering both types of the later one
    expect(
      shadowedNames(`rules:\n  - {name: a, match: "u:{id}", type: hash}\n  - {name: s, match: "u:{id}", type: string}\n  - {name: b, match: "u:{id}", type: [hash, string]}\n`),
    ).toEqual(['b']);
    // db-restricted earlier rule does not cover an unrestricted later rule
    expect(shadowedNames(`rules:\n  - {name: a, match: "u:{id}", db: 0}\n  - {name: b, match: "u:{id}"}\n`)).toEqual([]);
    expect(shadowedNames(`rules:\n  - {name: a, match: "u:{id}", db: [0, 1]}\n  - {name: b, match: "u:{id}", db: 1}\n`)).toEqual(['b']);
  });

  it('a literal-only later rule is checked exactly, even against regex rules', () => {
    expect(shadowedNames(`rules:\n  - {name: rx, regex: "a:(?:x|y)"}\n  - {name: lit, match: "a:y"}\n`)).toEqual(['lit']);
    expect(shadowedNames(`rules:\n  - {name: rx, regex: "a:(?:x|y)"}\n  - {name: lit, match: "a:z"}\n`)).toEqual([]);
  });

  it('the bare-prefix case: a base64 rule shadows a later literal that is valid base64', () => {
    const yaml = `
rules:
  - {name: cache, match: "app:{p:base64}", rename: "c:{p}"}
  - {name: bare, match: "app:reminder"}
`;
    const r = rulesFrom(yaml);
    const a = analyzeStatic(r);
    expect(a.shadowed).toHaveLength(1);
    expect(a.shadowed[0]!.message).toBe('no key can reach rule "bare": every key it matches is taken first by rule "cache"');
  });

  it('reports partial overlaps with an example key', () => {
    const r = rulesFrom(`rules:\n  - {name: ints, match: "u:{id:int}"}\n  - {name: any, match: "u:{id}"}\n`);
    const a = analyzeStatic(r);
    expect(a.shadowed).toEqual([]);
    expect(a.overlaps).toHaveLength(1);
    expect(a.overlaps[0]!.example!.toString()).toMatch(/^u:[0-9]+$/);
  });

  it('regex rules are undecided, never used to claim shadowing', () => {
    const r = rulesFrom(`rules:\n  - {name: rx, regex: "u:.*"}\n  - {name: t, match: "u:{x}"}\n`);
    const a = analyzeStatic(r);
    expect(a.shadowed).toEqual([]);
    expect(a.undecided.map((u) => u.rule)).toEqual([0]);
  });
});

describe('static potential collisions', () => {
  it('two rules producing the same new-key language', () => {
    const r = rulesFrom(`rules:\n  - {name: a, match: "x:{id}", rename: "n:{id}"}\n  - {name: b, match: "y:{id}", rename: "n:{id}"}\n`);
    const p = analyzeStatic(r).potentialCollisions;
    expect(p.map((x) => [x.kind, r.rules[x.rule]!.name, r.rules[x.other]!.name])).toEqual([['new_keys_overlap', 'a', 'b']]);
    expect(p[0]!.example.toString()).toMatch(/^n:/);
  });

  it('different target dbs do not collide', () => {
    const r = rulesFrom(`rules:\n  - {name: a, match: "x:{id}", rename: "n:{id}", to_db: 1}\n  - {name: b, match: "y:{id}", rename: "n:{id}", to_db: 2}\n`);
    expect(analyzeStatic(r).potentialCollisions).toEqual([]);
  });

  it('new keys that a renaming rule would rename again', () => {
    const r = rulesFrom(`rules:\n  - {name: a, match: "user:{id:*}", rename: "user:v2:{id}"}\n`);
    const p = analyzeStatic(r).potentialCollisions;
    expect(p).toHaveLength(1);
    expect(p[0]!.kind).toBe('new_key_may_be_source_key');
    expect(p[0]!.message).toMatch(/migrating twice/);
  });

  it('a renamed key landing in a kept rule\'s namespace', () => {
    const r = rulesFrom(`rules:\n  - {name: a, match: "old:{id}", rename: "new:{id}"}\n  - {name: k, match: "new:{id}"}\n`);
    const p = analyzeStatic(r).potentialCollisions;
    expect(p.map((x) => x.kind)).toEqual(['new_keys_overlap']);
  });

  it('the example rules have none', async () => {
    const { loadRules } = await import('../../src/rules/index.js');
    const r = await loadRules('examples/meta-glasses.rules.yaml');
    const a = analyzeStatic(r);
    expect(a.shadowed).toEqual([]);
    expect(a.potentialCollisions).toEqual([]);
  });
});

describe('observed shadowing', () => {
  it('counts wins and losses per rule, with samples', () => {
    const r = rulesFrom(`
rules:
  - {name: rx, regex: "u:[0-9]+"}
  - {name: ints, match: "u:{id:int}"}
  - {name: any, match: "u:{id}"}
  - {name: none, match: "zzz:{x}"}
`);
    const o = new ShadowObserver(r);
    for (const k of ['u:1', 'u:2', 'u:x', 'other']) o.add(b(k));
    const res = o.result();
    expect(res.perRule.map((x) => [x.matched, x.lost])).toEqual([
      [2, 0],
      [0, 2],
      [1, 2],
      [0, 0],
    ]);
    expect(res.neverMatched).toEqual([3]);
    expect(res.shadowed.map((s) => [s.rule, s.by])).toEqual([[1, [0]]]);
    expect(res.shadowed[0]!.message).toBe('rule "ints" matched 2 key(s), all taken first by rule "rx"');
    const pair = res.overlaps.find((x) => x.rule === 0 && x.other === 2)!;
    expect(pair.count).toBe(2);
    expect(pair.samples!.map(String)).toEqual(['u:1', 'u:2']);
  });
});
