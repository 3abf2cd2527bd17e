/**
 * The target's RDB version comes from the server itself: the trailer of a DUMP of a key it holds
 * (createDumpPayload writes its own RDB_VERSION), found by RANDOMKEY, never by writing. An empty server
 * or a refused DUMP falls back to the version table. Real servers: /usr/bin/redis-server (7.0) always,
 * every cached build of `npm run servers` (the ones missing skip with the reason).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { probeTarget } from '../../src/redis/session.js';
import { dumpTrailerVersion } from '../../src/redis/server-info.js';
import { redisRdbVersion, valkeyRdbVersion } from '../../src/redis/server-versions.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { findServer, listServers, whyMissing } from '../helpers/servers.js';

const started: RedisHandle[] = [];
afterAll(async () => {
  for (const s of started) await s.stop();
});

async function start(binary?: string, debugCommand?: boolean): Promise<RedisHandle> {
  const s = await startRedis({ ...(binary !== undefined ? { binary } : {}), ...(debugCommand !== undefined ? { debugCommand } : {}) });
  started.push(s);
  return s;
}

/** The server's own DUMP trailer, read directly (what the probe must agree with). */
async function ownDumpVersion(s: RedisHandle, db = 0): Promise<number> {
  const c = s.client({ db });
  const key = (await c.callBuffer('RANDOMKEY')) as Buffer;
  const v = dumpTrailerVersion((await c.callBuffer('DUMP', key)) as Buffer)!;
  c.disconnect();
  return v;
}

/** Writes since the last save: the probe must leave it unchanged. */
async function dirty(s: RedisHandle): Promise<number> {
  const c = s.client();
  const info = String(await c.call('INFO', 'persistence'));
  c.disconnect();
  return Number(/rdb_changes_since_last_save:(\d+)/.exec(info)![1]);
}

describe('target RDB version by probe (redis 7.0 at /usr/bin)', () => {
  it('an empty server: no key to DUMP, the table by redis_version decides', async () => {
    const s = await start();
    const { info } = await probeTarget(s.url);
    expect(info.rdbVersionFrom).toBe('table');
    expect(info.maxRdbVersion).toBe(redisRdbVersion(info.redisVersion));
    expect(await dirty(s)).toBe(0);
  });

  it('a key in db 0: the DUMP trailer decides, nothing is written', async () => {
    const s = await start();
    const c = s.client();
    await c.set('probe:existing', 'x');
    await c.save();
    c.disconnect();
    const { info } = await probeTarget(s.url);
    expect(info.rdbVersionFrom).toBe('dump');
    expect(info.maxRdbVersion).toBe(await ownDumpVersion(s));
    expect(info.maxRdbVersion).toBe(10);
    expect(await dirty(s)).toBe(0);
  });

  it('keys only in db 5: the probe SELECTs it and reads the trailer there', async () => {
    const s = await start();
    const c = s.client({ db: 5 });
    await c.rpush('probe:list', 'a', 'b');
    c.disconnect();
    const { info } = await probeTarget(s.url);
    expect(info.rdbVersionFrom).toBe('dump');
    expect(info.maxRdbVersion).toBe(await ownDumpVersion(s, 5));
  });

  it('a big key is not DUMPed for a 2-byte answer: with only big keys, the table decides', async () => {
    const s = await start();
    const c = s.client();
    await c.set('big', 'x'.repeat(256 * 1024));
    c.disconnect();
    const { info } = await probeTarget(s.url);
    expect(info.rdbVersionFrom).toBe('table');
    expect(info.maxRdbVersion).toBe(10);
  });

  it('a user whose ACL refuses DUMP: the table, not a failure', async () => {
    const s = await start();
    const c = s.client();
    await c.set('k', 'v');
    await c.call('ACL', 'SETUSER', 'nodump', 'on', '>pw', '~*', '+@all', '-dump');
    c.disconnect();
    const { info } = await probeTarget(`redis://nodump:pw@127.0.0.1:${s.port}`);
    expect(info.rdbVersionFrom).toBe('table');
    expect(info.maxRdbVersion).toBe(10);
  });
});

describe('target RDB version by probe on every cached server', () => {
  const servers = listServers();
  it.skipIf(servers.length > 0)(`no cached servers: ${whyMissing('redis-') ?? ''}`, () => undefined);
  for (const srv of servers) {
    it(`${srv.name}: probe equals the server's own DUMP trailer and the table`, async () => {
      const s = await start(srv.server, srv.debugCommand);
      const c = s.client();
      await c.xadd('probe:stream', '*', 'f', 'v');
      c.disconnect();
      const { info } = await probeTarget(s.url);
      expect(info.rdbVersionFrom).toBe('dump');
      expect(info.maxRdbVersion).toBe(await ownDumpVersion(s));
      const table = info.server === 'valkey' ? valkeyRdbVersion(info.valkeyVersion ?? '0') : redisRdbVersion(info.redisVersion);
      expect(info.maxRdbVersion, `${srv.name}: the table says ${table}`).toBe(table);
    });
  }

  // The case the issue names: 8.6 must be 13 (streams kept as v4 with their IDMP state), not 12.
  const r86 = findServer('redis-8.6');
  it.skipIf(r86 === null)(`redis-8.6 reports RDB 13 by DUMP${r86 === null ? ` (skipped: ${whyMissing('redis-8.6')})` : ''}`, async () => {
    const s = await start(r86!.server, true);
    const c = s.client();
    await c.set('k', 'v');
    c.disconnect();
    const { info } = await probeTarget(s.url);
    expect([info.rdbVersionFrom, info.maxRdbVersion]).toEqual(['dump', 13]);
  });
});
