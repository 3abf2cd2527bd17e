/**
 * Issue 12 item 5: the dry run's memory check uses analyze's memory model (it used to say "fits" for
 * half of what the keys take, and the live run then failed thousands of keys with OOM); it exits 1 when
 * the keys will not fit and says by how much. The live run stops at the first error every later key would
 * repeat (OOM, READONLY, NOPERM, a db a cluster refuses) instead of trying them all; the key that failed
 * stays in flight in the ledger, so --resume retries it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { freePort, startCluster, startRedis } from '../helpers/redis-server.js';
import { importWithOutcome } from '../../src/commands/import.js';
import { args, ledgerLines, makeRdb } from './helpers.js';

const N = 30_000;

async function usedMemory(c: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await c.info('memory'))![1]);
}

/** Ledger lines by kind: acknowledged keys' offsets, in-flight offsets. */
function ledgerState(path: string): { acked: Set<number>; inflight: Set<number> } {
  const acked = new Set<number>();
  const inflight = new Set<number>();
  for (const l of ledgerLines(path)) {
    if (l.$ === undefined) acked.add(l.offset as number);
    else if (l.$ === 'inflight') inflight.add(l.offset as number);
  }
  return { acked, inflight };
}

describe('memory check and stopping at repeating errors', () => {
  let dir: string;
  let rdb: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-memstop-'));
    rdb = join(dir, 'small.rdb');
    // Many tiny keys: per-key overhead (dictEntry, key sds, robj) dwarfs the serialized bytes.
    await makeRdb(rdb, async (c) => {
      let p = c.pipeline();
      for (let i = 0; i < N; i++) {
        p.set(`k:${i}`, 'v');
        if (i % 1000 === 999) {
          await p.exec();
          p = c.pipeline();
        }
      }
      await p.exec();
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the dry run estimates what the import really takes; exit 1 and the shortfall when it will not fit; the live run stops at the first OOM and resumes', async () => {
    const t = await startRedis({ args: ['--maxmemory-policy', 'noeviction'] });
    const c = t.client();
    try {
      const dry = await importWithOutcome(args(rdb, t.url, join(dir, 'dry0'), { live: false }));
      expect(dry.exitCode).toBe(0);
      const plan = (dry.report as any).plan;
      const estimate = plan.memory.estimated_bytes as number;
      // Well above twice the serialized bytes (the old estimate) for keys this small.
      expect(estimate).toBeGreaterThan(plan.serialized_bytes * 3);

      // Room for more than twice the serialized size but less than the estimate.
      const used = await usedMemory(c);
      const room = Math.round((plan.serialized_bytes * 2 + estimate) / 2);
      await c.config('SET', 'maxmemory', String(used + room));
      const tight = await importWithOutcome(args(rdb, t.url, join(dir, 'dry1'), { live: false }));
      const m = (tight.report as any).plan.memory;
      expect(tight.exitCode).toBe(1);
      expect(m.fits).toBe(false);
      expect(m.short_by).toBeGreaterThan(0);
      expect(m.short_by).toBe(m.estimated_bytes - m.headroom);

      // The live run proves it: OOM — and it stops at the first one, leaving that key in flight.
      const live = await importWithOutcome(args(rdb, t.url, join(dir, 'live')));
      const rep = live.report as Record<string, any>;
      expect(live.exitCode).toBe(1);
      expect(rep.import.stopped).toMatch(/out of memory.*raise maxmemory/);
      expect(rep.import.errors).toBe(1);
      expect(rep.error_keys).toHaveLength(1);
      expect(rep.error_keys[0].error).toMatch(/OOM/);
      expect(rep.import.errors_by_reason).toMatchObject([{ reason: 'oom', count: 1 }]);
      const before = await c.dbsize();
      expect(before).toBeGreaterThan(0);
      expect(before).toBeLessThan(N);
      expect(rep.import.created).toBe(before);
      const { acked, inflight } = ledgerState(live.ledgerPath!);
      expect(acked.size).toBe(before);
      const failedKey = String(rep.error_keys[0].key);
      expect(await c.exists(failedKey)).toBe(0);
      expect(inflight.size).toBeGreaterThan(0);

      // With room, --resume writes everything else, the failed key included.
      await c.config('SET', 'maxmemory', '0');
      const resumed = await importWithOutcome(args(rdb, t.url, join(dir, 'resume'), { resume: live.ledgerPath! }));
      expect(resumed.exitCode).toBe(0);
      expect(await c.dbsize()).toBe(N);
      expect(await c.exists(failedKey)).toBe(1);

      // A fresh target with room for twice the estimate: the dry run says it fits and the import succeeds,
      // using memory near the estimate (a loose band: allocator and rehash state vary).
      const t2 = await startRedis({ args: ['--maxmemory-policy', 'noeviction'] });
      try {
        const c2 = t2.client();
        const used2 = await usedMemory(c2);
        await c2.config('SET', 'maxmemory', String(used2 + 2 * estimate));
        const ok = await importWithOutcome(args(rdb, t2.url, join(dir, 'dry2'), { live: false }));
        expect(ok.exitCode).toBe(0);
        expect((ok.report as any).plan.memory.fits).toBe(true);
        const done = await importWithOutcome(args(rdb, t2.url, join(dir, 'live2')));
        expect(done.exitCode).toBe(0);
        const grew = (await usedMemory(c2)) - used2;
        expect(grew).toBeGreaterThan(estimate * 0.7);
        expect(grew).toBeLessThan(estimate * 1.4);
      } finally {
        await t2.stop();
      }
    } finally {
      c.disconnect();
      await t.stop();
    }
  }, 120_000);

  it('a read-only replica: stops at the first READONLY with the hint', async () => {
    const closed = await freePort();
    const t = await startRedis({ args: ['--replicaof', '127.0.0.1', String(closed)] });
    try {
      const r = await importWithOutcome(args(rdb, t.url, join(dir, 'ro')));
      const rep = r.report as Record<string, any>;
      expect(r.exitCode).toBe(1);
      expect(rep.import.errors).toBe(1);
      expect(rep.import.stopped).toMatch(/read-only.*import into the master/);
      expect(rep.error_keys[0].error).toMatch(/READONLY/);
    } finally {
      await t.stop();
    }
  }, 60_000);

  it('an ACL user who may not write: stops at the first NOPERM (after the fallback to commands) with the hint', async () => {
    const t = await startRedis();
    const c = t.client();
    try {
      await c.call('ACL', 'SETUSER', 'reader', 'on', '>pw', '~*', '&*', '+@all', '-@write');
      const r = await importWithOutcome(args(rdb, `redis://reader:pw@127.0.0.1:${t.port}`, join(dir, 'noperm')));
      const rep = r.report as Record<string, any>;
      expect(r.exitCode).toBe(1);
      expect(rep.import.errors).toBe(1);
      expect(rep.import.stopped).toMatch(/ACL refuses the write/);
      expect(rep.error_keys[0].error).toMatch(/NOPERM/);
      expect(await c.dbsize()).toBe(0);
    } finally {
      c.disconnect();
      await t.stop();
    }
  }, 60_000);

  it('keys of db 3 into a cluster: stops at the first with the --to-db 0 hint', async () => {
    const db3 = join(dir, 'db3.rdb');
    await makeRdb(db3, async (c) => {
      await c.select(3);
      for (let i = 0; i < 50; i++) await c.set(`d:${i}`, 'v');
    });
    const cl = await startCluster(3);
    try {
      const seed = cl.startupNodes[0]!;
      const r = await importWithOutcome(args(db3, `redis://127.0.0.1:${seed.port}`, join(dir, 'cl'), { cluster: true }));
      const rep = r.report as Record<string, any>;
      expect(r.exitCode).toBe(1);
      expect(rep.import.errors).toBe(1);
      expect(rep.import.stopped).toMatch(/--to-db 0/);
      const { acked, inflight } = ledgerState(r.ledgerPath!);
      expect(acked.size).toBe(0);
      expect(inflight.size).toBe(1);
    } finally {
      await cl.stop();
    }
  }, 90_000);
});
