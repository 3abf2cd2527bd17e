/**
 * Values far bigger than a call's argument limit: validate reads them back in chunks and must compare
 * them, not fail with "Maximum call stack size exceeded" (a spread push of 190k fields did).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { makeRdb } from '../import/helpers.js';
import { runValidate, type ValidateArgs } from '../../src/commands/validate.js';
import { readValue } from '../../src/validate/read-value.js';

const N = 200_000;

async function fillBig(c: Redis): Promise<void> {
  for (let start = 0; start < N; start += 10_000) {
    const p = c.pipeline();
    const h: string[] = [];
    const l: string[] = [];
    const z: Array<string | number> = [];
    for (let i = start; i < start + 10_000; i++) {
      h.push(`f${i}`, `v${i}`);
      l.push(`e${i}`);
      z.push(i, `m${i}`);
    }
    p.hset('big:hash', ...h);
    p.rpush('big:list', ...l);
    p.zadd('big:zset', ...z);
    p.sadd('big:set', ...l);
    await p.exec();
  }
}

describe('validate with 200k-element values', () => {
  let dir: string;
  let rdb: string;
  let target: RedisHandle;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-bigval-'));
    rdb = join(dir, 'big.rdb');
    await makeRdb(rdb, fillBig);
    target = await startRedis({ rdbFile: rdb });
  }, 120_000);
  afterAll(async () => {
    await target?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a 200k-field hash back whole', async () => {
    const c = target.client();
    const got = await readValue(c, Buffer.from('big:hash'));
    expect(got.type).toBe('hash');
    expect(got.value?.type === 'hash' ? got.value.entries.length : -1).toBe(N);
    const list = await readValue(c, Buffer.from('big:list'));
    expect(list.value?.type === 'list' ? list.value.items.length : -1).toBe(N);
    const zset = await readValue(c, Buffer.from('big:zset'));
    expect(zset.value?.type === 'zset' ? zset.value.entries.length : -1).toBe(N);
  }, 120_000);

  it('validates the dump against the server that loaded it with no mismatch', async () => {
    const a: ValidateArgs = { input: rdb, target: target.url, 'out-dir': dir, json: false, 'ignore-checksum': false, 'allow-future-version': false };
    const code = await runValidate(a);
    expect(code).toBe(0);
  }, 120_000);
});
