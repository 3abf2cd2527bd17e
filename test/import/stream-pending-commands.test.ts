/**
 * Issue 11: a stream's pending entries must come back with their own IDs through `--mode commands`,
 * including two entries in the same millisecond (…-0 and …-1) and a pending entry whose message was deleted;
 * and a target before 7.0 gets the XSETID / XGROUP CREATE forms it accepts (what they cannot carry is a loss).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { startRedis } from '../helpers/redis-server.js';
import { findServer, whyMissing } from '../helpers/servers.js';
import { importWithOutcome, type ImportArgs } from '../../src/commands/import.js';

function args(input: string, target: string, outDir: string, extra: Partial<ImportArgs> = {}): ImportArgs {
  return { input, target, 'out-dir': outDir, json: false, 'ignore-checksum': false, 'allow-future-version': false, progress: false, live: true, yes: true, validate: false, mode: 'commands', ...extra };
}

/** What XPENDING says, without the idle time (it ticks between the two reads). */
async function pending(c: Redis, key: string): Promise<unknown> {
  const rows = (await c.call('XPENDING', key, 'g', '-', '+', '10')) as Array<[string, string, number, number]>;
  return { summary: await c.call('XPENDING', key, 'g'), rows: rows.map(([id, consumer, , count]) => [id, consumer, count]) };
}

const KEYS = ['s:kept', 's:deleted', 's:both'];

describe('stream pending entries through --mode commands', () => {
  let dir: string;
  let rdb: string;
  let want: unknown[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-xpend-'));
    rdb = join(dir, 'src.rdb');
    const src = await startRedis();
    try {
      const c = src.client();
      for (const k of KEYS) {
        await c.xadd(k, '1600574662953-0', 'a', '1');
        await c.xadd(k, '1600574662953-1', 'b', '2');
        await c.xgroup('CREATE', k, 'g', '0');
        await c.xreadgroup('GROUP', 'g', 'alice', 'STREAMS', k, '>');
      }
      await c.xack('s:kept', 'g', '1600574662953-0');
      await c.xack('s:deleted', 'g', '1600574662953-0');
      await c.xdel('s:deleted', '1600574662953-1');
      await c.xdel('s:both', '1600574662953-0', '1600574662953-1');
      // A key every target takes (a run whose every key was refused used to hang: all-refused.test.ts).
      await c.set('plain', 'v');
      want = await Promise.all(KEYS.map((k) => pending(c, k)));
      expect((want[0] as any).rows).toEqual([['1600574662953-1', 'alice', 1]]);
      await c.save();
      copyFileSync(join(src.dir, 'dump.rdb'), rdb);
    } finally {
      await src.stop();
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keep their IDs (same millisecond, one with its message deleted)', async () => {
    const t = await startRedis();
    try {
      const r = await importWithOutcome(args(rdb, t.url, join(dir, 'out'), { validate: true }));
      const rep = r.report as Record<string, any>;
      expect(rep.error_keys).toEqual([]);
      expect(rep.import.via_commands).toBe(4);
      const c = t.client();
      expect(await Promise.all(KEYS.map((k) => pending(c, k)))).toEqual(want);
      expect(await c.xlen('s:deleted')).toBe(1);
      expect(await c.xlen('s:both')).toBe(0);
    } finally {
      await t.stop();
    }
  });

  const old = findServer('redis-6.2');
  it.skipIf(old === null)(`a Redis 6.2 target: refused without --lossy (7.0 counters), same pending IDs with it${old ? '' : ` — skipped: ${whyMissing('redis-6.2')}`}`, async () => {
    const t = await startRedis({ binary: old!.server, debugCommand: old!.debugCommand });
    try {
      const strict = await importWithOutcome(args(rdb, t.url, join(dir, 'old')));
      expect(strict.exitCode).not.toBe(0);
      const errs = (strict.report as any).error_keys as Array<{ key: string; error: string }>;
      expect(errs.map((e) => e.key).sort()).toEqual([...KEYS].sort());
      expect(errs[0]!.error).toMatch(/before 7\.0.*--lossy/);
      const lossy = await importWithOutcome(args(rdb, t.url, join(dir, 'old-lossy'), { lossy: true }));
      expect((lossy.report as any).error_keys).toEqual([]);
      const c = t.client();
      expect(await Promise.all(KEYS.map((k) => pending(c, k)))).toEqual(want);
    } finally {
      await t.stop();
    }
  }, 60_000);
});
