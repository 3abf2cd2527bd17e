import { describe, expect, it } from 'vitest';
import { compileRules } from '../../src/rules/index.js';
import { Matcher } from '../../src/rules/matcher.js';
import { parseTemplate } from '../../src/rules/template.js';
import { b, renamed, rulesFrom } from './helpers.js';

describe('placeholders', () => {
  it('{name} matches one or more bytes other than ":"', () => {
    const r = rulesFrom(`rules:\n  - {name: r, match: "u:{id}", rename: "v:{id}"}\n`);
    expect(renamed(r, 'u:42')).toBe('v:42');
    expect(renamed(r, 'u:a-b.c')).toBe('v:a-b.c');
    expect(renamed(r, 'u:a:b')).toBeNull();
    expect(renamed(r, 'u:')).toBeNull();
  });

  it('{name:*} matches any bytes, ":" included, but not nothing', () => {
    const r = rulesFrom(`rules:\n  - {name: r, match: "u:{id:*}", rename: "v:{id}"}\n`);
    expect(renamed(r, 'u:a:b:c')).toBe('v:a:b:c');
    expect(renamed(r, 'u:')).toBeNull();
  });

  it('{name:base64} takes both alphabets and padding, nothing else', () => {
    const r = rulesFrom(`rules:\n  - {name: r, match: "c:{p:base64}", rename: "n:{p}"}\n`);
    expect(renamed(r, 'c:ab+/cd==')).toBe('n:ab+/cd==');
    expect(renamed(r, 'c:ab-_cd')).toBe('n:ab-_cd');
    expect(renamed(r, 'c:ab cd')).toBeNull();
    expect(renamed(r, 'c:a:b')).toBeNull();
    expect(renamed(r, 'c:')).toBeNull();
  });

  it('{name:int} takes digits only', () => {
    const r = rulesFrom(`rules:\n  - {name: r, match: "o:{n:int}", rename: "p:{n}"}\n`);
    expect(renamed(r, 'o:0123')).toBe('p:0123');
    expect(renamed(r, 'o:-1')).toBeNull();
    expect(renamed(r, 'o:1a')).toBeNull();
  });

  it('placeholders in the middle, suffix literals and backtracking', () => {
    const r = rulesFrom(`
rules:
  - {name: a, match: "s:{x:*}:end", rename: "t:{x}"}
  - {name: b, match: "k:{a:*}:{b}", rename: "{b}/{a}"}
  - {name: c, match: "q:{a:int}{b}", rename: "{a}|{b}"}
`);
    expect(renamed(r, 's:1:2:end')).toBe('t:1:2');
    expect(renamed(r, 's:1:2:end:x')).toBeNull();
    // greedy: {a:*} takes the longest value that still lets {b} match
    expect(renamed(r, 'k:1:2:3')).toBe('3/1:2');
    expect(renamed(r, 'q:123x')).toBe('123|x');
    expect(renamed(r, 'q:12345')).toBe('1234|5');
  });

  it('stays fast on keys that make placeholders backtrack (failures are memoized)', () => {
    const r = rulesFrom(`rules:\n  - {name: r, match: "{a:*}:{b:*}:{c:*}:{d:*}:end", rename: "{d}"}\n`);
    const long = Buffer.from(':'.repeat(3000) + 'x');
    const t0 = Date.now();
    expect(r.classify(long)).toBeNull();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(renamed(r, 'a:b:c:d:e:end')).toBe('e');
    expect(renamed(r, '1:2:3:4:end')).toBe('4');
  });

  it('a rule without rename keeps the key (same Buffer)', () => {
    const r = rulesFrom(`rules:\n  - {name: keep, category: misc, match: "x:{a}"}\n`);
    const key = b('x:1');
    const c = r.classify(key)!;
    expect(c.newKey).toBe(key);
    expect(c.category).toBe('misc');
  });
});

describe('binary keys', () => {
  const r = rulesFrom(`
rules:
  - {name: bin, match: "bin:{id}", rename: "b2:{id}"}
  - {name: any, match: "any:{id:*}:tail", rename: "a2:{id}"}
`);

  it('placeholders match non-UTF-8 bytes and the new key is built from bytes', () => {
    const key = Buffer.concat([b('bin:'), Buffer.from([0xff, 0x00, 0x80, 0xfe])]);
    const c = r.classify(key)!;
    expect(c.newKey).toEqual(Buffer.concat([b('b2:'), Buffer.from([0xff, 0x00, 0x80, 0xfe])]));
  });

  it('"*" crosses newlines and NULs', () => {
    const key = Buffer.concat([b('any:'), Buffer.from([0x0a, 0x3a, 0x00]), b(':tail')]);
    expect(r.classify(key)!.newKey).toEqual(Buffer.concat([b('a2:'), Buffer.from([0x0a, 0x3a, 0x00])]));
  });

  it('non-UTF-8 literal text can be written in a regex as \\xHH', () => {
    const rr = rulesFrom(`rules:\n  - {name: r, regex: "\\\\xff\\\\xfe:(?<id>.+)", rename: "ok:{id}"}\n`);
    const key = Buffer.concat([Buffer.from([0xff, 0xfe]), b(':x\ny')]);
    expect(rr.classify(key)!.newKey.toString()).toBe('ok:x\ny');
  });
});

