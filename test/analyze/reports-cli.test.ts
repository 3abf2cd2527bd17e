/**
 * The operator reports of `rekey analyze`, through the built CLI on fixtures/dump.rdb: the per-key memory
 * CSV (like redis-rdb-tools' `memory`), the keys-only listing, `--min-bytes`, the prefix CSV, and the text
 * summary fitted to the terminal width with one thousands style, a "(no prefix)" row and dbs beside samples.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import type { AnalysisReport } from '../../src/analyze/aggregator.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'fixtures', 'dump.rdb');
const SUMMARY = join(ROOT, 'fixtures', 'dump.summary.json');
const have = existsSync(FIXTURE) && existsSync(SUMMARY);
if (!have) console.warn('SKIPPED reports-cli.test.ts: fixtures/dump.rdb or its summary is missing (npm run fixtures makes them)');

interface Summary {
  totals: { keys: number; with_ttl: number; by_type: Record<string, number> };
  dbs: Record<string, { keys: number; with_ttl: number }>;
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-reports-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh out dir per run; COLUMNS taken out of the environment unless the test sets it. */
function analyze(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult & { out: string }> {
  const out = mkdtempSync(join(dir, 'out-'));
  const { COLUMNS: _drop, ...base } = process.env;
  return runCli(['analyze', FIXTURE, '--out-dir', out, ...args], { env: { ...base, ...env } }).then((r) => ({ ...r, out }));
}

function report(out: string): AnalysisReport {
  const f = readdirSync(out).find((n) => /^redis_analysis_\d{8}_\d{6}(?:_\d+)?\.json$/.test(n));
  expect(f, `no report in ${out}`).toBeDefined();
  return JSON.parse(readFileSync(join(out, f!), 'utf8')) as AnalysisReport;
}

/** RFC 4180 rows of a CSV read byte for byte (latin1 keeps every byte as one char). */
function parseCsv(buf: Buffer): string[][] {
  const s = buf.toString('latin1');
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  expect(field, 'the CSV ends with a line break').toBe('');
  expect(row).toEqual([]);
  return rows;
}

const chars = (l: string): number => [...l].length;

describe.skipIf(!have)('analyze reports through the CLI', () => {
  const summary = have ? (JSON.parse(readFileSync(SUMMARY, 'utf8')) as Summary) : null;
  let csvRows: string[][] = [];
  let full: AnalysisReport;
  let text = '';

  beforeAll(async () => {
    const csv = join(dir, 'memory.csv');
    const r = await analyze(['--memory-csv', csv]);
    expect(r.code, r.stderr).toBe(0);
    text = r.stdout.toString('utf8');
    full = report(r.out);
    csvRows = parseCsv(readFileSync(csv));
  });

  it('writes one memory-CSV row per key with the columns of redis-rdb-tools memory report', () => {
    const s = summary!;
    expect(csvRows[0]).toEqual(['db', 'key', 'type', 'encoding', 'elements', 'bytes', 'memory', 'ttl']);
    const rows = csvRows.slice(1);
    expect(rows.length).toBe(s.totals.keys);
    for (const r of rows) expect(r.length).toBe(8);
    const count = (col: number): Record<string, number> => rows.reduce<Record<string, number>>((m, r) => ((m[r[col]!] = (m[r[col]!] ?? 0) + 1), m), {});
    expect(count(2)).toEqual(s.totals.by_type);
    expect(count(0)).toEqual(Object.fromEntries(Object.entries(s.dbs).map(([db, d]) => [db, d.keys])));
    expect(rows.filter((r) => r[7] !== '').length).toBe(s.totals.with_ttl);
    // every TTL is remaining milliseconds to the fixtures' year-2100 expiries
    for (const r of rows.filter((x) => x[7] !== '')) expect(Number(r[7])).toBeGreaterThan(60 * 365 * 86_400_000);
    expect(rows.reduce((n, r) => n + Number(r[5]), 0)).toBe(full.totals.bytes);
    const mem = rows.reduce((n, r) => n + Number(r[6]), 0);
    // per key: value, key and expire entry; the report's total adds the dbs' hash tables
    const m = full.memory;
    expect(Math.abs(mem - (m.keys + m.values + m.expires))).toBeLessThanOrEqual(rows.length); // rounded per row
    expect(full.totals.memory).toBeGreaterThan(mem);
    // the biggest key of the summary is in the CSV with the same numbers
    const big = full.biggest_keys[0]!;
    const row = rows.find((r) => r[0] === String(big.db) && r[1] === (typeof big.key === 'string' ? big.key : Buffer.from(big.key.base64, 'base64').toString('latin1')));
    expect(row).toBeDefined();
    expect(row!.slice(2, 6)).toEqual([big.type, big.encoding, String(big.elements), String(big.bytes)]);
    // a binary key is written byte for byte, not re-encoded
    expect(rows.some((r) => r[1]!.startsWith('\xff\xfe\x00fx:bin:'))).toBe(true);
  });

  it('--min-bytes keeps only the big keys, in the CSV and the keys-only listing, and says how many', async () => {
    const min = 1000;
    const expected = csvRows.slice(1).filter((r) => Number(r[5]) >= min);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(csvRows.length - 1);
    const csv = join(dir, 'big.csv');
    const r = await analyze(['--memory-csv', csv, '--min-bytes', String(min)]);
    expect(r.code, r.stderr).toBe(0);
    const rows = parseCsv(readFileSync(csv)).slice(1);
    // the ttl column (remaining ms) moves with the clock between the two runs: compare the rest
    const row = (x: string[]): string => x.slice(0, 7).join(',');
    expect(rows.map(row).sort()).toEqual(expected.map(row).sort());
    expect(r.stderr).toContain(`${expected.length} of ${summary!.totals.keys} keys have at least 1,000 serialized bytes`);

    const k = await analyze(['--keys-only', '--min-bytes', String(min)]);
    expect(k.code, k.stderr).toBe(0);
    expect(k.stdout.toString('utf8').trimEnd().split('\n').length).toBe(expected.length);
  });

  it('--keys-only prints db<TAB>key per key and nothing else on stdout', async () => {
    const r = await analyze(['--keys-only']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.length).toBe(summary!.totals.keys);
    for (const l of lines) expect(l).toMatch(/^\d+\t[^\t]*$/);
    const printable = csvRows.slice(1).filter((x) => /^[\x20-\x7e]+$/.test(x[1]!) && !x[1]!.startsWith('"'));
    const listed = new Set(lines);
    for (const x of printable) expect(listed.has(`${x[0]}\t${x[1]}`), x[1]).toBe(true);
    // a binary key is escaped, so it cannot break the line
    expect(lines.some((l) => l.includes('\\xff\\xfe\\x00fx:bin:'))).toBe(true);
    expect(r.stdout.toString('utf8')).not.toContain('By type');
    expect(r.stderr).toMatch(/report: .*redis_analysis_/);
  });

  it('--memory-csv - writes the CSV on stdout instead of the summary', async () => {
    const r = await analyze(['--memory-csv', '-']);
    expect(r.code, r.stderr).toBe(0);
    expect(parseCsv(r.stdout)).toEqual(expect.arrayContaining([csvRows[0]]));
    expect(parseCsv(r.stdout).length).toBe(csvRows.length);
  });

  it('refuses --min-bytes without a per-key output, two outputs on stdout, and a CSV over the input (exit 2)', async () => {
    const a = await analyze(['--min-bytes', '100']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--min-bytes selects the keys of the per-key outputs: add --memory-csv FILE or --keys-only');
    const b = await analyze(['--keys-only', '--memory-csv', '-']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('would both write to stdout');
    const c = await analyze(['--memory-csv', FIXTURE]);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('refusing to overwrite the input');
    const d = await analyze(['--prefix-csv', join(dir, 'no', 'such', 'dir', 'p.csv')]);
    expect(d.code).toBe(2);
    expect(d.stderr).toContain('does not exist');
    expect(readdirSync(d.out)).toEqual([]); // refused before the pass: no report either
  });

  it('leaves no CSV, not even half of one, when the dump is corrupt', async () => {
    const bad = join(dir, 'truncated.rdb');
    writeFileSync(bad, readFileSync(FIXTURE).subarray(0, 120_000));
    const outDir = mkdtempSync(join(dir, 'bad-'));
    const csv = join(outDir, 'memory.csv');
    const r = await runCli(['analyze', bad, '--out-dir', outDir, '--memory-csv', csv, '--prefix-csv', join(outDir, 'p.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(bad);
    expect(r.stderr).toMatch(/at byte \d+: expected /);
    expect(readdirSync(outDir)).toEqual([]); // no CSV, no temp file, no report
  });

  it('writes the prefix counts as CSV, with a "(no prefix)" row, agreeing with the report', async () => {
    const csv = join(dir, 'prefixes.csv');
    const r = await analyze(['--prefix-csv', csv]);
    expect(r.code, r.stderr).toBe(0);
    const rows = parseCsv(readFileSync(csv));
    expect(rows[0]).toEqual(['prefix', 'depth', 'keys', 'bytes', 'memory']);
    const last = rows[rows.length - 1]!;
    expect(last.slice(0, 2)).toEqual(['(no prefix)', '0']);
    const rep = report(r.out);
    expect(rep.prefix_tree.approximate).toBe(false);
    expect(Number(last[2])).toBe(rep.prefix_tree.unprefixed.keys);
    // depth-1 prefixes and the keys without one partition the keys
    const top = rows.slice(1).filter((x) => x[1] === '1');
    expect(top.reduce((n, x) => n + Number(x[2]), 0) + Number(last[2])).toBe(summary!.totals.keys);
    for (const p of rep.prefixes.filter((x) => typeof x.prefix === 'string')) {
      const row = rows.find((x) => x[0] === p.prefix && x[1] === String(p.depth));
      expect(row, String(p.prefix)).toBeDefined();
      expect(row!.slice(2, 4)).toEqual([String(p.keys), String(p.bytes)]);
    }
    // a binary prefix byte for byte, like the keys of the memory CSV
    expect(rows.some((x) => x[0]!.startsWith('\xff\xfe\x00fx:'))).toBe(true);
  });

  it('fits the summary to 100 columns when the width is unknown, and to $COLUMNS', async () => {
    const lines = text.split('\n');
    const widest = Math.max(...lines.map(chars));
    expect(widest).toBeLessThanOrEqual(100);
    const wide = await analyze([], { COLUMNS: '160' });
    const wideLines = wide.stdout.toString('utf8').split('\n');
    expect(Math.max(...wideLines.map(chars))).toBeLessThanOrEqual(160);
    expect(Math.max(...wideLines.map(chars))).toBeGreaterThan(100); // room given is used: keys uncut
    expect(wideLines.length).toBeLessThan(lines.length); // fewer wrapped lines
  });

  it('fits the many-file summary too: long file names and cross-file warnings wrap at 100 columns', async () => {
    const a = join(dir, 'shard-a-with-a-deliberately-long-file-name-of-the-first-master.rdb');
    const b = join(dir, 'shard-b-with-a-deliberately-long-file-name-of-the-second-master.rdb');
    writeFileSync(a, readFileSync(FIXTURE));
    writeFileSync(b, readFileSync(FIXTURE));
    const out = mkdtempSync(join(dir, 'out-'));
    const { COLUMNS: _drop, ...env } = process.env;
    const r = await runCli(['analyze', a, b, '--partial', '--out-dir', out], { env });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.toString('utf8').split('\n');
    for (const l of lines) expect(chars(l), l).toBeLessThanOrEqual(100);
    const text = lines.join(' ').replace(/\s+/g, ' ');
    expect(text).toContain(`keys in more than one file: ${summary!.totals.keys}`);
    expect(text).toContain(`again in ${b}`); // wrapped, not cut: the whole path is there
  });

  it('uses one thousands style, a "(no prefix)" row, and the db beside each sample key', () => {
    const lines = text.split('\n');
    // a count or size of 1,000 or more always has its separators (keys and timestamps aside)
    const tables = lines.filter((l) => !/judged at|earliest expiry|saved |report:/.test(l)).map((l) => l.replace(/\S*[:_]\S*/g, ''));
    for (const l of tables) expect(l, l).not.toMatch(/(?<![\d.,])\d{4,}(?![\d.,])/);
    expect(text).toContain('5,401'); // the longest string's length, p99 column
    expect(lines.filter((l) => /^\s+\(no prefix\)\s+0\s+1\s/.test(l)).length).toBe(2); // by keys and by bytes
    const start = lines.findIndex((l) => l === 'Sample keys');
    expect(start).toBeGreaterThan(0);
    const samples = lines.slice(start + 1).filter((l) => l.startsWith(' '));
    expect(samples.length).toBeGreaterThan(0);
    let keys = 0;
    for (const l of samples) {
      const found = l.match(/\[db\d+\] /g) ?? [];
      expect(found.length, l).toBeGreaterThan(0);
      keys += found.length;
    }
    expect(keys).toBe(Object.values(full.by_type).reduce((n, t) => n + t.samples.length, 0));
  });
});
