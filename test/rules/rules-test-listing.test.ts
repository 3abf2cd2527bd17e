/**
 * `rules test --keys FILE` lists each key: old -> new name and the rule that matched; `--json` one
 * object per line, the report last (issue 12). Through runRulesTest's onKey and the built CLI.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRulesTest } from '../../src/commands/rules-test.js';
import type { KeyMapping } from '../../src/commands/rules-test-plan.js';
import { runCli } from '../helpers/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const EXAMPLE = join(ROOT, 'examples', 'meta-glasses.rules.yaml');
const FIXTURE = join(ROOT, 'fixtures', 'dump.rdb');
const P = 'josancamon:rayban-meta-glasses-api:';
const dir = mkdtempSync(join(tmpdir(), 'rekey-rules-list-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A keys file: the example's renames, a typed prefix kept under its name, an unmatched and a binary key. */
const KEYS = join(dir, 'keys.txt');
writeFileSync(KEYS, `${P}reminder:evt_1\n${P}user_profile:42\nother:key\nbase64:/wA=\n${P}reminder\n`);

/** Rules that move keys to another db and drop the unmatched ones. */
const MOVING = join(dir, 'moving.yaml');
writeFileSync(MOVING, 'version: 1\nunmatched: drop\nrules:\n  - name: sessions\n    category: session\n    match: "sess:{id}"\n    rename: "s:{id}"\n    to_db: 2\n');

describe('rules test listing', () => {
  it('onKey: each key in input order with its new name, db and rule', async () => {
    const seen: KeyMapping[] = [];
    const { exitCode } = await runRulesTest({ rulesFile: EXAMPLE, keys: KEYS, onKey: (m) => seen.push({ ...m, key: Buffer.from(m.key) }) });
    expect(exitCode).toBe(0);
    expect(seen.map((m) => [m.key.toString('latin1'), m.newKey?.toString('latin1') ?? null, m.rule, m.unmatched])).toEqual([
      [`${P}reminder:evt_1`, 'meta-glasses:reminder:event:evt_1', 'reminder', null],
      [`${P}user_profile:42`, 'meta-glasses:user:profile:42', 'user_profile', null],
      ['other:key', 'other:key', null, 'keep'],
      ['\xff\x00', '\xff\x00', null, 'keep'],
      [`${P}reminder`, `${P}reminder`, 'typed-prefix-without-id', null],
    ]);
    expect(seen.every((m) => m.db === undefined && m.toDb === 0)).toBe(true);
  });

  it('text: a heading, one line per key, then the report', async () => {
    const r = await runCli(['rules', 'test', EXAMPLE, '--keys', KEYS]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.toString();
    const listing = out.slice(0, out.indexOf('\n\n')).split('\n');
    expect(listing).toEqual([
      'keys (old -> new, rule):',
      `  ${P}reminder:evt_1 -> meta-glasses:reminder:event:evt_1  (rule reminder)`,
      `  ${P}user_profile:42 -> meta-glasses:user:profile:42  (rule user_profile)`,
      '  other:key  (no rule matches: kept)',
      expect.stringMatching(/^ {2}"\\xff\\x00" {2}\(no rule matches: kept\)$/),
      `  ${P}reminder  (rule typed-prefix-without-id, name kept)`,
    ]);
    expect(out).toMatch(/result: OK \(exit 0\)/);
  });

  it('--json: one object per line, the report last; a moved key names its db, a dropped one null', async () => {
    const keys = join(dir, 'moving.txt');
    writeFileSync(keys, 'sess:abc\nnope\n');
    const r = await runCli(['rules', 'test', MOVING, '--keys', keys, '--json', '--list']);
    expect(r.code, r.stderr).toBe(0);
    const objs = r.stdout.toString().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs).toHaveLength(3);
    expect(objs[0]).toEqual({ key: 'sess:abc', new_key: 's:abc', to_db: 2, rule: 'sessions', category: 'session' });
    expect(objs[1]).toEqual({ key: 'nope', new_key: null, to_db: 0, rule: null, category: null, unmatched: 'drop' });
    expect(objs[2]).toMatchObject({ rules_file: MOVING, valid: true, keys: { total: 2, matched: 1, unmatched: 1 } });
    const text = await runCli(['rules', 'test', MOVING, '--keys', keys]);
    expect(text.stdout.toString()).toContain('  sess:abc -> db 2 s:abc  (rule sessions)\n  nope  (no rule matches: dropped)\n');
  });

  it('--no-list keeps the report alone (--json: the one pretty document); --input lists only with --list, with dbs', async () => {
    const r = await runCli(['rules', 'test', EXAMPLE, '--keys', KEYS, '--json', '--no-list']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout.toString()) as { keys: { total: number } }).keys.total).toBe(5);
    const plain = await runCli(['rules', 'test', EXAMPLE, '--input', FIXTURE]);
    expect(plain.stdout.toString()).not.toContain('keys (old -> new, rule):');
    const listed = await runCli(['rules', 'test', EXAMPLE, '--input', FIXTURE, '--list', '--json']);
    const lines = listed.stdout.toString().trimEnd().split('\n').map((l) => JSON.parse(l) as { db?: number; rules_file?: string });
    expect(lines).toHaveLength(447);
    expect(lines.slice(0, -1).every((l) => typeof l.db === 'number')).toBe(true);
    expect(new Set(lines.slice(0, -1).map((l) => l.db))).toEqual(new Set([0, 1, 3]));
    expect(lines.at(-1)!.rules_file).toBe(EXAMPLE);
  });
});
