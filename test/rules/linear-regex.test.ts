import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFilter } from '../../src/pipeline/filters.js';
import type { KeyRecord } from '../../src/records/types.js';
import { runCli } from '../helpers/cli.js';
import { errorOf, renamed, rulesFrom } from './helpers.js';

const EVIL = 'a'.repeat(40) + 'b';
const rec = (key: string): KeyRecord => ({ kind: 'key', db: 0, key: Buffer.from(key, 'latin1'), type: 'string' }) as unknown as KeyRecord;

// Each of these hung for hours before the linear-time fallback (2^40 backtracking steps): the
// per-test timeout turns a regression into a failure instead of a stuck run.
describe('regexes cannot hang', () => {
  it('a rule regex with nested quantifiers ends on a hostile key, and still captures', { timeout: 10_000 }, () => {
    const rules = rulesFrom(`rules:
  - {name: evil, regex: "(?<all>(a+)+)", rename: "x:{all}"}
  - {name: grp, regex: "u:(?<id>[^:]+):(?<rest>.*)", rename: "n:{rest}:{id}"}
`);
    expect(renamed(rules, EVIL)).toBeNull();
    expect(renamed(rules, 'a'.repeat(5000) + 'b')).toBeNull();
    expect(renamed(rules, 'aaaa')).toBe('x:aaaa');
    expect(renamed(rules, 'u:42:tail:end')).toBe('n:tail:end:42');
    // Binary bytes survive the latin1 round trip of a group.
    const key = Buffer.from([0x75, 0x3a, 0xff, 0x00, 0x3a, 0xc3, 0xa9]);
    expect(rules.classify(key)!.newKey).toEqual(Buffer.from([0x6e, 0x3a, 0xc3, 0xa9, 0x3a, 0xff, 0x00]));
  });

  it('--key-regex / --exclude-regex / --match end on a hostile key', { timeout: 10_000 }, () => {
    expect(buildFilter({ keyRegex: '^(a+)+$' })!(rec(EVIL))).toBe(false);
    expect(buildFilter({ keyRegex: '^(a+)+$' })!(rec('aaa'))).toBe(true);
    expect(buildFilter({ excludeRegex: '^(a|aa)+$' })!(rec(EVIL))).toBe(true);
    expect(buildFilter({ match: '*a*a*a*a*a*a*a*a*a*a*c' })!(rec('a'.repeat(3000)))).toBe(false);
  });

  it('patterns that need backtracking are refused at load time with line:col', () => {
    const msg = errorOf(() => rulesFrom('rules:\n  - name: r\n    regex: "(?<x>a)\\\\k<x>"\n'));
    expect(msg).toMatch(/^rules\.yaml:3:12: rule "r": regex: cannot be matched in linear time/);
    expect(errorOf(() => rulesFrom('rules:\n  - {name: r, regex: "(?=a)a+"}\n'))).toMatch(/lookahead/);
    expect(errorOf(() => rulesFrom('rules:\n  - {name: r, regex: "[0-9]{1,40}"}\n'))).toMatch(/counted repetition/);
    expect(errorOf(() => buildFilter({ keyRegex: '(a)\\1' }))).toMatch(/--key-regex "\(a\)\\\\1": invalid regular expression: cannot be matched in linear time/);
  });

  it('the CLI (its own process) ends on a hostile key: rules test --keys', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rekey-linear-'));
    const rules = join(dir, 'r.yaml');
    writeFileSync(rules, 'rules:\n  - {name: evil, regex: "(a+)+"}\n');
    const keys = join(dir, 'keys.txt');
    writeFileSync(keys, `${EVIL}\naaaa\n`);
    const r = await runCli(['rules', 'test', rules, '--keys', keys, '--json']);
    expect(r.stderr).toBe('');
    const rep = JSON.parse(r.stdout.toString());
    expect(rep.keys).toMatchObject({ total: 2, matched: 1, unmatched: 1 });
  });
});
