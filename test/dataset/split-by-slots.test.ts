/**
 * `transform --split-by-slots`: one RDB per master. The plan from a count (redis-cli's ranges), a
 * CLUSTER NODES file and a live cluster URL; each file loaded into its node of a real 3-master cluster
 * (restarted on it), then every key reachable through the cluster.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TransformArgs } from '../../src/commands/transform.js';
import { planEven, planFromClusterNodes } from '../../src/sinks/split-by-slots-plan.js';
import { formatRanges } from '../../src/analyze/slots.js';
import { keySlot } from '../../src/redis/slot.js';
import { openInput } from '../../src/sources/open.js';
import { startCluster, type ClusterHandle } from '../helpers/redis-server.js';
import { FIXTURE, transformReport } from './helpers.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-split-'));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterAll(() => {
  vi.restoreAllMocks();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function transform(extra: Partial<TransformArgs>): Promise<{ code: number; report: { migration_stats: Record<string, number>; error_keys: Array<{ db: number; error: string }>; output: { split: { files: Array<{ path: string; master: string; slots: string; keys: number }> } } } }> {
  const out = mkdtempSync(join(dir, 'out-'));
  return transformReport({ input: FIXTURE, output: join(out, 'shard.rdb'), ...extra }, out);
}

async function keysIn(path: string): Promise<Array<{ db: number; key: Buffer }>> {
  const out: Array<{ db: number; key: Buffer }> = [];
  for await (const b of (await openInput(path)).batches) for (const r of b) if (r.kind === 'key') out.push({ db: r.db, key: r.key });
  return out;
}

describe('split plans', () => {
  it('N masters get the ranges redis-cli --cluster create gives', () => {
    expect(planEven(3).owners.map((o) => formatRanges(o.ranges))).toEqual(['0-5460', '5461-10922', '10923-16383']);
    expect(planEven(1).owners.map((o) => formatRanges(o.ranges))).toEqual(['0-16383']);
    expect(() => planEven(0)).toThrow(/1 to 16384/);
  });

  it('reads CLUSTER NODES text: masters in slot order, replicas and migrating markers ignored, double claims refused', () => {
    const text = [
      'b1 127.0.0.1:7002@17002 master - 0 1 2 connected 5461-10922 [5000->-a1]',
      'a1 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5000 5001-5460',
      'r1 127.0.0.1:7004@17004 slave a1 0 1 1 connected',
      'c1 127.0.0.1:7003@17003 master - 0 1 3 connected 10923-16383',
      'vars currentEpoch 3 lastVoteEpoch 0',
    ].join('\n');
    const p = planFromClusterNodes(text, 'nodes.txt');
    expect(p.owners.map((o) => [o.name, o.id, formatRanges(o.ranges)])).toEqual([
      ['127.0.0.1:7001', 'a1', '0-5460'],
      ['127.0.0.1:7002', 'b1', '5461-10922'],
      ['127.0.0.1:7003', 'c1', '10923-16383'],
    ]);
    expect(() => planFromClusterNodes(text + '\nd1 127.0.0.1:7005@1 master - 0 1 4 connected 100', 'n.txt')).toThrow(/n\.txt: at byte 0: .*slot 100/);
  });

  it('a key in db ≠ 0 cannot go to a cluster: refused and named (exit 1), or skipped and counted with --lossy', async () => {
    const r = await transform({ 'split-by-slots': '3' });
    expect(r.code).toBe(1);
    expect(r.report.migration_stats.migration_errors).toBe(121); // dbs 1 and 3 of the fixture
    expect(r.report.error_keys[0]!.error).toMatch(/db 1 \(a cluster has only db 0/);
    const lossy = await transform({ 'split-by-slots': '3', lossy: true });
    expect(lossy.code).toBe(0);
    expect(lossy.report.output.split.files.reduce((n, f) => n + f.keys, 0)).toBe(325);
  });
});

describe('split into the files of a real cluster', () => {
  let cl: ClusterHandle;
  beforeAll(async () => {
    cl = await startCluster(3);
  }, 60_000);
  afterAll(async () => {
    await cl?.stop();
  });

  it('each file loads into its master and every key is reachable through the cluster', async () => {
    const url = cl.nodes[0]!.url;
    const r = await transform({ 'split-by-slots': url, db: [0] });
    expect(r.code).toBe(0);
    const files = r.report.output.split.files;
    expect(files).toHaveLength(3);
    expect(files.reduce((n, f) => n + f.keys, 0)).toBe(325);

    // A nodes file saved from the same cluster plans the same split.
    const admin = cl.nodes[1]!.client();
    const nodesFile = join(dir, 'nodes.txt');
    writeFileSync(nodesFile, String(await admin.call('CLUSTER', 'NODES')));
    admin.disconnect();
    const fromFile = await transform({ 'split-by-slots': nodesFile, db: [0] });
    expect(fromFile.report.output.split.files.map((f) => [f.master, f.slots, f.keys])).toEqual(files.map((f) => [f.master, f.slots, f.keys]));

    // Every key of a file hashes into its master's slots.
    for (const f of files) {
      const ranges = f.slots.split(',').map((x) => x.split('-').map(Number) as [number, number?]);
      for (const k of await keysIn(f.path)) {
        const s = keySlot(k.key);
        expect(ranges.some(([a, b]) => s >= a && s <= (b ?? a))).toBe(true);
      }
    }

    // Load: each node restarted on its file (nodes.conf keeps its id and slots).
    for (const f of files) {
      const node = cl.nodes.find((n) => f.master === `127.0.0.1:${n.port}`)!;
      expect(node).toBeDefined();
      const c = node.client();
      await c.call('FLUSHALL');
      c.disconnect();
      copyFileSync(f.path, join(node.dir, 'dump.rdb'));
      await node.restart();
      const d = node.client();
      expect(Number(await d.call('DBSIZE'))).toBe(f.keys);
      d.disconnect();
    }
    for (let t = 0; ; t++) {
      const states = await Promise.all(
        cl.nodes.map(async (n) => {
          const c = n.client();
          try {
            return /cluster_state:ok/.test(String(await c.call('CLUSTER', 'INFO')));
          } finally {
            c.disconnect();
          }
        }),
      );
      if (states.every(Boolean)) break;
      if (t > 150) throw new Error('cluster not ok after the restarts');
      await new Promise((res) => setTimeout(res, 100));
    }
    const cluster = cl.client();
    const want = (await keysIn(FIXTURE)).filter((k) => k.db === 0);
    let found = 0;
    for (const k of want) if (Number(await cluster.exists(k.key)) === 1) found++;
    expect(found).toBe(325);
    cluster.disconnect();
  }, 120_000);
});
