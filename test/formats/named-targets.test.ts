/**
 * Named targets (`transform --rdb-version redis-8.6 | valkey-9.0 | …`): the version table, and files
 * written for a named server that real servers from the `npm run servers` cache load with equal content
 * (Redis 7.0 at /usr/bin always; the others skip with the reason when the cache lacks them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namedTarget, redisRdbVersion, valkeyRdbVersion } from '../../src/redis/server-versions.js';
import { parseRdbVersion } from '../../src/commands/transform.js';
import { RdbSink } from '../../src/sinks/rdb-sink.js';
import type { KeyRecord, RdbRecord, Value } from '../../src/records/types.js';
import { valuesEqual } from '../../src/validate/read-value.js';
import { runCli } from '../helpers/cli.js';
import { startRedis } from '../helpers/redis-server.js';
import { findServer, whyMissing } from '../helpers/servers.js';
import { moduleValue } from '../helpers/records.js';
import { expectServerHas, keyRecord, parseFile, writeAll } from '../sinks/sink-helpers.js';
import { sample, withoutFieldTtls } from '../encode/sample-values.js';

describe('the version table', () => {
  it('maps server versions to the RDB version they load', () => {
    expect(redisRdbVersion('6.2.16')).toBe(9);
    expect(redisRdbVersion('7.0.15')).toBe(10);
    expect(redisRdbVersion('7.2.4')).toBe(11);
    for (const v of ['7.4.1', '8.0.6', '8.2.1', '8.4.0']) expect(redisRdbVersion(v), v).toBe(12);
    expect(redisRdbVersion('8.6.3')).toBe(13);
    expect(redisRdbVersion('8.8.0')).toBe(14);
    expect(redisRdbVersion('8.10.0')).toBe(15);
    expect(valkeyRdbVersion('8.1.1')).toBe(11);
    expect(valkeyRdbVersion('9.0.4')).toBe(80);
    expect(valkeyRdbVersion('9.1.2')).toBe(80);
    expect(valkeyRdbVersion('9.2.0')).toBe(81);
  });

  it('names each server line with what rekey writes for it', () => {
    const t = (n: string) => {
      const x = namedTarget(n)!;
      return [x.rdbVersion, x.flavor, x.hashFieldTtl, x.modules.join(',')];
    };
    expect(t('redis-6.2')).toEqual([9, 'redis', false, '']);
    expect(t('redis-7.0')).toEqual([10, 'redis', false, '']);
    expect(t('redis-7.2')).toEqual([11, 'redis', false, '']);
    expect(t('redis-7.4')).toEqual([12, 'redis', true, '']);
    for (const n of ['redis-8.0', 'redis-8.2', 'redis-8.4']) expect(t(n), n).toEqual([12, 'redis', true, 'vectorset']);
    expect(t('redis-8.6')).toEqual([13, 'redis', true, 'vectorset']);
    // 8.8/8.10 load RDB 14/15 and every older version; rekey writes 13, the newest it can write.
    expect(t('redis-8.8')).toEqual([13, 'redis', true, 'vectorset']);
    expect(namedTarget('redis-8.8')!.serverRdbVersion).toBe(14);
    expect(t('redis-8.10')).toEqual([13, 'redis', true, 'vectorset']);
    expect(namedTarget('redis-8.10')!.serverRdbVersion).toBe(15);
    for (const n of ['valkey-7.2', 'valkey-8.0', 'valkey-8.1']) expect(t(n), n).toEqual([11, 'redis', false, '']);
    expect(t('valkey-9.0')).toEqual([80, 'valkey', true, '']);
    expect(t('valkey-9.1')).toEqual([80, 'valkey', true, '']);
    expect(t('valkey-9.2')).toEqual([81, 'valkey', true, '']);
    expect(namedTarget('Redis-8.6')!.name).toBe('redis-8.6');
    expect(namedTarget('redis-9.9')).toBeNull();
    expect(namedTarget('keydb-6.3')).toBeNull();
  });

  it('--rdb-version takes a number or a name, and refuses anything else by name', () => {
    expect(parseRdbVersion('9')).toEqual({ rdbVersion: 9, named: null });
    expect(parseRdbVersion(12).rdbVersion).toBe(12);
    expect(parseRdbVersion('valkey-9.0').named?.flavor).toBe('valkey');
    expect(() => parseRdbVersion('redis-5.5')).toThrow(/not a version number or a known server \(.*valkey-9\.0/);
  });
});

const FUTURE = Date.now() + 86_400_000;
let dir: string;
let input: string;
const keys: Array<{ key: string; value: Value }> = [
  { key: 'str', value: { type: 'string', value: Buffer.from('plain value') } },
  { key: 'h:ttl', value: sample('hash-ttl-small') },
  { key: 'h:plain', value: { type: 'hash', entries: [[Buffer.from('f'), Buffer.from('v')]] } },
  { key: 'stream', value: sample('stream-meta') },
  { key: 'vs', value: moduleValue('vectorset', 'vectors') },
  { key: 'json', value: moduleValue('ReJSON-RL', '{}') },
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-named-'));
  input = join(dir, 'in.rdb');
  // The project's own writer makes the input: an RDB 12 file as Redis 8.0 writes it.
  const records: RdbRecord[] = keys.map((k) => keyRecord(k.key, k.value, { version: 12, expireAtMs: k.key === 'str' ? FUTURE : null }));
  await writeAll(new RdbSink({ path: input, rdbVersion: 12 }), records);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function transform(target: string, lossy: boolean): Promise<{ code: number; path: string; report: any; stderr: string }> {
  const path = join(dir, `${target}${lossy ? '-lossy' : ''}.rdb`);
  const outDir = mkdtempSync(join(dir, 'report-'));
  const r = await runCli(['transform', input, '-o', path, '--rdb-version', target, '--out-dir', outDir, '--json', ...(lossy ? ['--lossy'] : [])]);
  const reportFile = readdirSync(outDir).find((f) => f.startsWith('migration_report'));
  const report = reportFile ? JSON.parse(readFileSync(join(outDir, reportFile), 'utf8')) : null;
  return { code: r.code, path, report, stderr: r.stderr };
}

const byKey = (recs: RdbRecord[]) => new Map(recs.filter((r): r is KeyRecord => r.kind === 'key').map((r) => [r.key.toString(), r]));

describe('transform --rdb-version <server>', () => {
  it('valkey-9.0: VALKEY080 magic, field-TTL hashes as HASH_2, every module value refused by name', async () => {
    const r = await transform('valkey-9.0', false);
    expect(r.code, r.stderr).toBe(1);
    expect(readFileSync(r.path).subarray(0, 9).toString('latin1')).toBe('VALKEY080');
    const out = byKey(await parseFile(r.path));
    expect([...out.keys()].sort()).toEqual(['h:plain', 'h:ttl', 'str', 'stream']);
    const h = out.get('h:ttl')!;
    expect(h.flavor).toBe('valkey');
    expect(h.rdbType).toBe(22);
    expect(valuesEqual(sample('hash-ttl-small'), h.decode()).diff).toBeUndefined();
    expect(valuesEqual(sample('stream-meta'), out.get('stream')!.decode()).diff).toBeUndefined();
    const errors = JSON.stringify(r.report.error_keys);
    expect(errors).toMatch(/vs.*vectorset.*valkey-9\.0 ships no such module/);
    expect(errors).toMatch(/json.*ReJSON-RL/);
  });

  it('valkey-9.0 --lossy: module values skipped and counted as losses, exit 0', async () => {
    const r = await transform('valkey-9.0', true);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.output.rdb.lost.by_kind).toEqual({ module: 2 });
    expect(byKey(await parseFile(r.path)).size).toBe(4);
  });

  it('redis-8.0 keeps the vector set it ships and refuses the JSON value it may not', async () => {
    const r = await transform('redis-8.0', false);
    expect(r.code).toBe(1);
    expect(readFileSync(r.path).subarray(0, 9).toString('latin1')).toBe('REDIS0012');
    const out = byKey(await parseFile(r.path));
    expect(out.has('vs')).toBe(true);
    expect(out.has('json')).toBe(false);
    expect(out.get('h:ttl')!.rdbType).toBe(25);
  });

  it('valkey-8.1: REDIS0011, field TTLs are a counted loss (refused without --lossy)', async () => {
    const strict = await transform('valkey-8.1', false);
    expect(strict.code).not.toBe(0);
    const r = await transform('valkey-8.1', true);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(r.path).subarray(0, 9).toString('latin1')).toBe('REDIS0011');
    const out = byKey(await parseFile(r.path));
    expect(valuesEqual(withoutFieldTtls(sample('hash-ttl-small')), out.get('h:ttl')!.decode()).diff).toBeUndefined();
  });
});

/** Values every target loads alike (module values and streams are covered above and in test/encode). */
const loadKeys: Array<{ key: string; value: Value }> = [
  { key: 'str', value: { type: 'string', value: Buffer.from('plain value') } },
  { key: 'h:ttl', value: sample('hash-ttl-small') },
  { key: 'h:plain', value: { type: 'hash', entries: [[Buffer.from('f'), Buffer.from('v')]] } },
  { key: 'list', value: sample('list-big') },
  { key: 'set', value: sample('set-strings') },
];