describe('regex rules', () => {
  it('match the whole key, bind named groups, and run over bytes', () => {
    const r = rulesFrom(`
rules:
  - {name: r, regex: "sess:(?<uid>[0-9]+)-(?<rest>.*)", rename: "session:{uid}:{rest}"}
`);
    expect(renamed(r, 'sess:12-ab')).toBe('session:12:ab');
    expect(renamed(r, 'xsess:12-ab')).toBeNull(); // anchored
    expect(renamed(r, 'sess:12-')).toBe('session:12:');
  });

  it('non-ASCII pattern text stands for its UTF-8 bytes', () => {
    const r = rulesFrom(`rules:\n  - {name: r, regex: "café:(?<id>.+)", rename: "cafe:{id}"}\n`);
    expect(renamed(r, 'café:1')).toBe('cafe:1');
  });

  it('an optional group that did not take part renames to nothing', () => {
    const r = rulesFrom(`rules:\n  - {name: r, regex: "a(?<x>:b)?", rename: "z{x}"}\n`);
    expect(renamed(r, 'a')).toBe('z');
    expect(renamed(r, 'a:b')).toBe('z:b');
  });

  it('leading alternatives put the rule at several trie prefixes', () => {
    const r = rulesFrom(`
rules:
  - {name: bare, regex: "app:(?:one|two(?::x)?):?"}
  - {name: rest, match: "app:{p}"}
`);
    expect(r.classify(b('app:one'))!.rule).toBe('bare');
    expect(r.classify(b('app:two:x:'))!.rule).toBe('bare');
    expect(r.classify(b('app:three'))!.rule).toBe('rest');
    expect(r.classify(b('app:onex'))!.rule).toBe('rest');
  });
});

describe('first match wins, filters and actions', () => {
  const r = rulesFrom(`
unmatched: drop
rules:
  - {name: hashes, category: h, match: "u:{id}", rename: "uh:{id}", type: hash}
  - {name: db1, category: d, match: "u:{id}", rename: "u1:{id}", db: [1, 2], to_db: 5, ttl: drop}
  - {name: users, category: u, match: "u:{id}", rename: "user:{id}", ttl: 60000}
  - {name: never, category: n, match: "u:{id}", rename: "never:{id}"}
`);

  it('picks the first matching rule in file order', () => {
    const c = r.classify(b('u:1'), 'string', 0)!;
    expect(c.rule).toBe('users');
    expect(c.ruleIndex).toBe(2);
    expect(c.ttl).toBe(60000);
    expect(c.toDb).toBeUndefined();
    expect(r.matchingRules(b('u:1'), 'string', 0)).toEqual([2, 3]);
  });

  it('applies type filters', () => {
    expect(r.classify(b('u:1'), 'hash', 0)!.rule).toBe('hashes');
    expect(r.classify(b('u:1'), 'list', 0)!.rule).toBe('users');
  });

  it('applies db filters, to_db and ttl', () => {
    const c = r.classify(b('u:1'), 'string', 2)!;
    expect(c.rule).toBe('db1');
    expect(c.toDb).toBe(5);
    expect(c.ttl).toBe('drop');
    expect(c.newKey.toString()).toBe('u1:1');
  });

  it('an unknown type or db passes every filter', () => {
    expect(r.classify(b('u:1'))!.rule).toBe('hashes');
  });

  it('exposes unmatched, rules and categories', () => {
    expect(r.unmatched).toBe('drop');
    expect(r.classify(b('zzz'))).toBeNull();
    expect(r.rules.map((x) => x.name)).toEqual(['hashes', 'db1', 'users', 'never']);
    expect(r.categories).toEqual(['h', 'd', 'u', 'n']);
  });

  it('defaults: unmatched keep, ttl keep, category = name, name = rule-<n>', () => {
    const d = compileRules({ rules: [{ match: 'a:{x}' }] });
    expect(d.unmatched).toBe('keep');
    const c = d.classify(b('a:1'))!;
    expect(c).toMatchObject({ rule: 'rule-1', category: 'rule-1', ttl: 'keep' });
  });

  it.each(['keep', 'drop', 'error'] as const)('unmatched: %s is carried on the compiled rules', (mode) => {
    expect(compileRules({ unmatched: mode, rules: [{ match: 'a' }] }).unmatched).toBe(mode);
  });
});

