/**
 * A live run whose every key is refused before anything is sent must still end (it hung forever: the
 * closing INFO keyspace waited for a ledger `sent` mark the closed ledger could no longer write). The run
 * ends with exit 1, the refusals in the report and a closed ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../helpers/redis-server.js';
import { findServer, whyMissing } from '../helpers/servers.js';
import { importWithOutcome, type ImportOutcome } from '../../src/commands/import.js';
import { args, ledgerLines, makeRdb } from './helpers.js';

/** The run, or a rejection after `ms` (the bug: it never settles). */
function within(p: Promise<ImportOutcome>, ms: number): Promise<ImportOutcome> {
  return Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the import did not end within ${ms} ms`)), ms).unref())]);
}

describe('every key refused before anything is sent', () => {
  let dir: string;
  let dbRdb: string;
  let streamRdb: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-allrefused-'));
    dbRdb = join(dir, 'db3.rdb');
    await makeRdb(dbRdb, async (c) => {
      await c.select(3);
      await c.set('a', '1');
      await c.hset('b', 'f', 'v');
    });
    streamRdb = join(dir, 'streams.rdb');
    await makeRdb(streamRdb, async (c) => {
      for (const k of ['s:1', 's:2']) {
        await c.xadd(k, '1-1', 'a', '1');
        await c.xgroup('CREATE', k, 'g', '0');
        await c.xreadgroup('GROUP', 'g', 'alice', 'STREAMS', k, '>');
      }
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a db the target lacks: the run ends, exit 1, both keys refused by name, ledger closed', async () => {
    const t = await startRedis({ args: ['--databases', '2'] });
    try {
      const r = await within(importWithOutcome(args(dbRdb, t.url, join(dir, 'db'))), 15_000);
      const rep = r.report as Record<string, any>;
      expect(r.exitCode).toBe(1);
      expect(rep.error_keys.map((e: any) => e.key).sort()).toEqual(['a', 'b']);
      for (const e of rep.error_keys) expect(e.error).toMatch(/db 3: the target has only 2 databases/);
      expect(rep.target.keys_after).toBe(0);
      expect(ledgerLines(r.ledgerPath!).at(-1)).toMatchObject({ $: 'end', complete: true, errors: 2, created: 0 });
      const c = t.client();
      expect(await c.dbsize()).toBe(0);
    } finally {
      await t.stop();
    }
  }, 30_000);

  const old = findServer('redis-6.2');
  it.skipIf(old === null)(`a Redis 6.2 target and only streams with 7.0 group counters (--mode commands, no --lossy): the run ends${old ? '' : ` — skipped: ${whyMissing('redis-6.2')}`}`, async () => {
    const t = await startRedis({ binary: old!.server, debugCommand: old!.debugCommand });
    try {
      const r = await within(importWithOutcome(args(streamRdb, t.url, join(dir, 'old'), { mode: 'commands' })), 15_000);
      const rep = r.report as Record<string, any>;
      expect(r.exitCode).toBe(1);
      expect(rep.error_keys.map((e: any) => e.key).sort()).toEqual(['s:1', 's:2']);
      expect(rep.target.keys_after).toBe(0);
    } finally {
      await t.stop();
    }
  }, 30_000);
});
