/**
 * The SCAN+DUMP fallback against a real source that serves no replicas (`--rename-command PSYNC ""`,
 * `--rename-command SYNC ""`): without keyspace notifications and without --enable-notifications the
 * sync refuses and leaves the source's config alone; with the flag it says it wrote the config, warns
 * that the mode can miss writes, copies the snapshot and follows live writes (SET, INCR, RPUSH, HSET,
 * DEL, EXPIRE, RENAME, an expiring key) under the new names, and sets the config back when stopped.
 * A source already publishing notifications is used as it is.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { renamed, spawnSync, syncPair, waitUntil } from './helpers.js';

async function content(c: Redis, k: string): Promise<unknown> {
  const t = await c.type(k);
  if (t === 'string') return await c.get(k);
  if (t === 'list') return await c.lrange(k, 0, -1);
  if (t === 'hash') return await c.hgetall(k);
  if (t === 'set') return (await c.smembers(k)).sort();
  if (t === 'zset') return await c.zrange(k, 0, -1, 'WITHSCORES');
  return t;
}

describe('rekey sync: SCAN+DUMP fallback where PSYNC is refused', () => {
  const pair = syncPair('scan', { source: ['--rename-command', 'PSYNC', '', '--rename-command', 'SYNC', ''] });

  it('no notifications and no --enable-notifications: refused (exit 1), the source config untouched', async () => {
    const src = pair.source.client();
    expect(await src.config('GET', 'notify-keyspace-events')).toEqual(['notify-keyspace-events', '']);
    const sync = spawnSync(pair.args(join(pair.dir, 'refused'), '--status-interval', '0'));
    const end = await sync.exited;
    expect(end.code, sync.stderr).toBe(1);
    expect(sync.stderr).toMatch(/PSYNC refused/);
    expect(sync.stderr).toMatch(/lacks K .*pass --enable-notifications/);
    expect(await src.config('GET', 'notify-keyspace-events')).toEqual(['notify-keyspace-events', '']);
  });

  it('--enable-notifications: snapshot and live writes land renamed; says it wrote the config and that writes can be missed; config set back', async () => {
    const src = pair.source.client();
    const tgt = pair.target.client();
    await Promise.all([src.flushall(), tgt.flushall()]);
    await src.set('old:str', 'v0');
    await src.rpush('old:list', 'a', 'b');
    await src.hset('old:hash', 'f', '1');
    await src.sadd('old:set', 'x', 'y');
    await src.zadd('old:zset', 1, 'm');
    await src.set('old:gone', 'g');
    await src.set('old:torename', 'r');
    await src.set('plain', 'p');
    const sync = spawnSync(pair.args(join(pair.dir, 'on'), '--status-interval', '1', '--enable-notifications'));
    await sync.waitFor(/following keyspace notifications/);
    expect(sync.stderr).toMatch(/wrote to the source's config: CONFIG SET notify-keyspace-events KA/);
    expect(sync.stderr).toMatch(/fire-and-forget: a write whose notification is lost .* is missed/);
    expect(await tgt.get('new:str')).toBe('v0');

    await src.set('old:str', 'v1');
    for (let i = 0; i < 50; i++) await src.incr('old:counter');
    await src.rpush('old:list', 'c');
    await src.hset('old:hash', 'g', '2');
    await src.srem('old:set', 'x');
    await src.zincrby('old:zset', 4, 'm');
    await src.del('old:gone');
    await src.expire('old:str', 1000);
    await src.rename('old:torename', 'old:renamed');
    await src.set('old:short', 's', 'PX', 200);
    await src.set('plain', 'changed');
    await new Promise((r) => setTimeout(r, 400));
    await src.get('old:short'); // the lazy expiry publishes "expired"
    await src.set('old:sentinel', 'done');
    await waitUntil('the sentinel on the target', async () => (await tgt.get('new:sentinel')) === 'done');
    await waitUntil('the status line', async () => /sync notifications \(SCAN\+DUMP, can miss writes\): \d+ keys pending/.test(sync.stderr));
    sync.child.kill('SIGINT');
    const end = await sync.exited;
    expect(end.code, sync.stderr).toBe(0);
    expect(sync.stderr).toMatch(/notify-keyspace-events is "" again/);
    expect(await src.config('GET', 'notify-keyspace-events')).toEqual(['notify-keyspace-events', '']);

    const sk = (await src.keys('*')).sort();
    expect(sk).toContain('old:renamed');
    expect(sk).not.toContain('old:gone');
    expect(sk).not.toContain('old:short');
    expect((await tgt.keys('*')).sort()).toEqual(sk.map(renamed).sort());
    for (const k of sk) expect(await content(tgt, renamed(k)), renamed(k)).toEqual(await content(src, k));
    expect(await tgt.get('new:counter')).toBe('50');
    expect(await tgt.ttl('new:str')).toBeGreaterThan(900);
    expect(await tgt.ttl('new:hash')).toBe(-1);
  });

  it('a source that already publishes notifications is used as it is, without the flag', async () => {
    const src = pair.source.client();
    const tgt = pair.target.client();
    await Promise.all([src.flushall(), tgt.flushall()]);
    await src.config('SET', 'notify-keyspace-events', 'KEA');
    const set = await src.config('GET', 'notify-keyspace-events');
    await src.set('old:k', '1');
    const sync = spawnSync(pair.args(join(pair.dir, 'ready'), '--status-interval', '0'));
    await sync.waitFor(/following keyspace notifications/);
    expect(sync.stderr).toMatch(/already publishes keyspace notifications/);
    expect(sync.stderr).not.toMatch(/wrote to the source's config/);
    await src.set('old:k', '2');
    await waitUntil('the write on the target', async () => (await tgt.get('new:k')) === '2');
    sync.child.kill('SIGTERM');
    expect((await sync.exited).code, sync.stderr).toBe(0);
    expect(await src.config('GET', 'notify-keyspace-events')).toEqual(set);
  });
});
