/**
 * The target profile table (src/encode/target-profiles.ts): each row agrees with the loader rules rekey
 * converts by (loadsVerbatim), names map to rows, a live server's INFO picks its row, and
 * `import --target-profile` writes for the named line instead of the one answering (real Redis 7.0).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TARGET_PROFILES, profileForServer, targetProfile, writeVersion } from '../../src/encode/target-profiles.js';
import { loadsVerbatim } from '../../src/encode/down-convert.js';
import { targetInfoFromInfo } from '../../src/redis/server-info.js';
import { namedProfile } from '../../src/commands/import.js';
import { RdbSink } from '../../src/sinks/rdb-sink.js';
import { runCli } from '../helpers/cli.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { keyRecord, writeAll } from '../sinks/sink-helpers.js';
import { sample } from '../encode/sample-values.js';

const NAMES = ['redis-6.2', 'redis-7.0', 'redis-7.2', 'redis-7.4', 'redis-8.0', 'redis-8.2', 'redis-8.4', 'redis-8.6', 'redis-8.8', 'redis-8.10', 'valkey-7.2', 'valkey-8.0', 'valkey-8.1', 'valkey-9.0', 'valkey-9.1'];

describe('the profile table', () => {
  it('has a row for every line the issue names, with its magic and modules', () => {
    for (const n of NAMES) expect(targetProfile(n), n).not.toBeNull();
    const row = (n: string) => {
      const p = targetProfile(n)!;
      return `${p.rdbVersion} ${p.magic} ${p.modules.join(',') || '-'} ${p.hashFieldTtl}`;
    };
    expect(row('redis-6.2')).toBe('9 REDIS - false');
    expect(row('redis-7.4')).toBe('12 REDIS - true');
    expect(row('redis-8.0')).toBe('12 REDIS vectorset true');
    expect(row('redis-8.6')).toBe('13 REDIS vectorset true');
    expect(row('redis-8.10')).toBe('15 REDIS vectorset true');
    expect(row('valkey-8.1')).toBe('11 REDIS - false');
    expect(row('valkey-9.1')).toBe('80 VALKEY - true');
    expect(targetProfile('redis-8.0')!.bundled).toContain('ReJSON-RL');
    expect(targetProfile('valkey-9.1')!.bundled).toEqual([]);
    expect(writeVersion(targetProfile('redis-8.10')!)).toBe(13);
    expect(targetProfile('REDIS-08.6')!.name).toBe('redis-8.6');
    expect(targetProfile('redis-8.5')).toBeNull();
  });

  it("each row's type list is what the converter lets through verbatim for that row", () => {
    for (const p of TARGET_PROFILES) {
      const v = writeVersion(p);
      if (v !== p.rdbVersion) continue; // 8.8/8.10: rekey writes 13 for them, their extra types are not written
      const flavor = v >= 80 ? 'valkey' : 'redis';
      for (let t = 0; t <= 32; t++) {
        if (t === 8) continue; // never a type byte
        // a record of the type as its own fork writes it (Valkey's own numbering from 22)
        const own = p.fork === 'valkey' && t >= 22 ? 'valkey' : 'redis';
        const rec = { rdbType: t, flavor: own, rdbVersion: own === 'valkey' ? 80 : 13 } as const;
        if (own === 'redis' && t > 26) continue; // RDB 14/15 types are not written by rekey
        if (own === 'valkey' && t > 22) continue; // PATH_HASH (23): no layout in the sources, refused by name
        expect(loadsVerbatim(rec, v, flavor), `${p.name} type ${t}`).toBe(p.types.includes(t));
      }
    }
  });

  it('a live server picks its row from INFO: valkey_version decides the fork', () => {
    expect(targetInfoFromInfo('redis_version:8.6.3\r\n').profile).toBe('redis-8.6');
    expect(targetInfoFromInfo('redis_version:7.2.4\r\nvalkey_version:9.1.2\r\nserver_name:valkey\r\n').profile).toBe('valkey-9.1');
    expect(targetInfoFromInfo('redis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:8.1.1\r\n').profile).toBe('valkey-8.1');
    // a release newer than the table: its fork's newest row at or below it
    expect(profileForServer('redis', '8.7.1')!.name).toBe('redis-8.6');
    expect(profileForServer('redis', '2.4.0')).toBeNull();
  });

  it('--target-profile takes auto or a known name, and refuses anything else naming the choices', () => {
    expect(namedProfile('auto')).toBeNull();
    expect(namedProfile(undefined)).toBeNull();
    expect(namedProfile('valkey-9.0')!.magic).toBe('VALKEY');
    expect(() => namedProfile('keydb-6.3')).toThrow(/not auto or a known server \(.*redis-8\.6.*valkey-9\.1/);
  });
});

describe('import --target-profile into a real Redis 7.0', () => {
  let dir: string;
  let input: string;
  let redis: RedisHandle;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-profile-'));
    input = join(dir, 'in.rdb');
    // A stream with consumer groups as Redis 7.0 writes it (type 19): an RDB 9 loader needs type 15.
    await writeAll(new RdbSink({ path: input, rdbVersion: 10 }), [keyRecord('s', sample('stream-meta'), { version: 10 })]);
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function importWith(profile: string | null) {
    const rep = mkdtempSync(join(dir, 'rep-'));
    const r = await runCli(['import', input, '--target', redis.url, '--live', '--yes', '--on-conflict', 'replace', '--mode', 'restore', '--out-dir', rep, ...(profile ? ['--target-profile', profile] : [])]);
    const f = readdirSync(rep).find((x) => x.startsWith('migration_report'))!;
    return { ...r, report: JSON.parse(readFileSync(join(rep, f), 'utf8')) };
  }

  it('auto: the row of the answering server, payload verbatim', async () => {
    const r = await importWith(null);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.target.profile).toBe('redis-7.0');
    expect(r.report.import.via_restore).toBe(1);
  });

  it('redis-6.2: the stream goes as an RDB 9 payload (converted), and reads back equal', async () => {
    const r = await importWith('redis-6.2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.target.profile).toBe('redis-6.2');
    expect(r.report.target.max_rdb_version).toBe(9);
    expect(r.report.import.via_restore_converted).toBe(1);
    const c = redis.client();
    expect(await c.xlen('s')).toBe((sample('stream-meta') as { length: number }).length);
    expect(((await c.xinfo('GROUPS', 's')) as unknown[]).length).toBeGreaterThan(0);
  });
});
