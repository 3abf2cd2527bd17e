/**
 * RDB 13 key metadata (KEY_META) has no place in a RESTORE payload or in commands, so `import` refuses such
 * a key by name unless --lossy (it used to drop the metadata without a word). The RDB 13 input is made with
 * the project's writer; the target is the real Redis 7.0 at /usr/bin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RdbSink } from '../../src/sinks/rdb-sink.js';
import type { KeyRecord } from '../../src/records/types.js';
import { runCli } from '../helpers/cli.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { keyRecord, writeAll } from '../sinks/sink-helpers.js';

// Two classes: spec 01020304 with UINT 5; spec aabbccdd with STRING "hi" (as in test/jsonl/key-meta.test.ts).
const META = Buffer.from('f302' + '01020304' + '0205' + '00' + 'aabbccdd' + '05026869' + '00', 'hex');

let dir: string;
let input: string;
let redis: RedisHandle;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-import-meta-'));
  input = join(dir, 'in13.rdb');
  const withMeta: KeyRecord = Object.assign(keyRecord('m', { type: 'string', value: Buffer.from('v') }, { version: 13 }), { keyMeta: META });
  await writeAll(new RdbSink({ path: input, rdbVersion: 13 }), [withMeta, keyRecord('plain', { type: 'string', value: Buffer.from('p') }, { version: 13 })]);
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function importRun(extra: string[]) {
  const rep = mkdtempSync(join(dir, 'rep-'));
  const r = await runCli(['import', input, '--target', redis.url, '--live', '--yes', '--out-dir', rep, ...extra]);
  const f = readdirSync(rep).find((x) => x.startsWith('migration_report'))!;
  return { ...r, report: JSON.parse(readFileSync(join(rep, f), 'utf8')) };
}

describe('import of a key with KEY_META', () => {
  it('is refused by name without --lossy (exit 1); the other key arrives', async () => {
    const r = await importRun([]);
    expect(r.code).toBe(1);
    expect(JSON.stringify(r.report.error_keys)).toMatch(/key m: RESTORE cannot carry its key metadata \(KEY_META, 18 bytes\)/);
    const c = redis.client();
    expect(await c.exists('m')).toBe(0);
    expect(await c.get('plain')).toBe('p');
  });

  it('--lossy imports the value without it', async () => {
    const r = await importRun(['--lossy']);
    expect(r.code, r.stderr).toBe(0);
    expect(await redis.client().get('m')).toBe('v');
  });
});
