/**
 * Issue 12: a diff must say which side is the input and which the target ("input: … / target: …"), for
 * every kind of difference validate reports. Real redis-server, built CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRedisWithDir, type RedisHandle, type RedisWithDir } from '../helpers/redis-server.js';
import { runCli } from '../helpers/cli.js';

const FAR = 4102444800000; // 2100-01-01

describe('validate diffs label input and target', () => {
  let redis: RedisHandle;
  let dir: string;
  let stop: RedisWithDir['stop'] | undefined;
  let input: string;
  beforeAll(async () => {
    ({ redis, dir, stop } = await startRedisWithDir('rekey-vlabels-'));
    input = join(dir, 'keys.jsonl');
    writeFileSync(input, [
      { db: 0, key: 's', type: 'string', value: 'in-input' },
      { db: 0, key: 'h', type: 'hash', value: { f: 'v', g: 'w' } },
      { db: 0, key: 'l', type: 'list', value: ['a', 'b'] },
      { db: 0, key: 'z', type: 'zset', value: [['m', 1.5]] },
      { db: 0, key: 't', type: 'string', value: 'x' },
      { db: 0, key: 'ttl', type: 'string', value: 'x', expire_at_ms: FAR },
      { db: 0, key: 'gone', type: 'set', value: ['a'] },
    ].map((l) => JSON.stringify(l)).join('\n') + '\n');
    const c = redis.client();
    await c.set('s', 'in-target');
    await c.hset('h', 'f', 'changed', 'g', 'w');
    await c.rpush('l', 'a', 'b', 'c');
    await c.zadd('z', 2.5, 'm');
    await c.rpush('t', 'x');
    await c.set('ttl', 'x');
    c.disconnect();
  });
  afterAll(() => stop?.());

  it('names the input side first and the target side second in every detail', async () => {
    const r = await runCli(['validate', input, '--target', redis.url, '--out-dir', dir, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const v = JSON.parse(r.stdout.toString()).validation;
    const detail = Object.fromEntries(v.mismatches.map((m: { key: string; detail: string }) => [m.key, m.detail]));
    expect(detail.s).toBe('string input: "in-input" / target: "in-target"');
    expect(detail.h).toBe('hash field "f": input: "v" / target: "changed"');
    expect(detail.l).toBe('list length input: 2 / target: 3 (target has "c")');
    expect(detail.z).toBe('zset score of "m": input: 1.5 / target: 2.5');
    expect(detail.t).toBe('type differs: input: string / target: list');
    expect(detail.ttl).toBe(`TTL differs: input: expires at ${FAR} / target: none`);
    expect(detail.gone).toMatch(/^not in the target \(input: a set \/ target: none/);
    expect(v.mismatched).toBe(7);
    // The screen shows the same labelled details.
    const screen = await runCli(['validate', input, '--target', redis.url, '--out-dir', dir]);
    expect(screen.stderr).toContain('value: db 0 s: string input: "in-input" / target: "in-target"');
  });
});
