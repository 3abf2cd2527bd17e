/**
 * Faults injected into a real import against real redis-servers on 127.0.0.1: rekey killed with SIGKILL
 * mid-run, a ledger that cannot be written (disk full), a connection that stalls forever or is reset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../helpers/redis-server.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { CLI } from '../helpers/cli.js';
import { importWithOutcome, type ImportArgs } from '../../src/commands/import.js';
import { runRollback } from '../../src/commands/rollback.js';
import { openInput } from '../../src/sources/open.js';
import { fillMixed, makeRdb, until } from './helpers.js';

const N = 20_000;

function args(input: string, target: string, outDir: string, extra: Partial<ImportArgs> = {}): ImportArgs {
  return { input, target, 'out-dir': outDir, json: false, 'ignore-checksum': false, 'allow-future-version': false, progress: false, live: true, yes: true, ...extra };
}

/** Ledger lines; a torn last line (the process died mid-write) is left out. */
function ledgerLines(path: string): Array<Record<string, any>> {
  const out: Array<Record<string, any>> = [];
  for (const l of readFileSync(path, 'utf8').split('\n')) {
    if (!l.trim()) continue;
    try {
      out.push(JSON.parse(l) as Record<string, any>);
    } catch {
      /* torn tail */
    }
  }
  return out;
}

function ledgerIn(dir: string): string {
  return join(dir, readdirSync(dir).find((f) => f.startsWith('migration_ledger_'))!);
}

