import { describe, expect, it } from 'vitest';
import { loadRules, compileRules } from '../../src/rules/index.js';
import { escapeGlob, globLiteralPrefix, matchPrefixFor, rulesLiteralPrefix } from '../../src/sources/scan-match.js';
import { isInPlace, liveSourceOptions } from '../../src/sources/redis-source-cli.js';
import { globToRegExp } from '../../src/pipeline/filters.js';
import { MigrationStats } from '../../src/pipeline/stats.js';
import { RULES } from './helpers.js';

describe('matchPrefixFor', () => {
  it('the example rules share josancamon:rayban-meta-glasses-api: (regex rule included)', async () => {
    const rules = await loadRules(RULES);
    expect(rulesLiteralPrefix(rules).toString()).toBe('josancamon:rayban-meta-glasses-api:');
    expect(matchPrefixFor(rules)).toBe('josancamon:rayban-meta-glasses-api:*');
    expect(matchPrefixFor(rules, undefined, { useRules: false })).toBeNull();
  });

  it('escapes glob metacharacters in the literal prefix', () => {
    const rules = compileRules({ version: 1, rules: [{ match: 'a*b?[c]\\d:{id}', rename: 'x:{id}' }] });
    const g = matchPrefixFor(rules)!;
    expect(g).toBe('a\\*b\\?\\[c\\]\\\\d:*');
    const re = globToRegExp(g);
    expect(re.test('a*b?[c]\\d:1')).toBe(true);
    expect(re.test('aXb?[c]\\d:1')).toBe(false);
    expect(escapeGlob(Buffer.from([0xff, 0x2a]))).toBe('\xff\\*');
  });

  it('no shared prefix, or no rules: only the filter', () => {
    const rules = compileRules({ version: 1, rules: [{ match: 'a:{x}' }, { match: 'b:{x}' }] });
    expect(matchPrefixFor(rules)).toBeNull();
    expect(matchPrefixFor(rules, 'a:*')).toBe('a:*');
    expect(matchPrefixFor(null, 'user:*')).toBe('user:*');
    expect(matchPrefixFor(null, '*')).toBeNull();
    expect(matchPrefixFor(null)).toBeNull();
    const rx = compileRules({ version: 1, rules: [{ regex: '.*:(?<id>x)' }] });
    expect(matchPrefixFor(rx)).toBeNull();
  });

  it('filter and rules: the narrower prefix, or the filter when it is not a pure prefix', () => {
    const rules = compileRules({ version: 1, rules: [{ match: 'app:v1:{x}' }, { match: 'app:v1:y:{x}' }] });
    expect(matchPrefixFor(rules)).toBe('app:v1:*');
    expect(matchPrefixFor(rules, 'app:*')).toBe('app:v1:*');
    expect(matchPrefixFor(rules, 'app:v1:y:*')).toBe('app:v1:y:*');
    expect(matchPrefixFor(rules, 'app:*:x')).toBe('app:*:x');
    expect(matchPrefixFor(rules, 'other:*')).toBe('other:*');
  });

  it('globLiteralPrefix', () => {
    expect(globLiteralPrefix('a\\*b*')).toEqual({ prefix: 'a*b', pureprefix: true });
    expect(globLiteralPrefix('ab?c*')).toEqual({ prefix: 'ab', pureprefix: false });
    expect(globLiteralPrefix('abc')).toEqual({ prefix: 'abc', pureprefix: false });
  });
});

describe('liveSourceOptions', () => {
  const base = { 'scan-count': 50, 'max-ops-per-sec': 1000, 'scan-match': 'auto' };
  it('nothing for file inputs', () => {
    expect(liveSourceOptions({ ...base, input: 'fixtures/dump.rdb' })).toEqual({});
  });

  it('rules narrow the scan only when unmatched keys are not needed', async () => {
    const rules = await loadRules(RULES);
    const url = 'redis://127.0.0.1:7000';
    expect(liveSourceOptions({ ...base, input: url }, { rules, unmatched: 'keep' }).match).toBeUndefined();
    expect(liveSourceOptions({ ...base, input: url }, { rules, unmatched: 'drop' }).match).toBe('josancamon:rayban-meta-glasses-api:*');
    expect(liveSourceOptions({ ...base, input: url, target: 'redis://localhost:7000' }, { rules, unmatched: 'keep' }).match).toBe('josancamon:rayban-meta-glasses-api:*');
    expect(liveSourceOptions({ ...base, input: url, target: 'redis://127.0.0.1:7001' }, { rules, unmatched: 'keep' }).match).toBeUndefined();
    expect(liveSourceOptions({ ...base, input: url, match: 'session:*' }, { rules, unmatched: 'keep' }).match).toBe('session:*');
    expect(liveSourceOptions({ ...base, input: url, 'scan-match': 'none', match: 'x*' }, { rules, unmatched: 'drop' }).match).toBeUndefined();
    expect(liveSourceOptions({ ...base, input: url, 'scan-match': 'fx:*' }).match).toBe('fx:*');
    const o = liveSourceOptions({ ...base, input: url, db: [1, 3] });
    expect(o).toMatchObject({ scanCount: 50, maxOpsPerSec: 1000, db: [1, 3] });
  });

  it('--resume is refused for a live input (no stable key order)', () => {
    expect(() => liveSourceOptions({ ...base, input: 'redis://h:1', resume: 'ledger.jsonl' })).toThrow(/--resume works with dump files only/);
    expect(liveSourceOptions({ ...base, input: 'dump.rdb', resume: 'ledger.jsonl' })).toEqual({});
  });

  it('vanished keys and DUMP errors land in the stats', () => {
    const stats = new MigrationStats();
    const o = liveSourceOptions({ ...base, input: 'redis://h:1' }, { stats });
    o.onVanished!(0, Buffer.from('a'));
    o.onVanished!(0, Buffer.from('b'));
    o.onKeyError!(2, Buffer.from('c'), 'NOPERM')
    expect(stats.vanished).toBe(2);
    expect(stats.migrationErrors).toBe(1);
    expect(stats.toJSON().vanished).toBe(2);
  });

  it('isInPlace', () => {
    expect(isInPlace('redis://127.0.0.1:6379', 'redis://localhost:6379')).toBe(true);
    expect(isInPlace('redis://h:6379', 'redis://h:6380')).toBe(false);
    expect(isInPlace('redis://h:6379', 'redis://h:6379/2')).toBe(false);
    expect(isInPlace('redis://h:6379/2', 'redis://h:6379/2')).toBe(true);
    expect(isInPlace('redis://h:6379', 'redis://h:6379', { toDb: 1, db: [1] })).toBe(true);
    expect(isInPlace('redis://h:6379', 'redis://h:6379', { toDb: 1 })).toBe(false);
  });
});
