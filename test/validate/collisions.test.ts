/**
 * Issue 12 item 3 (validate's part): keys several source keys were renamed onto are collisions — the
 * import kept the first and dropped the rest. Validate makes the same per-key decision and counts them as
 * their own category, named in the report and on screen, never as mismatches. Real redis-server, built CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { runCli } from '../helpers/cli.js';
import { TWO_DBS_ONE_SHARED } from '../helpers/records.js';

describe('validate counts collisions apart from mismatches', () => {
  let redis: RedisHandle;
  let dir: string;
  beforeAll(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'rekey-vcoll-'));
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--to-db merging two dbs: one collision, no mismatch, exit 0', async () => {
    const input = join(dir, 'two-dbs.jsonl');
    writeFileSync(input, TWO_DBS_ONE_SHARED);
    const c = redis.client();
    await c.flushall();
    const imp = await runCli(['import', input, '--target', redis.url, '--to-db', '0', '--live', '--yes', '--on-collision', 'keep-first', '--out-dir', dir, '--no-progress']);
    expect(imp.code, imp.stderr).toBe(0);

    const v = await runCli(['validate', input, '--target', redis.url, '--to-db', '0', '--out-dir', dir, '--json']);
    expect(v.code, v.stderr).toBe(0);
    const rep = JSON.parse(v.stdout.toString());
    expect(rep.validation.collisions).toBe(1);
    expect(rep.validation.collision_keys).toEqual([{ source_db: 1, source_key: 'shared', new_key: 'shared' }]);
    expect(rep.validation.mismatched).toBe(0);
    expect(rep.validation.matched).toBe(2);

    const screen = await runCli(['validate', input, '--target', redis.url, '--to-db', '0', '--out-dir', dir]);
    expect(screen.code, screen.stderr).toBe(0);
    expect(screen.stderr).toMatch(/collisions \(renamed onto a name an earlier key took; not imported, not compared\): 1/);
    expect(screen.stderr).toMatch(/db 1 shared -> shared/);
    c.disconnect();
  });

  it('rules renaming two keys onto one name: a collision, and a real change is still a mismatch', async () => {
    const input = join(dir, 'merge.jsonl');
    writeFileSync(input, [
      '{"db":0,"key":"old:a:1","type":"string","value":"A"}',
      '{"db":0,"key":"old:b:1","type":"string","value":"B"}',
      '{"db":0,"key":"old:a:2","type":"string","value":"A2"}',
      '',
    ].join('\n'));
    const rules = join(dir, 'merge.yaml');
    writeFileSync(rules, 'version: 1\nunmatched: keep\nrules:\n  - name: any\n    category: item\n    match: "old:{kind}:{id}"\n    rename: "new:{id}"\n');
    const c = redis.client();
    await c.flushall();
    const imp = await runCli(['import', input, '--target', redis.url, '--rules', rules, '--live', '--yes', '--on-collision', 'keep-first', '--out-dir', dir, '--no-progress']);
    expect(imp.code, imp.stderr).toBe(0);
    expect(await c.get('new:1')).toBe('A');

    const v = await runCli(['validate', input, '--target', redis.url, '--rules', rules, '--out-dir', dir, '--json']);
    expect(v.code, v.stderr).toBe(0);
    const rep = JSON.parse(v.stdout.toString());
    expect(rep.validation.collisions).toBe(1);
    expect(rep.validation.collision_keys).toEqual([{ source_db: 0, source_key: 'old:b:1', new_key: 'new:1' }]);
    expect(rep.validation.mismatched).toBe(0);

    await c.set('new:2', 'changed');
    const bad = await runCli(['validate', input, '--target', redis.url, '--rules', rules, '--out-dir', dir, '--json']);
    expect(bad.code).toBe(1);
    const r2 = JSON.parse(bad.stdout.toString());
    expect(r2.validation.collisions).toBe(1);
    expect(r2.validation.value_mismatch).toBe(1);
    c.disconnect();
  });
});
