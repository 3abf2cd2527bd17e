/**
 * `runSync` end to end against real redis-servers: a source with old names, a target that must end up
 * holding exactly the source renamed by the rules, after a snapshot plus writes of every kind made while
 * the stream runs (EXPIRE/PEXPIREAT, RENAME of an old key, DEL, MULTI/EXEC, a Lua EVAL with KEYS, and
 * writes after a SELECT of db 2, which a rule's to_db moves to db 5).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { runSync, type SyncOutcome } from '../../src/sync/run.js';
import { waitUntil } from './helpers.js';

const RULES = `version: 1
unmatched: keep
rules:
  - name: accounts
    category: account
    db: 2
    match: "acct:{id:*}"
    rename: "account:{id}"
    to_db: 5
  - name: old
    category: app
    match: "old:{id:*}"
    rename: "new:{id}"
`;

const renamed = (k: string): string => (k.startsWith('old:') ? 'new:' + k.slice(4) : k.startsWith('acct:') ? 'account:' + k.slice(5) : k);

async function allKeys(c: Redis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await c.scan(cursor, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
}

describe('rekey sync end to end (real source and target)', () => {
  let source: RedisHandle;
  let target: RedisHandle;
  let dir: string;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    dir = mkdtempSync(join(tmpdir(), 'rekey-sync-e2e-'));
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('snapshot + live writes of every kind land renamed; the target equals the renamed source', async () => {
    const src = source.client();
    const tgt = target.client();
    const src2 = source.client({ db: 2 });
    const tgt5 = target.client({ db: 5 });
    const tgt2 = target.client({ db: 2 });
    // the snapshot part
    await src.set('old:str', 'v0');
    await src.rpush('old:list', 'a', 'b');
    await src.hset('old:hash', 'f1', '1');
    await src.sadd('old:set', 'x');
    await src.zadd('old:zset', 1, 'm1');
    await src.xadd('old:stream', '1-1', 'f', 'v');
    await src.set('old:torename', 'r');
    await src.set('old:gone', 'g');
    await src.set('old:ttl-later', 't');
    await src.set('plain', 'kept under its own name');
    await src2.hset('acct:a', 'n', '1');

    const rules = join(dir, 'rules.yaml');
    writeFileSync(rules, RULES);
    const lines: string[] = [];
    let stop!: () => void;
    const stopSignal = new Promise<void>((r) => (stop = r));
    const running: Promise<SyncOutcome> = runSync({
      source: source.url,
      target: target.url,
      rules,
      outDir: join(dir, 'out'),
      statusInterval: 0,
      say: (l) => lines.push(l),
      stopSignal,
    });
    try {
      await waitUntil('the snapshot on the target', async () => (await tgt.exists('new:str', 'new:stream', 'plain')) + (await tgt5.exists('account:a')) === 4);
      expect(await tgt.exists('old:str')).toBe(0);

      // live writes, of every type
      await src.set('old:str', 'v1');
      await src.append('old:str', '+');
      await src.rpush('old:list', 'c');
      await src.lpop('old:list');
      await src.hset('old:hash', 'f2', '2');
      await src.hincrby('old:hash', 'f1', 10);
      await src.sadd('old:set', 'y', 'z');
      await src.srem('old:set', 'x');
      await src.zadd('old:zset', 2, 'm2');
      await src.zincrby('old:zset', 5, 'm1');
      await src.xadd('old:stream', '*', 'f', 'live');
      await src.xgroup('CREATE', 'old:stream', 'g1', '0');
      await src.xadd('old:newstream', 'MAXLEN', '10', '*', 'a', '1');
      await src.set('old:fresh', 'new during sync');
      await src.expire('old:ttl-later', 1000);
      await src.pexpireat('old:fresh', Date.now() + 500_000);
      await src.set('old:short', 's', 'PX', 300); // expires on the source: its DEL must reach the target
      await src.rename('old:torename', 'old:renamed');
      await src.del('old:gone');
      await src.multi().incr('old:counter').incr('old:counter').rpush('old:seq', '1', '2').exec();
      await src.eval("redis.call('INCRBY', KEYS[1], ARGV[1]); redis.call('HSET', KEYS[2], 'by', 'lua'); return 1", 2, 'old:counter', 'old:hash', '40');
      await src.set('plain', 'changed');
      // another db: the stream SELECTs 2, the rule sends these keys to db 5
      await src2.hincrby('acct:a', 'n', 1);
      await src2.set('acct:b', 'B', 'EX', 2000);
      await src2.multi().rpush('acct:log', 'x').rename('acct:b', 'acct:c').exec();
      await new Promise((r) => setTimeout(r, 400));
      await src.get('old:short'); // make sure the expiry happened (lazy expire) before the sentinel
      await src.set('old:sentinel', 'done');
      await waitUntil('the sentinel on the target', async () => (await tgt.exists('new:sentinel')) === 1);
    } finally {
      stop();
    }
    const outcome = await running;
    expect(outcome.exitCode, lines.join('\n')).toBe(0);
    const st = outcome.status;
    expect(st.commands_applied as number).toBeGreaterThan(20);
    expect(st.refused).toEqual({});
    expect(st.errors).toEqual({});
    // MULTI/EXEC, and the EVAL (Redis 7 replicates a script's effects wrapped in MULTI/EXEC)
    expect(st.transactions as number).toBeGreaterThanOrEqual(2);

    // the target equals the renamed source: same names, types and DUMP payloads (content for sets/hashes), TTLs within tolerance
    const sourceKeys = await allKeys(src);
    expect(sourceKeys).not.toContain('old:short');
    expect(sourceKeys).not.toContain('old:gone');
    expect(sourceKeys).toContain('old:renamed');
    const targetKeys = await allKeys(tgt);
    expect(targetKeys).toEqual(sourceKeys.map(renamed).sort());
    expect(targetKeys.some((k) => k.startsWith('old:'))).toBe(false);
    const sourceKeys2 = await allKeys(src2);
    expect(sourceKeys2).toEqual(['acct:a', 'acct:c', 'acct:log']);
    expect(await allKeys(tgt5)).toEqual(sourceKeys2.map(renamed).sort());
    expect(await allKeys(tgt2)).toEqual([]);
    const pairs: Array<[Redis, Redis, string]> = [...sourceKeys.map((k): [Redis, Redis, string] => [src, tgt, k]), ...sourceKeys2.map((k): [Redis, Redis, string] => [src2, tgt5, k])];
    for (const [from, to, k] of pairs) {
      const [ty, tyT] = await Promise.all([from.type(k), to.type(renamed(k))]);
      expect(tyT, `TYPE of ${renamed(k)}`).toBe(ty);
      if (ty === 'set' || ty === 'hash') {
        // a hashtable's DUMP order follows each server's own hash seed: compare the content, sorted
        const read = (c: Redis, key: string): Promise<string[]> => (ty === 'set' ? c.smembers(key) : c.hgetall(key).then((h) => Object.entries(h).map(([f, v]) => `${f}=${v}`)));
        const [a, b] = await Promise.all([read(from, k), read(to, renamed(k))]);
        expect(b.sort(), `content of ${renamed(k)} (from ${k})`).toEqual(a.sort());
      } else {
        const [a, b] = await Promise.all([from.dumpBuffer(k), to.dumpBuffer(renamed(k))]);
        expect(b, `DUMP of ${renamed(k)} (from ${k})`).toEqual(a);
      }
      const [ta, tb] = await Promise.all([from.pttl(k), to.pttl(renamed(k))]);
      if (ta < 0) expect(tb, `PTTL of ${renamed(k)}`).toBe(ta);
      else expect(Math.abs(ta - tb), `PTTL of ${renamed(k)}: ${ta} vs ${tb}`).toBeLessThan(5000);
    }
    // a few values read directly, so a wrong rename cannot hide behind equal payloads
    expect(await tgt.get('new:counter')).toBe('42');
    expect(await tgt.hget('new:hash', 'by')).toBe('lua');
    expect(await tgt.hget('new:hash', 'f1')).toBe('11');
    expect(await tgt.get('new:renamed')).toBe('r');
    expect(await tgt.lrange('new:seq', 0, -1)).toEqual(['1', '2']);
    expect(await tgt.get('plain')).toBe('changed');
    expect(await tgt.ttl('new:ttl-later')).toBeGreaterThan(900);
    expect(await tgt5.hget('account:a', 'n')).toBe('2');
    expect(await tgt5.ttl('account:c')).toBeGreaterThan(1900);
    const groups = (await tgt.xinfo('GROUPS', 'new:stream')) as unknown[][];
    expect(groups.length).toBe(1);
  });

  it('FCALL keys are renamed; MOVE under a db mapping and FLUSHDB are refused, counted and named (exit 1)', async () => {
    const src = source.client();
    const tgt = target.client();
    await Promise.all([src.flushall(), tgt.flushall()]);
    await src.set('old:f', '1');
    const rules = join(dir, 'rules.yaml');
    writeFileSync(rules, RULES);
    const lines: string[] = [];
    let stop!: () => void;
    const stopSignal = new Promise<void>((r) => (stop = r));
    const running = runSync({ source: source.url, target: target.url, rules, outDir: join(dir, 'out2'), statusInterval: 0, say: (l) => lines.push(l), stopSignal });
    try {
      await waitUntil('the snapshot on the target', async () => (await tgt.exists('new:f')) === 1);
      await src.call('FUNCTION', 'LOAD', "#!lua name=e2e\nredis.register_function('bump', function(keys, args) return redis.call('INCRBY', keys[1], args[1]) end)");
      await src.call('FCALL', 'bump', '1', 'old:f', '41');
      await src.move('old:f', '1'); // the rules move db 2 to db 5: MOVE's own db argument cannot follow
      await src.select(3);
      await src.set('x', 'y');
      await src.flushdb();
      await src.select(0);
      await src.set('old:sentinel', 'done');
      await waitUntil('the sentinel on the target', async () => (await tgt.exists('new:sentinel')) === 1);
    } finally {
      stop();
    }
    const outcome = await running;
    expect(outcome.exitCode).toBe(1);
    expect(outcome.status.refused).toEqual({ 'db argument': 1, 'whole-db command': 1 });
    expect(outcome.status.errors).toEqual({});
    // FCALL ran on the renamed key before the refused MOVE (which left it in db 0 of the target)
    expect(await tgt.get('new:f')).toBe('42');
    expect(await tgt.exists('old:f')).toBe(0);
    const all = lines.join('\n');
    expect(all).toMatch(/2 commands were not applied/);
    const samples = (outcome.status.samples as string[]).join('\n');
    expect(samples).toMatch(/MOVE names a db of its own/);
    expect(samples).toMatch(/FLUSHDB would act on the whole target db/);
  });
});
