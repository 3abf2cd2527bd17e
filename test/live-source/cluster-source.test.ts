import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openInput } from '../../src/sources/open.js';
import { openRedisSource, type RedisSourceInput } from '../../src/sources/redis-source.js';
import { RekeyUsageError } from '../../src/errors.js';
import { startCluster, type ClusterHandle } from '../helpers/redis-server.js';
import { collect, commandStats, keysOf } from './helpers.js';

let cl: ClusterHandle;
const N = 400;

beforeAll(async () => {
  cl = await startCluster(3);
  const c = cl.client();
  for (let i = 0; i < N; i++) {
    const k = `ck:${i}`;
    if (i % 4 === 0) await c.hset(k, 'f', `v${i}`, 'g', String(i));
    else if (i % 4 === 1) await c.rpush(k, 'a', 'b', String(i));
    else await c.set(k, `value-${i}`);
    if (i % 5 === 0) await c.pexpireat(k, 4102444800000 + i);
  }
  c.disconnect();
}, 120_000);

afterAll(async () => {
  await cl?.stop();
});

describe('live cluster source', () => {
  it('scans every master and reads each key exactly once', async () => {
    for (const seed of [cl.nodes[0]!, cl.nodes[2]!]) {
      const nodeStats = await Promise.all(cl.nodes.map(async (n) => {
        const c = n.client();
        await c.call('CONFIG', 'RESETSTAT');
        return c;
      }));
      const input = (await openInput(seed.url)) as RedisSourceInput;
      expect(input.server.cluster).toBe(true);
      expect(input.server.nodes.length).toBe(3);
      const recs = await collect(input);
      expect(recs.filter((r) => r.kind === 'selectdb')).toEqual([{ kind: 'selectdb', db: 0, offset: 0 }]);
      const keys = keysOf(recs);
      expect(keys.length).toBe(N);
      expect(new Set(keys.map((k) => k.key.toString())).size).toBe(N);
      for (const k of keys) {
        const i = Number(k.key.toString().slice(3));
        expect(k.db).toBe(0);
        expect(k.expireAtMs).toBe(i % 5 === 0 ? 4102444800000 + i : null);
        const v = k.decode();
        if (i % 4 === 0) expect(v.type).toBe('hash');
        else if (i % 4 === 1) expect(v).toEqual({ type: 'list', items: [Buffer.from('a'), Buffer.from('b'), Buffer.from(String(i))] });
        else expect(v).toEqual({ type: 'string', value: Buffer.from(`value-${i}`) });
      }
      // every master was read, and only its own keys DUMPed there (no redirects)
      let dumps = 0;
      for (const c of nodeStats) {
        const s = await commandStats(c);
        expect(s.get('dump') ?? 0).toBeGreaterThan(0);
        dumps += s.get('dump') ?? 0;
        c.disconnect();
      }
      expect(dumps).toBe(N);
      expect(input.stats().redirected).toBe(0);
    }
  });

  it('cluster: false reads only the node given; --db other than 0 is refused', async () => {
    const one = keysOf(await collect(await openRedisSource(cl.nodes[1]!.url, { cluster: false })));
    expect(one.length).toBeGreaterThan(0);
    expect(one.length).toBeLessThan(N);
    await expect(openRedisSource(cl.nodes[1]!.url, { db: [2] })).rejects.toBeInstanceOf(RekeyUsageError);
  });

  it('a slot moving to another master during the scan: its keys are read through the redirect, once', async () => {
    const admin = cl.nodes.map((n) => n.client());
    const ids = await Promise.all(admin.map(async (c) => String(await c.call('CLUSTER', 'MYID'))));
    const ownerOf = (slot: number): number => Math.min(2, Math.floor((slot * 3) / 16384));
    let moved: string | null = null;
    const input = await openRedisSource(cl.nodes[0]!.url, {
      onScanBatch: async (_db, keys) => {
        if (moved !== null || keys.length === 0) return;
        const key = keys[0]!;
        const slot = Number(await admin[0]!.call('CLUSTER', 'KEYSLOT', key));
        // the slot's current owner (it may have moved in an earlier test run: ask the cluster)
        let from = ownerOf(slot);
        const nodesTxt = String(await admin[0]!.call('CLUSTER', 'NODES'));
        for (const line of nodesTxt.split('\n')) {
          const f = line.split(' ');
          for (const r of f.slice(8)) {
            const [a, b] = r.split('-').map(Number);
            if (slot >= a! && slot <= (b ?? a!)) from = ids.indexOf(f[0]!);
          }
        }
        const to = (from + 1) % 3;
        await admin[to]!.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', ids[from]!);
        await admin[from]!.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', ids[to]!);
        const inSlot = (await admin[from]!.callBuffer('CLUSTER', 'GETKEYSINSLOT', String(slot), '1000')) as Buffer[];
        await admin[from]!.callBuffer('MIGRATE', '127.0.0.1', String(cl.nodes[to]!.port), '', '0', '5000', 'KEYS', ...inSlot);
        for (const c of admin) await c.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', ids[to]!);
        moved = key.toString();
      },
    });
    const keys = keysOf(await collect(input));
    for (const c of admin) c.disconnect();
    expect(moved).not.toBeNull();
    expect(keys.length).toBe(N);
    expect(new Set(keys.map((k) => k.key.toString())).size).toBe(N);
    expect(input.stats().redirected).toBeGreaterThanOrEqual(1);
    const k = keys.find((r) => r.key.toString() === moved)!;
    expect(k).toBeDefined();
  });
});