describe('import faults', () => {
  let dir: string;
  let rdb: string;
  /** key name → input offset */
  const offsets = new Map<string, number>();
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-faults-'));
    rdb = join(dir, 'data.rdb');
    await makeRdb(rdb, (c) => fillMixed(c, N));
    const input = await openInput(rdb);
    for await (const b of input.batches) for (const r of b) if (r.kind === 'key') offsets.set(r.key.toString(), r.offset);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rekey killed with SIGKILL mid-run: every key in the target is in the ledger or under its sent mark; resume writes nothing twice; rollback is exact', async () => {
    const target = await startRedis();
    // A slow link so the kill lands mid-run, with thousands of keys acknowledged.
    const proxy = await startFaultProxy(target.port);
    proxy.delay(3);
    const c = target.client();
    try {
      const out = join(dir, 'kill1');
      mkdirSync(out);
      const child = spawn(process.execPath, [CLI, 'import', rdb, '--target', proxy.url, '--live', '--yes', '--out-dir', out, '--pipeline', '40', '--no-progress'], { stdio: 'ignore' });
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      await until(async () => (await c.dbsize()) > N / 4, 60_000, 'a quarter written');
      child.kill('SIGKILL');
      await exited;
      await proxy.close();
      const ledger = ledgerIn(out);
      const lines = ledgerLines(ledger);
      const created = new Set(lines.filter((l) => l.$ === undefined && l.created === true).map((l) => Buffer.from(l.key, 'base64').toString()));
      const sent = Math.max(-1, ...lines.filter((l) => l.$ === 'sent').map((l) => l.offset as number));
      const inTarget = (await c.keys('*')) as string[];
      expect(inTarget.length).toBeGreaterThan(N / 4);
      expect(inTarget.length).toBeLessThan(N);
      // Exact: a key the target holds was acknowledged in the ledger or sent under a mark written before it.
      const unaccounted = inTarget.filter((k) => !created.has(k) && !(offsets.get(k)! <= sent));
      expect(unaccounted).toEqual([]);
      // And only the last window or so is unacknowledged.
      const unacked = inTarget.filter((k) => !created.has(k));
      expect(unacked.length).toBeLessThanOrEqual(200);

      // Resume with --on-conflict replace: nothing this run wrote before is written again.
      const r2 = await importWithOutcome(args(rdb, target.url, join(dir, 'kill2'), { resume: ledger, 'on-conflict': 'replace' }));
      expect(r2.exitCode).toBe(0);
      const rep = r2.report as Record<string, any>;
      expect(rep.import.replaced).toBe(0);
      expect(rep.import.uncertain_after_resume).toBe(unacked.length);
      expect(await c.dbsize()).toBe(N);
      const all = ledgerLines(ledger).filter((l) => l.$ === undefined);
      const createdKeys = all.filter((l) => l.created === true).map((l) => l.key as string);
      expect(new Set(createdKeys).size).toBe(createdKeys.length);
      expect(createdKeys.length + unacked.length).toBe(N);

      // Rollback deletes what was created for sure; the uncertain ones with --include-uncertain.
      expect(await runRollback({ ledger, target: target.url, live: true, yes: true, 'out-dir': join(dir, 'rb1') })).toBe(0);
      expect(await c.dbsize()).toBe(unacked.length);
      expect(await runRollback({ ledger, target: target.url, live: true, yes: true, 'include-uncertain': true, 'out-dir': join(dir, 'rb2') })).toBe(0);
      expect(await c.dbsize()).toBe(0);
    } finally {
      c.disconnect();
      await proxy.close().catch(() => undefined);
      await target.stop();
    }
  }, 120_000);

  const canMount = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;
  it.skipIf(!canMount)('a ledger that cannot be written (tmpfs full) stops the import at once: exit 2, clear error (needs root to mount a tmpfs)', async () => {
    const mnt = join(dir, 'tiny');
    mkdirSync(mnt);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', mnt]);
    if (m.status !== 0) {
      console.warn(`skipped: cannot mount a tmpfs (${m.stderr.toString().trim()})`);
      return;
    }
    const target = await startRedis();
    const c = target.client();
    try {
      const r = await importWithOutcome(args(rdb, target.url, join(dir, 'full'), { ledger: join(mnt, 'ledger.jsonl'), pipeline: 200 }));
      expect(r.exitCode).toBe(2);
      const rep = r.report as Record<string, any>;
      expect(rep.import.stopped).toMatch(/ledger .*ledger\.jsonl: write failed \(ENOSPC\)/);
      // Stopped at once: not much more was sent than the ledger could record.
      const acked = ledgerLines(join(mnt, 'ledger.jsonl')).filter((l) => l.$ === undefined).length;
      expect(await c.dbsize()).toBeLessThanOrEqual(acked + 2 * 200 + 2000);
      expect(await c.dbsize()).toBeLessThan(N);
    } finally {
      c.disconnect();
      await target.stop();
      spawnSync('umount', [mnt]);
    }
  });

  it('a connection that stalls forever stops the import after --request-timeout, and --resume finishes it exactly', async () => {
    const target = await startRedis();
    const proxy = await startFaultProxy(target.port);
    proxy.delay(2);
    const c = target.client();
    try {
      const out = join(dir, 'stall1');
      const started = Date.now();
      const run = importWithOutcome(args(rdb, proxy.url, out, { pipeline: 40, 'request-timeout': 500 }));
      await until(async () => (await c.dbsize()) > N / 4, 60_000, 'a quarter written');
      proxy.stall();
      const r1 = await run;
      expect(r1.exitCode).toBe(1);
      expect((r1.report as any).import.stopped).toMatch(/no reply from 127\.0\.0\.1:\d+ for 500 ms \(--request-timeout\)/);
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(await c.dbsize()).toBeLessThan(N);
      const r2 = await importWithOutcome(args(rdb, target.url, join(dir, 'stall2'), { resume: r1.ledgerPath!, validate: true }));
      expect(r2.exitCode).toBe(0);
      expect((r2.report as any).validation.mismatched).toBe(0);
      expect(await c.dbsize()).toBe(N);
    } finally {
      c.disconnect();
      await proxy.close();
      await target.stop();
    }
  }, 90_000);

  it('a connection reset mid-run stops with a clear error and --resume finishes exactly', async () => {
    const target = await startRedis();
    const proxy = await startFaultProxy(target.port);
    proxy.delay(2);
    const c = target.client();
    try {
      const run = importWithOutcome(args(rdb, proxy.url, join(dir, 'reset1'), { pipeline: 40 }));
      await until(async () => (await c.dbsize()) > N / 4, 60_000, 'a quarter written');
      proxy.cutAfter(1000);
      const r1 = await run;
      expect(r1.exitCode).toBe(1);
      expect((r1.report as any).import.stopped).toMatch(/connection to 127\.0\.0\.1:\d+ (failed|closed)/);
      const r2 = await importWithOutcome(args(rdb, target.url, join(dir, 'reset2'), { resume: r1.ledgerPath!, validate: true }));
      expect(r2.exitCode).toBe(0);
      expect((r2.report as any).validation.mismatched).toBe(0);
      expect(await c.dbsize()).toBe(N);
    } finally {
      c.disconnect();
      await proxy.close();
      await target.stop();
    }
  }, 90_000);
});
