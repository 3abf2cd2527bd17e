/**
 * Redis 8.x ↔ Valkey 9, exact, on real servers (the `npm run servers` cache; each direction skips with the
 * reason when a server is missing). Each source server makes its own dump with field-TTL hashes (small:
 * listpack-ex, big: hashtable), a stream with a group, and (Redis) a vector set. rekey writes it for the
 * other fork; that server loads the file (and takes a live `import`), and every key reads back equal to
 * the source's own readback, field TTLs included. What the other fork cannot hold is refused per key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { readValue, valuesEqual, type ReadValueResult } from '../../src/validate/read-value.js';
import { runCli } from '../helpers/cli.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { findServer, whyMissing, type CachedServer } from '../helpers/servers.js';
import { idmpTail, keyRecord, v4Stream } from '../helpers/records.js';
import { RdbSink } from '../../src/sinks/rdb-sink.js';
import type { KeyRecord } from '../../src/records/types.js';
import { writeAll } from '../sinks/sink-helpers.js';
import { sample } from '../encode/sample-values.js';

const REDIS8 = 'redis-8.0'; // the newest Redis 8 Debian's sources build here (8.6 when the cache has it)
const VALKEY9 = 'valkey-9.1';

function server(prefix: string): { s: CachedServer | null; missing: string | null } {
  const s = findServer(prefix);
  return { s, missing: s ? null : whyMissing(prefix) ?? `no ${prefix} in the servers cache` };
}
const redis8 = server('redis-8.6').s ? server('redis-8.6') : server(REDIS8);
const valkey9 = server(VALKEY9);
const missing = redis8.missing ?? valkey9.missing;

function start(s: CachedServer, rdbFile?: string): Promise<RedisHandle> {
  return startRedis({ binary: s.server, debugCommand: s.debugCommand, ...(rdbFile ? { rdbFile } : {}) });
}

const FAR = Date.now() + 3 * 86_400_000;

/** The same data on either fork: field TTLs set with HPEXPIREAT (both have it). */
async function populate(c: Redis, fork: 'redis' | 'valkey'): Promise<void> {
  await c.set('str', 'plain', 'PXAT', FAR);
  await c.rpush('list', 'a', 'b', 'c');
  await c.sadd('set', 'x', 'y');
  await c.zadd('zset', 1, 'one', 2.5, 'two');
  await c.hset('h:small', 'f1', 'v1', 'f2', 'v2', 'f3', 'v3');
  await c.call('HPEXPIREAT', 'h:small', String(FAR), 'FIELDS', '2', 'f1', 'f3');
  const big: string[] = [];
  for (let i = 0; i < 300; i++) big.push(`field:${i}`, `value:${i}`);
  await c.hset('h:big', ...big);
  await c.call('HPEXPIREAT', 'h:big', String(FAR + 1000), 'FIELDS', '3', 'field:0', 'field:150', 'field:299');
  await c.call('HPEXPIREAT', 'h:ttl-key', String(FAR), 'FIELDS', '1', 'nope'); // no such key: no-op
  await c.hset('h:ttl-key', 'only', 'one');
  await c.call('HPEXPIREAT', 'h:ttl-key', String(FAR + 5), 'FIELDS', '1', 'only');
  await c.pexpireat('h:ttl-key', FAR + 10);
  await c.xadd('stream', '1-1', 'k', 'v');
  await c.xadd('stream', '2-1', 'k', 'w');
  await c.xgroup('CREATE', 'stream', 'g', '0');
  await c.call('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '1', 'STREAMS', 'stream', '>');
  if (fork === 'redis') await c.call('VADD', 'vs', 'VALUES', '3', '0.1', '0.2', '0.3', 'elem');
}

const PORTABLE = ['str', 'list', 'set', 'zset', 'h:small', 'h:big', 'h:ttl-key', 'stream'];

async function readAll(h: RedisHandle, keys: string[]): Promise<Map<string, ReadValueResult>> {
  const c = h.client();
  const out = new Map<string, ReadValueResult>();
  for (const k of keys) out.set(k, await readValue(c, Buffer.from(k)));
  return out;
}

function expectEqual(got: Map<string, ReadValueResult>, want: Map<string, ReadValueResult>, streamTimes = true): void {
  for (const [k, w] of want) {
    const g = got.get(k)!;
    expect(g.type, k).toBe(w.type);
    expect(valuesEqual(w.value!, g.value!, { streamTimes }).diff, k).toBeUndefined();
    expect(g.expireAtMs, `${k} expiry`).toBe(w.expireAtMs);
  }
}

/** A source server's own dump and readback. */
async function sourceDump(s: CachedServer, fork: 'redis' | 'valkey', dir: string): Promise<{ file: string; truth: Map<string, ReadValueResult> }> {
  const h = await start(s);
  try {
    const c = h.client();
    await populate(c, fork);
    const truth = await readAll(h, PORTABLE);
    // the field TTLs really are there (the point of the test)
    const ttls = (k: string) => ((truth.get(k)!.value as { expires?: Array<number | null> }).expires ?? []).filter((x) => x !== null).length;
    expect([ttls('h:small'), ttls('h:big'), ttls('h:ttl-key')]).toEqual([2, 3, 1]);
    await c.save();
    const file = join(dir, `${fork}-source.rdb`);
    copyFileSync(join(h.dir, 'dump.rdb'), file);
    return { file, truth };
  } finally {
    await h.stop();
  }
}

async function transform(input: string, target: string, dir: string, lossy: boolean) {
  const out = join(dir, `${target}${lossy ? '-lossy' : ''}.rdb`);
  const rep = mkdtempSync(join(dir, 'rep-'));
  const r = await runCli(['transform', input, '-o', out, '--rdb-version', target, '--out-dir', rep, ...(lossy ? ['--lossy'] : [])]);
  const f = readdirSync(rep).find((x) => x.startsWith('migration_report'))!;
  return { ...r, out, report: JSON.parse(readFileSync(join(rep, f), 'utf8')) };
}

async function importInto(input: string, h: RedisHandle, dir: string, extra: string[]) {
  const rep = mkdtempSync(join(dir, 'rep-'));
  const r = await runCli(['import', input, '--target', h.url, '--live', '--yes', '--out-dir', rep, ...extra]);
  const f = readdirSync(rep).find((x) => x.startsWith('migration_report'))!;
  return { ...r, report: JSON.parse(readFileSync(join(rep, f), 'utf8')) };
}

describe.skipIf(missing !== null)(`Redis 8 ↔ Valkey 9 on real servers${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let dir: string;
  let fromRedis: { file: string; truth: Map<string, ReadValueResult> };
  let fromValkey: { file: string; truth: Map<string, ReadValueResult> };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-cross-'));
    fromRedis = await sourceDump(redis8.s!, 'redis', dir);
    fromValkey = await sourceDump(valkey9.s!, 'valkey', dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`${redis8.s?.name} → ${VALKEY9} file: the vector set refused by name, every other key equal in Valkey`, async () => {
    const strict = await transform(fromRedis.file, VALKEY9, dir, false);
    expect(strict.code).toBe(1);
    expect(JSON.stringify(strict.report.error_keys)).toMatch(/vs.*vectorset.*valkey-9\.1 ships no such module/);
    const r = await transform(fromRedis.file, VALKEY9, dir, true);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.output.rdb.lost.by_kind).toEqual({ module: 1 });
    expect(readFileSync(r.out).subarray(0, 9).toString('latin1')).toBe('VALKEY080');
    const h = await start(valkey9.s!, r.out);
    try {
      expect(Number(await h.client().dbsize())).toBe(PORTABLE.length);
      expectEqual(await readAll(h, PORTABLE), fromRedis.truth);
    } finally {
      await h.stop();
    }
  });

  it(`${VALKEY9} → ${redis8.s?.name} file: HASH_2 as Redis field-TTL hashes, every key equal in Redis`, async () => {
    const target = `redis-${redis8.s!.semver[0]}.${redis8.s!.semver[1]}`;
    const r = await transform(fromValkey.file, target, dir, false);
    expect(r.code, r.stderr).toBe(0);
    const h = await start(redis8.s!, r.out);
    try {
      expect(Number(await h.client().dbsize())).toBe(PORTABLE.length);
      expectEqual(await readAll(h, PORTABLE), fromValkey.truth);
    } finally {
      await h.stop();
    }
  });

  it(`${redis8.s?.name} → ${VALKEY9} RESP (RESTORE payloads): replayed with Valkey's redis-cli, every key equal`, async () => {
    // RDB 12 payloads carry footers Valkey 9 refuses (12–79) and types 24/25 it reads otherwise: converted
    const out = join(dir, 'to-valkey.resp');
    const rep = mkdtempSync(join(dir, 'rep-'));
    const r = await runCli(['transform', fromRedis.file, '-o', out, '--rdb-version', VALKEY9, '--lossy', '--out-dir', rep]);
    expect(r.code, r.stderr).toBe(0);
    const h = await start(valkey9.s!);
    try {
      const pipe = spawnSync(valkey9.s!.cli, ['-h', '127.0.0.1', '-p', String(h.port), '--pipe'], { input: readFileSync(out), encoding: 'utf8' });
      expect(pipe.status, pipe.stdout + pipe.stderr).toBe(0);
      expectEqual(await readAll(h, PORTABLE), fromRedis.truth);
    } finally {
      await h.stop();
    }
  });

  it('import auto both ways: every key equal, the vector set refused per key', async () => {
    const v = await start(valkey9.s!);
    try {
      const strict = await importInto(fromRedis.file, v, dir, []);
      expect(strict.code).toBe(1);
      expect(JSON.stringify(strict.report.error_keys)).toMatch(/vs.*vectorset/);
      expect(strict.report.target.profile).toBe('valkey-9.1');
      expectEqual(await readAll(v, PORTABLE), fromRedis.truth);
    } finally {
      await v.stop();
    }
    const rd = await start(redis8.s!);
    try {
      const r = await importInto(fromValkey.file, rd, dir, []);
      expect(r.code, r.stderr).toBe(0);
      expectEqual(await readAll(rd, PORTABLE), fromValkey.truth);
      // no command writes a vector set: --mode commands names it lost under --lossy (an error without)
      await rd.client().flushall();
      const cmds = await importInto(fromRedis.file, rd, dir, ['--mode', 'commands']);
      expect(cmds.code).toBe(1);
      const lossy = await importInto(fromRedis.file, rd, dir, ['--mode', 'commands', '--lossy']);
      expect(lossy.code, lossy.stderr).toBe(0);
      expect(lossy.report.import.lost.by_kind).toEqual({ module: 1 });
      expect(lossy.report.import.lost.keys[0].key).toBe('vs');
      expectEqual(await readAll(rd, PORTABLE), fromRedis.truth, false); // commands cannot set consumer times (README)
    } finally {
      await rd.stop();
    }
  });
});

