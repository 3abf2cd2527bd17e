/** `rekey analyze` end to end on fixtures/dump.rdb: the files it writes, --json, --rules, gzip, JSONL. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createReadStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze, runAnalyze, type AnalyzeArgs } from '../../src/commands/analyze.js';
import type { AnalysisReport } from '../../src/analyze/aggregator.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'fixtures', 'dump.rdb');
const FIXTURE_JSONL = join(ROOT, 'fixtures', 'dump.jsonl');
const SUMMARY = join(ROOT, 'fixtures', 'dump.summary.json');
const RULES = join(ROOT, 'examples', 'meta-glasses.rules.yaml');
const EXPIRE_BASE = 4102444800000; // the fixtures' TTLs: year 2100 + n ms

const have = existsSync(FIXTURE) && existsSync(SUMMARY);
const summary = have ? (JSON.parse(readFileSync(SUMMARY, 'utf8')) as {
  totals: { keys: number; with_ttl: number; by_type: Record<string, number> };
  dbs: Record<string, { keys: number; with_ttl: number }>;
  by_encoding: Record<string, number>;
  rdb_version: number;
  redis_version: string;
}) : null;

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-analyze-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function args(extra: Partial<AnalyzeArgs> = {}): AnalyzeArgs {
  return {
    input: FIXTURE,
    top: 20,
    samples: 5,
    html: false,
    json: false,
    'prefix-depth': 3,
    'out-dir': mkdtempSync(join(dir, 'out-')),
    'ignore-checksum': false,
    'allow-future-version': false,
    ...extra,
  };
}

async function captureStdout<T>(fn: () => Promise<T>): Promise<{ out: string; result: T }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    out += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const result = await fn();
    return { out, result };
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
}

describe.skipIf(!have)('rekey analyze on fixtures/dump.rdb', () => {
  let plain: AnalysisReport;
  let jsonPath = '';

  beforeAll(async () => {
    const r = await analyze(args());
    plain = r.report;
    jsonPath = r.jsonPath;
  });

  it('writes redis_analysis_YYYYMMDD_HHMMSS.json with the shape the README promises', () => {
    expect(jsonPath).toMatch(/redis_analysis_\d{8}_\d{6}(?:_\d+)?\.json$/);
    const j = JSON.parse(readFileSync(jsonPath, 'utf8')) as AnalysisReport;
    expect(j.input).toMatchObject({ path: FIXTURE, format: 'rdb', rdb_version: summary!.rdb_version });
    for (const k of ['keys', 'with_ttl', 'expired', 'bytes'] as const) expect(typeof j.totals[k]).toBe('number');
    for (const t of Object.values(j.by_type)) {
      expect(typeof t.keys).toBe('number');
      expect(typeof t.bytes).toBe('number');
    }
    for (const d of Object.values(j.by_db)) expect(typeof d.keys).toBe('number');
    expect(j.ttl).toBeTypeOf('object');
    expect(Array.isArray(j.biggest_keys)).toBe(true);
    expect(Array.isArray(j.prefixes)).toBe(true);
    expect(j.by_category).toBeUndefined();
    // the file is exactly the report
    expect(j.totals).toEqual(plain.totals);
  });

  it('counts what the generator put in', () => {
    const s = summary!;
    expect(plain.totals.keys).toBe(s.totals.keys);
    expect(plain.totals.with_ttl).toBe(s.totals.with_ttl);
    expect(plain.totals.expired).toBe(0);
    for (const [type, n] of Object.entries(s.totals.by_type)) expect(plain.by_type[type]?.keys, type).toBe(n);
    for (const [db, d] of Object.entries(s.dbs)) {
      expect(plain.by_db[db]).toMatchObject({ keys: d.keys, with_ttl: d.with_ttl });
    }
    expect(plain.totals.bytes).toBeGreaterThan(100_000);
    expect(plain.totals.bytes).toBeLessThan(readFileSync(FIXTURE).length);
    expect(plain.metadata.redis_ver).toBe(s.redis_version);
    expect(plain.metadata.functions.map((f) => f.library)).toContain('rekeylib');
    expect(plain.metadata.functions[0]!.functions).toContain('rekey_echo');
    expect(plain.metadata.dbs.map((d) => d.db)).toEqual([0, 1, 3]);
    expect(plain.metadata.checksum).toBe('ok');
    expect(plain.metadata.ctime).toBeGreaterThan(1_600_000_000);
    expect(plain.metadata.used_mem).toBeGreaterThan(0);
  });

  it('reports TTLs (all in 2100) and the expired ones at a later --now', async () => {
    expect(plain.ttl.no_ttl + plain.ttl.with_ttl).toBe(plain.totals.keys);
    expect(plain.ttl.buckets['>=30d']).toBe(plain.ttl.with_ttl);
    expect(plain.ttl.earliest_ms).toBeGreaterThanOrEqual(EXPIRE_BASE);
    expect(plain.ttl.earliest).toMatch(/^2100-01-01T/);
    const later = (await analyze(args({ now: EXPIRE_BASE + 60_000 }))).report;
    expect(later.ttl.expired).toBeGreaterThan(0);
    expect(later.ttl.expired + Object.values(later.ttl.buckets).reduce((a, n) => a + n, 0)).toBe(later.ttl.with_ttl);
    expect(later.ttl.buckets['<1m'] + later.ttl.buckets['<1h']).toBeGreaterThan(0);
    expect(later.totals.expired).toBe(later.ttl.expired);
  });

  it('lists the biggest keys and prefixes', () => {
    expect(plain.biggest_keys).toHaveLength(20);
    const bytes = plain.biggest_keys.map((k) => k.bytes);
    expect([...bytes].sort((a, b) => b - a)).toEqual(bytes);
    expect(plain.biggest_keys[0]).toMatchObject({ type: expect.any(String), encoding: expect.any(String), memory: expect.any(Number) });
    expect(plain.biggest_keys_by_elements[0]!.elements).toBeGreaterThanOrEqual(600);
    const top = plain.prefixes.map((p) => p.prefix);
    expect(top).toContain('josancamon:rayban-meta-glasses-api:');
    expect(top).toContain('fx:');
    const app = plain.prefixes.find((p) => p.prefix === 'josancamon:rayban-meta-glasses-api:')!;
    expect(app.depth).toBe(2);
    expect(app.keys).toBeGreaterThan(240);
  });

  it('element statistics match the encodings the generator saw', () => {
    const s = summary!;
    // hashes: 64 listpack + 6 hashtable on the server; 600-field hashes are the max
    expect(plain.by_type.hash!.elements.max).toBe(600);
    expect(plain.by_type.hash!.encodings).toMatchObject({ listpack: s.by_encoding['hash:listpack'], hashtable: s.by_encoding['hash:hashtable'] });
    expect(plain.by_type.set!.encodings).toMatchObject({ intset: s.by_encoding['set:intset'], hashtable: s.by_encoding['set:hashtable'] });
    expect(plain.by_type.zset!.encodings).toMatchObject({ listpack: s.by_encoding['zset:listpack'], skiplist: s.by_encoding['zset:skiplist'] });
    expect(plain.by_type.list!.elements.max).toBe(300);
    for (const t of Object.values(plain.by_type)) {
      expect(t.elements.p50).toBeLessThanOrEqual(t.elements.p90);
      expect(t.elements.p90).toBeLessThanOrEqual(t.elements.p99);
      expect(t.elements.p99).toBeLessThanOrEqual(t.elements.max);
      expect(t.elements.histogram.reduce((a, h) => a + h.count, 0)).toBe(t.keys);
    }
  });

  it('--rules: categories, unmatched keys with samples, collisions and the migration', async () => {
    const r = (await analyze(args({ rules: RULES }))).report;
    const j = r;
    expect(j.by_category).toBeDefined();
    for (const cat of ['reminder', 'user_history', 'user_profile', 'cancellation', 'cache']) {
      expect(j.by_category![cat]!.keys, cat).toBeGreaterThan(0);
      expect(typeof j.by_category![cat]!.bytes).toBe('number');
    }
    expect(j.by_category!.cache!.keys).toBe(120);
    expect(j.by_category!.cancellation!.keys).toBe(15);
    expect(j.by_category!.user_profile!.keys).toBe(26); // 25 + the ":wa:<id>" look-alike, carried whole
    expect(j.unmatched!.keys).toBeGreaterThan(0);
    expect(j.unmatched!.samples.length).toBeGreaterThan(0);
    expect(j.unmatched!.samples.length).toBeLessThanOrEqual(5);
    expect(j.collisions).toEqual({ keys: 0, samples: [] });
    const categorised = Object.values(j.by_category!).reduce((a, c) => a + c.keys, 0);
    expect(categorised + j.unmatched!.keys).toBe(j.totals.keys);
    expect(j.migration!.keys_to_write).toBe(j.totals.keys); // unmatched: keep, nothing expired, no collisions
    expect(j.migration!.estimated_memory).toBeGreaterThan(0);
    const cacheSample = j.by_category!.cache!.samples[0]!;
    expect(String(cacheSample.new_key)).toMatch(/^meta-glasses:cache:generic:/);
    // written JSON has the same rules sections
    const file = JSON.parse(readFileSync(readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.json')).map((f) => join(dir, f)).find((f) => 'by_category' in JSON.parse(readFileSync(f, 'utf8')))!, 'utf8'));
    expect(Object.keys(file.by_category)).toEqual(Object.keys(j.by_category!));
  });

  it('exits 1 when the rules would collide, and lists the collisions', async () => {
    const rules = join(dir, 'collide.yaml');
    writeFileSync(rules, 'version: 1\nunmatched: keep\nrules:\n  - name: squash\n    category: squashed\n    match: "fx:str:{x:*}"\n    rename: "fx:squashed"\n');
    const r = await analyze(args({ rules }));
    expect(r.report.collisions!.keys).toBeGreaterThan(0);
    expect(r.report.collisions!.samples[0]!.new_key).toBe('fx:squashed');
    expect(r.exitCode).toBe(1);
  });

  it('--json prints the report on stdout; without it, readable tables', async () => {
    const { out, result } = await captureStdout(() => runAnalyze(args({ json: true, rules: RULES })));
    expect(result).toBe(0);
    const j = JSON.parse(out) as AnalysisReport;
    expect(j.totals.keys).toBe(summary!.totals.keys);
    expect(j.by_category).toBeDefined();
    const text = await captureStdout(() => runAnalyze(args({ rules: RULES })));
    expect(text.result).toBe(0);
    for (const h of ['By type', 'By db', 'TTL', 'Biggest keys', 'Top prefixes', 'Rules:', 'migration:']) expect(text.out).toContain(h);
    expect(text.out).not.toMatch(/\x1b\[/); // not a TTY: no colour
    expect(text.out).toMatch(/KiB/);
    // aligned: every row of the type table is as wide as its header or narrower
    const lines = text.out.split('\n');
    const i = lines.findIndex((l) => l.trim().startsWith('TYPE'));
    expect(lines[i + 1]!.indexOf('string')).toBe(lines[i]!.indexOf('TYPE'));
  });

  it('reads the same snapshot gzipped, as JSONL, from stdin, and filtered', async () => {
    const gz = join(dir, 'dump.rdb.gz');
    writeFileSync(gz, gzipSync(readFileSync(FIXTURE)));
    const g = (await analyze(args({ input: gz }))).report;
    expect(g.input.gzip).toBe(true);
    expect(g.totals).toMatchObject({ keys: plain.totals.keys, with_ttl: plain.totals.with_ttl, bytes: plain.totals.bytes });
    for (const [t, x] of Object.entries(plain.by_type)) expect(g.by_type[t]).toMatchObject({ keys: x.keys, bytes: x.bytes, memory: x.memory });
    if (existsSync(FIXTURE_JSONL)) {
      const j = (await analyze(args({ input: FIXTURE_JSONL }))).report;
      expect(j.input.format).toBe('jsonl');
      expect(j.totals.keys).toBe(plain.totals.keys);
      expect(j.totals.with_ttl).toBe(plain.totals.with_ttl);
      for (const [t, s] of Object.entries(plain.by_type)) expect(j.by_type[t]!.keys).toBe(s.keys);
    }
    // stdin ("-"): the format is sniffed from the first bytes
    const stdin = Object.getOwnPropertyDescriptor(process, 'stdin')!;
    Object.defineProperty(process, 'stdin', { value: createReadStream(gz), configurable: true });
    let s: AnalysisReport;
    try {
      s = (await analyze(args({ input: '-' }))).report;
    } finally {
      Object.defineProperty(process, 'stdin', stdin);
    }
    expect(s.input).toMatchObject({ path: '<stdin>', format: 'rdb', gzip: true, rdb_version: summary!.rdb_version });
    expect(s.totals).toMatchObject({ keys: plain.totals.keys, bytes: plain.totals.bytes, memory: plain.totals.memory });
    const f = (await analyze(args({ db: [1], type: ['hash', 'set'] }))).report;
    expect(f.totals.keys).toBe(summary!.dbs['1']!.keys - (60 - 7 - 9));
    expect(Object.keys(f.by_db)).toEqual(['1']);
    expect(f.totals.filtered_out).toBe(plain.totals.keys - f.totals.keys);
  });

  it('writes the HTML report next to the JSON with --html', async () => {
    const r = await analyze(args({ html: true, rules: RULES }));
    expect(r.htmlPath).toMatch(/redis_analysis_\d{8}_\d{6}\.html$/);
    expect(r.htmlPath!.replace(/\.html$/, '')).toBe(r.jsonPath.replace(/\.json$/, ''));
    const html = readFileSync(r.htmlPath!, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    // nothing fetched: no source or link in the markup (the inlined chart library's code aside)
    const markup = html.replace(/(<script[^>]*>)[\s\S]*?<\/script>/g, '$1</script>');
    expect(markup).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.apache\.org\/\))/);
    expect((html.match(/<div class="chart /g) ?? []).length).toBeGreaterThanOrEqual(9); // drawn in the browser: html-chromium.test.ts
    expect(html).toContain('id="chart-prefix-treemap"');
    expect(html).toContain('id="chart-categories"'); // with --rules
  });

  it('rejects bad numbers with a usage error', async () => {
    await expect(analyze(args({ top: -1 }))).rejects.toThrow(/--top/);
    await expect(analyze(args({ now: Number.NaN }))).rejects.toThrow(/--now/);
  });

  it('survives a forced progress bar on a non-terminal stream', async () => {
    const { result } = await captureStdout(() => analyze(args({ progress: true })));
    expect(result.report.totals.keys).toBe(plain.totals.keys);
  });
});
