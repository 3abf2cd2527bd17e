/**
 * `rekey rules test <rules-file> [--keys FILE|-] [--input DUMP] [--json] [--strict]`
 *
 * Offline, no Redis. Checks, in order:
 *  1. the file parses and validates (else exit 2, each problem with file:line:col and the rule);
 *  2. the file's `tests:` and built-in base64 round trips pass, and the test keys, taken together as
 *     a small keyspace, have no collisions;
 *  3. static analysis: shadowed rules (no key can reach them), overlaps, potential collisions;
 *  4. with --keys/--input: every key is classified; per-rule counts, unmatched keys, shadowing as
 *     observed, and collisions (digest table, confirmed byte-exactly by a second read of the input).
 *
 * Keys file: one key per line (LF; a CR before the LF is dropped). A line starting with `base64:` is
 * the base64 of the key's bytes (for binary keys, keys containing newlines, keys that start with
 * `base64:`, and the empty key: `base64:`). Empty lines are skipped. `-` reads stdin (copied to a
 * temp file while read, so collision candidates can be confirmed on a second pass). Keys from a
 * keys file have no type or db: type/db filters do not restrict them, and they count as db 0.
 *
 * Exit: 0 all good; 1 a test failed, a collision exists, a key is unmatched under `unmatched: error`
 * (or, with --strict, any warning: shadowed rule, potential collision, rule warnings); 2 the rules
 * file (or the keys file / dump) is invalid.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { EXIT_BAD_INPUT, EXIT_OK, EXIT_PROBLEM, RekeyInputError, RekeyUsageError } from '../errors.js';
import { displayKey, toPrintable } from '../records/printable.js';
import type { LogicalType } from '../records/types.js';
import { Dataset, type DatasetReport } from '../dataset/dataset.js';
import { datasetLines } from '../dataset/outcome.js';
import { CollisionDetector, type CollisionFinding, type CollisionInput, type CollisionReport } from '../rules/collisions.js';
import { runBuiltinTests, runFileTests, type TestResult } from '../rules/embedded-tests.js';
import { compileRules, renameWith, type CompiledRules } from '../rules/index.js';
import { RulesFileError, formatDiagnostic, readRulesFile, type RuleDiagnostic } from '../rules/schema.js';
import { analyzeStatic, ShadowObserver, type OverlapFinding, type ShadowFinding } from '../rules/shadowing.js';
import { decideKey } from '../pipeline/key-decision.js';

export interface RulesTestOptions {
  rulesFile: string;
  /** Path of a keys file, or `-` for stdin. */
  keys?: string;
  /** Dumps (RDB/JSONL, optionally .gz; paths or globs, read as one dataset) whose keys to check. */
  input?: string | string[];
  /** Treat warnings as problems (exit 1). */
  strict?: boolean;
  ignoreChecksum?: boolean;
  /** Where `-` reads from (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** Samples kept per list in the report. Default 5. */
  samples?: number;
  /** Test hook: digest bits of the collision detector (forces digest collisions). */
  collisionDigestBits?: number;
}

type Printable = string | { base64: string };

export interface RulesTestReport {
  rules_file: string;
  valid: boolean;
  exit_code: number;
  errors: RuleDiagnostic[];
  warnings: RuleDiagnostic[];
  unmatched_mode?: 'keep' | 'drop' | 'error';
  rules: Array<{
    index: number;
    name: string;
    category: string;
    match: string | null;
    regex: string | null;
    rename: string | null;
    invertible: boolean;
    line?: number;
    /** Keys (from --keys/--input) this rule classified. */
    keys: number;
    /** Keys it matched but an earlier rule took. */
    lost: number;
    /** File tests this rule classified. */
    tests: number;
  }>;
  tests: {
    total: number;
    passed: number;
    failed: number;
    file: number;
    builtin: number;
    failures: Array<{ source: 'file' | 'builtin'; index: number; name: string; line?: number; key: Printable; failures: string[] }>;
  };
  shadowed: Array<{ rule: string; by: string[]; how: 'static' | 'observed'; message: string }>;
  overlaps: Array<{ rule: string; also_matches: string; how: 'static' | 'observed'; example: Printable | null; count?: number; samples?: Printable[] }>;
  potential_collisions: Array<{ kind: string; rule: string; other: string; example: Printable; message: string }>;
  undecided: Array<{ rule: string; reason: string }>;
  never_matched: string[];
  keys?: {
    sources: string[];
    total: number;
    matched: number;
    unmatched: number;
    unmatched_samples: Printable[];
    by_category: Record<string, number>;
    /** Several --input dumps: a row per file and their slot coverage (dataset/dataset.ts). */
    dataset?: DatasetReport;
  };
  collisions: {
    /** Among the file's test keys. */
    tests: CollisionJson;
    /** Among the keys of --keys/--input (absent without them). */
    keys?: CollisionJson;
  };
}

