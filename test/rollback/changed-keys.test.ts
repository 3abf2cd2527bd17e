/**
 * Issue 12: rollback deletes what the import created — but not a key an application has changed since:
 * it warns, names it and leaves it unless --force. The change check compares the target's current value
 * with what the import wrote (its input through its rules, as validate does). When that cannot be checked
 * (input gone), a live rollback refuses without --force. Real redis-server, built CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRedisWithDir, type RedisHandle, type RedisWithDir } from '../helpers/redis-server.js';
import { runCli } from '../helpers/cli.js';

describe('rollback leaves keys changed since the import', () => {
  let redis: RedisHandle;
  let dir: string;
  let stop: RedisWithDir['stop'] | undefined;
  let input: string;
  let rules: string;
  beforeAll(async () => {
    ({ redis, dir, stop } = await startRedisWithDir('rekey-rbchg-'));
    input = join(dir, 'keys.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 10; i++) lines.push(JSON.stringify({ db: 0, key: `old:${i}`, type: 'hash', value: { f: `v${i}` }, expire_at_ms: i === 0 ? 4102444800000 : null }));
    writeFileSync(input, lines.join('\n') + '\n');
    rules = join(dir, 'rules.yaml');
    writeFileSync(rules, 'version: 1\nunmatched: keep\nrules:\n  - name: r\n    category: item\n    match: "old:{id}"\n    rename: "new:{id}"\n    ttl: 3600000\n');
  });
  afterAll(() => stop?.());

  async function importFresh(out: string): Promise<string> {
    const c = redis.client();
    await c.flushall();
    c.disconnect();
    const imp = await runCli(['import', input, '--target', redis.url, '--rules', rules, '--live', '--yes', '--out-dir', out, '--no-progress']);
    expect(imp.code, imp.stderr).toBe(0);
    return join(out, readdirSync(out).find((n) => n.startsWith('migration_ledger_'))!);
  }

  it('warns, names and leaves changed keys; --force deletes them', async () => {
    const out = mkdtempSync(join(dir, 'run-'));
    const ledger = await importFresh(out);
    const c = redis.client();
    await c.hset('new:2', 'f', 'written by the app');
    await c.del('new:3');
    await c.rpush('new:3', 'now a list');
    await c.del('new:4');
    await c.persist('new:5'); // the import set a TTL (rule ttl); the app made it permanent

    const dry = await runCli(['rollback', ledger, '--target', redis.url, '--out-dir', out]);
    expect(dry.code, dry.stderr).toBe(1);
    expect(dry.stderr).toMatch(/WARNING: left alone \(changed since the import; --force deletes them\): 3/);
    expect(await c.exists('new:0', 'new:1')).toBe(2);

    const live = await runCli(['rollback', ledger, '--target', redis.url, '--live', '--yes', '--out-dir', out, '--json']);
    expect(live.code, live.stderr).toBe(1);
    const r = JSON.parse(live.stdout.toString()).rollback;
    expect(r.changes_checked).toBe(true);
    expect(r.changed_left).toBe(3);
    expect(r.changed_samples.map((x: { key: string }) => x.key).sort()).toEqual(['new:2', 'new:3', 'new:5']);
    expect(r.changed_samples.find((x: { key: string }) => x.key === 'new:3').kind).toBe('type');
    expect(r.deleted).toBe(6);
    expect(r.already_gone).toBe(1);
    expect((await c.keys('*')).sort()).toEqual(['new:2', 'new:3', 'new:5']);
    expect(await c.hget('new:2', 'f')).toBe('written by the app');

    const forced = await runCli(['rollback', ledger, '--target', redis.url, '--live', '--yes', '--force', '--out-dir', out, '--json']);
    expect(forced.code, forced.stderr).toBe(0);
    const f = JSON.parse(forced.stdout.toString()).rollback;
    expect(f.changed_deleted).toBe(3);
    expect(f.changed_left).toBe(0);
    expect(await c.dbsize()).toBe(0);
    c.disconnect();
  });

  it('refuses a live rollback it cannot check (input gone) unless --force', async () => {
    const out = mkdtempSync(join(dir, 'gone-'));
    const ledger = await importFresh(out);
    const moved = input + '.moved';
    renameSync(input, moved);
    try {
      const r = await runCli(['rollback', ledger, '--target', redis.url, '--live', '--yes', '--out-dir', out]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot tell which keys changed since the import: the import's input .* cannot be read.*nothing deleted \(--force/);
      const c = redis.client();
      expect(await c.dbsize()).toBe(10);
      const f = await runCli(['rollback', ledger, '--target', redis.url, '--live', '--yes', '--force', '--out-dir', out]);
      expect(f.code, f.stderr).toBe(0);
      expect(f.stderr).toMatch(/WARNING: not checked for changes since the import/);
      expect(await c.dbsize()).toBe(0);
      c.disconnect();
    } finally {
      renameSync(moved, input);
    }
  });
});
