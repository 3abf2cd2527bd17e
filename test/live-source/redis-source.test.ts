import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { openInput } from '../../src/sources/open.js';
import { isLiveInput, openRedisSource, type RedisSourceInput } from '../../src/sources/redis-source.js';
import { matchPrefixFor } from '../../src/sources/scan-match.js';
import { loadRules } from '../../src/rules/index.js';
import { valuesEqual } from '../../src/validate/read-value.js';
import type { KeyRecord } from '../../src/records/types.js';
import { RekeyUsageError } from '../../src/errors.js';
import { runTransform } from '../../src/commands/transform.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { collect, commandStats, delay, dumpAll, FIXTURE, id, keysOf, PREFIX, RULES } from './helpers.js';

/** Commands a read-only source may send (INFO commandstats names, lower case, subcommands as a|b). */
const READ_ONLY = new Set(['scan', 'dump', 'pexpiretime', 'pttl', 'info', 'ping', 'select', 'client|setname', 'client|no-touch', 'cluster|nodes', 'cluster|slots', 'config|resetstat']);

let srv: RedisHandle;
let c: Redis;
let fileKeys: KeyRecord[];

beforeAll(async () => {
  srv = await startRedis({ rdbFile: FIXTURE });
  c = srv.client();
  fileKeys = keysOf(await collect(await openInput(FIXTURE)));
});

afterAll(async () => {
  await srv?.stop();
});