interface CollisionJson {
  total: number;
  confirmed: boolean;
  candidates: number;
  false_positives: number;
  duplicate_sources: number;
  memory_bytes: number;
  bytes_per_key: number;
  truncated: boolean;
  findings: Array<{
    kind: string;
    db: number;
    new_key: Printable;
    sources: Array<{ db: number; key: Printable }>;
    existing_source?: { db: number; key: Printable };
    confirmed: boolean;
  }>;
}

interface KeyItem {
  key: Buffer;
  type?: LogicalType;
  db?: number;
}

// ---------------------------------------------------------------------------------------------
// Key sources

/** Split a byte stream into lines (LF, optional CR before it), without decoding. */
async function* byteLines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<{ line: Buffer; no: number }> {
  let rest: Buffer = Buffer.alloc(0);
  let no = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let data = rest.length > 0 ? Buffer.concat([rest, buf]) : buf;
    let start = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, start);
      if (nl < 0) break;
      no++;
      let end = nl;
      if (end > start && data[end - 1] === 0x0d) end--;
      yield { line: data.subarray(start, end), no };
      start = nl + 1;
    }
    rest = Buffer.from(data.subarray(start));
    data = rest;
  }
  if (rest.length > 0) {
    no++;
    let end = rest.length;
    if (rest[end - 1] === 0x0d) end--;
    yield { line: rest.subarray(0, end), no };
  }
}

const B64_LINE = /^[A-Za-z0-9+/=_-]*$/;

