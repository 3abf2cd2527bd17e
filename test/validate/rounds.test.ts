/**
 * Issue 13: `validate --rounds N` (RedisFullCheck's rounds) against a target still being written to. A
 * real redis-server starts with 20 of 200 keys stale; a writer brings some up to date between rounds
 * (on the CLI's own "round k: …" line, during its pause). Only keys still different after the last round
 * are mismatches, and the report says per round how many were compared and found different.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRedisWithDir, type RedisHandle, type RedisWithDir } from '../helpers/redis-server.js';
import { CLI, runCli } from '../helpers/cli.js';

const N = 200;

describe('validate --rounds', () => {
  let redis: RedisHandle;
  let dir: string;
  let stop: RedisWithDir['stop'] | undefined;
  let input: string;
  beforeAll(async () => {
    ({ redis, dir, stop } = await startRedisWithDir('rekey-vrounds-'));
    input = join(dir, 'keys.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < N; i++) lines.push(JSON.stringify({ db: 0, key: `k:${i}`, type: 'string', value: `v${i}` }));
    writeFileSync(input, lines.join('\n') + '\n');
  });
  afterAll(() => stop?.());

  async function stale(): Promise<void> {
    const c = redis.client();
    await c.flushall();
    const p = c.pipeline();
    for (let i = 0; i < N; i++) p.set(`k:${i}`, i < 20 ? `old${i}` : `v${i}`);
    await p.exec();
    c.disconnect();
  }

  it('re-compares keys found different; a writer catching up between rounds leaves only the rest as mismatches', async () => {
    await stale();
    const out = join(dir, 'three');
    const c = redis.client();
    const fixes: Record<number, () => Promise<void>> = {
      // After round 1: 10 of the 20 stale keys catch up.
      1: async () => {
        for (let i = 0; i < 10; i++) await c.set(`k:${i}`, `v${i}`);
      },
      // After round 2: 5 more.
      2: async () => {
        for (let i = 10; i < 15; i++) await c.set(`k:${i}`, `v${i}`);
      },
    };
    const child = spawn(process.execPath, [CLI, 'validate', input, '--target', redis.url, '--rounds', '3', '--round-pause', '3000', '--out-dir', out], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const seen = new Set<number>();
    const writes: Promise<void>[] = [];
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      for (const m of stderr.matchAll(/round (\d+): \d+ of \d+ keys differ/g)) {
        const k = Number(m[1]);
        if (!seen.has(k)) {
          seen.add(k);
          writes.push(fixes[k]?.() ?? Promise.resolve());
        }
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    await Promise.all(writes);
    c.disconnect();
    expect(stderr).toMatch(/round 1: 20 of 200 keys differ; comparing them again in 3 s/);
    expect(stderr).toMatch(/round 2: 10 of 20 keys differ/);
    expect(code, stderr).toBe(1);
    const f = readdirSync(out).find((n) => n.startsWith('validation_report_') && n.endsWith('.json'))!;
    const v = JSON.parse(readFileSync(join(out, f), 'utf8')).validation;
    expect(v.rounds).toEqual([
      { round: 1, compared: 200, different: 20 },
      { round: 2, compared: 20, different: 10, pause_ms: 3000 },
      { round: 3, compared: 10, different: 5, pause_ms: 3000 },
    ]);
    expect(v.mismatched).toBe(5);
    expect(v.value_mismatch).toBe(5);
    expect(v.matched).toBe(195);
    expect(v.mismatches.map((m: { key: string }) => m.key).sort()).toEqual(['k:15', 'k:16', 'k:17', 'k:18', 'k:19']);
    expect(stderr).toMatch(/rounds: 1: 200 compared, 20 different; 2: 20 re-compared, 10 still different; 3: 10 re-compared, 5 still different/);
  });

  it('all caught up by the second round: exit 0; one round (the default) reports every difference', async () => {
    await stale();
    const one = await runCli(['validate', input, '--target', redis.url, '--out-dir', join(dir, 'one'), '--json']);
    expect(one.code).toBe(1);
    expect(JSON.parse(one.stdout.toString()).validation.mismatched).toBe(20);
    const c = redis.client();
    const child = spawn(process.execPath, [CLI, 'validate', input, '--target', redis.url, '--rounds', '2', '--round-pause', '3000', '--out-dir', join(dir, 'two')], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let fixed: Promise<unknown> | null = null;
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!fixed && /round 1: 20 of 200 keys differ/.test(stderr)) {
        const p = c.pipeline();
        for (let i = 0; i < 20; i++) p.set(`k:${i}`, `v${i}`);
        fixed = p.exec();
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    await fixed;
    c.disconnect();
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/: OK/);
    expect(stderr).toMatch(/rounds: 1: 200 compared, 20 different; 2: 20 re-compared, 0 still different/);
  });
});
