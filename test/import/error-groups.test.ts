/**
 * Issue 12 item 6: errors are grouped by reason on screen — a count, the reason in words, what to do, a
 * sample key — in the live summary and the dry run; the report keeps the per-key list and the groups.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../helpers/redis-server.js';
import { importWithOutcome } from '../../src/commands/import.js';
import { args, makeRdb, withStderr } from './helpers.js';

const BIG = 3000;
const DB3 = 20;


describe('errors grouped by reason on screen', () => {
  let dir: string;
  let rdb: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-errgroups-'));
    rdb = join(dir, 'mixed.rdb');
    // ~3 MB of strings in db 0 (a 1 MB target runs out of memory) and keys in db 3 (a 2-db target lacks it).
    await makeRdb(rdb, async (c) => {
      const p = c.pipeline();
      for (let i = 0; i < BIG; i++) p.set(`big:${i}`, `${i}:${'v'.repeat(1000)}`);
      await p.exec();
      await c.select(3);
      for (let i = 0; i < DB3; i++) await c.set(`three:${i}`, 'x');
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('live: OOM and a missing db, each with its count, hint and a sample key; the report agrees', async () => {
    const t = await startRedis({ args: ['--databases', '2', '--maxmemory', '1mb', '--maxmemory-policy', 'noeviction'] });
    try {
      // An error budget: the run goes on past the OOMs, so both reasons show up.
      const { r, err } = await withStderr(() => importWithOutcome(args(rdb, t.url, join(dir, 'live'), { 'max-errors': 1_000_000 })));
      const rep = r.report as Record<string, any>;
      expect(r.exitCode).toBe(1);
      const groups = rep.import.errors_by_reason as Array<{ reason: string; count: number; sample: { key: string } }>;
      const oom = groups.find((g) => g.reason === 'oom')!;
      const db = groups.find((g) => g.reason === 'db-missing')!;
      expect(db.count).toBe(DB3);
      expect(oom.count).toBeGreaterThan(BIG / 2);
      expect(oom.count + db.count).toBe(rep.import.errors);
      expect(groups.reduce((n, g) => n + g.count, 0)).toBe(rep.migration_stats.migration_errors);
      expect(oom.sample.key).toMatch(/^big:/);
      expect(db.sample.key).toMatch(/^three:/);
      // The report still names every key (its list holds up to 1000).
      expect(rep.error_keys.length).toBe(Math.min(1000, rep.import.errors));

      expect(err).toContain(`errors: ${rep.import.errors} keys failed, by reason`);
      expect(err).toMatch(new RegExp(`${oom.count} × the target is out of memory \\(maxmemory\\) — raise maxmemory`));
      expect(err).toMatch(new RegExp(`${DB3} × db beyond the target's databases — use --to-db`));
      expect(err).toMatch(/e\.g\. db 0 big:\d+: RESTORE: OOM/);
      expect(err).toMatch(/e\.g\. db 3 three:\d+: db 3: the target has only 2 databases/);
    } finally {
      await t.stop();
    }
  }, 90_000);

  it('dry run: the refusals grouped, with the hint', async () => {
    const t = await startRedis({ args: ['--databases', '2'] });
    try {
      const { r, err } = await withStderr(() => importWithOutcome(args(rdb, t.url, join(dir, 'dry'), { live: false })));
      const plan = (r.report as any).plan;
      expect(r.exitCode).toBe(1);
      expect(plan.errors_by_reason).toMatchObject([{ reason: 'db-missing', count: DB3 }]);
      expect(err).toContain(`errors: ${DB3} keys would fail, by reason`);
      expect(err).toMatch(new RegExp(`${DB3} × db beyond the target's databases — use --to-db`));
    } finally {
      await t.stop();
    }
  }, 60_000);
});
