/** `rules test --input a b …`: the keys of every dump are checked as one set (collisions across shards). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRulesTest } from '../../src/commands/rules-test.js';
import { rec, str } from '../analyze/helpers.js';
import { writeRdb } from './helpers.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-rtmulti-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rules test with several --input dumps', () => {
  it("finds two shards' keys renamed onto one name, and lists each file", async () => {
    const a = await writeRdb(join(dir, 'a.rdb'), [rec('old:a:1', str('x')), rec('old:a:2', str('y'))]);
    const b = await writeRdb(join(dir, 'b.rdb'), [rec('old:b:1', str('z'))]);
    const rules = join(dir, 'rules.yaml');
    writeFileSync(rules, 'version: 1\nrules:\n  - name: any\n    category: c\n    match: "old:{shard}:{id}"\n    rename: "new:{id}"\n');
    const { exitCode, report } = await runRulesTest({ rulesFile: rules, input: [join(dir, '*.rdb')] });
    expect(exitCode).toBe(1);
    expect(report.keys!.sources).toEqual([a, b]);
    expect(report.keys!.total).toBe(3);
    expect(report.collisions.keys!.total).toBe(1);
    expect(report.keys!.dataset!.files.map((f) => [f.path, f.keys, f.rdb_version])).toEqual([
      [a, 2, 11],
      [b, 1, 11],
    ]);
    // One shard alone has no collision: the check spans the inputs.
    expect((await runRulesTest({ rulesFile: rules, input: a })).report.collisions.keys!.total).toBe(0);
  });
});