describe('live redis:// source', () => {
  it('reads exactly what the RDB holds: every db, values, types, encodings, absolute TTLs', async () => {
    const input = await openInput(srv.url);
    expect(isLiveInput(input)).toBe(true);
    const live = input as RedisSourceInput;
    expect(live.server).toMatchObject({ server: 'redis', rdbVersion: 10, cluster: false, dbs: [0, 1, 3], expectedKeys: fileKeys.length, absoluteExpiry: true });
    const recs = await collect(input);
    expect(recs[0]).toEqual({ kind: 'header', rdbVersion: 10, flavor: 'redis', magic: 'REDIS0010' });
    expect(recs[recs.length - 1]).toMatchObject({ kind: 'eof', checksum: null });
    expect(recs.filter((r) => r.kind === 'selectdb').map((r) => (r as { db: number }).db)).toEqual([0, 1, 3]);
    const keys = keysOf(recs);
    expect(keys.length).toBe(fileKeys.length);
    expect(keys.map((k) => k.offset)).toEqual(keys.map((_, i) => i));
    // the selectdb before a key names its db
    let db = -1;
    for (const r of recs) {
      if (r.kind === 'selectdb') db = r.db;
      if (r.kind === 'key') expect(r.db).toBe(db);
    }
    const byId = new Map(keys.map((k) => [id(k.db, k.key), k]));
    expect(byId.size).toBe(keys.length);
    for (const f of fileKeys) {
      const k = byId.get(id(f.db, f.key));
      expect(k, `db ${f.db} ${f.key.toString()}`).toBeDefined();
      expect(k!.type).toBe(f.type);
      expect(k!.rdbType).toBe(f.rdbType);
      expect(k!.encoding).toBe(f.encoding);
      expect(k!.rdbVersion).toBe(10);
      expect(k!.expireAtMs).toBe(f.expireAtMs);
      const eq = valuesEqual(k!.decode(), f.decode());
      expect(eq.equal, `db ${f.db} ${f.key.toString()}: ${eq.diff}`).toBe(true);
    }
    expect(live.vanished()).toBe(0);
    expect(input.bytesRead()).toBe(live.stats().dumpBytes);
    expect(input.bytesRead()).toBeGreaterThan(100_000);
  });

  it('--db and a /db URL read only those dbs', async () => {
    const a = keysOf(await collect(await openInput(srv.url, { db: [1, 3] })));
    expect(new Set(a.map((k) => k.db))).toEqual(new Set([1, 3]));
    expect(a.length).toBe(fileKeys.filter((k) => k.db !== 0).length);
    const b = keysOf(await collect(await openInput(`${srv.url}/3`)));
    expect(b.length).toBe(fileKeys.filter((k) => k.db === 3).length);
    await expect(openInput(`${srv.url}/3`, { db: [1] })).rejects.toBeInstanceOf(RekeyUsageError);
  });

  it('never writes: DUMP of every key equal before and after, only read commands in INFO commandstats', async () => {
    const before = await dumpAll(c, [0, 1, 3]);
    await c.call('CONFIG', 'RESETSTAT');
    const input = await openInput(srv.url, { scanCount: 37 });
    const keys = keysOf(await collect(input));
    const stats = await commandStats(c);
    const after = await dumpAll(c, [0, 1, 3]);
    expect(after).toEqual(before);
    expect(keys.length).toBe(before.size);
    const names = [...stats.keys()];
    expect(names.filter((n) => !READ_ONLY.has(n)), names.join(',')).toEqual([]);
    expect(stats.get('dump')).toBe(before.size);
    expect(stats.get('pexpiretime')).toBe(before.size);
    const ks = String(await c.info('keyspace'));
    expect(ks).toMatch(/db0:keys=325,/);
  });

  it('keys deleted between SCAN and DUMP are vanished, not errors', async () => {
    const s = await startRedis({ rdbFile: FIXTURE });
    try {
      const w = s.client();
      const deleted: string[] = [];
      const vanished: string[] = [];
      let first = true;
      const input = await openRedisSource(s.url, {
        db: [0],
        onVanished: (db, key) => vanished.push(id(db, key)),
        onScanBatch: async (db, keys) => {
          if (!first) return;
          first = false;
          // another client deletes some keys of this batch and lets others expire before we DUMP them
          const del = keys.filter((_, i) => i % 10 === 0);
          const exp = keys.filter((_, i) => i % 10 === 5);
          for (const k of del) await w.del(k);
          for (const k of exp) await w.pexpire(k, 1);
          await delay(20);
          for (const k of [...del, ...exp]) deleted.push(id(db, k));
        },
      });
      const keys = keysOf(await collect(input));
      expect(deleted.length).toBeGreaterThan(10);
      expect(vanished.sort()).toEqual(deleted.sort());
      expect(input.vanished()).toBe(deleted.length);
      expect(keys.length + deleted.length).toBe(fileKeys.filter((k) => k.db === 0).length);
      expect(input.stats().keyErrors).toBe(0);
    } finally {
      await s.stop();
    }
  });

  it('concurrent SET / DEL / EXPIRE on random keys during the scan: the run completes', async () => {
    const s = await startRedis({ rdbFile: FIXTURE });
    try {
      const w = s.client();
      const all = fileKeys.map((k) => ({ db: k.db, key: k.key }));
      let stop = false;
      let ops = 0;
      let seed = 12345;
      const rnd = (n: number): number => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      const writer = (async () => {
        while (!stop) {
          const t = all[rnd(all.length)]!;
          await w.select(t.db);
          const op = rnd(4);
          if (op === 0) await w.del(t.key);
          else if (op === 1) await w.pexpire(t.key, 1 + rnd(50));
          else if (op === 2) await w.set(t.key, `overwritten-${ops}`);
          else await w.set(`new:${ops}`, 'x');
          ops++;
        }
      })();
      let vanished = 0;
      const input = await openInput(s.url, { maxOpsPerSec: 2000, scanCount: 20, onVanished: () => vanished++ });
      const keys = keysOf(await collect(input));
      stop = true;
      await writer;
      expect(ops).toBeGreaterThan(50);
      expect(keys.length).toBeGreaterThan(200);
      expect(vanished).toBe((input as RedisSourceInput).vanished());
      expect(vanished).toBeGreaterThan(0);
      // every record is a complete, decodable value, read once
      expect(new Set(keys.map((k) => id(k.db, k.key))).size).toBe(keys.length);
      for (const k of keys) expect(() => k.decode()).not.toThrow();
    } finally {
      await s.stop();
    }
  });

  it('--max-ops-per-sec 200 over ~300 keys takes at least ~1.2 s', async () => {
    const s = await startRedis();
    try {
      const w = s.client();
      const p = w.pipeline();
      for (let i = 0; i < 300; i++) p.set(`k:${i}`, `v${i}`);
      await p.exec();
      const t0 = performance.now();
      const input = await openInput(s.url, { maxOpsPerSec: 200 });
      const keys = keysOf(await collect(input));
      const ms = performance.now() - t0;
      expect(keys.length).toBe(300);
      expect(ms).toBeGreaterThanOrEqual(1200);
      expect((input as RedisSourceInput).stats().commands).toBeGreaterThanOrEqual(601);
    } finally {
      await s.stop();
    }
  });

  it('MATCH push-down: with the example rules only the app\'s keys are SCANned and DUMPed', async () => {
    const rules = await loadRules(RULES);
    const glob = matchPrefixFor(rules);
    expect(glob).toBe('josancamon:rayban-meta-glasses-api:*');
    const expected = fileKeys.filter((k) => k.key.toString('latin1').startsWith(PREFIX));
    expect(expected.length).toBeGreaterThan(200);
    await c.call('CONFIG', 'RESETSTAT');
    const input = await openInput(srv.url, { match: glob! });
    const keys = keysOf(await collect(input));
    const stats = await commandStats(c);
    expect(keys.length).toBe(expected.length);
    for (const k of keys) expect(k.key.toString('latin1').startsWith(PREFIX)).toBe(true);
    expect(stats.get('dump')).toBe(expected.length);
    expect(stats.get('pexpiretime')).toBe(expected.length);
    expect((input as RedisSourceInput).match).toBe(glob);
  });

  it('transform reads a live source like a file (the same keys out as from the RDB)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rekey-live-'));
    try {
      const common = { 'out-dir': dir, json: false, 'ignore-checksum': false, 'allow-future-version': false, expired: 'drop' as const, 'on-collision': 'keep-first' as const, lossy: false, compress: true, commands: false, 'skip-bad-lines': false, rules: RULES };
      expect(await runTransform({ ...common, input: srv.url, output: join(dir, 'live.rdb') })).toBe(0);
      expect(await runTransform({ ...common, input: FIXTURE, output: join(dir, 'file.rdb') })).toBe(0);
      const a = keysOf(await collect(await openInput(join(dir, 'live.rdb'))));
      const b = keysOf(await collect(await openInput(join(dir, 'file.rdb'))));
      expect(a.length).toBe(fileKeys.length);
      const fromFile = new Map(b.map((k) => [id(k.db, k.key), k]));
      for (const k of a) {
        const f = fromFile.get(id(k.db, k.key))!;
        expect(f).toBeDefined();
        expect(k.expireAtMs).toBe(f.expireAtMs);
        expect(valuesEqual(k.decode(), f.decode()).equal).toBe(true);
      }
      const renamed = a.filter((k) => k.key.toString().startsWith('meta-glasses:'));
      expect(renamed.length).toBeGreaterThan(200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('auth: password from the URL or REKEY_SOURCE_PASSWORD, never printed', async () => {
    const secret = 's3cret-Pa55';
    // (the harness pings without AUTH, so the password is set once the server runs)
    const s = await startRedis();
    try {
      await s.client().call('CONFIG', 'SET', 'requirepass', secret);
      const w = s.client({ password: secret });
      await w.set('a', '1');
      const url = `redis://:${secret}@127.0.0.1:${s.port}`;
      const input = await openInput(url);
      expect(input.name).not.toContain(secret);
      expect(keysOf(await collect(input)).length).toBe(1);
      const viaEnv = await openRedisSource(s.url, { env: { REKEY_SOURCE_PASSWORD: secret } });
      expect(keysOf(await collect(viaEnv)).length).toBe(1);
      const bad = `redis://:wrong-${secret}@127.0.0.1:${s.port}`;
      const err = await openInput(bad).then(() => null, (e: Error) => e);
      expect(err).toBeInstanceOf(RekeyUsageError);
      expect(err!.message).not.toContain(secret);
      const none = await openInput(s.url).then(() => null, (e: Error) => e);
      expect(none).toBeInstanceOf(RekeyUsageError);
    } finally {
      await s.stop();
    }
  });

  it('a read-only ACL user (no write command allowed at all) reads everything', async () => {
    await c.call('ACL', 'SETUSER', 'reader', 'on', '>reader-pw', '~*', '&*', '-@all', '+@read', '+info', '+ping', '+select', '+client|setname', '+cluster|nodes'); // (+client|no-touch too on 7.2+)
    const keys = keysOf(await collect(await openInput(`redis://reader:reader-pw@127.0.0.1:${srv.port}`)));
    expect(keys.length).toBe(fileKeys.length);
    const r = c.duplicate();
    await r.call('AUTH', 'reader', 'reader-pw');
    await expect(r.set('x', '1')).rejects.toThrow(/NOPERM/);
    r.disconnect();
  });

  it('without PEXPIRETIME (renamed away, or Redis < 7.0) the TTL comes from PTTL and the local clock', async () => {
    const s = await startRedis({ rdbFile: FIXTURE, args: ['--rename-command', 'PEXPIRETIME', ''] });
    try {
      const input = (await openInput(s.url, { db: [0] })) as RedisSourceInput;
      const keys = keysOf(await collect(input));
      expect(input.server.absoluteExpiry).toBe(false);
      const want = new Map(fileKeys.filter((k) => k.db === 0).map((k) => [id(k.db, k.key), k.expireAtMs]));
      expect(keys.length).toBe(want.size);
      let withTtl = 0;
      for (const k of keys) {
        const w = want.get(id(k.db, k.key));
        if (w === null) expect(k.expireAtMs).toBeNull();
        else {
          withTtl++;
          expect(Math.abs(k.expireAtMs! - w!)).toBeLessThan(1000);
        }
      }
      expect(withTtl).toBe(96);
    } finally {
      await s.stop();
    }
  });

  it('an unreachable source is a usage error; abandoning the iteration closes the connections', async () => {
    const s = await startRedis({ rdbFile: FIXTURE });
    const port = s.port;
    try {
      const input = await openInput(s.url, { scanCount: 10 });
      for await (const b of input.batches) if (b.some((r) => r.kind === 'key')) break;
      const clients = String(await s.client().call('CLIENT', 'LIST'));
      expect(clients).not.toMatch(/name=rekey-source/);
    } finally {
      await s.stop();
    }
    await expect(openInput(`redis://127.0.0.1:${port}`)).rejects.toBeInstanceOf(RekeyUsageError);
  });
});