async function* keysFromStream(stream: AsyncIterable<Buffer | string>, name: string): AsyncGenerator<KeyItem> {
  try {
    for await (const { line, no } of byteLines(stream)) {
      if (line.length === 0) continue;
      if (line.length >= 7 && line.subarray(0, 7).toString('latin1') === 'base64:') {
        const text = line.subarray(7).toString('latin1');
        if (!B64_LINE.test(text)) throw new RekeyUsageError(`${name}:${no}: "base64:" line is not base64`);
        yield { key: Buffer.from(text, 'base64') };
      } else yield { key: Buffer.from(line) };
    }
  } catch (e) {
    if (e instanceof RekeyUsageError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new RekeyUsageError(`--keys ${name}: cannot read: ${err.code ?? ''} ${err.message}`.trim());
  }
}

/** Copy a stream into a file while passing its chunks on (stdin is spooled for the second pass). */
async function* tee(stream: AsyncIterable<Buffer | string>, path: string): AsyncGenerator<Buffer> {
  const out = createWriteStream(path);
  try {
    for await (const chunk of stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (!out.write(buf)) await once(out, 'drain');
      yield buf;
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
}

async function* keysFromDump(input: string | string[], ignoreChecksum: boolean, onDataset?: (d: Dataset) => void): AsyncGenerator<KeyItem> {
  const ds = await Dataset.open(input, { ignoreChecksum });
  onDataset?.(ds);
  for await (const batch of ds.input.batches) {
    for (const rec of batch) if (rec.kind === 'key') yield { key: rec.key, type: rec.type, db: rec.db };
  }
}

interface KeySource {
  /** The --input dataset of the last pass (its per-file table). */
  dataset: Dataset | null;
  /** Iterate the keys (callable again for the confirmation pass). */
  items(): AsyncGenerator<KeyItem>;
  /** Remove the stdin spool file, if any. */
  cleanup(): Promise<void>;
}

/**
 * The keys of --keys then --input. stdin (`--keys -`) is copied to a temp file on the first pass so
 * the collision check can confirm digest matches on a second pass like it does for files.
 */
function keySource(o: RulesTestOptions): KeySource | null {
  if (o.keys === undefined && o.input === undefined) return null;
  const stdin = o.stdin ?? process.stdin;
  let spoolDir: string | null = null;
  let spooled = false;
  const src: KeySource = {
    dataset: null,
    async *items() {
      if (o.keys === '-') {
        if (spooled) yield* keysFromStream(createReadStream(join(spoolDir!, 'stdin.keys')), '<stdin>');
        else {
          spoolDir = await mkdtemp(join(tmpdir(), 'rekey-keys-'));
          yield* keysFromStream(tee(stdin as AsyncIterable<Buffer>, join(spoolDir, 'stdin.keys')), '<stdin>');
          spooled = true;
        }
      } else if (o.keys !== undefined) yield* keysFromStream(createReadStream(o.keys), o.keys);
      if (o.input !== undefined) yield* keysFromDump(o.input, o.ignoreChecksum ?? false, (d) => (src.dataset ??= d));
    },
    async cleanup() {
      if (spoolDir !== null) await rm(spoolDir, { recursive: true, force: true });
    },
  };
  return src;
}

// ---------------------------------------------------------------------------------------------
// The run

function toCollisionInput(rules: CompiledRules, item: KeyItem): CollisionInput {
  const db = item.db ?? 0;
  // A key listing has no expiry; unmatched keys under `error` stay where they are for this check.
  const d = decideKey({ db: item.db, key: item.key, ...(item.type !== undefined ? { type: item.type } : {}), expireAtMs: null }, { rules, unmatched: rules.unmatched, dropExpired: false, now: 0 });
  if (d.kind === 'unmatched-drop') return { key: item.key, db, newKey: null, toDb: db };
  if (d.kind === 'keep') return { key: item.key, db, newKey: d.key, toDb: d.db };
  return { key: item.key, db, newKey: item.key, toDb: db };
}

function collisionJson(r: CollisionReport): CollisionJson {
  const f = (x: CollisionFinding): CollisionJson['findings'][number] => {
    const o: CollisionJson['findings'][number] = {
      kind: x.kind,
      db: x.db,
      new_key: toPrintable(x.newKey),
      sources: x.sources.map((s) => ({ db: s.db, key: toPrintable(s.key) })),
      confirmed: x.confirmed,
    };
    if (x.existingSource) o.existing_source = { db: x.existingSource.db, key: toPrintable(x.existingSource.key) };
    return o;
  };
  return {
    total: r.total,
    confirmed: r.confirmed,
    candidates: r.candidates,
    false_positives: r.falsePositives,
    duplicate_sources: r.duplicateSources,
    memory_bytes: r.memoryBytes,
    bytes_per_key: Math.round(r.bytesPerKey * 100) / 100,
    truncated: r.truncated,
    findings: r.findings.map(f),
  };
}

function emptyReport(file: string): RulesTestReport {
  return {
    rules_file: file,
    valid: false,
    exit_code: EXIT_BAD_INPUT,
    errors: [],
    warnings: [],
    rules: [],
    tests: { total: 0, passed: 0, failed: 0, file: 0, builtin: 0, failures: [] },
    shadowed: [],
    overlaps: [],
    potential_collisions: [],
    undecided: [],
    never_matched: [],
    collisions: { tests: collisionJson(new CollisionDetector().report()) },
  };
}

export async function runRulesTest(o: RulesTestOptions): Promise<{ exitCode: number; report: RulesTestReport }> {
  const report = emptyReport(o.rulesFile);
  const samples = o.samples ?? 5;
  let rules: CompiledRules;
  try {
    rules = compileRules(await readRulesFile(o.rulesFile));
  } catch (e) {
    if (e instanceof RulesFileError) {
      report.errors = e.diagnostics;
      return { exitCode: EXIT_BAD_INPUT, report };
    }
    throw e;
  }
  report.valid = true;
  report.unmatched_mode = rules.unmatched;
  report.warnings = [...rules.warnings];
  const rs = rules.rules;
  const label = (i: number): string => rs[i]!.name;
  let problem = false;
  let warningsSeen = rules.warnings.length > 0;

  // Tests.
  const fileResults = runFileTests(rules);
  const builtin = runBuiltinTests(rules);
  const all: TestResult[] = [...fileResults, ...builtin];
  const failed = all.filter((t) => !t.ok);
  report.tests = {
    total: all.length,
    passed: all.length - failed.length,
    failed: failed.length,
    file: fileResults.length,
    builtin: builtin.length,
    failures: failed.map((t) => {
      const f: RulesTestReport['tests']['failures'][number] = {
        source: t.source,
        index: t.index,
        name: t.name,
        key: toPrintable(t.key),
        failures: t.failures,
      };
      if (t.line !== undefined) f.line = t.line;
      return f;
    }),
  };
  if (failed.length > 0) problem = true;
  const testsPerRule = new Array<number>(rs.length).fill(0);
  for (const t of fileResults) if (t.actual !== null) testsPerRule[t.actual.ruleIndex]!++;

  // Collisions among the test keys.
  const testItems: KeyItem[] = rules.tests.map((t) => {
    const it: KeyItem = { key: t.key };
    if (t.type !== undefined) it.type = t.type;
    if (t.db !== undefined) it.db = t.db;
    return it;
  });
  {
    const det = new CollisionDetector({ sampleLimit: samples });
    const seen = new Set<string>();
    const inputs: CollisionInput[] = [];
    for (const it of testItems) {
      const ci = toCollisionInput(rules, it);
      // The same key tested twice (e.g. with different types) is one key.
      const id = `${ci.db}\u0000${ci.key.toString('latin1')}`;
      if (seen.has(id)) continue;
      seen.add(id);
      inputs.push(ci);
      det.add(ci.key, ci.db, ci.newKey, ci.toDb);
    }
    const cr = await det.confirm(inputs);
    report.collisions.tests = collisionJson(cr);
    if (cr.total > 0) problem = true;
  }

  // Static analysis.
  const st = analyzeStatic(rules);
  const shadowJson = (s: ShadowFinding): RulesTestReport['shadowed'][number] => ({
    rule: label(s.rule),
    by: s.by.map(label),
    how: s.how,
    message: s.message,
  });
  const overlapJson = (x: OverlapFinding, how: 'static' | 'observed'): RulesTestReport['overlaps'][number] => {
    const out: RulesTestReport['overlaps'][number] = {
      rule: label(x.rule),
      also_matches: label(x.other),
      how,
      example: x.example === null ? null : toPrintable(x.example),
    };
    if (x.count !== undefined) out.count = x.count;
    if (x.samples !== undefined) out.samples = x.samples.map(toPrintable);
    return out;
  };
  report.shadowed = st.shadowed.map(shadowJson);
  report.overlaps = st.overlaps.map((x) => overlapJson(x, 'static'));
  report.potential_collisions = st.potentialCollisions.map((p) => ({
    kind: p.kind,
    rule: label(p.rule),
    other: label(p.other),
    example: toPrintable(p.example),
    message: p.message,
  }));
  report.undecided = st.undecided.map((u) => ({ rule: label(u.rule), reason: u.reason }));
  if (st.shadowed.length > 0 || st.potentialCollisions.length > 0) warningsSeen = true;

  // Keys.
  const perRuleKeys = new Array<number>(rs.length).fill(0);
  const perRuleLost = new Array<number>(rs.length).fill(0);
  const source = keySource(o);
  if (source !== null) {
    const observer = new ShadowObserver(rules, Math.min(samples, 3));
    const det = new CollisionDetector(
      o.collisionDigestBits !== undefined ? { digestBits: o.collisionDigestBits, sampleLimit: 1000 } : { sampleLimit: 1000 },
    );
    const byCategory: Record<string, number> = {};
    let total = 0;
    let unmatched = 0;
    const unmatchedSamples: Buffer[] = [];
    try {
      for await (const it of source.items()) {
        total++;
        const hits = observer.add(it.key, it.type, it.db);
        const db = it.db ?? 0;
        if (hits.length === 0) {
          unmatched++;
          if (unmatchedSamples.length < samples) unmatchedSamples.push(Buffer.from(it.key));
          det.add(it.key, db, rules.unmatched === 'drop' ? null : it.key, db);
          continue;
        }
        const w = hits[0]!;
        const r = rs[w]!;
        byCategory[r.category] = (byCategory[r.category] ?? 0) + 1;
        const newKey = renameWith(rules, w, it.key, it.type, it.db) ?? it.key;
        det.add(it.key, db, newKey, r.toDb ?? db);
      }
      // Digest matches are confirmed byte-exactly on a second read (a no-op when there are none).
      const cr: CollisionReport = await det.confirm(
        (async function* () {
          for await (const it of source.items()) yield toCollisionInput(rules, it);
        })(),
      );
      report.collisions.keys = collisionJson(cr);
      if (cr.total > 0) problem = true;
    } catch (e) {
      if (e instanceof RekeyUsageError || e instanceof RekeyInputError) {
        report.errors.push({ severity: 'error', source: [o.input ?? o.keys ?? ''].flat().join(' '), message: e.message });
        report.exit_code = EXIT_BAD_INPUT;
        return { exitCode: EXIT_BAD_INPUT, report: finishRules(report, rules, perRuleKeys, perRuleLost, testsPerRule) };
      }
      throw e;
    } finally {
      await source.cleanup();
    }
    const obs = observer.result();
    for (const s of obs.perRule) {
      perRuleKeys[s.rule] = s.matched;
      perRuleLost[s.rule] = s.lost;
    }
    const staticShadowed = new Set(st.shadowed.map((s) => s.rule));
    for (const x of obs.shadowed.filter((s) => !staticShadowed.has(s.rule)).map(shadowJson)) report.shadowed.push(x);
    for (const x of obs.overlaps) report.overlaps.push(overlapJson(x, 'observed'));
    report.never_matched = obs.neverMatched.map(label);
    if (obs.shadowed.length > 0 || obs.neverMatched.length > 0) warningsSeen = true;
    const sources: string[] = [];
    if (o.keys !== undefined) sources.push(o.keys === '-' ? '<stdin>' : o.keys);
    const dataset = source.dataset;
    if (o.input !== undefined) sources.push(...(dataset?.paths ?? [o.input].flat()));
    const datasetReport = dataset?.report() ?? null;
    report.keys = {
      sources,
      total,
      matched: total - unmatched,
      unmatched,
      unmatched_samples: unmatchedSamples.map(toPrintable),
      by_category: byCategory,
      ...(datasetReport ? { dataset: datasetReport } : {}),
    };
    if (unmatched > 0 && rules.unmatched === 'error') problem = true;
  }

  finishRules(report, rules, perRuleKeys, perRuleLost, testsPerRule);
  const exitCode = problem || (o.strict === true && warningsSeen) ? EXIT_PROBLEM : EXIT_OK;
  report.exit_code = exitCode;
  return { exitCode, report };
}

function finishRules(
  report: RulesTestReport,
  rules: CompiledRules,
  keys: number[],
  lost: number[],
  tests: number[],
): RulesTestReport {
  report.rules = rules.rules.map((r) => {
    const x: RulesTestReport['rules'][number] = {
      index: r.index,
      name: r.name,
      category: r.category,
      match: r.match,
      regex: r.regex,
      rename: r.rename,
      invertible: r.invertible,
      keys: keys[r.index]!,
      lost: lost[r.index]!,
      tests: tests[r.index]!,
    };
    if (r.line !== undefined) x.line = r.line;
    return x;
  });
  return report;
}

// ---------------------------------------------------------------------------------------------
// Human output

interface Style {
  ok(s: string): string;
  bad(s: string): string;
  warn(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function makeStyle(color: boolean): Style {
  const wrap = (code: string) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { ok: wrap('32'), bad: wrap('31'), warn: wrap('33'), dim: wrap('2'), bold: wrap('1') };
}

function printable(p: Printable | null): string {
  if (p === null) return '';
  return typeof p === 'string' ? displayKey(Buffer.from(p, 'utf8')) : `base64:${p.base64}`;
}

/** Left-aligned columns (numbers right-aligned), header underlined with dashes. */
export function table(headers: string[], rows: string[][], numeric: boolean[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].map((l) => `  ${l}`).join('\n');
}

function num(n: number): string {
  return n.toLocaleString('en-US');
}

function collisionLines(c: CollisionJson, st: Style, limit = 20): string[] {
  const out: string[] = [];
  for (const f of c.findings.slice(0, limit)) {
    const srcs = f.sources.map((s) => `${printable(s.key)}${s.db !== f.db ? ` (db ${s.db})` : ''}`).join(', ');
    const tag = f.confirmed ? '' : st.warn(' [digest match, unconfirmed]');
    if (f.kind === 'duplicate_target') {
      out.push(`  ${st.bad('collision')} db ${f.db} ${printable(f.new_key)} <- ${srcs}${f.existing_source ? ' (also an existing source key)' : ''}${tag}`);
    } else {
      out.push(`  ${st.bad('collision')} db ${f.db} ${printable(f.new_key)} is the new name of ${srcs || '(a key)'} and also an existing source key${tag}`);
    }
  }
  if (c.total > Math.min(limit, c.findings.length)) out.push(`  ... ${num(c.total - Math.min(limit, c.findings.length))} more`);
  return out;
}

export function formatRulesTestReport(r: RulesTestReport, color: boolean): string {
  const st = makeStyle(color);
  const out: string[] = [];
  if (!r.valid) {
    out.push(st.bad(`rules file is invalid: ${r.rules_file}`));
    for (const e of r.errors) out.push(`  ${formatDiagnostic(e)}`);
    out.push('', `result: ${st.bad('INVALID')} (exit ${r.exit_code})`);
    return out.join('\n') + '\n';
  }
  out.push(st.bold(`rules: ${r.rules_file}`) + ` (${r.rules.length} rules, unmatched: ${r.unmatched_mode})`, '');
  const withKeys = r.keys !== undefined;
  const headers = ['#', 'rule', 'category', 'match', 'rename', 'tests'];
  const numeric = [true, false, false, false, false, true];
  if (withKeys) {
    headers.push('keys', 'lost');
    numeric.push(true, true);
  }
  const rows = r.rules.map((x) => {
    const row = [
      String(x.index + 1),
      x.name,
      x.category,
      x.match ?? `regex: ${x.regex}`,
      x.rename ?? '(kept)',
      num(x.tests),
    ];
    if (withKeys) row.push(num(x.keys), num(x.lost));
    return row;
  });
  out.push(table(headers, rows, numeric), '');

  const t = r.tests;
  const testLine = `tests: ${num(t.passed)} passed, ${num(t.failed)} failed (${t.file} from the file, ${t.builtin} built-in)`;
  out.push(t.failed > 0 ? st.bad(testLine) : st.ok(testLine));
  for (const f of t.failures) {
    const where = f.line !== undefined ? `${r.rules_file}:${f.line}: ` : '';
    out.push(`  ${st.bad('FAIL')} ${where}${f.name}: key ${printable(f.key)}`);
    for (const m of f.failures) out.push(`       ${m}`);
  }
  if (r.collisions.tests.total > 0) {
    out.push(st.bad(`collisions among the test keys: ${r.collisions.tests.total}`));
    for (const l of collisionLines(r.collisions.tests, st)) out.push(l);
  }

  if (r.keys) {
    const k = r.keys;
    out.push('', st.bold(`keys: ${num(k.total)} from ${k.sources.join(', ')}`) + `: ${num(k.matched)} matched, ${num(k.unmatched)} unmatched (${r.unmatched_mode})`);
    const cats = Object.entries(k.by_category).sort((a, b) => b[1] - a[1]);
    if (cats.length > 0) out.push(table(['category', 'keys'], cats.map(([c, n]) => [c, num(n)]), [false, true]));
    if (k.unmatched_samples.length > 0) {
      out.push(`  unmatched, e.g.: ${k.unmatched_samples.map(printable).join(', ')}`);
    }
    if (k.dataset) out.push(...datasetLines(k.dataset));
    const c = r.collisions.keys!;
    const mem = `${num(c.memory_bytes)} bytes table, ${c.bytes_per_key.toFixed(1)} B/key`;
    if (c.total === 0) {
      out.push(st.ok(`collisions: none`) + st.dim(` (${num(c.candidates)} digest candidates, ${num(c.false_positives)} false; ${mem})`));
    } else {
      out.push(st.bad(`collisions: ${num(c.total)}${c.confirmed ? '' : ' (unconfirmed digest matches)'}`) + st.dim(` (${mem})`));
      for (const l of collisionLines(c, st)) out.push(l);
    }
    if (c.duplicate_sources > 0) out.push(st.warn(`  ${num(c.duplicate_sources)} duplicate key line(s) in the input`));
  }

  out.push('');
  if (r.shadowed.length === 0) out.push(st.ok('shadowed rules: none'));
  else {
    out.push(st.warn(`shadowed rules: ${r.shadowed.length}`));
    for (const s of r.shadowed) out.push(`  ${st.warn(s.how)}: ${s.message}`);
  }
  if (r.never_matched.length > 0) out.push(st.warn(`rules that matched no key: ${r.never_matched.join(', ')}`));
  if (r.overlaps.length > 0) {
    out.push(`overlaps (first match wins; informational):`);
    for (const x of r.overlaps.slice(0, 30)) {
      const ex = x.how === 'observed' ? `${num(x.count ?? 0)} key(s), e.g. ${printable(x.example)}` : `e.g. ${printable(x.example)}`;
      out.push(`  ${x.how}: "${x.rule}" takes keys "${x.also_matches}" would also match: ${ex}`);
    }
    if (r.overlaps.length > 30) out.push(`  ... ${r.overlaps.length - 30} more`);
  }
  if (r.potential_collisions.length > 0) {
    out.push(st.warn(`potential collisions: ${r.potential_collisions.length}`));
    for (const p of r.potential_collisions) out.push(`  ${p.message}, e.g. ${printable(p.example)}`);
  }
  for (const w of r.warnings) out.push(st.warn(formatDiagnostic(w)));
  for (const u of r.undecided) out.push(st.dim(`not analysed statically: "${u.rule}": ${u.reason}`));
  out.push('', `result: ${r.exit_code === EXIT_OK ? st.ok('OK') : st.bad('PROBLEMS FOUND')} (exit ${r.exit_code})`);
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// yargs

interface RulesTestArgs {
  'rules-file': string;
  keys?: string;
  input?: string[];
  json: boolean;
  strict: boolean;
  'ignore-checksum': boolean;
}

export const rulesTestCommand: CommandModule<object, RulesTestArgs> = {
  command: 'test <rules-file>',
  describe: 'Check a rules file offline: syntax, its tests, shadowed rules, collisions (over --keys/--input)',
  builder: (y: Argv<object>) =>
    y
      .positional('rules-file', { type: 'string', demandOption: true, describe: 'rules file (YAML or JSON)' })
      .option('keys', { type: 'string', nargs: 1, describe: 'keys file, one key per line ("base64:" prefix for binary keys), or - for stdin' })
      .option('input', { type: 'string', array: true, describe: 'dumps (.rdb/.jsonl, optionally .gz; paths or globs, several are one dataset) whose keys to check' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document' })
      .option('strict', { type: 'boolean', default: false, describe: 'exit 1 on warnings too (shadowed rules, potential collisions)' })
      .option('ignore-checksum', { type: 'boolean', default: false, describe: 'do not verify the RDB CRC64 of --input' }) as unknown as Argv<RulesTestArgs>,
  handler: async (a) => {
    const opts: RulesTestOptions = { rulesFile: a['rules-file'], strict: a.strict, ignoreChecksum: a['ignore-checksum'] };
    if (a.keys !== undefined) opts.keys = a.keys;
    if (a.input !== undefined) opts.input = a.input;
    const { exitCode, report } = await runRulesTest(opts);
    if (a.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else {
      const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
      process.stdout.write(formatRulesTestReport(report, color));
    }
    process.exitCode = exitCode;
  },
};
