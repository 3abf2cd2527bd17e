import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { runningServers, startCluster, startRedis, redisAvailable, type ClusterHandle, type RedisHandle } from './helpers/redis-server.js';
import { normalizeValue, readValue, valuesEqual } from '../src/validate/read-value.js';
import type { StreamValue, Value } from '../src/records/types.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'dump.rdb');
const SUMMARY = join(import.meta.dirname, '..', 'fixtures', 'dump.summary.json');
const EXPIRE_AT = 4102444800000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const b = (s: string): Buffer => Buffer.from(s);
const strs = (xs: Buffer[]): string[] => xs.map((x) => x.toString());

describe('harness', () => {
  const started: Array<RedisHandle | ClusterHandle> = [];
  afterAll(async () => {
    await Promise.all(started.map((h) => h.stop()));
  });

  it('redis-server is available', () => {
    expect(redisAvailable()).toBe(true);
  });

  describe('startRedis', () => {
    it('starts on a loopback port and stop() leaves no process and no temp dir', async () => {
      const r = await startRedis();
      const pid = r.pid!;
      expect(r.host).toBe('127.0.0.1');
      expect(r.url).toBe(`redis://127.0.0.1:${r.port}`);
      expect(alive(pid)).toBe(true);
      const c = r.client();
      expect(await c.ping()).toBe('PONG');
      expect(await c.config('GET', 'save')).toEqual(['save', '']);
      await r.stop();
      expect(alive(pid)).toBe(false);
      expect(existsSync(r.dir)).toBe(false);
      expect(c.status).toBe('end');
      await r.stop(); // idempotent
    });

    it('restart() keeps data only if it was saved; kill() is SIGKILL', async () => {
      const r = await startRedis();
      started.push(r);
      const c = r.client({ maxRetriesPerRequest: 20 });
      await c.set('saved', '1');
      await c.save();
      await c.set('unsaved', '1');
      const port = r.port;
      await r.restart();
      expect(r.port).toBe(port);
      expect(await c.get('saved')).toBe('1'); // the same client reconnects
      expect(await c.exists('unsaved')).toBe(0);
      const pid = r.pid!;
      await r.kill();
      expect(alive(pid)).toBe(false);
      await r.restart();
      expect(await c.get('saved')).toBe('1');
    });

    it('rejects with the server log when the server dies at start (corrupt RDB)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rekey-harness-'));
      try {
        const bad = join(dir, 'bad.rdb');
        writeFileSync(bad, Buffer.concat([Buffer.from('REDIS0010'), Buffer.from([0xfa, 0x99, 0x42, 0x13, 0x37])]));
        const before = runningServers();
        await expect(startRedis({ rdbFile: bad })).rejects.toThrow(/exited .* before answering PING:[\s\S]*(RDB|rdb|Short read|Internal error)/);
        expect(runningServers()).toBe(before);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('loads fixtures/dump.rdb via rdbFile with the counts make-fixtures reported', async () => {
      expect(existsSync(FIXTURE), 'run `npm run fixtures` first').toBe(true);
      const summary = JSON.parse(readFileSync(SUMMARY, 'utf8')) as {
        dbs: Record<string, { keys: number; with_ttl: number; by_type: Record<string, number> }>;
        totals: { keys: number };
      };
      const r = await startRedis({ rdbFile: FIXTURE });
      started.push(r);
      let total = 0;
      for (const [db, d] of Object.entries(summary.dbs)) {
        const c = r.client({ db: Number(db) });
        expect(await c.dbsize(), `db ${db}`).toBe(d.keys);
        total += d.keys;
        const byType: Record<string, number> = {};
        let withTtl = 0;
        for (const key of await c.keysBuffer('*')) {
          const t = await c.type(key);
          byType[t] = (byType[t] ?? 0) + 1;
          if ((await c.pttl(key)) >= 0) withTtl++;
        }
        expect(byType, `db ${db}`).toEqual(d.by_type);
        expect(withTtl, `db ${db}`).toBe(d.with_ttl);
      }
      expect(total).toBe(summary.totals.keys);
      const libs = (await r.client().call('FUNCTION', 'LIST')) as unknown[][];
      expect(libs.map((l) => l[1])).toEqual(['rekeylib']);

      // the fixture stream through readValue
      const got = await readValue(r.client(), b('fx:stream:events'));
      const s = got.value as StreamValue;
      expect(s.type).toBe('stream');
      expect(s.length).toBe(6);
      expect(s.maxDeletedId).toEqual({ ms: 1700000000005n, seq: 0n });
      expect(s.groups.map((g) => g.name.toString()).sort()).toEqual(['audit', 'workers']);
      const workers = normalizeValue(s).type === 'stream' ? (normalizeValue(s) as StreamValue).groups.find((g) => g.name.toString() === 'workers')! : null;
      expect(workers!.consumers.map((c) => [c.name.toString(), c.pending.length])).toEqual([
        ['alice', 2],
        ['bob', 2],
        ['carol', 0],
      ]);
      expect(workers!.pending).toHaveLength(4);
    });
  });

  describe('readValue / valuesEqual', () => {
    let r: RedisHandle;
    let c: Redis;
    beforeAll(async () => {
      r = await startRedis();
      started.push(r);
      c = r.client();
      await c.set('s', 'hello');
      await c.set(Buffer.from([0xff, 0x00, 0x80]), Buffer.from([0xc3, 0x28, 0x00]));
      await c.set('int', '-7');
      await c.set('empty', '');
      await c.rpush('l', 'a', 'b', 'a', '3');
      await c.sadd('set', 'x', 'y', 'z', '10');
      await c.zadd('z', '1.5', 'a', '-inf', 'lo', '+inf', 'hi', '-0.25', 'neg');
      await c.hset('h', 'f1', 'v1', 'f2', 'v2', Buffer.from([0xfe]), Buffer.from([0xff]));
      await c.xadd('st', '1-1', 'a', '1', 'b', '2');
      await c.xadd('st', '2-0', 'c', '3');
      await c.xadd('st', '3-0', 'a', '4', 'b', '5');
      await c.xadd('st', '4-0', 'a', '6');
      await c.xdel('st', '2-0');
      await c.xgroup('CREATE', 'st', 'g', '0');
      await c.xreadgroup('GROUP', 'g', 'alice', 'COUNT', '2', 'STREAMS', 'st', '>');
      await c.xreadgroup('GROUP', 'g', 'bob', 'COUNT', '1', 'STREAMS', 'st', '>');
      await c.call('XGROUP', 'CREATECONSUMER', 'st', 'g', 'carol');
      await c.xgroup('CREATE', 'empty-stream', 'g2', '$', 'MKSTREAM');
      await c.pexpireat('s', EXPIRE_AT);
      await c.pexpireat('h', EXPIRE_AT + 1);
    });

    it('reads strings (binary-safe) with expiry', async () => {
      expect(await readValue(c, b('s'))).toEqual({ type: 'string', value: { type: 'string', value: b('hello') }, expireAtMs: EXPIRE_AT });
      const bin = await readValue(c, Buffer.from([0xff, 0x00, 0x80]));
      expect(bin.value).toEqual({ type: 'string', value: Buffer.from([0xc3, 0x28, 0x00]) });
      expect(bin.expireAtMs).toBeNull();
      expect((await readValue(c, b('int'))).value).toEqual({ type: 'string', value: b('-7') });
      expect((await readValue(c, b('empty'))).value).toEqual({ type: 'string', value: Buffer.alloc(0) });
      expect(await readValue(c, b('missing'))).toEqual({ type: 'none', value: null, expireAtMs: null });
    });

    it('reads lists, sets, zsets (inf scores) and hashes', async () => {
      const l = (await readValue(c, b('l'))).value as Extract<Value, { type: 'list' }>;
      expect(strs(l.items)).toEqual(['a', 'b', 'a', '3']);
      const s = normalizeValue((await readValue(c, b('set'))).value!) as Extract<Value, { type: 'set' }>;
      expect(strs(s.members)).toEqual(['10', 'x', 'y', 'z']);
      const z = (await readValue(c, b('z'))).value as Extract<Value, { type: 'zset' }>;
      expect(z.entries.map(([m, sc]) => [m.toString(), sc])).toEqual([
        ['lo', -Infinity],
        ['neg', -0.25],
        ['a', 1.5],
        ['hi', Infinity],
      ]);
      const h = await readValue(c, b('h'));
      expect(h.expireAtMs).toBe(EXPIRE_AT + 1);
      const hv = normalizeValue(h.value!) as Extract<Value, { type: 'hash' }>;
      expect(hv.entries).toEqual([
        [b('f1'), b('v1')],
        [b('f2'), b('v2')],
        [Buffer.from([0xfe]), Buffer.from([0xff])],
      ]);
      expect(hv.expires).toBeUndefined(); // 7.0 has no field TTLs
    });

    it('reads streams with metadata, groups, consumers and PELs', async () => {
      const v = (await readValue(c, b('st'))).value as StreamValue;
      expect(v.type).toBe('stream');
      expect(v.entries.map((e) => [`${e.id.ms}-${e.id.seq}`, e.fields.map(([f, x]) => `${f}=${x}`)])).toEqual([
        ['1-1', ['a=1', 'b=2']],
        ['3-0', ['a=4', 'b=5']],
        ['4-0', ['a=6']],
      ]);
      expect(v.length).toBe(3);
      expect(v.lastId).toEqual({ ms: 4n, seq: 0n });
      expect(v.firstId).toEqual({ ms: 1n, seq: 1n });
      expect(v.maxDeletedId).toEqual({ ms: 2n, seq: 0n });
      expect(v.entriesAdded).toBe(4n);
      expect(v.groups).toHaveLength(1);
      const g = v.groups[0]!;
      expect(g.name).toEqual(b('g'));
      expect(g.lastDeliveredId).toEqual({ ms: 4n, seq: 0n });
      expect(g.entriesRead).toBe(4);
      expect(g.pending.map((p) => [`${p.id.ms}-${p.id.seq}`, p.consumer.toString(), p.deliveryCount])).toEqual([
        ['1-1', 'alice', 1],
        ['3-0', 'alice', 1],
        ['4-0', 'bob', 1],
      ]);
      expect(g.pending.every((p) => p.deliveryTimeMs > 1_600_000_000_000)).toBe(true);
      const consumers = (normalizeValue(v) as StreamValue).groups[0]!.consumers;
      expect(consumers.map((x) => [x.name.toString(), x.pending.map((id) => `${id.ms}-${id.seq}`)])).toEqual([
        ['alice', ['1-1', '3-0']],
        ['bob', ['4-0']],
        ['carol', []],
      ]);

      const e = (await readValue(c, b('empty-stream'))).value as StreamValue;
      expect(e.entries).toEqual([]);
      expect(e.length).toBe(0);
      // 7.0: XGROUP CREATE ... $ MKSTREAM leaves entries-read unknown (XINFO nil, RDB 2^64-1) → -1
      expect(e.groups.map((x) => [x.name.toString(), x.entriesRead, x.consumers.length])).toEqual([['g2', -1, 0]]);
    });

    it('windowed reads (LRANGE/SSCAN/ZRANGE/HSCAN/XRANGE chunks) give the same values', async () => {
      await c.rpush('big-l', ...Array.from({ length: 25 }, (_, i) => `i${i}`));
      await c.sadd('big-s', ...Array.from({ length: 25 }, (_, i) => `m${i}`));
      await c.zadd('big-z', ...Array.from({ length: 25 }, (_, i) => [String(i / 3), `m${i}`]).flat());
      await c.hset('big-h', ...Array.from({ length: 25 }, (_, i) => [`f${i}`, `v${i}`]).flat());
      for (let i = 1; i <= 25; i++) await c.xadd('big-x', `${i}-0`, 'n', String(i));
      for (const k of ['big-l', 'big-s', 'big-z', 'big-h', 'big-x', 'st']) {
        const whole = (await readValue(c, b(k))).value!;
        const windowed = (await readValue(c, b(k), { chunk: 4 })).value!;
        expect(valuesEqual(whole, windowed), k).toEqual({ equal: true });
        if (whole.type === 'list') expect((windowed as typeof whole).items).toHaveLength(25);
        if (whole.type === 'stream' && k === 'big-x') expect((windowed as StreamValue).entries).toHaveLength(25);
      }
    });

    it('valuesEqual ignores order of unordered types and detects a changed element', async () => {
      const before = (await readValue(c, b('set'))).value!;
      const reordered: Value = { type: 'set', members: [b('z'), b('10'), b('y'), b('x')] };
      expect(valuesEqual(before, reordered)).toEqual({ equal: true });
      await c.srem('set', 'y');
      await c.sadd('set', 'Y');
      const after = (await readValue(c, b('set'))).value!;
      const d = valuesEqual(before, after);
      expect(d.equal).toBe(false);
      expect(d.diff).toMatch(/set member/);

      const z1 = (await readValue(c, b('z'))).value!;
      await c.zadd('z', '1.25', 'a');
      const z2 = (await readValue(c, b('z'))).value!;
      expect(valuesEqual(z1, z2).diff).toMatch(/zset score of "a": 1.5 != 1.25/);

      const l1 = (await readValue(c, b('l'))).value!;
      expect(valuesEqual(l1, { type: 'list', items: [b('b'), b('a'), b('a'), b('3')] }).equal).toBe(false); // order matters
      const h1 = (await readValue(c, b('h'))).value!;
      await c.hset('h', 'f2', 'changed');
      expect(valuesEqual(h1, (await readValue(c, b('h'))).value!).diff).toMatch(/hash field "f2": "v2" != "changed"/);
      expect(valuesEqual(h1, l1).diff).toBe('type hash != list');

      const st = (await readValue(c, b('st'))).value as StreamValue;
      await c.xack('st', 'g', '1-1');
      const st2 = (await readValue(c, b('st'))).value!;
      expect(valuesEqual(st, st2).equal).toBe(false);
      // metadata one side lacks is not compared
      const noMeta: StreamValue = { ...st, groups: st.groups.map((g) => ({ ...g, entriesRead: undefined })) };
      expect(valuesEqual(st, noMeta)).toEqual({ equal: true });
    });

    it('a changed TTL is not a value difference', async () => {
      const a = await readValue(c, b('s'));
      await c.pexpireat('s', EXPIRE_AT + 5000);
      const bb = await readValue(c, b('s'));
      expect(bb.expireAtMs).toBe(EXPIRE_AT + 5000);
      expect(valuesEqual(a.value!, bb.value!)).toEqual({ equal: true });
      await c.persist('s');
      expect((await readValue(c, b('s'))).expireAtMs).toBeNull();
    });
  });

  describe('startCluster', () => {
    it('reaches cluster_state:ok and routes keys through an ioredis Cluster client', async () => {
      const cl = await startCluster(3);
      started.push(cl);
      expect(cl.nodes).toHaveLength(3);
      expect(cl.startupNodes).toHaveLength(3);
      for (const n of cl.nodes) {
        const info = String(await n.client().call('CLUSTER', 'INFO'));
        expect(info).toMatch(/cluster_state:ok/);
        expect(info).toMatch(/cluster_slots_assigned:16384/);
        expect(info).toMatch(/cluster_known_nodes:3/);
      }
      const cc = cl.client();
      const keys = Array.from({ length: 30 }, (_, i) => `key:${i}`);
      for (const k of keys) await cc.set(k, `v-${k}`);
      for (const k of keys) expect(await cc.get(k)).toBe(`v-${k}`);
      // the keys really are spread over all three masters
      const perNode = await Promise.all(cl.nodes.map((n) => n.client().dbsize()));
      expect(perNode.reduce((x, y) => x + y, 0)).toBe(30);
      expect(perNode.every((n) => n > 0)).toBe(true);
      // readValue works through a Cluster client too
      await cc.rpush('{user:1}:list', 'a', 'b');
      expect((await readValue(cc, b('{user:1}:list'))).value).toEqual({ type: 'list', items: [b('a'), b('b')] });

      const pids = cl.nodes.map((n) => n.pid!);
      await cl.stop();
      expect(pids.some(alive)).toBe(false);
    });
  });

  it('everything started is stopped', async () => {
    await Promise.all(started.map((h) => h.stop()));
    expect(runningServers()).toBe(0);
  });
});