// Redis 8.6's own additions cannot come from a server here (the cache has no 8.6): the project's writer
// makes the RDB 13 file from the Redis source's definitions (docs/rdb-format.md §9.5, §10).
const META = Buffer.from('f302' + '01020304' + '0205' + '00' + 'aabbccdd' + '05026869' + '00', 'hex');

describe.skipIf(valkey9.missing !== null)(`RDB 13 (Redis 8.6) → ${VALKEY9}${valkey9.missing ? ` (skipped: ${valkey9.missing})` : ''}`, () => {
  let dir: string;
  let input: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-cross13-'));
    input = join(dir, 'in13.rdb');
    const meta: KeyRecord = Object.assign(keyRecord('m', { type: 'string', value: Buffer.from('v') }, { version: 13 }), { keyMeta: META });
    await writeAll(new RdbSink({ path: input, rdbVersion: 13 }), [
      meta,
      v4Stream('s:idmp', sample('stream-meta'), idmpTail([{ id: 'p1', iids: ['a', 'b'] }], 2)),
      keyRecord('h', sample('hash-ttl-small'), { version: 13 }),
    ]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('key metadata and IDMP state refused per key by name; under --lossy counted, and the file loads equal', async () => {
    const strict = await transform(input, VALKEY9, dir, false);
    expect(strict.code).toBe(1);
    const errors = JSON.stringify(strict.report.error_keys);
    expect(errors).toMatch(/"m".*key metadata \(KEY_META/);
    expect(errors).toMatch(/s:idmp.*stream IDMP state \(1 producers, 2 IIDs/);
    expect(errors).not.toMatch(/"h"/);
    const r = await transform(input, VALKEY9, dir, true);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.output.rdb.lost.by_kind).toEqual({ key_meta: 1, stream_idmp: 1 });
    expect(JSON.stringify(r.report.output.rdb.lost.keys)).toMatch(/s:idmp/);
    const h = await start(valkey9.s!, r.out);
    try {
      const got = await readAll(h, ['m', 's:idmp', 'h']);
      expect(got.get('m')!.value).toEqual({ type: 'string', value: Buffer.from('v') });
      expect(valuesEqual(sample('stream-meta'), got.get('s:idmp')!.value!).diff).toBeUndefined();
      expect(valuesEqual(sample('hash-ttl-small'), got.get('h')!.value!).diff).toBeUndefined();
    } finally {
      await h.stop();
    }
  });
});
