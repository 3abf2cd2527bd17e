/**
 * Reports count only acknowledged keys (issue 15): when a run stops early — `--max-errors`, a connection
 * reset mid-run — `migrated_successfully`, the import counters, the report's key list and the screen's
 * count are what the target acknowledged, and they agree with the ledger and the target's DBSIZE.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../helpers/redis-server.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { importWithOutcome } from '../../src/commands/import.js';
import { args, fillMixed, ledgerLines, makeRdb, until } from './helpers.js';

const N = 20_000;

/** Acknowledged-as-written keys in a ledger (created or replaced), by name. */
function ledgerWritten(path: string): Set<string> {
  const out = new Set<string>();
  for (const l of ledgerLines(path)) {
    if (l.$ !== undefined) continue;
    if (l.created === true || l.replaced === true) out.add(Buffer.from(l.key as string, 'base64').toString());
  }
  return out;
}

describe('reports count only acknowledged keys', () => {
  let dir: string;
  let rdb: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-acked-'));
    rdb = join(dir, 'data.rdb');
    await makeRdb(rdb, (c) => fillMixed(c, N));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a connection reset mid-run: report = ledger = target', async () => {
    const target = await startRedis();
    const proxy = await startFaultProxy(target.port);
    proxy.delay(2);
    const c = target.client();
    try {
      const run = importWithOutcome(args(rdb, proxy.url, join(dir, 'reset'), { pipeline: 200 }));
      await until(async () => (await c.dbsize()) > N / 4, 60_000, 'a quarter written');
      proxy.cutAfter(0);
      const r = await run;
      const rep = r.report as Record<string, any>;
      expect(r.exitCode).toBe(1);
      expect(rep.import.stopped).toBeDefined();
      const inTarget = await c.dbsize();
      expect(inTarget).toBeGreaterThan(N / 4);
      expect(inTarget).toBeLessThan(N);
      const written = ledgerWritten(r.ledgerPath!);
      expect(rep.import.created + rep.import.replaced).toBe(written.size);
      expect(rep.migration_stats.migrated_successfully).toBe(written.size);
      // Replies lost with the reset may leave a few more keys in the target than acknowledged, never fewer.
      expect(inTarget).toBeGreaterThanOrEqual(written.size);
      for (const m of rep.migrated_keys) expect(written.has(m.new_key)).toBe(true);
      expect(rep.import.unanswered_at_stop).toBe(rep.import.keys_received - written.size - rep.import.skipped_existing - rep.import.errors);
    } finally {
      c.disconnect();
      await proxy.close();
      await target.stop();
    }
  }, 90_000);

  it('--max-errors on a target out of memory: report = ledger = DBSIZE', async () => {
    const target = await startRedis({ args: ['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction'] });
    const c = target.client();
    try {
      const r = await importWithOutcome(args(rdb, target.url, join(dir, 'oom'), { 'max-errors': 5 }));
      const rep = r.report as Record<string, any>;
      expect(r.exitCode).toBe(1);
      expect(rep.import.stopped).toMatch(/--max-errors/);
      const written = ledgerWritten(r.ledgerPath!);
      const inTarget = await c.dbsize();
      expect(inTarget).toBeGreaterThan(0);
      expect(inTarget).toBeLessThan(N);
      expect(rep.migration_stats.migrated_successfully).toBe(inTarget);
      expect(rep.import.created).toBe(inTarget);
      expect(written.size).toBe(inTarget);
      expect(rep.target.keys_after).toBe(inTarget);
      for (const m of rep.migrated_keys) expect(written.has(m.new_key)).toBe(true);
    } finally {
      c.disconnect();
      await target.stop();
    }
  }, 90_000);
});
