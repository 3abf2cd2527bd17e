/**
 * Command mode: targets that cannot take RESTORE (renamed away), `--mode commands`, and values above the
 * target's proto-max-bulk-len — all must end with the same logical content as the input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../helpers/redis-server.js';
import { importWithOutcome, type ImportArgs } from '../../src/commands/import.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'fixtures', 'dump.rdb');

function args(input: string, target: string, outDir: string, extra: Partial<ImportArgs> = {}): ImportArgs {
  return { input, target, 'out-dir': outDir, json: false, 'ignore-checksum': false, 'allow-future-version': false, progress: false, live: true, yes: true, validate: true, ...extra };
}

describe('command mode', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-cmd-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a target whose RESTORE is renamed away gets every value as MULTI/EXEC commands (auto)', async () => {
    const t = await startRedis({ args: ['--rename-command', 'RESTORE', ''] });
    try {
      const r = await importWithOutcome(args(FIXTURE, t.url, join(dir, 'a')));
      const rep = r.report as Record<string, any>;
      expect(rep.error_keys).toEqual([]);
      expect(rep.target.restore_available).toBe(false);
      expect(rep.import.via_commands).toBe(446);
      expect(rep.import.via_restore).toBe(0);
      expect(rep.validation.mismatches).toEqual([]);
      expect(rep.validation.checked).toBe(446);
      expect(r.exitCode).toBe(0);
      // a second run skips everything (EXISTS before the transaction)
      const r2 = await importWithOutcome(args(FIXTURE, t.url, join(dir, 'a2'), { validate: false }));
      expect((r2.report as any).import.skipped_existing).toBe(446);
      expect((r2.report as any).import.created).toBe(0);
    } finally {
      await t.stop();
    }
  });

  it('falls back to commands when RESTORE is refused at run time (COMMAND is renamed too, so nothing tells in advance)', async () => {
    const t = await startRedis({ args: ['--rename-command', 'RESTORE', '', '--rename-command', 'COMMAND', ''] });
    try {
      const r = await importWithOutcome(args(FIXTURE, t.url, join(dir, 'b')));
      const rep = r.report as Record<string, any>;
      expect(rep.error_keys).toEqual([]);
      expect(rep.import.via_commands).toBe(446);
      expect(rep.validation.mismatches).toEqual([]);
      expect(r.exitCode).toBe(0);
    } finally {
      await t.stop();
    }
  });

  it('--mode commands with --on-conflict replace replaces existing keys inside the transaction', async () => {
    const t = await startRedis();
    try {
      const c = t.client();
      await c.rpush('fx:str:raw:2', 'a', 'wrong', 'type');
      const r = await importWithOutcome(args(FIXTURE, t.url, join(dir, 'c'), { mode: 'commands', 'on-conflict': 'replace' }));
      const rep = r.report as Record<string, any>;
      expect(rep.error_keys).toEqual([]);
      expect(rep.import.via_commands).toBe(446);
      expect(rep.import.replaced).toBe(1);
      expect(rep.validation.mismatches).toEqual([]);
      expect(r.exitCode).toBe(0);
      expect(await c.type('fx:str:raw:2')).toBe('string');
    } finally {
      await t.stop();
    }
  });

  it('values larger than proto-max-bulk-len go as chunked commands', async () => {
    // An RDB with a 3.3 MB list and a 1.8 MB hash (above a 1 MB proto-max-bulk-len) and a small string.
    const src = await startRedis();
    const rdb = join(dir, 'big.rdb');
    try {
      const c = src.client();
      // random bytes: RDB's LZF must not shrink them below the limit
      const items: Buffer[] = [];
      for (let i = 0; i < 1100; i++) items.push(Buffer.concat([Buffer.from(`${i}:`), randomBytes(3000)]));
      await c.rpush('big:list', ...items);
      await c.hset('big:hash', ...items.slice(0, 600).flatMap((v, i) => [`f${i}`, v]));
      await c.set('small', 'v');
      await c.pexpireat('big:list', 4102444800000);
      await c.save();
      copyFileSync(join(src.dir, 'dump.rdb'), rdb);
    } finally {
      await src.stop();
    }
    const t = await startRedis({ args: ['--proto-max-bulk-len', '1mb'] });
    try {
      const r = await importWithOutcome(args(rdb, t.url, join(dir, 'd')));
      const rep = r.report as Record<string, any>;
      expect(rep.error_keys).toEqual([]);
      expect(rep.import.via_commands).toBe(2);
      expect(rep.import.via_restore).toBe(1);
      expect(rep.validation.mismatches).toEqual([]);
      expect(rep.validation.digest_compared).toBeGreaterThanOrEqual(2);
      expect(r.exitCode).toBe(0);
      const c = t.client();
      expect(await c.llen('big:list')).toBe(1100);
      expect(await c.pexpiretime('big:list')).toBe(4102444800000);
    } finally {
      await t.stop();
    }
  });
});
