/**
 * Issue 15: a target whose proto-max-bulk-len is smaller than some values (`--proto-max-bulk-len 1mb`).
 * The run used to reset the connection at the first such value (a bulk longer than the limit), stop, and
 * repeat that on --resume. Now: a RESTORE payload over the limit goes as commands for that key, big
 * collections go as several commands below the limit, and a string or element longer than the limit —
 * which no command can write (Redis refuses the bulk, and APPEND/SETRANGE past the limit) — is refused
 * by name. The dry run plans the same, and no connection is reset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../helpers/redis-server.js';
import { importWithOutcome } from '../../src/commands/import.js';
import { splitBySize } from '../../src/import/command-writer.js';
import { args, makeRdb } from './helpers.js';

const LIMIT = 1024 * 1024;
/** Random bytes: the RDB's LZF cannot shrink them. */
const rnd = (n: number): Buffer => randomBytes(n);
const hashes = (bufs: Buffer[]): string[] => bufs.map((b) => createHash('sha1').update(b).digest('hex'));

describe('values against a small proto-max-bulk-len', () => {
  let dir: string;
  let rdb: string;
  const want = {
    near: rnd(LIMIT - 4), // the value fits one bulk; its RESTORE payload (value + header + footer) does not
    item: [rnd(600_000), rnd(600_000), rnd(600_000)],
    member: [rnd(700_000), rnd(700_000)],
    field: [rnd(500_000), rnd(500_000)],
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-bulk-'));
    rdb = join(dir, 'big.rdb');
    await makeRdb(rdb, async (c) => {
      await c.set('small', 'v');
      await c.set('near', want.near);
      await c.set('too-long', rnd(LIMIT + 500_000));
      await c.rpush('list', ...want.item);
      await c.sadd('set', ...want.member);
      await c.zadd('zset', 1, want.member[0]!, 2, want.member[1]!);
      await c.hset('hash', 'a', want.field[0]!, 'b', want.field[1]!);
      await c.rpush('list-too-long', 'x', rnd(LIMIT + 1000));
      await c.xadd('stream', '1-1', 'f', want.field[0]!);
      await c.xadd('stream', '1-2', 'f', want.field[1]!);
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const mode of ['auto', 'commands'] as const) {
    it(`--mode ${mode}: the rest is imported, two keys refused by name, the link never reset; the dry run agrees`, async () => {
      const t = await startRedis({ args: ['--proto-max-bulk-len', '1mb'] });
      const c = t.client();
      try {
        const dry = await importWithOutcome(args(rdb, t.url, join(dir, `dry-${mode}`), { live: false, mode }));
        const plan = (dry.report as any).plan;
        expect(dry.exitCode).toBe(1);
        expect(plan.refused).toBe(2);
        expect(plan.refused_samples.map((s: any) => s.key).sort()).toEqual(['list-too-long', 'too-long']);

        const r = await importWithOutcome(args(rdb, t.url, join(dir, `live-${mode}`), { mode }));
        const rep = r.report as Record<string, any>;
        expect(rep.import.stopped).toBeUndefined();
        expect(r.exitCode).toBe(1);
        expect(rep.error_keys.map((e: any) => e.key).sort()).toEqual(['list-too-long', 'too-long']);
        for (const e of rep.error_keys) expect(e.error).toMatch(/larger than the target's proto-max-bulk-len \(1048576\): no command can write it/);
        expect(rep.import.errors_by_reason).toMatchObject([{ reason: 'bulk-len', count: 2 }]);
        expect(rep.import.created).toBe(7);
        expect(rep.migration_stats.migrated_successfully).toBe(7);
        // Payloads over the limit (near, list, set, zset) go as commands; hash and stream payloads fit.
        if (mode === 'auto') expect(rep.import.via_commands).toBe(4);
        expect(await c.dbsize()).toBe(7);
        expect(await c.get('small')).toBe('v');
        expect((await c.getBuffer('near'))!.equals(want.near)).toBe(true);
        // Compared as digests (element-wise equality of MB-sized buffers is slow).
        expect(hashes(await c.lrangeBuffer('list', 0, -1))).toEqual(hashes(want.item));
        expect(hashes(await c.smembersBuffer('set')).sort()).toEqual(hashes(want.member).sort());
        expect(hashes(await c.zrangeBuffer('zset', 0, -1))).toEqual(hashes(want.member));
        const h = await c.hgetallBuffer('hash');
        expect(hashes([h.a!, h.b!])).toEqual(hashes(want.field));
        expect(await c.xlen('stream')).toBe(2);
        expect(await c.exists('too-long', 'list-too-long')).toBe(0);
      } finally {
        c.disconnect();
        await t.stop();
      }
    }, 90_000);
  }

  it('splitBySize: several commands below the limit, order kept, pairs never split', () => {
    const k = Buffer.from('k');
    const el = (n: number, ch: string) => Buffer.alloc(n, ch);
    const rpush = [Buffer.from('RPUSH'), k, el(400, 'a'), el(400, 'b'), el(400, 'c')];
    const split = splitBySize([rpush], 1000);
    expect(split.map((c) => c.map((a) => a.toString()[0]).join(''))).toEqual(['Rkab', 'Rkc']);
    const hset = [Buffer.from('HSET'), k, el(10, 'f'), el(600, 'v'), el(10, 'g'), el(600, 'w')];
    expect(splitBySize([hset], 1000).map((c) => c.length)).toEqual([4, 4]);
    const set = [Buffer.from('SET'), k, el(5000, 'x')];
    expect(splitBySize([set], 1000)).toEqual([set]);
  });
});
