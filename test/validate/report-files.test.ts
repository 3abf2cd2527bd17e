/**
 * Issue 12: validate writes `validation_report_<stamp>.json` and a `.txt` beside it (the summary with
 * every listed key), not a migration report — it migrates nothing. Real redis-server, built CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRedisWithDir, type RedisHandle, type RedisWithDir } from '../helpers/redis-server.js';
import { runCli } from '../helpers/cli.js';

describe('validate report files', () => {
  let redis: RedisHandle;
  let dir: string;
  let stop: RedisWithDir['stop'] | undefined;
  let input: string;
  beforeAll(async () => {
    ({ redis, dir, stop } = await startRedisWithDir('rekey-vrep-'));
    input = join(dir, 'keys.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 30; i++) lines.push(JSON.stringify({ db: 0, key: `k:${i}`, type: 'string', value: `v${i}` }));
    writeFileSync(input, lines.join('\n') + '\n');
    const c = redis.client();
    for (let i = 0; i < 30; i++) await c.set(`k:${i}`, `v${i}`);
    // 12 changed keys: more than the screen lists (10), all named in the .txt.
    for (let i = 0; i < 12; i++) await c.set(`k:${i}`, `changed${i}`);
    c.disconnect();
  });
  afterAll(() => stop?.());

  it('writes validation_report_*.json and .txt, no migration report', async () => {
    const out = join(dir, 'out');
    const r = await runCli(['validate', input, '--target', redis.url, '--out-dir', out]);
    expect(r.code, r.stderr).toBe(1);
    const files = readdirSync(out);
    expect(files.filter((f) => f.startsWith('migration_report_'))).toEqual([]);
    const json = files.find((f) => /^validation_report_\d{8}_\d{6}(?:_\d+)?\.json$/.test(f));
    expect(json, files.join(', ')).toBeDefined();
    const txt = json!.replace(/\.json$/, '.txt');
    expect(files).toContain(txt);
    const rep = JSON.parse(readFileSync(join(out, json!), 'utf8'));
    expect(rep.validation.value_mismatch).toBe(12);
    expect(rep.verdict).toBe('12 MISMATCHES');
    expect(rep).not.toHaveProperty('migration_stats');
    expect(rep).not.toHaveProperty('migrated_keys');
    expect(rep.input.path).toBe(input);
    expect(rep.target.url).toBe(redis.url);
    expect(r.stderr).toContain(`report: ${join(out, json!)}`);
    expect(r.stderr).toMatch(/… 2 more listed in the report/);
    const text = readFileSync(join(out, txt), 'utf8');
    expect(text).toContain(`${input} vs ${redis.url}: 12 MISMATCHES`);
    for (let i = 0; i < 12; i++) expect(text).toContain(`value: db 0 k:${i}:`);
    expect(text).not.toMatch(/more listed/);
  });
});
