import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RekeyUsageError } from '../../src/errors.js';
import { compileRules, loadRules, parseRulesText, RulesFileError } from '../../src/rules/index.js';
import { compileRuleRegex, regexPrefixes } from '../../src/rules/schema.js';
import { errorOf } from './helpers.js';

function diagnostics(text: string, source = 'rules.yaml'): string[] {
  try {
    parseRulesText(text, source);
  } catch (e) {
    expect(e).toBeInstanceOf(RulesFileError);
    expect(e).toBeInstanceOf(RekeyUsageError);
    expect((e as RekeyUsageError).exitCode).toBe(2);
    return (e as Error).message.split('\n');
  }
  return [];
}

describe('rules file validation', () => {
  it('points at the rule and its line:col for an unbound rename variable', () => {
    const text = [
      'version: 1', //                                 1
      'rules:', //                                     2
      '  - name: ok', //                               3
      '    match: "a:{x}"', //                         4
      '  - name: reminder', //                         5
      '    match: "old:reminder:{event_id}"', //       6
      '    rename: "new:{user}"', //                   7
    ].join('\n');
    expect(diagnostics(text)).toEqual(['rules.yaml:7:18: rule "reminder": rename uses {user} which match does not bind']);
  });

  it('reports YAML syntax errors with line and column', () => {
    const lines = diagnostics('rules:\n  - name: a\n    match: "x\n  - : [\n');
    expect(lines[0]).toMatch(/^rules\.yaml:\d+:\d+: syntax error: /);
  });

  it('reports duplicate keys as syntax errors', () => {
    const lines = diagnostics('rules:\n  - name: a\n    match: "x"\n    match: "y"\n');
    expect(lines[0]).toMatch(/^rules\.yaml:4:5: syntax error: .*unique/i);
  });

  it('collects every problem, each with its location', () => {
    const text = `
unmatched: sometimes
rules:
  - name: a
    match: "x:{id:uuid}"
  - name: b
    match: "y:{id}"
    renmae: "z:{id}"
  - name: c
    regex: "(unclosed"
  - name: d
    match: "a:{x}"
    type: [hash, bogus]
    db: -1
    ttl: forever
  - name: a
    match: "dup"
  - match: "x"
    regex: "y"
  - name: f
  - name: g
    match: "q:{x}:{x}"
  - name: h
    regex: "h:(?<id>.*)"
    rename: "n:{id:int}"
tests:
  - key: 12
    expect: "x"
  - key: "k"
`;
    const lines = diagnostics(text);
    expect(lines).toEqual([
      'rules.yaml:2:12: unmatched must be keep, drop or error (got "sometimes")',
      'rules.yaml:5:15: rule "a": match: unknown placeholder type "uuid" in "{id:uuid}" (use {id}, {id:*}, {id:base64} or {id:int}) (at character 3)',
      'rules.yaml:8:5: rule "b": unknown field "renmae" (expected one of name, category, match, regex, rename, type, db, to_db, ttl, description)',
      expect.stringMatching(/^rules\.yaml:10:12: rule "c": regex: invalid: .*/),
      'rules.yaml:13:18: rule "d": bad type "bogus": a type is one of string, list, set, zset, hash, stream, module',
      'rules.yaml:14:9: rule "d": bad db -1: a db is an integer >= 0',
      'rules.yaml:15:10: rule "d": ttl must be keep, drop or a positive number of milliseconds (got "forever")',
      'rules.yaml:16:11: rule "a": duplicate rule name (rule #1 has it too)',
      'rules.yaml:19:12: rule #6: give either match or regex, not both',
      'rules.yaml:20:5: rule "f": missing match (a template) or regex',
      'rules.yaml:22:19: rule "g": match binds {x} twice',
      'rules.yaml:25:16: rule "h": rename gives {id} a type, but regex groups have none (write {id})',
      'rules.yaml:27:10: test #1: key must be a string or {base64: "..."}',
      'rules.yaml:29:5: test #2: a test needs expect, expect_category, expect_rule, expect_db or unmatched: true',
    ]);
  });

  it('rejects a rename kind that disagrees with the match', () => {
    expect(diagnostics('rules:\n  - {name: r, match: "a:{x:int}", rename: "b:{x:base64}"}\n')).toEqual([
      'rules.yaml:2:46: rule "r": rename writes {x:base64} but match binds {x:int}',
    ]);
  });

  it('reports a regex rename group that does not exist', () => {
    expect(diagnostics('rules:\n  - {name: r, regex: "a(?<x>.)", rename: "{y}"}\n')[0]).toMatch(
      /rule "r": rename uses \{y\} which the regex has no such named group/,
    );
  });

  it('rejects unknown top-level fields and a missing rules list', () => {
    expect(diagnostics('rulez: []\n')).toEqual([
      'rules.yaml:1:1: unknown top-level field "rulez" (expected version, unmatched, rules, tests)',
      'rules.yaml:1:1: missing "rules": a list of rules',
    ]);
    expect(diagnostics('version: 2\nrules: []\n')).toEqual(['rules.yaml:1:10: unsupported version 2 (only 1)']);
  });

  it('reads JSON with line/column errors too', () => {
    const json = '{\n  "rules": [\n    {"name": "r", "match": "a:{x}", "rename": "b:{y}"}\n  ]\n}\n';
    expect(diagnostics(json, 'rules.json')).toEqual(['rules.json:3:50: rule "r": rename uses {y} which match does not bind']);
    const ok = parseRulesText('{"rules": [{"match": "a:{x}", "rename": "b:{x}"}], "tests": [{"key": "a:1", "expect": "b:1"}]}', 'r.json');
    expect(compileRules(ok).classify(Buffer.from('a:1'))!.newKey.toString()).toBe('b:1');
  });

  it('validates plain objects passed to compileRules (no positions)', () => {
    expect(errorOf(() => compileRules({ rules: [{ name: 'x', match: 'a:{x}', rename: '{nope}' }] }, 'inline'))).toBe(
      'inline: rule "x": rename uses {nope} which match does not bind',
    );
  });

  it('loadRules names the file in errors and reports unreadable files as usage errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rekey-rules-'));
    const p = join(dir, 'bad.yaml');
    writeFileSync(p, 'rules:\n  - match: "{"\n');
    await expect(loadRules(p)).rejects.toThrow(`${p}:2:13: rule #1: match: unclosed "{"`);
    await expect(loadRules(join(dir, 'missing.yaml'))).rejects.toBeInstanceOf(RekeyUsageError);
  });

  it('accepts tests with base64 keys and every expectation', () => {
    const doc = parseRulesText(`
rules:
  - {name: r, match: "k:{x}", rename: "n:{x}", to_db: 3}
tests:
  - {key: {base64: "azr/"}, expect: {base64: "bjr/"}, expect_category: r, expect_rule: r, expect_db: 3, type: hash, db: 1}
  - {key: "zz", unmatched: true}
  - {key: "zz", expect: null}
`);
    expect(doc.tests[0]!.key).toEqual(Buffer.from([0x6b, 0x3a, 0xff]));
    expect(doc.tests[0]!.expect).toEqual(Buffer.from([0x6e, 0x3a, 0xff]));
    expect(doc.tests[1]!.expect).toBeNull();
    expect(doc.tests[2]!.expect).toBeNull();
  });
});

describe('regex compilation', () => {
  it('derives trie prefixes from the literal start and leading alternatives', () => {
    const p = (s: string): string[] => regexPrefixes(s).map((x) => x.toString('latin1'));
    expect(p('abc:(?<id>.+)')).toEqual(['abc:']);
    expect(p('^abc:d*')).toEqual(['abc:']);
    expect(p('abc:d+')).toEqual(['abc:']);
    expect(p('app:(?:one|two(?::x)?):?')).toEqual(['app:one', 'app:two']);
    expect(p('a:(x|y)|b:z')).toEqual(['a:x', 'a:y', 'b:z']);
    expect(p('a:(x|.)')).toEqual(['a:x', 'a:']);
    expect(p('a:(?:x|y)?z')).toEqual(['a:']);
    expect(p('a\\:b\\x41[c]')).toEqual(['a:bA']);
    expect(p('(?=a)abc')).toEqual(['']);
    expect(p('.*')).toEqual(['']);
  });

  it('lists named groups', () => {
    expect(compileRuleRegex('(?<a>x)(?:(?<b>y))?').groups).toEqual(['a', 'b']);
  });
});
