import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runCli } from '../helpers/cli.js';

// analyze --jobs N (src/analyze/jobs.ts): values measured on worker threads, folded in input order, must
// give the report one thread gives. Worker threads run built code, so this drives dist/ (npm run build).
// REKEY_JOBS_MIN_BYTES=0 lifts the 16 MiB threshold so workers run on the small fixtures.
const ROOT = join(import.meta.dirname, '..', '..');
const CORPUS = process.env.REKEY_CORPUS ?? join(ROOT, '..', 'shared', 'rdb-corpus');
const haveCorpus = existsSync(CORPUS);
const FIXTURE = join(ROOT, 'fixtures', 'dump.rdb');
const RULES = join(ROOT, 'examples', 'meta-glasses.rules.yaml');
const dir = mkdtempSync(join(tmpdir(), 'rekey-analyze-jobs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { REKEY_JOBS_MIN_BYTES: '0' };

function rdbFiles(d: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(d).sort()) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) out.push(...rdbFiles(p));
    else if (name.endsWith('.rdb')) out.push(p);
  }
  return out;
}

/** The report without what depends on the clock. */
function stable(json: Buffer): string {
  const r = JSON.parse(json.toString()) as Record<string, unknown>;
  delete r.seconds;
  delete r.generated_at;
  return JSON.stringify(r, null, 1);
}

let n = 0;
async function analyzeWith(jobs: number, args: string[]): Promise<{ code: number; report: string; err: string; out: Buffer }> {
  const out = join(dir, `run-${n++}`);
  const r = await runCli(['analyze', ...args, '--json', '--now', '1700000000000', '--out-dir', out, '--jobs', String(jobs)], { env });
  return { code: r.code, report: r.code === 0 || r.code === 1 ? stable(r.stdout) : '', err: r.stderr.split('\n')[0] ?? '', out: r.stdout };
}

describe('analyze --jobs gives the report one thread gives', () => {
  it('fixtures/dump.rdb with rules and --verify, 1 and 3 workers', async () => {
    const args = [FIXTURE, '--rules', RULES, '--verify', '--top', '7', '--samples', '3'];
    const one = await analyzeWith(1, args);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.report).totals.keys).toBeGreaterThan(400);
    for (const jobs of [2, 3]) {
      const many = await analyzeWith(jobs, args);
      expect(many.err).not.toContain('internal error');
      expect(many.code).toBe(0);
      expect(many.report).toBe(one.report);
    }
  });

  it('filters and the per-key CSV: the same rows in the same order', async () => {
    const csv = (j: number): string => join(dir, `keys-${j}.csv`);
    const reports: string[] = [];
    for (const jobs of [1, 3]) {
      const r = await analyzeWith(jobs, [FIXTURE, '--type', 'hash', '--type', 'zset', '--db', '0', '--memory-csv', csv(jobs)]);
      expect(r.code).toBe(0);
      reports.push(r.report);
    }
    expect(reports[1]).toBe(reports[0]);
    expect(JSON.parse(reports[0]!).totals.filtered_out).toBeGreaterThan(0);
    const rows = readFileSync(csv(1));
    expect(rows.toString().split('\n').length).toBeGreaterThan(10);
    expect(readFileSync(csv(3))).toEqual(rows);
  });

  it('several inputs as one dataset (the fixture and a copy: duplicates across files)', async () => {
    const copy = join(dir, 'copy.rdb');
    copyFileSync(FIXTURE, copy);
    const args = [FIXTURE, copy, '--rules', RULES];
    const one = await analyzeWith(1, args);
    const many = await analyzeWith(3, args);
    expect(one.code).toBe(1); // every key is a duplicate and a collision
    expect(JSON.parse(one.report).duplicates.keys).toBeGreaterThan(400);
    expect(many.code).toBe(one.code);
    expect(many.report).toBe(one.report);
  });

  it.skipIf(!haveCorpus)('every corpus RDB: the same report, or the same error', async () => {
    const files = rdbFiles(CORPUS);
    expect(files.length).toBeGreaterThan(50);
    let same = 0;
    let failedAlike = 0;
    for (const f of files) {
      const one = await analyzeWith(1, [f]);
      const many = await analyzeWith(2, [f]);
      expect({ code: many.code, err: many.err, report: many.report }, relative(CORPUS, f)).toEqual({ code: one.code, err: one.err, report: one.report });
      if (one.code === 2) failedAlike++;
      else same++;
    }
    expect(same).toBeGreaterThan(50);
    expect(failedAlike).toBeGreaterThan(0);
  }, 600_000);

  it.skipIf(!haveCorpus)('a corrupt value: the same exit-2 error naming file and offset, and no report', async () => {
    const bad = join(CORPUS, 'peers', 'valkey-tests-assets', 'corrupt_ziplist.rdb');
    const results = [];
    for (const jobs of [1, 3]) {
      const out = join(dir, `bad-${jobs}`);
      const r = await runCli(['analyze', bad, '--jobs', String(jobs), '--out-dir', out], { env });
      results.push({ code: r.code, err: r.stderr.split('\n')[0], reports: existsSync(out) ? readdirSync(out).filter((x) => x.endsWith('.json')).length : 0 });
    }
    expect(results[0]!.code).toBe(2);
    expect(results[0]!.err).toMatch(/corrupt_ziplist\.rdb: at byte \d+: expected a valid ziplist/);
    expect(results[0]!.reports).toBe(0);
    expect(results[1]).toEqual(results[0]);
  });

  it('--jobs 0 is bad usage', async () => {
    const r = await runCli(['analyze', FIXTURE, '--jobs', '0', '--out-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--jobs 0');
  });
});
