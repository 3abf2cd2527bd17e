/**
 * `--max-errors N` stops after exactly N errors (issue 15): a target out of memory (`--maxmemory 1mb`,
 * noeviction) refuses nearly every RESTORE of a bigger dump while hundreds of keys are in flight; the
 * report counts exactly N errors and the ledger agrees (the later failures stay in flight for --resume).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../helpers/redis-server.js';
import { importWithOutcome } from '../../src/commands/import.js';
import { openInput } from '../../src/sources/open.js';
import { makeRdb, args, ledgerLines } from './helpers.js';

const N = 4000;

describe('--max-errors', () => {
  let dir: string;
  let rdb: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-maxerr-'));
    rdb = join(dir, 'data.rdb');
    // ~4 MB of strings: far more than a 1 MB target holds.
    await makeRdb(rdb, async (c) => {
      const p = c.pipeline();
      for (let i = 0; i < N; i++) p.set(`m:${i}`, `${i}:${'v'.repeat(1000)}`);
      await p.exec();
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stops after exactly 10 OOM errors; report and ledger agree', async () => {
    const target = await startRedis({ args: ['--maxmemory', '1mb', '--maxmemory-policy', 'noeviction'] });
    try {
      const r = await importWithOutcome(args(rdb, target.url, join(dir, 'run'), { 'max-errors': 10 }));
      const rep = r.report as Record<string, any>;
      expect(r.exitCode).toBe(1);
      expect(rep.import.stopped).toMatch(/10 errors \(--max-errors\)/);
      expect(rep.migration_stats.migration_errors).toBe(10);
      expect(rep.import.errors).toBe(10);
      expect(rep.error_keys).toHaveLength(10);
      for (const e of rep.error_keys) expect(e.error).toMatch(/OOM/);

      // The ledger: every key up to the last `sent` mark is acknowledged, in flight, or failed — and the
      // failed ones are exactly the report's 10.
      const lines = ledgerLines(r.ledgerPath!);
      const acked = new Set<number>();
      const inflight = new Set<number>();
      let sent = -1;
      for (const l of lines) {
        if (l.$ === undefined) acked.add(l.offset as number);
        else if (l.$ === 'inflight') inflight.add(l.offset as number);
        else if (l.$ === 'sent') sent = Math.max(sent, l.offset as number);
      }
      expect(acked.size).toBe(rep.import.created);
      const failed: string[] = [];
      const input = await openInput(rdb);
      for await (const b of input.batches) {
        for (const rec of b) {
          if (rec.kind !== 'key' || rec.offset > sent) continue;
          if (!acked.has(rec.offset) && !inflight.has(rec.offset)) failed.push(rec.key.toString('latin1'));
        }
      }
      expect(failed.sort()).toEqual(rep.error_keys.map((e: any) => String(e.key)).sort());
      // Nothing the ledger leaves in flight is counted as an error.
      expect(inflight.size).toBeGreaterThan(0);
      expect(lines.find((l) => l.$ === 'end')).toMatchObject({ complete: false });

      // With room on the target, --resume retries what was in flight; the 10 failed keys are done (below
      // the high-water mark) and stay out.
      const c = target.client();
      await c.config('SET', 'maxmemory', '0');
      const r2 = await importWithOutcome(args(rdb, target.url, join(dir, 'resume'), { resume: r.ledgerPath! }));
      expect(r2.exitCode).toBe(0);
      expect(await c.dbsize()).toBe(N - 10);
      for (const k of failed) expect(await c.exists(k)).toBe(0);
      c.disconnect();
    } finally {
      await target.stop();
    }
  });

  it('--max-errors 0 is a usage error', async () => {
    await expect(importWithOutcome(args(rdb, 'redis://127.0.0.1:1', join(dir, 'zero'), { 'max-errors': 0 }))).rejects.toThrow(/--max-errors 0: expected a whole number ≥ 1/);
  });
});