describe('the files load into the servers they are named for', () => {
  let loadInput: string;
  beforeAll(async () => {
    loadInput = join(dir, 'load-in.rdb');
    const records = loadKeys.map((k) => keyRecord(k.key, k.value, { version: 12, expireAtMs: k.key === 'str' ? FUTURE : null }));
    await writeAll(new RdbSink({ path: loadInput, rdbVersion: 12 }), records);
  });
  const cases: Array<[target: string, server: string | null]> = [
    ['redis-7.0', null], // /usr/bin/redis-server
    ['redis-6.2', 'redis-6.2'],
    ['redis-7.4', 'redis-7.4'],
    ['redis-8.0', 'redis-8.0'],
    ['redis-8.6', 'redis-8.6'],
    ['valkey-8.1', 'valkey-8.1'],
    ['valkey-9.1', 'valkey-9.1'],
  ];
  for (const [target, prefix] of cases) {
    const cached = prefix ? findServer(prefix) : null;
    const missing = prefix && !cached ? whyMissing(prefix) ?? `no ${prefix} in the servers cache` : null;
    it.skipIf(missing !== null)(`${target}${missing ? ` (skipped: ${missing})` : ''}`, async () => {
      const path = join(dir, `load-${target}.rdb`);
      const r = await runCli(['transform', loadInput, '-o', path, '--rdb-version', target, '--lossy', '--out-dir', mkdtempSync(join(dir, 'rep-'))]);
      expect(r.code, r.stderr).toBe(0);
      const t = namedTarget(target)!;
      const redis = await startRedis({ rdbFile: path, ...(cached ? { binary: cached.server, debugCommand: cached.debugCommand } : {}) });
      try {
        await expectServerHas(redis, loadKeys.map((k) => ({
          db: 0,
          key: Buffer.from(k.key),
          value: t.hashFieldTtl ? k.value : withoutFieldTtls(k.value),
          expireAtMs: k.key === 'str' ? FUTURE : null,
        })));
      } finally {
        await redis.stop();
      }
    });
  }
});