describe('one matcher, not a scan', () => {
  it('only rules reachable from the key prefix are candidates', () => {
    const entries = Array.from({ length: 200 }, (_, i) => {
      const t = parseTemplate(`svc${i}:item:{id}`);
      const first = t.segments[0]!;
      return {
        segments: t.segments,
        regex: null,
        captureNames: t.variables,
        prefixes: [first.kind === 'lit' ? first.bytes : Buffer.alloc(0)],
        typeMask: 0,
        dbs: null,
      };
    });
    const m = new Matcher(entries);
    expect(Array.from(m.candidates(b('svc17:item:x')))).toEqual([17]);
    expect(Array.from(m.candidates(b('nope')))).toEqual([]);
    expect(m.match(b('svc170:item:x'), 0, -1)).toBe(170);
    // svc1 is a prefix of svc17 / svc1x: the shorter rule is not reachable without its ":"
    expect(Array.from(m.candidates(b('svc1:item:x')))).toEqual([1]);
  });

  it('rules starting with a placeholder are tried for every key, in order with the others', () => {
    const r = rulesFrom(`
rules:
  - {name: a, match: "x:{id}"}
  - {name: any, match: "{k}:{id}"}
  - {name: b, match: "y:{id}"}
`);
    expect(r.classify(b('y:1'))!.rule).toBe('any');
    expect(r.classify(b('x:1'))!.rule).toBe('a');
    expect(r.matchingRules(b('y:1'))).toEqual([1, 2]);
  });

  it('handles thousands of rules sharing a long prefix', () => {
    const rules = Array.from({ length: 2000 }, (_, i) => ({ name: `r${i}`, match: `app:shared:prefix:${i}:{id}`, rename: `n${i}:{id}` }));
    const r = compileRules({ rules });
    expect(renamed(r, 'app:shared:prefix:1999:z')).toBe('n1999:z');
    expect(renamed(r, 'app:shared:prefix:19:z')).toBe('n19:z');
    expect(renamed(r, 'app:shared:prefix:2000:z')).toBeNull();
  });
});

describe('cut-over helper: toOldKey', () => {
  const r = rulesFrom(`
rules:
  - {name: rem, match: "old:reminder:{id:*}", rename: "new:reminder:{id}"}
  - {name: prof, match: "old:{user}:profile", rename: "new:profile:{user}"}
  - {name: lossy, match: "old:{a}:{b}:lossy", rename: "new:lossy:{a}"}
  - {name: keep, match: "kept:{x}"}
  - {name: rx, regex: "rx:(?<x>.+)", rename: "new:rx:{x}"}
`);

  it('maps a new key back to its old name when the rule is invertible', () => {
    expect(r.toOldKey(b('new:reminder:a:b'))!.toString()).toBe('old:reminder:a:b');
    expect(r.toOldKey(b('new:profile:u1'))!.toString()).toBe('old:u1:profile');
    expect(r.toOldKey(b('kept:1'))!.toString()).toBe('kept:1');
  });

  it('returns null for non-invertible rules and keys no rule produces', () => {
    expect(r.rules.map((x) => x.invertible)).toEqual([true, true, false, true, false]);
    expect(r.toOldKey(b('new:lossy:a'))).toBeNull();
    expect(r.toOldKey(b('new:rx:1'))).toBeNull();
    expect(r.toOldKey(b('something:else'))).toBeNull();
  });

  it('round-trips binary keys', () => {
    const old = Buffer.concat([b('old:reminder:'), Buffer.from([0xff, 0x3a, 0x00])]);
    const c = r.classify(old)!;
    expect(r.toOldKey(c.newKey)).toEqual(old);
  });

  it('verifies: an old key an earlier rule would take is not returned', () => {
    const s = rulesFrom(`
rules:
  - {name: first, match: "a:special", rename: "z:first"}
  - {name: gen, match: "a:{x}", rename: "b:{x}"}
`);
    expect(s.toOldKey(b('b:special'))).toBeNull(); // a:special is renamed by "first", not to b:special
    expect(s.toOldKey(b('b:other'))!.toString()).toBe('a:other');
  });
});
