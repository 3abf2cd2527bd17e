/**
 * `rekey rules test`, part 2: the run — parse and compile, the file's and the built-in tests, static
 * analysis, then (with --keys/--input) every key classified, with collisions confirmed on a second read.
 */
import { EXIT_BAD_INPUT, EXIT_OK, EXIT_PROBLEM, RekeyInputError, RekeyUsageError } from '../errors.js';
import { displayKey, toPrintable } from '../records/printable.js';
import { CollisionDetector, type CollisionFinding, type CollisionInput, type CollisionReport } from '../rules/collisions.js';
import { runBuiltinTests, runFileTests, type TestResult } from '../rules/embedded-tests.js';
import { compileRules, type CompiledRules } from '../rules/index.js';
import { RulesFileError, readRulesFile } from '../rules/schema.js';
import { analyzeStatic, ShadowObserver, type OverlapFinding, type ShadowFinding } from '../rules/shadowing.js';
import { decideKey } from '../pipeline/key-decision.js';
import { keySource, type CollisionJson, type KeyItem, type RulesTestOptions, type RulesTestReport } from './rules-test-plan.js';

/**
 * Where a key goes, decided as transform and import decide it (pipeline/key-decision.ts). A rule that
 * renames it to an empty name is this key's error there: it is written nowhere, so it collides with
 * nothing, and `error` says why.
 */
function toCollisionInput(rules: CompiledRules, item: KeyItem): CollisionInput & { error?: string } {
  const db = item.db ?? 0;
  // A key listing has no expiry; unmatched keys under `error` stay where they are for this check.
  const d = decideKey({ db: item.db, key: item.key, ...(item.type !== undefined ? { type: item.type } : {}), expireAtMs: null }, { rules, unmatched: rules.unmatched, dropExpired: false, now: 0 });
  if (d.kind === 'unmatched-drop') return { key: item.key, db, newKey: null, toDb: db };
  if (d.kind === 'rename-error') return { key: item.key, db, newKey: null, toDb: db, error: d.message };
  if (d.kind === 'keep') return { key: item.key, db, newKey: d.key, toDb: d.db };
  return { key: item.key, db, newKey: item.key, toDb: db };
}

/** Per-key errors (empty renames) named in `errors`, the first ones; the count is exact. */
const KEY_ERRORS_LISTED = 100;

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
  // A key the rules rename to an empty name: transform and import count it as that key's error (exit 1).
  let keyErrors = 0;
  const keyError = (db: number, key: Buffer, message: string): void => {
    problem = true;
    if (keyErrors++ < KEY_ERRORS_LISTED) report.errors.push({ severity: 'error', source: `db ${db} ${displayKey(key)}`, message });
  };

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
      if (ci.error !== undefined) keyError(ci.db, ci.key, ci.error);
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
          const newKey = rules.unmatched === 'drop' ? null : it.key;
          det.add(it.key, db, newKey, db);
          o.onKey?.({ db: it.db, key: it.key, newKey, toDb: db, rule: null, category: null, unmatched: rules.unmatched });
          continue;
        }
        const r = rs[hits[0]!]!;
        byCategory[r.category] = (byCategory[r.category] ?? 0) + 1;
        const ci = toCollisionInput(rules, it);
        det.add(it.key, db, ci.newKey, ci.toDb);
        if (ci.error !== undefined) keyError(db, it.key, ci.error);
        o.onKey?.({ db: it.db, key: it.key, newKey: ci.newKey, toDb: ci.toDb, rule: r.name, category: r.category, unmatched: null });
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
  if (keyErrors > KEY_ERRORS_LISTED) report.errors.push({ severity: 'error', source: 'keys', message: `${keyErrors - KEY_ERRORS_LISTED} more keys renamed to an empty name` });
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
