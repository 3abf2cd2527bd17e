/**
 * Issue 16: an import of several inputs (a cluster backup: one RDB per master) keeps one ledger whose
 * offsets are positions in the whole dataset, so one `--resume` of the whole run continues every input
 * where it stands. Three shard files into a 3-master cluster; a master is killed while the second file is
 * being imported; after its restart the resumed run ends exact. The report has the per-file table and slot
 * coverage, and a missing shard is exit 1 unless --partial.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type ClusterHandle } from '../helpers/redis-server.js';
import { importWithOutcome } from '../../src/commands/import.js';
import type { TargetWriter } from '../../src/import/restore-writer.js';
import { keySlot } from '../../src/redis/slot.js';
import { args, ledgerLines, makeRdb, until, totalKeys, clusterOk } from './helpers.js';

const N = 30_000;
/** The slot ranges startCluster(3) gives its masters, in order. */
const RANGES: Array<[number, number]> = [0, 1, 2].map((i) => [Math.floor((i * 16384) / 3), Math.floor(((i + 1) * 16384) / 3) - 1]);

describe('import of several inputs: one ledger, one resume', () => {
  let dir: string;
  let cl: ClusterHandle;
  const shards: string[] = [];
  const perShard = [0, 0, 0];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-multi-resume-'));
    const names: string[][] = [[], [], []];
    for (let i = 0; i < N; i++) {
      const k = `k:${i}`;
      const s = keySlot(Buffer.from(k));
      names[RANGES.findIndex(([a, b]) => s >= a && s <= b)]!.push(k);
    }
    for (let j = 0; j < 3; j++) {
      const path = join(dir, `shard-${j}.rdb`);
      perShard[j] = names[j]!.length;
      await makeRdb(path, async (c) => {
        let p = c.pipeline();
        names[j]!.forEach((k, i) => {
          if (i % 2 === 0) p.set(k, `v-${k}`);
          else p.hset(k, 'f', k, 'g', String(i));
          if (i % 1000 === 999) {
            void p.exec();
            p = c.pipeline();
          }
        });
        await p.exec();
      });
      shards.push(path);
    }
    cl = await startCluster(3, { args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  });
  afterAll(async () => {
    await cl?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('three shard files, a master killed during the second: --resume of the whole run continues each input where it stands', async () => {
    let writer: TargetWriter | null = null;
    const run1 = importWithOutcome({ ...args('', cl.nodes[0]!.url, join(dir, 'run1'), { pipeline: 200 }), input: shards }, { onStart: (w) => (writer = w) });
    // Kill the second file's master once part of that file is acknowledged (a tight poll: the run is fast).
    const deadline = Date.now() + 60_000;
    const mid = perShard[0]! + perShard[1]! / 2;
    while ((writer === null || (writer as TargetWriter).counters.created < mid) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    await cl.nodes[1]!.kill();
    const r1 = await run1;
    expect(r1.exitCode).toBe(1);
    const rep1 = r1.report as Record<string, any>;
    expect(rep1.import.stopped).toMatch(new RegExp(`127\\.0\\.0\\.1:${cl.nodes[1]!.port}`));
    const ledger = r1.ledgerPath!;
    const l1 = ledgerLines(ledger);
    expect(l1[l1.length - 1]).toMatchObject({ $: 'end', complete: false });
    const acked1 = l1.filter((l) => l.$ === undefined).length;
    expect(acked1).toBeGreaterThan(perShard[0]!);
    expect(acked1).toBeLessThan(perShard[0]! + perShard[1]!);
    expect(rep1.import.created).toBe(acked1);

    await cl.nodes[1]!.restart();
    await until(() => clusterOk(cl), 30_000, 'cluster_state:ok after the restart');
    const r2 = await importWithOutcome({ ...args('', cl.nodes[2]!.url, join(dir, 'run2'), { resume: ledger, validate: true, pipeline: 200 }), input: shards });
    const rep2 = r2.report as Record<string, any>;
    expect(rep2.error_keys).toEqual([]);
    expect(rep2.validation.mismatched).toBe(0);
    expect(rep2.validation.not_imported).toBe(0);
    expect(r2.exitCode).toBe(0);
    // The first file and the acknowledged part of the second were skipped; nothing after was.
    expect(rep2.resume.already_done).toBe(acked1);
    expect(await totalKeys(cl)).toBe(N);
    // One final state per key over both runs; created + uncertain = every key of the three inputs.
    const states = new Map<string, string>();
    for (const l of ledgerLines(ledger)) {
      if (l.$ !== undefined) continue;
      const k = Buffer.from(String(l.key), 'base64').toString();
      expect(states.has(k), `${k} acknowledged twice`).toBe(false);
      states.set(k, l.created === true ? 'created' : l.uncertain === true ? 'uncertain' : 'skipped');
    }
    expect(states.size).toBe(N);
    expect([...states.values()].filter((s) => s === 'skipped')).toEqual([]);
    expect(rep2.import.created + rep2.import.uncertain_after_resume).toBe(N - acked1);
    // The per-file table and slot coverage, as transform has them.
    expect(rep2.files.map((f: any) => [f.path, f.keys])).toEqual(shards.map((p, j) => [p, perShard[j]]));
    rep2.files.forEach((f: any, j: number) => {
      expect(f.slots_held).toBeGreaterThan(0);
      expect(f.slots_held).toBeLessThanOrEqual(RANGES[j]![1] - RANGES[j]![0] + 1);
      // Every range it holds lies in its master's range (keys, not slot-info: only slots that have keys).
      for (const r of String(f.slots).split(',')) {
        const [a, b = a] = r.split('-').map(Number);
        expect(a! >= RANGES[j]![0] && b! <= RANGES[j]![1], `${f.path}: ${r}`).toBe(true);
      }
    });
    expect(rep2.slot_coverage.missing.slots).toBe(0);
  }, 180_000);

  it('a missing shard is exit 1 unless --partial (dry run)', async () => {
    const two = [shards[0]!, shards[2]!];
    const r = await importWithOutcome({ ...args('', cl.nodes[0]!.url, join(dir, 'missing'), { live: false }), input: two });
    expect(r.exitCode).toBe(1);
    expect((r.report as any).slot_coverage.missing.slots).toBe(RANGES[1]![1] - RANGES[1]![0] + 1);
    const p = await importWithOutcome({ ...args('', cl.nodes[0]!.url, join(dir, 'partial'), { live: false, partial: true }), input: two });
    expect((p.report as any).slot_coverage.missing.slots).toBe(RANGES[1]![1] - RANGES[1]![0] + 1);
    expect(p.exitCode).toBe(0);
  }, 60_000);
});
