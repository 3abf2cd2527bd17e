/**
 * Issue 12: the live prompt states the plan — how many keys go to which dbs of which target, and whether
 * existing keys are replaced — counted from the input with rules and filters applied.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../helpers/redis-server.js';
import { importWithOutcome } from '../../src/commands/import.js';
import { args, makeRdb } from './helpers.js';

describe('the live prompt states the plan', () => {
  let dir: string;
  let rdb: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-prompt-'));
    rdb = join(dir, 'dbs.rdb');
    await makeRdb(rdb, async (c) => {
      for (let i = 0; i < 400; i++) await c.set(`a:${i}`, 'v');
      await c.select(1);
      for (let i = 0; i < 40; i++) await c.set(`b:${i}`, 'v');
      await c.select(3);
      for (let i = 0; i < 6; i++) await c.set(`c:${i}`, 'v');
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keys, dbs, target and the replace policy; a "no" writes nothing', async () => {
    const t = await startRedis();
    const c = t.client();
    try {
      const asked: string[] = [];
      const confirm = async (q: string): Promise<boolean> => (asked.push(q), false);
      const r = await importWithOutcome(args(rdb, t.url, join(dir, 'no'), { yes: false }), { confirm });
      expect(r.exitCode).toBe(1);
      expect(asked[0]).toContain(`write 446 keys to dbs 0, 1, 3 of redis://127.0.0.1:${t.port}, replace existing: no`);
      expect(await c.dbsize()).toBe(0);

      await importWithOutcome(args(rdb, t.url, join(dir, 'rep'), { yes: false, 'on-conflict': 'replace', 'to-db': 2 }), { confirm });
      expect(asked[1]).toContain(`write 446 keys to db 2 of redis://127.0.0.1:${t.port}, replace existing: yes`);

      // A filter narrows the count: the prompt says what will really be written.
      await importWithOutcome(args(rdb, t.url, join(dir, 'f'), { yes: false, 'key-regex': '^b:' } as never), { confirm });
      expect(asked[2]).toContain('write 40 keys to db 1 of');
      const ok = await importWithOutcome(args(rdb, t.url, join(dir, 'yes'), { yes: false }), { confirm: async () => true });
      expect(ok.exitCode).toBe(0);
      expect((ok.report as any).import.created).toBe(446);
    } finally {
      c.disconnect();
      await t.stop();
    }
  }, 60_000);
});
