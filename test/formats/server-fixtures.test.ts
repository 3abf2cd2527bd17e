import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { truthProblems } from '../helpers/truth.js';

/**
 * fixtures/servers/: one snapshot per real server `npm run servers` built (Redis 6.2 … 8.0, Valkey 8.1 and 9.1),
 * written by scripts/server-fixtures.mjs beside the server's own readback (<server>.truth.jsonl). Decoding
 * them needs no server, so every `npm test` checks RDB 9–12 and VALKEY080 as those servers write them.
 */
const DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'servers');
const servers = readdirSync(DIR).filter((f) => f.endsWith('.rdb')).map((f) => f.slice(0, -4)).sort();

describe('snapshots written by real servers', () => {
  it('holds the fixtures of every server family', () => {
    // Redis before and after listpacks, field TTLs (7.4), vector sets (8.0), Valkey's own magic (9.x).
    for (const want of [/^redis-6\./, /^redis-7\.0/, /^redis-7\.4/, /^redis-8\./, /^valkey-9\./]) {
      expect(servers.some((s) => want.test(s)), String(want)).toBe(true);
    }
  });

  it.each(servers)('%s: every key decodes to what the server read back', async (server) => {
    const meta = JSON.parse(readFileSync(join(DIR, `${server}.meta.json`), 'utf8')) as { rdb_header: string; keys: number };
    const rdb = join(DIR, `${server}.rdb`);
    expect(readFileSync(rdb).subarray(0, 9).toString('latin1')).toBe(meta.rdb_header);
    const { problems, matched } = await truthProblems(rdb, join(DIR, `${server}.truth.jsonl`));
    expect(problems.slice(0, 10)).toEqual([]);
    expect(matched).toBe(meta.keys);
  });
});
