/**
 * `transform` over several inputs as one dataset: shards merge into one RDB holding every key once,
 * the report has a row per file and the slot coverage, and the key guard spans the inputs (a key in two
 * shards, or two shards' keys renamed onto one name, is exit 1 unless --on-collision is given).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TransformArgs } from '../../src/commands/transform.js';
import { analyze } from '../../src/commands/analyze.js';
import { rec, str } from '../analyze/helpers.js';
import { bySlot, contentOf, FIXTURE, keysOf, splitDump, transformReport, writeRdb } from './helpers.js';
import { valuesEqual } from '../../src/validate/read-value.js';

let dir = '';
let shards: string[] = [];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-tmulti-'));
  shards = await splitDump(FIXTURE, mkdtempSync(join(dir, 'shards-')), 3, bySlot(3), 'shard');
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterAll(() => {
  vi.restoreAllMocks();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Report {
  migration_stats: Record<string, number>;
  files: Array<{ path: string; keys: number; rdb_version: number; slots_held: number }>;
  slot_coverage: { checked: boolean; missing: { slots: number }; overlaps: unknown[] };
  collision_keys: Array<{ source_db: number; source_key: unknown; new_key: unknown }>;
  function_conflicts: unknown[];
}

async function transform(input: string[], extra: Partial<TransformArgs> = {}): Promise<{ code: number; report: Report; output: string }> {
  const out = mkdtempSync(join(dir, 'out-'));
  const output = join(out, 'merged.rdb');
  return { ...(await transformReport<Report>({ input, output, ...extra }, out)), output };
}

describe('transform with several inputs', () => {
  it('merges three shards into one RDB with every key of the original, functions once', async () => {
    const { code, report, output } = await transform(shards);
    expect(code).toBe(0);
    expect(report.files.map((f) => f.path)).toEqual(shards);
    expect(report.files.reduce((n, f) => n + f.keys, 0)).toBe(446);
    for (const f of report.files) expect(f.rdb_version).toBe(10);
    expect(report.slot_coverage).toMatchObject({ checked: true, missing: { slots: 0 }, overlaps: [] });
    expect(report.migration_stats.migrated_successfully).toBe(446);
    expect(await contentOf(output)).toEqual(await contentOf(FIXTURE));
    // Every shard holds the fixture's function library; the merged file names it once (Redis refuses twice).
    const a = (await analyze({ input: output, top: 1, samples: 1, html: false, json: false, 'prefix-depth': 1, 'out-dir': mkdtempSync(join(dir, 'an-')), 'ignore-checksum': false, 'allow-future-version': false })).report;
    expect(a.metadata.functions.map((f) => f.library)).toEqual(['rekeylib']);
    expect(report.function_conflicts).toEqual([]);
  });

  it('globs and a mix of RDB and JSONL are one dataset', async () => {
    const d = mkdtempSync(join(dir, 'mix-'));
    const jsonl = join(d, 'shard-1.jsonl');
    expect((await transform([shards[1]!], { output: jsonl } as Partial<TransformArgs>)).code).toBe(0);
    // the JSONL written above is named by the test; the RDB shards by a glob
    const { code, report, output } = await transform([join(d, '*.jsonl'), shards[0]!, shards[2]!]);
    expect(code).toBe(0);
    expect(report.files.map((f) => f.path)).toEqual([jsonl, shards[0], shards[2]]);
    // A JSONL value is re-encoded when written back as RDB: compare decoded values, not bytes.
    const got = await keysOf(output);
    const want = await keysOf(FIXTURE);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, v] of want) {
      const g = got.get(k)!;
      expect(g.expireAtMs).toBe(v.expireAtMs);
      expect(valuesEqual(g.value, v.value).equal).toBe(true);
    }
  });

  it('a missing shard is exit 1 naming the slots, unless --partial', async () => {
    const r = await transform([shards[0]!, shards[1]!]);
    expect(r.code).toBe(1);
    expect(r.report.slot_coverage.missing.slots).toBeGreaterThan(4000);
    expect((await transform([shards[0]!, shards[1]!], { partial: true })).code).toBe(0);
  });

  it('a key held by two inputs is a collision across them: exit 1 and named, unless --on-collision', async () => {
    const d = mkdtempSync(join(dir, 'dup-'));
    const copy = join(d, 'copy.rdb');
    copyFileSync(shards[0]!, copy);
    const r = await transform([shards[0]!, copy], { partial: true });
    expect(r.code).toBe(1);
    const n = r.report.files[0]!.keys;
    expect(r.report.migration_stats.collisions).toBe(n);
    expect(r.report.collision_keys).toHaveLength(Math.min(n, 1000));
    expect(r.report.slot_coverage.overlaps).toHaveLength(1);
    const kept = await transform([shards[0]!, copy], { partial: true, 'on-collision': 'keep-first' });
    expect(kept.code).toBe(0);
    expect(await contentOf(kept.output)).toEqual(await contentOf(shards[0]!));
    await expect(transform([shards[0]!, copy], { partial: true, 'on-collision': 'fail' })).rejects.toThrow(/collision/);
  });

  it("two shards' keys renamed onto one new key collide", async () => {
    const d = mkdtempSync(join(dir, 'ren-'));
    const a = await writeRdb(join(d, 'a.rdb'), [rec('old:a:1', str('from a')), rec('old:a:2', str('a2'))]);
    const b = await writeRdb(join(d, 'b.rdb'), [rec('old:b:1', str('from b'))]);
    const rules = join(d, 'rules.yaml');
    writeFileSync(rules, 'version: 1\nrules:\n  - name: any\n    category: c\n    match: "old:{shard}:{id}"\n    rename: "new:{id}"\n');
    const r = await transform([a, b], { rules, partial: true });
    expect(r.code).toBe(1);
    expect(r.report.collision_keys).toEqual([{ source_db: 0, source_key: 'old:b:1', new_key: 'new:1' }]);
  });
});
