/**
 * The CLI end to end, once the commands are wired (src/cli.ts registers import/validate and they use
 * withLiveSource / liveSourceOptions). Skipped until then.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { runCli } from '../helpers/cli.js';
import { commandStats, dumpAll, FIXTURE, ROOT, RULES } from './helpers.js';

const wired = (cmd: string): boolean => {
  const cli = readFileSync(join(ROOT, 'src', 'cli.ts'), 'utf8');
  const file = join(ROOT, 'src', 'commands', `${cmd}.ts`);
  return cli.includes(`${cmd}Command`) && existsSync(file) && readFileSync(file, 'utf8').includes('liveSourceOptions');
};

let srv: RedisHandle;
let dir: string;

beforeAll(async () => {
  srv = await startRedis({ rdbFile: FIXTURE });
  dir = mkdtempSync(join(tmpdir(), 'rekey-live-cli-'));
});

afterAll(async () => {
  await srv?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rekey with a redis:// input', () => {
  it.skipIf(!wired('import'))('import redis://x --target redis://x --rules … --live --yes --validate: in place, MATCH pushed down', async () => {
    const c = srv.client();
    const before = await dumpAll(c, [0, 1, 3]);
    await c.call('CONFIG', 'RESETSTAT');
    const out = join(dir, 'import');
    const r = await runCli(['import', srv.url, '--target', srv.url, '--rules', RULES, '--live', '--yes', '--validate', '--scan-count', '50', '--max-ops-per-sec', '100000', '--out-dir', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.toString()) as { validation: { mismatched: number }; import: { created: number; errors: number } };
    expect(report.validation.mismatched).toBe(0);
    expect(report.import.errors).toBe(0);
    expect(report.import.created).toBe(248);
    const stats = await commandStats(c);
    // source pass + validation pass, each over the app's 252 keys only (not the 194 others)
    expect(stats.get('scan')).toBeGreaterThan(0);
    expect(stats.get('dump')).toBe(2 * 252 + 1); // + the target's RDB-version probe (one DUMP of a key it holds)
    const after = await dumpAll(c, [0, 1, 3]);
    for (const [k, v] of before) expect(after.get(k)).toBe(v);
    expect(readdirSync(out).some((f) => f.startsWith('migration_report_'))).toBe(true);
    const again = await runCli(['import', srv.url, '--target', srv.url, '--rules', RULES, '--live', '--yes', '--out-dir', out, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout.toString()) as { import: { created: number } }).import.created).toBe(0);
  });

  it.skipIf(!wired('validate') || !wired('import'))('validate redis://x --target redis://x --rules …: 0 mismatches after the in-place import', async () => {
    const out = join(dir, 'validate');
    await runCli(['import', srv.url, '--target', srv.url, '--rules', RULES, '--live', '--yes', '--out-dir', out]);
    const r = await runCli(['validate', srv.url, '--target', srv.url, '--rules', RULES, '--max-ops-per-sec', '100000', '--out-dir', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.toString()) as { validation: { mismatched: number; checked: number } };
    expect(report.validation.mismatched).toBe(0);
    expect(report.validation.checked).toBe(252);
  });

  it.skipIf(!wired('transform'))('transform redis://x -o out.jsonl --max-ops-per-sec/--scan-count accepted', async () => {
    const r = await runCli(['transform', srv.url, '-o', join(dir, 'out.jsonl'), '--scan-count', '10', '--max-ops-per-sec', '50000', '--out-dir', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n');
    expect(lines.filter((l) => !l.includes('"$"')).length).toBeGreaterThanOrEqual(446);
  });

  it.skipIf(!wired('analyze'))('analyze redis://x reads every db', async () => {
    const keys = (await dumpAll(srv.client(), [0, 1, 3])).size; // 446, plus the renamed keys if an import ran first
    expect(keys).toBeGreaterThanOrEqual(446);
    const r = await runCli(['analyze', srv.url, '--out-dir', dir, '--json', '--scan-count', '100']);
    expect(r.code, r.stderr).toBe(0);
    const a = JSON.parse(r.stdout.toString()) as { totals: { keys: number }; by_db: Record<string, { keys: number }> };
    expect(a.totals.keys).toBe(keys);
    expect(Object.keys(a.by_db).sort()).toEqual(['0', '1', '3']);
  });

  it('a redis:// input never shows its password (transform, wired or not)', async () => {
    const r = await runCli(['transform', 'redis://:hunter2-secret@127.0.0.1:1', '-o', join(dir, 'x.jsonl'), '--out-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('hunter2-secret');
    expect(r.stderr).toMatch(/cannot read from 127\.0\.0\.1:1/);
  });
});
