/**
 * Crash and resume: the target is killed (SIGKILL) in the middle of an import, restarted from its AOF,
 * and `--resume LEDGER` finishes the job: the final state is exact, no key is written twice, and
 * rollback of the combined ledger deletes exactly what the runs created.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../helpers/redis-server.js';
import { importWithOutcome } from '../../src/commands/import.js';
import { runValidate } from '../../src/commands/validate.js';
import { runRollback } from '../../src/commands/rollback.js';
import type { TargetWriter } from '../../src/import/restore-writer.js';
import { fillMixed, gatedInput, makeRdb, until, args, ledgerLines } from './helpers.js';

const N = 30_000;

describe('crash and --resume', () => {
  let dir: string;
  let rdb: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-resume-'));
    rdb = join(dir, 'data.rdb');
    await makeRdb(rdb, (c) => fillMixed(c, N));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('target killed mid-import, restarted from its AOF, resumed: exact final state, nothing written twice', async () => {
    const target = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    try {
      const pre = target.client();
      await pre.set('k:3', 'pre-existing value, must survive');
      pre.disconnect();
      const g = await gatedInput(rdb, [N / 2]);
      let writer: TargetWriter | null = null;
      const run1 = importWithOutcome(args(rdb, target.url, join(dir, 'run1'), { pipeline: 500 }), { input: g.input, onStart: (w) => (writer = w) });
      await g.gates[0]!.reached;
      // Let part of it be acknowledged, then kill the server with writes in flight.
      await until(() => writer !== null && writer.counters.created > N / 4, 20_000, 'a quarter acknowledged');
      await target.kill();
      g.gates[0]!.release();
      const r1 = await run1;
      expect(r1.exitCode).toBe(1);
      const rep1 = r1.report as Record<string, any>;
      expect(rep1.import.stopped).toMatch(/connection|closed/i);
      const ledger = r1.ledgerPath!;
      const l1 = ledgerLines(ledger);
      expect(l1[l1.length - 1]).toMatchObject({ $: 'end', complete: false });
      const acked1 = l1.filter((l) => l.$ === undefined && l.created === true).length;
      expect(acked1).toBeGreaterThan(N / 4);
      expect(acked1).toBeLessThan(N);

      await target.restart();
      const c = target.client();
      // Every acknowledged key survived (appendfsync always).
      const after = await c.dbsize();
      expect(after).toBeGreaterThanOrEqual(acked1 + 1);

      const r2 = await importWithOutcome(args(rdb, target.url, join(dir, 'run2'), { resume: ledger, validate: true }));
      const rep2 = r2.report as Record<string, any>;
      expect(rep2.error_keys).toEqual([]);
      // k:3 keeps its pre-existing value (skip-existing): not imported, with the reason, not a mismatch
      expect(rep2.validation.mismatched).toBe(0);
      expect(rep2.validation.not_imported).toBe(1);
      expect(rep2.validation.not_imported_keys[0]).toMatchObject({ key: 'k:3', reason: expect.stringMatching(/existed/) });
      expect(r2.exitCode).toBe(1);
      expect(await c.dbsize()).toBe(N);
      expect(await c.get('k:3')).toBe('pre-existing value, must survive');
      // The resumed run skipped what the ledger had acknowledged.
      expect(rep2.resume.already_done).toBeGreaterThanOrEqual(acked1);

      // Nothing written twice: each key is acknowledged as created at most once over both runs, and the
      // created + uncertain + skipped(k:3) keys cover the input exactly.
      const all = ledgerLines(ledger).filter((l) => l.$ === undefined);
      const created = all.filter((l) => l.created === true).map((l) => `${l.db}/${l.key}`);
      expect(new Set(created).size).toBe(created.length);
      const uncertain = all.filter((l) => l.uncertain === true).length;
      expect(created.length + uncertain + 1).toBe(N);
      expect(ledgerLines(ledger).pop()).toMatchObject({ $: 'end', complete: true });

      // Rollback deletes exactly what the runs created (uncertain keys: only with --include-uncertain).
      expect(await runRollback({ ledger, target: target.url, live: true, yes: true, 'out-dir': join(dir, 'rb') })).toBe(0);
      expect(await c.dbsize()).toBe(1 + uncertain);
      expect(await c.get('k:3')).toBe('pre-existing value, must survive');
      expect(await runRollback({ ledger, target: target.url, live: true, yes: true, 'include-uncertain': true, 'out-dir': join(dir, 'rb2') })).toBe(0);
      expect(await c.dbsize()).toBe(1);
      c.disconnect();
    } finally {
      await target.stop();
    }
  });

  it('importer stopped by an input failure, resumed with --on-conflict replace: nothing acknowledged is sent again', async () => {
    const target = await startRedis();
    try {
      const g = await gatedInput(rdb, [], { throwAt: 12_345 });
      await expect(importWithOutcome(args(rdb, target.url, join(dir, 'crash1'), { 'on-conflict': 'replace' }), { input: g.input })).rejects.toThrow(/simulated crash/);
      const c = target.client();
      const written = await c.dbsize();
      expect(written).toBeGreaterThan(10_000);
      const { readdirSync } = await import('node:fs');
      const ledger = join(dir, 'crash1', readdirSync(join(dir, 'crash1')).find((f) => f.startsWith('migration_ledger_'))!);
      const before = ledgerLines(ledger).filter((l) => l.$ === undefined).length;
      expect(before).toBe(written);
      // Make a key the first run wrote distinguishable: a resumed replace run must not touch it again.
      const firstKey = ledgerLines(ledger).find((l) => l.$ === undefined)!;
      const name = Buffer.from(String(firstKey.key), 'base64').toString();
      await c.set(name, 'touched after the crash');
      const r2 = await importWithOutcome(args(rdb, target.url, join(dir, 'crash2'), { resume: ledger, 'on-conflict': 'replace' }));
      expect(r2.exitCode).toBe(0);
      expect((r2.report as any).resume.already_done).toBe(written);
      expect((r2.report as any).import.created).toBe(N - written);
      expect((r2.report as any).import.replaced).toBe(0);
      expect(await c.get(name)).toBe('touched after the crash');
      expect(await c.dbsize()).toBe(N);
      c.disconnect();
      // Validation sees exactly the one key changed after the crash.
      const vdir = join(dir, 'crashval');
      expect(await runValidate({ input: rdb, target: target.url, 'out-dir': vdir, json: false, 'ignore-checksum': false, 'allow-future-version': false })).toBe(1);
      const rep = JSON.parse(readFileSync(join(vdir, readdirSync(vdir).find((f) => f.startsWith('validation_report_'))!), 'utf8'));
      expect(rep.validation.mismatched).toBe(1);
    } finally {
      await target.stop();
    }
  });
});
