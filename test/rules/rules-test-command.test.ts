import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatRulesTestReport, runRulesTest, table } from '../../src/commands/rules-test.js';

const dir = mkdtempSync(join(tmpdir(), 'rekey-rules-test-'));
let n = 0;
function file(content: string | Buffer, ext = '.yaml'): string {
  const p = join(dir, `f${n++}${ext}`);
  writeFileSync(p, content);
  return p;
}

const EXAMPLE = 'examples/meta-glasses.rules.yaml';
const P = 'josancamon:rayban-meta-glasses-api:';

describe('rekey rules test', () => {
  it('exit 0: the example file is valid and its tests pass', async () => {
    const { exitCode, report } = await runRulesTest({ rulesFile: EXAMPLE });
    expect(exitCode).toBe(0);
    expect(report.valid).toBe(true);
    expect(report.tests.failed).toBe(0);
    expect(report.tests.file).toBeGreaterThanOrEqual(20);
    expect(report.tests.builtin).toBeGreaterThan(0);
    expect(report.collisions.tests.total).toBe(0);
    expect(report.rules.map((r) => r.name)).toEqual([
      'reminder',
      'user_history',
      'user_profile',
      'cancellation',
      'typed-prefix-without-id',
      'cache',
    ]);
    const text = formatRulesTestReport(report, false);
    expect(text).toMatch(/tests: \d+ passed, 0 failed/);
    expect(text).toMatch(/result: OK \(exit 0\)/);
    expect(text).not.toMatch(/\x1b\[/);
    expect(formatRulesTestReport(report, true)).toMatch(/\x1b\[32m/);
  });

  it('exit 2: an invalid file, with line:col per error', async () => {
    const p = file('rules:\n  - name: r\n    match: "a:{x}"\n    rename: "b:{y}"\n');
    const { exitCode, report } = await runRulesTest({ rulesFile: p });
    expect(exitCode).toBe(2);
    expect(report.valid).toBe(false);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({ line: 4, col: 16, rule: 'rule "r"', message: 'rename uses {y} which match does not bind' });
    expect(formatRulesTestReport(report, false)).toContain(`${p}:4:16: rule "r": rename uses {y} which match does not bind`);
  });

  it('exit 2: a missing rules file', async () => {
    expect((await runRulesTest({ rulesFile: join(dir, 'nope.yaml') })).exitCode).toBe(2);
  });

  it('exit 1: a failing embedded test names the test and the line', async () => {
    const p = file(`rules:
  - {name: r, match: "a:{x}", rename: "b:{x}"}
tests:
  - {key: "a:1", expect: "b:1"}
  - {key: "a:2", expect: "c:2"}
  - {key: "zz", expect_category: r}
`);
    const { exitCode, report } = await runRulesTest({ rulesFile: p });
    expect(exitCode).toBe(1);
    expect(report.tests.failed).toBe(2);
    expect(report.tests.failures.map((f) => [f.line, f.failures])).toEqual([
      [5, ['expected "c:2", but rule "r" gave "b:2"']],
      [6, ['expected category "r", got no match']],
    ]);
    expect(formatRulesTestReport(report, false)).toContain(`FAIL ${p}:5: test #2: key a:2`);
  });

  it('exit 1: test keys that collide', async () => {
    const p = file(`rules:
  - {name: r, match: "old:{x}", rename: "new:{x}"}
tests:
  - {key: "old:1", expect: "new:1"}
  - {key: "new:1", unmatched: true}
`);
    const { exitCode, report } = await runRulesTest({ rulesFile: p });
    expect(exitCode).toBe(1);
    expect(report.collisions.tests.findings.map((f) => [f.kind, f.new_key])).toEqual([['duplicate_target', 'new:1']]);
  });

  it('--keys: per-rule counts, unmatched, observed overlaps, base64 lines', async () => {
    const keys = file(
      [
        `${P}reminder:1`,
        `${P}reminder`,
        `${P}SGVsbG8=`,
        `base64:${Buffer.concat([Buffer.from(`${P}user_profile:`), Buffer.from([0xff])]).toString('base64')}`,
        'unrelated',
        '',
        `${P}cancellation:wa:9\r`,
      ].join('\n'),
      '.txt',
    );
    const { exitCode, report } = await runRulesTest({ rulesFile: EXAMPLE, keys });
    expect(exitCode).toBe(0);
    expect(report.keys).toMatchObject({ total: 6, matched: 5, unmatched: 1, unmatched_samples: ['unrelated'] });
    expect(report.keys!.by_category).toEqual({ reminder: 1, malformed: 1, cache: 1, user_profile: 1, cancellation: 1 });
    const counts = Object.fromEntries(report.rules.map((r) => [r.name, [r.keys, r.lost]]));
    expect(counts).toEqual({
      reminder: [1, 0],
      user_history: [0, 0],
      user_profile: [1, 0],
      cancellation: [1, 0],
      'typed-prefix-without-id': [1, 0],
      cache: [1, 1],
    });
    expect(report.never_matched).toEqual(['user_history']);
    expect(report.overlaps.filter((o) => o.how === 'observed')).toEqual([
      { rule: 'typed-prefix-without-id', also_matches: 'cache', how: 'observed', example: `${P}reminder`, count: 1, samples: [`${P}reminder`] },
    ]);
    expect(report.collisions.keys!.total).toBe(0);
    // --strict turns "a rule matched no key" into exit 1
    expect((await runRulesTest({ rulesFile: EXAMPLE, keys, strict: true })).exitCode).toBe(1);
    const text = formatRulesTestReport(report, false);
    expect(text).toMatch(/keys: 6 from .*: 5 matched, 1 unmatched \(keep\)/);
    expect(text).toContain('rules that matched no key: user_history');
  });

  it('--keys: collisions over real keys exit 1 and are byte-confirmed', async () => {
    const keys = file([`${P}reminder:7`, 'meta-glasses:reminder:event:7', `${P}user_profile:1`, 'meta-glasses:user:profile:1x'].join('\n'), '.txt');
    const { exitCode, report } = await runRulesTest({ rulesFile: EXAMPLE, keys });
    expect(exitCode).toBe(1);
    const c = report.collisions.keys!;
    expect(c.confirmed).toBe(true);
    expect(c.findings).toEqual([
      {
        kind: 'duplicate_target',
        db: 0,
        new_key: 'meta-glasses:reminder:event:7',
        sources: [
          { db: 0, key: `${P}reminder:7` },
          { db: 0, key: 'meta-glasses:reminder:event:7' },
        ],
        confirmed: true,
      },
    ]);
    expect(formatRulesTestReport(report, false)).toContain(
      `collision db 0 meta-glasses:reminder:event:7 <- ${P}reminder:7, meta-glasses:reminder:event:7`,
    );
  });

  it('--keys: forced digest collisions are not reported', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) lines.push(`${P}reminder:${i}`, `${P}user_profile:${i}`);
    const keys = file(lines.join('\n'), '.txt');
    const { exitCode, report } = await runRulesTest({ rulesFile: EXAMPLE, keys, collisionDigestBits: 5 });
    expect(report.collisions.keys!.candidates).toBeGreaterThan(0);
    expect(report.collisions.keys!.false_positives).toBe(report.collisions.keys!.candidates);
    expect(report.collisions.keys!.total).toBe(0);
    expect(exitCode).toBe(0);
  });

  it('--keys -: reads stdin (spooled, so collisions are still byte-confirmed)', async () => {
    const stdin = Readable.from([Buffer.from(`${P}reminder:7\nmeta-glasses:reminder:`), Buffer.from(`event:7\n${P}reminder:7\n`)]);
    const { exitCode, report } = await runRulesTest({ rulesFile: EXAMPLE, keys: '-', stdin });
    expect(exitCode).toBe(1);
    expect(report.keys!.sources).toEqual(['<stdin>']);
    expect(report.keys!.total).toBe(3);
    const c = report.collisions.keys!;
    expect(c.confirmed).toBe(true);
    expect(c.duplicate_sources).toBe(1);
    expect(c.findings.map((f) => [f.kind, f.new_key, f.confirmed])).toEqual([['duplicate_target', 'meta-glasses:reminder:event:7', true]]);
  });

  it('--keys -: a key listed twice (SCAN can repeat keys) is not a collision', async () => {
    const stdin = Readable.from([Buffer.from(`${P}reminder:7\n${P}reminder:7\nfoo\nfoo\n`)]);
    const { exitCode, report } = await runRulesTest({ rulesFile: EXAMPLE, keys: '-', stdin });
    expect(report.collisions.keys!.total).toBe(0);
    expect(report.collisions.keys!.duplicate_sources).toBe(2);
    expect(exitCode).toBe(0);
  });

  it('unmatched: error makes unmatched keys a problem', async () => {
    const p = file('unmatched: error\nrules:\n  - {name: r, match: "a:{x}"}\n');
    const keys = file('a:1\nb:1\n', '.txt');
    const { exitCode, report } = await runRulesTest({ rulesFile: p, keys });
    expect(exitCode).toBe(1);
    expect(report.keys!.unmatched).toBe(1);
  });

  it('a bad base64 line in the keys file is a usage error (exit 2)', async () => {
    const keys = file('ok\nbase64:@@@\n', '.txt');
    const { exitCode, report } = await runRulesTest({ rulesFile: EXAMPLE, keys });
    expect(exitCode).toBe(2);
    expect(report.errors[0]!.message).toMatch(/:2: "base64:" line is not base64/);
  });

  it('static shadowing is a warning: exit 0, or 1 with --strict', async () => {
    const p = file('rules:\n  - {name: a, match: "u:{x}"}\n  - {name: b, match: "u:{y}"}\n');
    const r = await runRulesTest({ rulesFile: p });
    expect(r.exitCode).toBe(0);
    expect(r.report.shadowed).toEqual([
      { rule: 'b', by: ['a'], how: 'static', message: 'no key can reach rule "b": every key it matches is taken first by rule "a"' },
    ]);
    expect((await runRulesTest({ rulesFile: p, strict: true })).exitCode).toBe(1);
  });

  it('--json output is one JSON document with binary keys as {base64}', async () => {
    const keys = file(`base64:${Buffer.from([0xff, 0xfe]).toString('base64')}\n`, '.txt');
    const { report } = await runRulesTest({ rulesFile: EXAMPLE, keys });
    const json = JSON.parse(JSON.stringify(report)) as typeof report;
    expect(json.keys!.unmatched_samples).toEqual([{ base64: '//4=' }]);
    expect(json.exit_code).toBe(0);
  });

  it.skipIf(!existsSync('src/sources/open.ts'))('--input: keys of a dump, with their types and dbs', async () => {
    const lines = [
      { db: 0, key: `${P}reminder:1`, type: 'hash', value: { a: '1' } },
      { db: 0, key: `${P}SGVsbG8=`, type: 'string', value: 'x' },
      { db: 1, key: 'meta-glasses:reminder:event:1', type: 'string', value: 'y' },
      { db: 0, key: 'meta-glasses:reminder:event:1', type: 'string', value: 'z' },
    ];
    const dump = file(lines.map((l) => JSON.stringify(l)).join('\n') + '\n', '.jsonl');
    const { exitCode, report } = await runRulesTest({ rulesFile: EXAMPLE, input: dump });
    expect(report.errors).toEqual([]);
    expect(report.keys).toMatchObject({ total: 4, matched: 2, unmatched: 2 });
    // db 1's key does not collide with db 0's new key; db 0's does
    expect(report.collisions.keys!.findings.map((f) => [f.kind, f.db, f.new_key])).toEqual([
      ['duplicate_target', 0, 'meta-glasses:reminder:event:1'],
    ]);
    expect(exitCode).toBe(1);
  });

  it('aligned tables', () => {
    expect(table(['a', 'num'], [['xx', '1'], ['y', '100']], [false, true])).toBe(
      ['  a   num', '  --  ---', '  xx    1', '  y   100'].join('\n'),
    );
  });
});
