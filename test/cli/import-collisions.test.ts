/**
 * Issue 12 item 3: keys merged into one db by --to-db collide; the later ones are dropped. That loss
 * must show on screen (dry run and live), be named in the report, and exit 1 unless the operator chose
 * `--on-collision keep-first` explicitly. Through the built CLI against a real redis-server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRedisWithDir, type RedisHandle, type RedisWithDir } from '../helpers/redis-server.js';
import { runCli } from '../helpers/cli.js';
import { TWO_DBS_ONE_SHARED } from '../helpers/records.js';

function lastReport(dir: string): Record<string, any> {
  const f = readdirSync(dir).filter((n) => n.startsWith('migration_report_')).sort().pop()!;
  return JSON.parse(readFileSync(join(dir, f), 'utf8'));
}

describe('import --to-db: colliding keys are a visible loss', () => {
  let redis: RedisHandle;
  let dir: string;
  let stop: RedisWithDir['stop'] | undefined;
  let input: string;
  beforeAll(async () => {
    ({ redis, dir, stop } = await startRedisWithDir('rekey-collide-'));
    input = join(dir, 'two-dbs.jsonl');
    writeFileSync(input, TWO_DBS_ONE_SHARED);
  });
  afterAll(() => stop?.());

  it('the dry run shows the collision, names the key in the report and exits 1', async () => {
    const out = mkdtempSync(join(dir, 'dry-'));
    const r = await runCli(['import', input, '--target', redis.url, '--to-db', '0', '--out-dir', out, '--no-progress']);
    expect(r.stderr).toMatch(/collisions: 1 \(later keys would be dropped; --on-collision fail to stop\)/);
    expect(r.code, r.stderr).toBe(1);
    const rep = lastReport(out);
    expect(rep.migration_stats.collisions).toBe(1);
    expect(rep.collision_keys).toEqual([{ source_db: 1, source_key: 'shared', new_key: 'shared' }]);
    const c = redis.client();
    expect(await c.dbsize()).toBe(0);
    c.disconnect();
  });

  it('the live run writes the first key, shows the drop and exits 1; keep-first chosen explicitly exits 0', async () => {
    const out = mkdtempSync(join(dir, 'live-'));
    const c = redis.client();
    await c.flushall();
    const r = await runCli(['import', input, '--target', redis.url, '--to-db', '0', '--live', '--yes', '--out-dir', out, '--no-progress']);
    expect(r.stderr).toMatch(/collisions: 1 \(later keys dropped; --on-collision fail to stop\)/);
    expect(r.code, r.stderr).toBe(1);
    expect(await c.get('shared')).toBe('from-db0');
    expect(await c.get('only1')).toBe('x');
    expect(lastReport(out).collision_keys).toEqual([{ source_db: 1, source_key: 'shared', new_key: 'shared' }]);

    await c.flushall();
    const out2 = mkdtempSync(join(dir, 'keep-'));
    const k = await runCli(['import', input, '--target', redis.url, '--to-db', '0', '--live', '--yes', '--on-collision', 'keep-first', '--out-dir', out2, '--no-progress']);
    expect(k.code, k.stderr).toBe(0);
    expect(k.stderr).toMatch(/collisions: 1 \(later keys dropped/);
    expect(await c.dbsize()).toBe(2);
    c.disconnect();
  });
});
