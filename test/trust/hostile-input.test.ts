/**
 * Hostile input ends in a clear error, never a stack trace (issue 15): an expiry beyond 2^53 ms, JSONL
 * nested 100k deep, a NaN zset score on its way to RDB, and a YAML alias bomb.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisAvailable, startRedis } from '../helpers/redis-server.js';
import { runCli } from '../helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-hostile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function noStack(stderr: string): void {
  expect(stderr).not.toMatch(/internal error|\n\s+at /);
}

describe('hostile input', () => {
  it.skipIf(!redisAvailable())('an expiry of 2^62 ms (Redis accepts it) is refused with its byte offset, not rounded', async () => {
    const r = await startRedis();
    try {
      const c = r.client();
      await c.set('a', '1');
      await c.pexpireat('a', '4611686018427387904'); // 2^62, as text: a JS number would round it
      await c.set('b', '2');
      await c.save();
      const file = join(r.dir, 'dump.rdb');
      for (const args of [['analyze', file], ['transform', file, '-o', join(dir, 'e.rdb')], ['transform', file, '-o', join(dir, 'e.jsonl')]]) {
        const res = await runCli([...args, '--out-dir', dir]);
        expect(res.code, res.stderr).toBe(2);
        expect(res.stderr).toMatch(/dump\.rdb: at byte \d+: expected an expire time \(ms\) below 2\^53, got 4611686018427387904/);
        noStack(res.stderr);
      }
      expect(existsSync(join(dir, 'e.rdb'))).toBe(false);
    } finally {
      await r.stop();
    }
  });

  it('a JSONL expiry beyond 2^53 is refused by line, not rounded', async () => {
    const f = join(dir, 'big-exp.jsonl');
    writeFileSync(f, '{"db":0,"key":"a","type":"string","expire_at_ms":4611686018427387904,"value":"1"}\n');
    const res = await runCli(['transform', f, '-o', join(dir, 'big-exp.rdb'), '--out-dir', dir]);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toMatch(/line 1.*expire_at_ms/);
    noStack(res.stderr);
  });

  it('JSONL nested 100k deep is a bad line (exit 2), and skipped and counted with --skip-bad-lines', async () => {
    const f = join(dir, 'deep.jsonl');
    const d = 100_000;
    writeFileSync(f, `{"db":0,"key":"k","type":"list","expire_at_ms":null,"value":${'['.repeat(d)}${']'.repeat(d)}}\n{"db":0,"key":"ok","type":"string","expire_at_ms":null,"value":"v"}\n`);
    const res = await runCli(['transform', f, '-o', join(dir, 'deep.rdb'), '--out-dir', dir]);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toMatch(/deep\.jsonl: .*line 1: value\[0\]: .*nested too deep to print/);
    noStack(res.stderr);
    const skip = await runCli(['transform', f, '--skip-bad-lines', '-o', join(dir, 'deep.rdb'), '--out-dir', dir]);
    expect(skip.code, skip.stderr).toBe(0);
    expect(skip.stderr).toMatch(/1 keys read, 1 written/);
    expect(skip.stderr).toMatch(/bad lines skipped .*: 1/);
  });

  it('a NaN zset score cannot go into an RDB: that key is refused and named, the others are written', async () => {
    const f = join(dir, 'nan.jsonl');
    writeFileSync(f, '{"db":0,"key":"z","type":"zset","expire_at_ms":null,"value":[["m","nan"]]}\n{"db":0,"key":"s","type":"string","expire_at_ms":null,"value":"v"}\n');
    const res = await runCli(['transform', f, '-o', join(dir, 'nan.rdb'), '--out-dir', dir, '--json']);
    expect(res.code, res.stderr).toBe(1);
    noStack(res.stderr);
    const report = JSON.parse(res.stdout.toString()) as { migration_stats: { migrated_successfully: number; migration_errors: number }; migrated_keys: Array<{ new_key: string }>; error_keys: Array<{ key: string; error: string }> };
    expect(report.migration_stats).toMatchObject({ migrated_successfully: 1, migration_errors: 1 });
    expect(report.error_keys).toEqual([{ db: 0, key: 'z', error: expect.stringMatching(/score is NaN/) }]);
    expect(report.migrated_keys.map((k) => k.new_key)).toEqual(['s']);
    // JSONL → JSONL carries the NaN as it came ("nan"), nothing is encoded on the way.
    const j = await runCli(['transform', f, '-o', join(dir, 'nan-out.jsonl'), '--out-dir', dir]);
    expect(j.code, j.stderr).toBe(0);
  });

  it('a YAML alias bomb is a rules-file error (exit 2), not a crash', async () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill('*' + String.fromCharCode(96 + i)).join(',')}]`);
    lines.push('rules: []');
    const f = join(dir, 'bomb.yaml');
    writeFileSync(f, lines.join('\n') + '\n');
    const res = await runCli(['rules', 'test', f]);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stdout.toString() + res.stderr).toMatch(/aliases .* past 1000 copies/);
    noStack(res.stderr);
  });
});
