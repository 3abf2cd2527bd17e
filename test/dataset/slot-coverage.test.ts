/**
 * Slot coverage over several inputs (dataset/dataset.ts + analyze/slots.ts): which slots each file
 * holds, a missing shard, overlapping files, and keys in a file whose slots do not own them; from the
 * keys' hash slots and from slot-info records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataset, type DatasetReport } from '../../src/dataset/dataset.js';
import { keySlot } from '../../src/redis/slot.js';
import type { KeyRecord, RdbRecord } from '../../src/records/types.js';
import { rec, str } from '../analyze/helpers.js';
import { bySlot, evenRangeOwner, FIXTURE, splitDump, writeRdb } from './helpers.js';

let dir = '';
let shards: string[] = [];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-slots-'));
  shards = await splitDump(FIXTURE, mkdtempSync(join(dir, 'shards-')), 3, bySlot(3), 'shard');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function coverage(paths: string[]): Promise<DatasetReport> {
  const ds = await Dataset.open(paths);
  for await (const _ of ds.input.batches) void _;
  return ds.report()!;
}

/** Keys `k:<i>` spread over the slots one master of three owns. */
function keysOf(master: number, n: number): KeyRecord[] {
  const out: KeyRecord[] = [];
  for (let i = 0; out.length < n; i++) {
    const k = `k:${i}`;
    if (evenRangeOwner(keySlot(Buffer.from(k)), 3) === master) out.push(rec(k, str('v')));
  }
  return out;
}

describe('slot coverage of several inputs', () => {
  it('three shards of a cluster backup: every slot range held, no overlap, nothing misplaced', async () => {
    const r = await coverage(shards);
    expect(r.slot_coverage).toMatchObject({ checked: true, files: 3, missing: { slots: 0 }, overlaps: [], misplaced: { keys: 0 } });
    // Each file's range runs from near its master's first slot to near its last.
    const bounds = r.files.map((f) => f.slots.split(',').map((x) => x.split('-').map(Number)));
    expect(bounds.every((b) => b.length === 1)).toBe(true);
    expect(bounds[0]![0]![1]).toBeLessThan(5461);
    expect(bounds[1]![0]![0]).toBeGreaterThanOrEqual(5461);
    expect(bounds[2]![0]![0]).toBeGreaterThanOrEqual(10922);
    expect(r.files.reduce((n, f) => n + f.keys, 0)).toBe(446);
  });

  it('a missing shard: the slots of the master whose file is absent', async () => {
    const r = await coverage([shards[0]!, shards[2]!]);
    const c = r.slot_coverage;
    expect(c.missing.slots).toBeGreaterThan(4000);
    const [lo, hi] = c.missing.ranges.split('-').map(Number);
    expect(lo).toBeGreaterThan(5000);
    expect(lo).toBeLessThan(5700);
    // keys are sparse (about 150 per shard): the gap runs from one shard's last key to the next one's first
    expect(hi).toBeGreaterThan(10700);
    expect(hi).toBeLessThan(11500);
  });

  it('overlapping files, and keys in a file whose slots another file owns', async () => {
    const d = mkdtempSync(join(dir, 'bad-'));
    const copy = join(d, 'copy.rdb');
    copyFileSync(shards[1]!, copy);
    const over = (await coverage([...shards, copy])).slot_coverage;
    expect(over.overlaps).toHaveLength(1);
    expect(over.overlaps[0]!.files).toEqual([shards[1], copy]);

    // Master 1's file also holds two keys of master 0's slots.
    const a = await writeRdb(join(d, 'm0.rdb'), keysOf(0, 300));
    const strays = keysOf(0, 302).slice(300);
    const b = await writeRdb(join(d, 'm1.rdb'), [...keysOf(1, 300), ...strays]);
    const c = await writeRdb(join(d, 'm2.rdb'), keysOf(2, 300));
    const cov = await coverage([a, b, c]);
    const mis = cov.slot_coverage;
    // master 0's range runs across the strays: one range, not split by them
    expect(cov.files[0]!.slots).toMatch(/^\d+-\d+$/);
    expect(mis.overlaps).toEqual([]);
    expect(mis.missing.slots).toBe(0);
    expect(mis.misplaced.keys).toBe(2);
    expect(mis.misplaced.by_file).toEqual([{ file: b, keys: 2, ranges: expect.any(String) }]);
    const slots = strays.map((k) => keySlot(k.key)).sort((x, y) => x - y);
    expect(mis.misplaced.by_file[0]!.ranges).toBe(slots.join(','));
  });

  it('slot-info records name the slots a file owns: keys outside them are misplaced', async () => {
    const d = mkdtempSync(join(dir, 'info-'));
    const info = (from: number, to: number): RdbRecord[] =>
      Array.from({ length: to - from + 1 }, (_, i) => ({ kind: 'slot-info' as const, slot: from + i, slotSize: 0, expiresSlotSize: 0, offset: 0 }));
    const a = await writeRdb(join(d, 'a.rdb'), [...info(0, 8191), ...keysOf(0, 5)], 12);
    // b names 8192-16383 but also holds a key of slot < 8192
    const stray = keysOf(0, 6)[5]!;
    const b = await writeRdb(join(d, 'b.rdb'), [...info(8192, 16383), ...keysOf(2, 5), stray], 12);
    const r = await coverage([a, b]);
    expect(r.files.map((f) => [f.from_slot_info, f.slot_info])).toEqual([[true, 8192], [true, 8192]]);
    expect(r.slot_coverage.missing.slots).toBe(0);
    expect(r.slot_coverage.misplaced).toEqual({ keys: 1, by_file: [{ file: b, keys: 1, ranges: String(keySlot(stray.key)) }] });
  });
});
