/**
 * Function libraries go to the target (FUNCTION LOAD on every master) with --on-conflict semantics, are
 * shown on screen and in the report, and a target without functions counts them as losses (exit 1
 * unless --lossy). Real redis-servers throughout; the pre-7.0 target comes from the server cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { findServer, whyMissing } from '../helpers/servers.js';
import { importWithOutcome, type ImportArgs } from '../../src/commands/import.js';
import { makeRdb } from './helpers.js';

const LIB_A = "#!lua name=liba\nredis.register_function('hello_a', function() return 'a1' end)";
const LIB_B = "#!lua name=libb\nredis.register_function('hello_b', function(keys) return redis.call('GET', keys[1]) end)";
const LIB_A_OTHER = "#!lua name=liba\nredis.register_function('hello_a', function() return 'target-version' end)";

let dir: string;
let rdb: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-fn-'));
  rdb = join(dir, 'fn.rdb');
  await makeRdb(rdb, async (c) => {
    await c.call('FUNCTION', 'LOAD', LIB_A);
    await c.call('FUNCTION', 'LOAD', LIB_B);
    await c.set('k', 'v');
  });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function args(target: string, out: string, extra: Partial<ImportArgs> = {}): ImportArgs {
  return { input: rdb, target, 'out-dir': out, json: false, 'ignore-checksum': false, 'allow-future-version': false, progress: false, live: true, yes: true, ...extra };
}

async function libraries(r: RedisHandle): Promise<Map<string, string>> {
  const c = r.client();
  try {
    const list = (await c.call('FUNCTION', 'LIST', 'WITHCODE')) as unknown[][];
    const out = new Map<string, string>();
    for (const lib of list) {
      const f = new Map<string, unknown>();
      for (let i = 0; i + 1 < lib.length; i += 2) f.set(String(lib[i]), lib[i + 1]);
      out.set(String(f.get('library_name')), String(f.get('library_code')));
    }
    return out;
  } finally {
    c.disconnect();
  }
}

describe('import of function libraries', () => {
  it('loads every library; FCALL works on the target; the report and screen say so', async () => {
    const t = await startRedis();
    try {
      const r = await importWithOutcome(args(t.url, join(dir, 'load')));
      expect(r.exitCode).toBe(0);
      const libs = await libraries(t);
      expect([...libs.keys()].sort()).toEqual(['liba', 'libb']);
      const c = t.client();
      expect(await c.call('FCALL', 'hello_b', '1', 'k')).toBe('v');
      c.disconnect();
      const f = (r.report as any).import.functions;
      expect(f).toMatchObject({ loaded: 2, skipped_existing: 0, errors: 0, not_imported_lost: 0 });
    } finally {
      await t.stop();
    }
  }, 60_000);

  it('--on-conflict skip keeps the target library, replace overwrites it, fail exits 1', async () => {
    const t = await startRedis();
    try {
      const c = t.client();
      await c.call('FUNCTION', 'LOAD', LIB_A_OTHER);
      c.disconnect();
      const skip = await importWithOutcome(args(t.url, join(dir, 'skip')));
      expect(skip.exitCode).toBe(0);
      expect((skip.report as any).import.functions).toMatchObject({ loaded: 1, skipped_existing: 1 });
      expect((await libraries(t)).get('liba')).toBe(LIB_A_OTHER);

      const fail = await importWithOutcome(args(t.url, join(dir, 'fail'), { 'on-conflict': 'fail' }));
      expect(fail.exitCode).toBe(1);
      expect((fail.report as any).import.functions.errors).toBeGreaterThan(0);

      const rep = await importWithOutcome(args(t.url, join(dir, 'replace'), { 'on-conflict': 'replace' }));
      expect(rep.exitCode).toBe(0);
      expect((await libraries(t)).get('liba')).toBe(LIB_A);
    } finally {
      await t.stop();
    }
  }, 60_000);

  it('the dry run tells which libraries it would load and which are already there', async () => {
    const t = await startRedis();
    try {
      const c = t.client();
      await c.call('FUNCTION', 'LOAD', LIB_A_OTHER);
      c.disconnect();
      const r = await importWithOutcome(args(t.url, join(dir, 'dry'), { live: false }));
      expect(r.exitCode).toBe(0);
      expect((r.report as any).plan.functions).toEqual({ libraries: 2, would_load: 1, already_there: 1, cannot_import: 0 });
      expect((await libraries(t)).get('liba')).toBe(LIB_A_OTHER); // nothing written
    } finally {
      await t.stop();
    }
  }, 60_000);

  const old = findServer('redis-6.2');
  it.skipIf(old === null)(`a target without functions (Redis 6.2) counts each library as a loss: exit 1, or 0 with --lossy${old ? '' : ` — skipped: ${whyMissing('redis-6.2')}`}`, async () => {
    const t = await startRedis({ binary: old!.server, debugCommand: old!.debugCommand });
    try {
      const r = await importWithOutcome(args(t.url, join(dir, 'old')));
      expect(r.exitCode).toBe(1);
      expect((r.report as any).import.functions).toMatchObject({ loaded: 0, not_imported_lost: 2 });
      const c = t.client();
      expect(await c.get('k')).toBe('v'); // the keys still arrive
      c.disconnect();
      const lossy = await importWithOutcome(args(t.url, join(dir, 'old-lossy'), { lossy: true, 'on-conflict': 'replace' }));
      expect(lossy.exitCode).toBe(0);
    } finally {
      await t.stop();
    }
  }, 60_000);
});

describe('transform to an RDB version without functions', () => {
  it('--rdb-version 9 names the libraries it cannot write and exits 1 unless --lossy', async () => {
    const { runCli } = await import('../helpers/cli.js');
    const out = join(dir, 'v9.rdb');
    const r = await runCli(['transform', rdb, '-o', out, '--rdb-version', '9', '--out-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/function libraries NOT written: 2 \(RDB 9 has no functions/);
    const ok = await runCli(['transform', rdb, '-o', out, '--rdb-version', '9', '--lossy', '--out-dir', dir]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/function libraries NOT written: 2 .*\(--lossy\)/);
    // RDB 10 keeps them.
    const v10 = await runCli(['transform', rdb, '-o', join(dir, 'v10.rdb'), '--rdb-version', '10', '--out-dir', dir]);
    expect(v10.code).toBe(0);
    expect(v10.stderr).not.toMatch(/function libraries NOT written/);
  }, 60_000);
});
