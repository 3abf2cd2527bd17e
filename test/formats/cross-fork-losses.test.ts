/**
 * Import names every loss per key (encode/losses.ts, the one policy), on a real Redis 7.0: under --lossy a
 * module value the target lacks is a counted loss (not written, not an error), a stream v4 whose IDMP
 * state a converted RESTORE drops and a key whose KEY_META no payload carries are written and named in
 * the report's `import.lost`; without --lossy each is refused by name (exit 1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RdbSink } from '../../src/sinks/rdb-sink.js';
import type { KeyRecord } from '../../src/records/types.js';
import { runCli } from '../helpers/cli.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { idmpTail, keyRecord, moduleValue, v4Stream } from '../helpers/records.js';
import { writeAll } from '../sinks/sink-helpers.js';
import { sample } from '../encode/sample-values.js';

const META = Buffer.from('f302' + '01020304' + '0205' + '00' + 'aabbccdd' + '05026869' + '00', 'hex');

let dir: string;
let input: string;
let redis: RedisHandle;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-import-losses-'));
  input = join(dir, 'in13.rdb');
  const meta: KeyRecord = Object.assign(keyRecord('m', { type: 'string', value: Buffer.from('v') }, { version: 13 }), { keyMeta: META });
  await writeAll(new RdbSink({ path: input, rdbVersion: 13 }), [
    keyRecord('vs', moduleValue('vectorset', 'vectors'), { version: 13 }),
    v4Stream('s:idmp', sample('stream-meta'), idmpTail([{ id: 'p1', iids: ['a', 'b'] }], 2)),
    meta,
    keyRecord('plain', { type: 'string', value: Buffer.from('p') }, { version: 13 }),
  ]);
  redis = await startRedis(); // /usr/bin/redis-server 7.0: RDB 10, no vectorset, no KEY_META
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function importRun(extra: string[]) {
  await redis.client().flushall();
  const rep = mkdtempSync(join(dir, 'rep-'));
  const r = await runCli(['import', input, '--target', redis.url, '--yes', '--out-dir', rep, ...extra]);
  const f = readdirSync(rep).find((x) => x.startsWith('migration_report'))!;
  return { ...r, report: JSON.parse(readFileSync(join(rep, f), 'utf8')) };
}

describe('import: losses named per key', () => {
  it('without --lossy: the module value, the IDMP stream and the KEY_META key are refused by name', async () => {
    const r = await importRun(['--live', '--mode', 'restore']);
    expect(r.code).toBe(1);
    const errors = JSON.stringify(r.report.error_keys);
    expect(errors).toMatch(/vs.*vectorset/);
    expect(errors).toMatch(/s:idmp.*stream IDMP state/);
    expect(errors).toMatch(/"m".*KEY_META/);
    expect(r.report.import.lost.total_keys).toBe(0);
    expect(await redis.client().exists('plain')).toBe(1);
  });

  it('--lossy (converted RESTORE): three counted losses, each key named, no error, exit 0', async () => {
    const r = await importRun(['--live', '--mode', 'restore', '--lossy']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.error_keys).toEqual([]);
    expect(r.report.import.keys_lost).toBe(1);
    expect(r.report.import.lost.by_kind).toEqual({ module: 1, stream_idmp: 1, key_meta: 1 });
    const named = Object.fromEntries(r.report.import.lost.keys.map((k: { key: string; lost: string[] }) => [k.key, k.lost.join('; ')]));
    expect(named.vs).toMatch(/module value of type vectorset \(redis-7\.0 ships no such module\)/);
    expect(named['s:idmp']).toMatch(/stream IDMP state \(1 producers, 2 IIDs/);
    expect(named.m).toMatch(/key metadata \(KEY_META, \d+ bytes\)/);
    expect(r.stderr).toMatch(/lost \(--lossy\): 3 keys \(.*module: 1.*; 1 of them not written\)/);
    const c = redis.client();
    expect(await c.exists('vs')).toBe(0);
    expect(await c.xlen('s:idmp')).toBe((sample('stream-meta') as { length: number }).length);
    expect(await c.get('m')).toBe('v');
    expect(r.report.import.via_restore_converted).toBe(1);
  });

  it('--lossy as commands: KEY_META named the same way', async () => {
    const r = await importRun(['--live', '--mode', 'commands', '--lossy']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.import.lost.by_kind.key_meta).toBe(1);
    expect(r.report.import.lost.by_kind.module).toBe(1);
  });

  it('the dry run counts the module key as lost, not refused', async () => {
    const r = await importRun(['--lossy', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.stringify(r.report)).toMatch(/"lost":1/);
    expect(JSON.stringify(r.report)).toMatch(/"refused":0/);
  });
});
