/**
 * Issue 11: a stream's pending entries must come back with their own IDs through `--mode commands`,
 * including two entries in the same millisecond (…-0 and …-1) and a pending entry whose message was deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { startRedis } from '../helpers/redis-server.js';
import { importWithOutcome, type ImportArgs } from '../../src/commands/import.js';

function args(input: string, target: string, outDir: string): ImportArgs {
  return { input, target, 'out-dir': outDir, json: false, 'ignore-checksum': false, 'allow-future-version': false, progress: false, live: true, yes: true, validate: true, mode: 'commands' };
}

/** What XPENDING says, without the idle time (it ticks between the two reads). */
async function pending(c: Redis, key: string): Promise<unknown> {
  const rows = (await c.call('XPENDING', key, 'g', '-', '+', '10')) as Array<[string, string, number, number]>;
  return { summary: await c.call('XPENDING', key, 'g'), rows: rows.map(([id, consumer, , count]) => [id, consumer, count]) };
}

describe('stream pending entries through --mode commands', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-xpend-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keep their IDs (same millisecond, one with its message deleted)', async () => {
    const src = await startRedis();
    const rdb = join(dir, 'src.rdb');
    const keys = ['s:kept', 's:deleted', 's:both'];
    let want: unknown[] = [];
    try {
      const c = src.client();
      for (const k of keys) {
        await c.xadd(k, '1600574662953-0', 'a', '1');
        await c.xadd(k, '1600574662953-1', 'b', '2');
        await c.xgroup('CREATE', k, 'g', '0');
        await c.xreadgroup('GROUP', 'g', 'alice', 'STREAMS', k, '>');
      }
      await c.xack('s:kept', 'g', '1600574662953-0');
      await c.xack('s:deleted', 'g', '1600574662953-0');
      await c.xdel('s:deleted', '1600574662953-1');
      await c.xdel('s:both', '1600574662953-0', '1600574662953-1');
      want = await Promise.all(keys.map((k) => pending(c, k)));
      expect((want[0] as any).rows).toEqual([['1600574662953-1', 'alice', 1]]);
      await c.save();
      copyFileSync(join(src.dir, 'dump.rdb'), rdb);
    } finally {
      await src.stop();
    }
    const t = await startRedis();
    try {
      const r = await importWithOutcome(args(rdb, t.url, join(dir, 'out')));
      const rep = r.report as Record<string, any>;
      expect(rep.error_keys).toEqual([]);
      expect(rep.import.via_commands).toBe(3);
      const c = t.client();
      expect(await Promise.all(keys.map((k) => pending(c, k)))).toEqual(want);
      expect(await c.xlen('s:deleted')).toBe(1);
      expect(await c.xlen('s:both')).toBe(0);
    } finally {
      await t.stop();
    }
  });
});
