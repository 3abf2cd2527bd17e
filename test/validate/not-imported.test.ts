/**
 * Issue 12 item 6 (validate's part): keys the import refused or left are "not imported", with the reason
 * from its ledger and report, not value mismatches. A real redis-server refuses keys of one prefix to an
 * ACL user (NOPERM) and already holds one key (skipped by the import); validate reads the import's
 * ledger (--ledger, or found from the report in --out-dir) and says why each key is not there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRedisWithDir, type RedisHandle, type RedisWithDir } from '../helpers/redis-server.js';
import { runCli } from '../helpers/cli.js';

describe('validate: not imported, with the reason', () => {
  let redis: RedisHandle;
  let dir: string;
  let stop: RedisWithDir['stop'] | undefined;
  let input: string;
  beforeAll(async () => {
    ({ redis, dir, stop } = await startRedisWithDir('rekey-vnotimp-'));
    input = join(dir, 'keys.jsonl');
    const lines = [
      '{"db":0,"key":"ok:1","type":"string","value":"one"}',
      '{"db":0,"key":"ok:2","type":"hash","value":{"f":"v"}}',
      '{"db":0,"key":"ok:there","type":"string","value":"from-input"}',
      '{"db":0,"key":"no:1","type":"string","value":"refused"}',
      '{"db":0,"key":"no:2","type":"list","value":["a","b"]}',
    ];
    writeFileSync(input, lines.join('\n') + '\n');
    const c = redis.client();
    await c.call('ACL', 'SETUSER', 'limited', 'on', '>pw', '~ok:*', '+@all');
    c.disconnect();
  });
  afterAll(() => stop?.());

  it('refused (NOPERM) and skipped keys are not imported with their reasons; without the ledger they are mismatches', async () => {
    const c = redis.client();
    await c.flushall();
    await c.set('ok:there', 'before-the-import');
    const out = mkdtempSync(join(dir, 'acl-'));
    const imp = await runCli(['import', input, '--target', `redis://limited:pw@127.0.0.1:${redis.port}`, '--live', '--yes', '--out-dir', out, '--no-progress']);
    expect(imp.code, imp.stderr).toBe(1);
    expect(await c.get('ok:1')).toBe('one');
    expect(await c.exists('no:1')).toBe(0);
    const ledger = join(out, readdirSync(out).find((n) => n.startsWith('migration_ledger_'))!);

    const v = await runCli(['validate', input, '--target', redis.url, '--ledger', ledger, '--out-dir', join(dir, 'v1'), '--json']);
    expect(v.code, v.stderr).toBe(1);
    const rep = JSON.parse(v.stdout.toString()).validation;
    expect(rep.mismatched).toBe(0);
    expect(rep.value_mismatch).toBe(0);
    expect(rep.missing).toBe(0);
    expect(rep.not_imported).toBe(3);
    const byKey = Object.fromEntries(rep.not_imported_keys.map((n: { key: string; reason: string }) => [n.key, n.reason]));
    expect(byKey['no:1']).toMatch(/^the import refused it: .*NOPERM/);
    expect(byKey['no:2']).toMatch(/^the import refused it: .*NOPERM/);
    expect(byKey['ok:there']).toMatch(/existed in the target before the import/);
    expect(rep.import_outcome.ledger).toBe(ledger);
    expect(rep.import_outcome.reports).toHaveLength(1);

    const screen = await runCli(['validate', input, '--target', redis.url, '--ledger', ledger, '--out-dir', join(dir, 'v2')]);
    expect(screen.code).toBe(1);
    expect(screen.stderr).toMatch(/3 NOT IMPORTED/);
    expect(screen.stderr).toMatch(/db 0 no:1: the import refused it: .*NOPERM/);
    expect(screen.stderr).not.toMatch(/MISMATCHES/);

    // No ledger and no report in the out dir: the same keys are plain mismatches (missing / content).
    const blind = await runCli(['validate', input, '--target', redis.url, '--out-dir', join(dir, 'v3'), '--json']);
    expect(blind.code).toBe(1);
    const b = JSON.parse(blind.stdout.toString()).validation;
    expect(b.not_imported).toBe(0);
    expect(b.missing).toBe(2);
    expect(b.value_mismatch).toBe(1);
    expect(b.import_outcome).toBeNull();
    expect(b.mismatches.find((m: { key: string }) => m.key === 'no:1').detail).toMatch(/--ledger FILE/);

    const none = await runCli(['validate', input, '--target', redis.url, '--ledger', join(dir, 'no-such-ledger.jsonl'), '--out-dir', join(dir, 'v4')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--ledger .*no-such-ledger\.jsonl: no such file/);
    c.disconnect();
  });

  it('finds the import report and ledger in --out-dir for the same input and target', async () => {
    const c = redis.client();
    await c.flushall();
    await c.set('ok:there', 'before-the-import');
    const out = mkdtempSync(join(dir, 'found-'));
    const imp = await runCli(['import', input, '--target', redis.url, '--live', '--yes', '--out-dir', out, '--no-progress']);
    expect(imp.code, imp.stderr).toBe(0);
    await c.set('ok:1', 'changed after the import');
    const v = await runCli(['validate', input, '--target', redis.url, '--out-dir', out, '--json']);
    expect(v.code).toBe(1);
    const rep = JSON.parse(v.stdout.toString()).validation;
    expect(rep.not_imported).toBe(1);
    expect(rep.not_imported_keys[0]).toMatchObject({ key: 'ok:there', reason: expect.stringMatching(/existed in the target before the import/) });
    // The import wrote ok:1: a later change is a real mismatch.
    expect(rep.mismatched).toBe(1);
    expect(rep.mismatches[0]).toMatchObject({ kind: 'value', key: 'ok:1' });
    expect(rep.import_outcome.ledger).toMatch(/migration_ledger_.*\.jsonl$/);
    c.disconnect();
  });
});
