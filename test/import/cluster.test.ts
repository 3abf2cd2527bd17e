/**
 * Redis Cluster: a 3-master cluster started by the test. Keys are routed by slot (hash tags included), one
 * pipeline per master; a slot is migrated to another master in the middle of the import — first while
 * MIGRATING/IMPORTING (ASK redirects), then handed over (MOVED) — and the final state must be exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { startCluster, type ClusterHandle } from '../helpers/redis-server.js';
import { importWithOutcome, type ImportArgs } from '../../src/commands/import.js';
import { runValidate } from '../../src/commands/validate.js';
import { keySlot } from '../../src/redis/slot.js';
import type { TargetWriter } from '../../src/import/restore-writer.js';
import { fillMixed, gatedInput, ledgerLines, makeRdb, until, totalKeys } from './helpers.js';

const N = 6000;
const HOT = 'hot';

function args(input: string, target: string, outDir: string, extra: Partial<ImportArgs> = {}): ImportArgs {
  return { input, target, 'out-dir': outDir, json: false, 'ignore-checksum': false, 'allow-future-version': false, progress: false, live: true, yes: true, ...extra };
}

describe('Redis Cluster import', () => {
  let cl: ClusterHandle;
  let dir: string;
  let rdb: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-cluster-'));
    rdb = join(dir, 'data.rdb');
    // Every third key shares the hash tag {hot}: one slot with 2000 keys, the slot the test moves.
    await makeRdb(rdb, (c) => fillMixed(c, N, 'k', (i) => (i % 3 === 0 ? HOT : null)));
    cl = await startCluster(3);
  });
  afterAll(async () => {
    await cl?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('CRC16 slots with hash tags match the server', async () => {
    const c = cl.nodes[0]!.client();
    for (const k of ['foo', 'k:{hot}:1', '{user1000}.following', 'a{}b', '{}x{y}', 'x{y', '']) {
      expect(keySlot(Buffer.from(k)), k).toBe(Number(await c.call('CLUSTER', 'KEYSLOT', k)));
    }
    c.disconnect();
  });

  it('imports with a slot migrated mid-import (ASK, then MOVED) and ends exact', async () => {
    const slot = keySlot(Buffer.from(`k:{${HOT}}:0`));
    const admins: Redis[] = cl.nodes.map((n) => n.client());
    const ids = await Promise.all(admins.map(async (c) => String(await c.call('CLUSTER', 'MYID'))));
    // The master that owns the slot: the one that answers CLUSTER COUNTKEYSINSLOT without a redirect
    // is not telling; read it from CLUSTER SLOTS instead.
    const slots = (await admins[0]!.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, string]]>;
    const range = slots.find(([a, b]) => slot >= a && slot <= b)!;
    const ownerIdx = cl.nodes.findIndex((n) => n.port === Number(range[2][1]));
    expect(ownerIdx).toBeGreaterThanOrEqual(0);
    const destIdx = (ownerIdx + 1) % 3;
    const src = admins[ownerIdx]!;
    const dst = admins[destIdx]!;
    const dstNode = cl.nodes[destIdx]!;
    const migrateSome = async (max: number): Promise<number> => {
      const keys = (await src.call('CLUSTER', 'GETKEYSINSLOT', String(slot), String(max))) as string[];
      if (keys.length) await src.call('MIGRATE', '127.0.0.1', String(dstNode.port), '', '0', '5000', 'KEYS', ...keys);
      return keys.length;
    };

    const g = await gatedInput(rdb, [N / 3, (2 * N) / 3]);
    let writer: TargetWriter | null = null;
    const done = (): number => (writer ? writer.counters.created + writer.counters.skipped + writer.counters.errors : 0);
    const run = importWithOutcome(args(rdb, cl.nodes[0]!.url, join(dir, 'a'), { pipeline: 200 }), { input: g.input, onStart: (w) => (writer = w) });

    // Phase 1 done: start migrating the slot and move part of its keys.
    await g.gates[0]!.reached;
    await until(() => done() >= N / 3, 20_000, 'phase 1 acknowledged');
    expect(Number(await src.call('CLUSTER', 'COUNTKEYSINSLOT', String(slot)))).toBeGreaterThan(500);
    await dst.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', ids[ownerIdx]!);
    await src.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', ids[destIdx]!);
    await migrateSome(300);
    g.gates[0]!.release();

    // Phase 2 (new keys of the slot get ASK → the importing node), then finish the move.
    await g.gates[1]!.reached;
    await until(() => done() >= (2 * N) / 3, 20_000, 'phase 2 acknowledged');
    while ((await migrateSome(500)) > 0) {
      /* move the rest */
    }
    for (const c of admins) await c.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', ids[destIdx]!);
    g.gates[1]!.release();

    // Phase 3: the import still believes the old owner: MOVED, slot map refresh, re-send.
    const r = await run;
    const rep = r.report as Record<string, any>;
    expect(rep.error_keys).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(rep.target.cluster).toBe(true);
    expect(rep.import.created).toBe(N);
    expect(rep.import.cluster_redirects.ask).toBeGreaterThan(0);
    expect(rep.import.cluster_redirects.moved).toBeGreaterThan(0);

    // Every key landed once: one acknowledgement per key in the ledger, each "created" (ASK and MOVED
    // re-sends never count or record a key twice).
    const acks = ledgerLines(r.ledgerPath!).filter((l) => l.$ === undefined);
    expect(acks.length).toBe(N);
    expect(new Set(acks.map((l) => l.key)).size).toBe(N);
    expect(acks.every((l) => l.created === true)).toBe(true);
    expect(await totalKeys(cl)).toBe(N);
    expect(Number(await src.call('CLUSTER', 'COUNTKEYSINSLOT', String(slot)))).toBe(0);
    expect(Number(await dst.call('CLUSTER', 'COUNTKEYSINSLOT', String(slot)))).toBe(N / 3);
    for (const c of admins) c.disconnect();

    const vdir = join(dir, 'v');
    expect(await runValidate({ input: rdb, target: cl.nodes[1]!.url, 'out-dir': vdir, json: false, 'ignore-checksum': false, 'allow-future-version': false })).toBe(0);

    // A second run skips every key, on every master.
    const r2 = await importWithOutcome(args(rdb, cl.nodes[2]!.url, join(dir, 'b')));
    expect((r2.report as any).import.skipped_existing).toBe(N);
    expect(r2.exitCode).toBe(0);
  });

  it('refuses keys of db > 0 unless --to-db 0 (stops at the first)', async () => {
    const rdb2 = join(dir, 'multi-db.rdb');
    await makeRdb(rdb2, async (c) => {
      await c.set('zero:a', '1');
      await c.select(2);
      await c.set('two:a', '2');
      await c.set('two:b', '3');
    });
    const r = await importWithOutcome(args(rdb2, cl.nodes[0]!.url, join(dir, 'c')));
    const rep = r.report as Record<string, any>;
    expect(r.exitCode).toBe(1);
    // The refusal repeats for every key of db 2: the run stops at the first, with the hint.
    expect(rep.migration_stats.migration_errors).toBe(1);
    expect(rep.error_keys[0].error).toMatch(/--to-db 0/);
    expect(rep.import.stopped).toMatch(/--to-db 0/);
    expect(rep.import.created).toBe(1);

    const r2 = await importWithOutcome(args(rdb2, cl.nodes[0]!.url, join(dir, 'd'), { 'to-db': 0, validate: true }));
    const rep2 = r2.report as Record<string, any>;
    expect(rep2.import.created).toBe(2);
    expect(rep2.import.skipped_existing).toBe(1);
    expect(rep2.validation.mismatched).toBe(0);
    expect(r2.exitCode).toBe(0);
  });
});
