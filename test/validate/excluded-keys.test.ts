/**
 * Issue 12: keys left out of a validation (--match/--type/--db filters, rules `unmatched: drop`) are not
 * "unexplained target keys": their copies under the names the rules give them are explained and counted
 * apart. Keys under the new names that no input key explains still are mismatches. Real redis-server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRedisWithDir, type RedisHandle, type RedisWithDir } from '../helpers/redis-server.js';
import { runCli } from '../helpers/cli.js';

describe('validate: filtered-out keys are not unexplained', () => {
  let redis: RedisHandle;
  let dir: string;
  let stop: RedisWithDir['stop'] | undefined;
  let input: string;
  let rules: string;
  let dropRules: string;
  beforeAll(async () => {
    ({ redis, dir, stop } = await startRedisWithDir('rekey-vexcl-'));
    input = join(dir, 'keys.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 5; i++) lines.push(JSON.stringify({ db: 0, key: `old:a:${i}`, type: 'string', value: `a${i}` }));
    for (let i = 5; i < 8; i++) lines.push(JSON.stringify({ db: 0, key: `old:b:${i}`, type: 'hash', value: { f: `b${i}` } }));
    // Already under the new scheme in the source: no rule matches it.
    lines.push(JSON.stringify({ db: 0, key: 'new:99', type: 'string', value: 'native' }));
    writeFileSync(input, lines.join('\n') + '\n');
    rules = join(dir, 'keep.yaml');
    writeFileSync(rules, 'version: 1\nunmatched: keep\nrules:\n  - name: r\n    category: item\n    match: "old:{kind}:{id}"\n    rename: "new:{id}"\n');
    dropRules = join(dir, 'drop.yaml');
    writeFileSync(dropRules, 'version: 1\nunmatched: drop\nrules:\n  - name: r\n    category: item\n    match: "old:{kind}:{id}"\n    rename: "new:{id}"\n');
    // Everything imported with the keep rules: new:0..7 and new:99.
    const imp = await runCli(['import', input, '--target', redis.url, '--rules', rules, '--live', '--yes', '--out-dir', join(dir, 'imp'), '--no-progress']);
    expect(imp.code, imp.stderr).toBe(0);
  });
  afterAll(() => stop?.());

  const validate = async (extra: string[]): Promise<{ code: number; v: Record<string, any> }> => {
    const r = await runCli(['validate', input, '--target', redis.url, '--out-dir', join(dir, 'val'), '--json', ...extra]);
    return { code: r.code, v: JSON.parse(r.stdout.toString()).validation };
  };

  it('--match and --type leave keys out; their renamed copies are explained', async () => {
    const m = await validate(['--rules', rules, '--match', 'old:a:*']);
    expect(m.v.checked).toBe(5);
    expect(m.v.unexplained_keys).toBe(0);
    expect(m.v.excluded_in_target).toBe(4); // new:5..7 and new:99
    expect(m.code).toBe(0);
    const t = await validate(['--rules', rules, '--type', 'hash']);
    expect(t.v.checked).toBe(3);
    expect(t.v.unexplained_keys).toBe(0);
    expect(t.v.excluded_in_target).toBe(6);
    expect(t.code).toBe(0);
  });

  it('unmatched: drop leaves the unmatched key out; a key nobody maps to is still unexplained', async () => {
    const d = await validate(['--rules', dropRules]);
    expect(d.v.checked).toBe(8);
    expect(d.v.unexplained_keys).toBe(0);
    expect(d.v.excluded_in_target).toBe(1);
    expect(d.code).toBe(0);
    const c = redis.client();
    await c.set('new:1000', 'nobody');
    const u = await validate(['--rules', rules, '--match', 'old:a:*']);
    expect(u.v.unexplained_keys).toBe(1);
    expect(u.v.mismatches.map((x: { key: string }) => x.key)).toEqual(['new:1000']);
    expect(u.code).toBe(1);
    await c.del('new:1000');
    c.disconnect();
  });

  it("rekey sync's checkpoint marker during a sync is named, not another key", async () => {
    const c = redis.client();
    await c.set('rekey-sync:checkpoint', '{"offset":1}');
    const before = await validate(['--rules', rules]);
    expect(before.v.other_keys_in_target).toBe(0);
    expect(before.v.sync_marker).toEqual({ db: 0, key: 'rekey-sync:checkpoint' });
    expect(before.code).toBe(0);
    const human = await runCli(['validate', input, '--target', redis.url, '--rules', rules, '--out-dir', join(dir, 'val')]);
    expect(human.stderr.toString() + human.stdout.toString()).toMatch(/checkpoint marker rekey-sync:checkpoint \(db 0; not counted\)/);
    await c.del('rekey-sync:checkpoint');
    await c.set('rekey-sync:other', 'x');
    const other = await validate(['--rules', rules]);
    expect(other.v.other_keys_in_target).toBe(1);
    expect(other.v.sync_marker).toBeUndefined();
    await c.del('rekey-sync:other');
    c.disconnect();
  });
});
