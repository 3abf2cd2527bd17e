/**
 * --quiet (errors and the final line only) and --verbose (each key's decision on stderr) on every
 * command (issue 12), through the built CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedis } from '../helpers/redis-server.js';
import { runCli } from '../helpers/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'fixtures', 'dump.rdb');
const RULES = join(ROOT, 'examples', 'meta-glasses.rules.yaml');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-verbosity-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (s: string): string[] => s.split('\n').filter((l) => l.trim() !== '');

describe('--quiet', () => {
  it('transform: one final line naming the result and the report, which is written', async () => {
    const out = join(dir, 'q-transform');
    const normal = await runCli(['transform', FIXTURE, '-o', join(dir, 'a.jsonl'), '--format', 'jsonl', '--rules', RULES, '--out-dir', out]);
    expect(normal.code, normal.stderr).toBe(0);
    expect(lines(normal.stderr).length).toBeGreaterThan(2);
    const q = await runCli(['transform', FIXTURE, '-o', join(dir, 'b.jsonl'), '--format', 'jsonl', '--rules', RULES, '--out-dir', out, '--quiet']);
    expect(q.code, q.stderr).toBe(0);
    const l = lines(q.stderr);
    expect(l).toHaveLength(1);
    expect(l[0]).toMatch(/^rekey transform: 446 keys read, 446 written to .*b\.jsonl .*\(report: (.*migration_report_\d+_\d+(?:_\d+)?\.json)\)$/);
    expect(existsSync(/\(report: (.*)\)$/.exec(l[0]!)![1]!)).toBe(true);
  });

  it('errors still show: bad input (exit 2), an unreachable target (exit 3)', async () => {
    const missing = await runCli(['analyze', join(dir, 'nope.rdb'), '-q', '--out-dir', dir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.rdb/);
    const port = await freePort();
    const unreachable = await runCli(['validate', FIXTURE, '-q', '-p', String(port), '--out-dir', join(dir, 'q-unreach')]);
    expect(unreachable.code, unreachable.stderr).toBe(3);
    expect(unreachable.stderr).toMatch(new RegExp(`cannot connect to redis://127\\.0\\.0\\.1:${port}`));
  });

  it('import dry run and validate against a real server: their headline only', async () => {
    const t = await startRedis();
    try {
      const out = join(dir, 'q-server');
      const dry = await runCli(['import', FIXTURE, '--target', t.url, '-q', '--out-dir', out]);
      expect(dry.code, dry.stderr).toBe(0);
      expect(lines(dry.stderr)).toEqual([expect.stringMatching(/^rekey import \(DRY RUN, nothing written\): .*dump\.rdb -> .* \(report: .*\)$/)]);
      const live = await runCli(['import', FIXTURE, '--target', t.url, '--live', '--yes', '-q', '--out-dir', out]);
      expect(live.code, live.stderr).toBe(0);
      expect(lines(live.stderr)).toHaveLength(1);
      const v = await runCli(['validate', FIXTURE, '--target', t.url, '-q', '--out-dir', out]);
      expect(v.code, v.stderr).toBe(0);
      expect(lines(v.stderr)).toEqual([expect.stringMatching(/^rekey validate: .*dump\.rdb vs redis:\/\/127\.0\.0\.1:\d+: OK \(report: .*\)$/)]);
    } finally {
      await t.stop();
    }
  });

  it('--quiet and --verbose together: a usage error', async () => {
    const r = await runCli(['analyze', FIXTURE, '--quiet', '--verbose', '--out-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/quiet and verbose are mutually exclusive/);
  });
});

describe('--verbose', () => {
  it("transform: one line per key with its decision and the rule that made it", async () => {
    const out = join(dir, 'v-transform');
    // db 3 filtered out; keys with a TTL expired at --now; unmatched keys dropped
    const r = await runCli(['transform', FIXTURE, '-o', join(dir, 'v.jsonl'), '--format', 'jsonl', '--rules', RULES, '--unmatched', 'drop', '--db', '0', '--db', '1', '--now', String(Date.UTC(2200, 0, 1)), '--out-dir', out, '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    const keyLines = lines(r.stderr).filter((l) => /^db \d+ /.test(l));
    expect(keyLines).toHaveLength(446);
    expect(keyLines.filter((l) => l.endsWith(': filtered out'))).toHaveLength(61);
    expect(keyLines.every((l) => !l.startsWith('db 3 ') || l.endsWith(': filtered out'))).toBe(true);
    expect(keyLines).toContain('db 0 josancamon:other-api:reminder:evt_1: no rule matches, dropped (unmatched: drop)');
    expect(keyLines.some((l) => /^db 0 josancamon:rayban-meta-glasses-api:reminder:(\S+) -> meta-glasses:reminder:event:\1: (renamed \(rule reminder\)|expired at \S+, dropped \(rule reminder\))$/.test(l))).toBe(true);
    expect(keyLines).toContain('db 0 josancamon:rayban-meta-glasses-api:conversation_history: kept (rule typed-prefix-without-id)');
    // the counts on screen agree with the lines
    const expired = keyLines.filter((l) => /: expired at \S+, dropped/.test(l)).length;
    expect(r.stderr).toContain(`expired (dropped): ${expired}`);
    expect(expired).toBeGreaterThan(0);
  });

  it("analyze --rules: each key's previewed decision; --quiet: the report's path alone on stderr", async () => {
    const out = join(dir, 'v-analyze');
    const r = await runCli(['analyze', FIXTURE, '--rules', RULES, '--out-dir', out, '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    const keyLines = lines(r.stderr).filter((l) => /^db \d+ /.test(l));
    expect(keyLines).toHaveLength(446);
    expect(keyLines).toContain('db 0 josancamon:other-api:reminder:evt_1: kept (no rule matches)');
    expect(keyLines.some((l) => /^db 0 josancamon:rayban-meta-glasses-api:user_profile:(\S+) -> meta-glasses:user:profile:\1: renamed \(rule user_profile\)$/.test(l))).toBe(true);
    const q = await runCli(['analyze', FIXTURE, '--rules', RULES, '--out-dir', out, '-q']);
    expect(q.code, q.stderr).toBe(0);
    expect(lines(q.stderr)).toEqual([expect.stringMatching(/^report: .*redis_analysis_\d+_\d+(?:_\d+)?\.json$/)]);
  });

  it('without --verbose no per-key line', async () => {
    const out = join(dir, 'v-none');
    const r = await runCli(['transform', FIXTURE, '-o', join(dir, 'n.jsonl'), '--format', 'jsonl', '--rules', RULES, '--out-dir', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stderr).filter((l) => /^db \d+ /.test(l))).toEqual([]);
  });
});
