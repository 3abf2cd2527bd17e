/**
 * `analyze --merge`: reports of the parts of a dataset, analysed separately, merge into the report one
 * run over all the parts gives. The fixture is split by db and by hash slot with rekey's own writer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze, type AnalyzeArgs } from '../../src/commands/analyze.js';
import type { AnalysisReport } from '../../src/analyze/aggregator.js';
import { bySlot, FIXTURE, ROOT, splitDump } from './helpers.js';

const RULES = join(ROOT, 'examples', 'meta-glasses.rules.yaml');
const NOW = 1_800_000_000_000;
let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-merge-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function args(input: string | string[], extra: Partial<AnalyzeArgs> = {}): AnalyzeArgs {
  return {
    input,
    top: 5,
    samples: 3,
    html: false,
    json: true,
    now: NOW,
    'prefix-depth': 3,
    'out-dir': mkdtempSync(join(dir, 'out-')),
    'ignore-checksum': false,
    'allow-future-version': false,
    ...extra,
  };
}

/** The report without what differs between any two runs (time of the run). */
function comparable(r: AnalysisReport): Omit<AnalysisReport, 'generated_at' | 'seconds'> {
  const { generated_at: _g, seconds: _s, ...rest } = r;
  return rest;
}

async function mergedVersusOneRun(parts: string[], extra: Partial<AnalyzeArgs> = {}): Promise<{ merged: AnalysisReport; one: AnalysisReport }> {
  const jsons: string[] = [];
  for (const p of parts) jsons.push((await analyze(args(p, extra))).jsonPath);
  const merged = (await analyze(args(jsons, { ...extra, merge: true }))).report;
  const one = (await analyze(args(parts, extra))).report;
  return { merged, one };
}

describe('analyze --merge', () => {
  it('parts split by db merge into the one-run report', async () => {
    const parts = await splitDump(FIXTURE, mkdtempSync(join(dir, 'db-')), 3, (k) => (k.db === 0 ? 0 : k.db === 1 ? 1 : 2), 'db');
    const { merged, one } = await mergedVersusOneRun(parts);
    expect(one.totals.keys).toBe(446);
    expect(one.files.map((f) => f.keys)).toEqual([325, 60, 61]);
    expect(comparable(merged)).toEqual(comparable(one));
  });

  it('parts split by hash slot (three masters) merge into the one-run report, rules included', async () => {
    const parts = await splitDump(FIXTURE, mkdtempSync(join(dir, 'slot-')), 3, bySlot(3), 'shard');
    const { merged, one } = await mergedVersusOneRun(parts, { rules: RULES });
    expect(one.totals.keys).toBe(446);
    expect(one.slot_coverage.checked).toBe(true);
    expect(comparable(merged)).toEqual(comparable(one));
  });

  it('parts that may share keys: the merge says duplicates were not checked; one run counts them', async () => {
    const d = mkdtempSync(join(dir, 'dup-'));
    const [p0] = await splitDump(FIXTURE, d, 2, (k) => (k.db === 0 ? 0 : 1), 'db');
    const copy = join(d, 'copy.rdb');
    copyFileSync(p0!, copy);
    const { merged, one } = await mergedVersusOneRun([p0!, copy]);
    expect(one.duplicates).toMatchObject({ checked: true, keys: 325 });
    expect(merged.duplicates.checked).toBe(false);
    expect(merged.totals).toEqual(one.totals);
  });

  it('refuses parts analysed with other options, and reports of an older merge_state', async () => {
    const d = mkdtempSync(join(dir, 'opt-'));
    const parts = await splitDump(FIXTURE, d, 2, (k) => (k.db === 0 ? 0 : 1), 'db');
    const a = (await analyze(args(parts[0]!))).jsonPath;
    const b = (await analyze(args(parts[1]!, { top: 7 }))).jsonPath;
    await expect(analyze(args([a, b], { merge: true }))).rejects.toThrow(/cannot merge: top 7/);
    const old = JSON.parse(readFileSync(a, 'utf8')) as { merge_state: { version: number } };
    old.merge_state.version = 1;
    const oldPath = join(d, 'old.json');
    writeFileSync(oldPath, JSON.stringify(old));
    await expect(analyze(args([oldPath, a], { merge: true }))).rejects.toThrow(/old\.json: at byte 0: expected "merge_state" version 2, found 1/);
  });
});
