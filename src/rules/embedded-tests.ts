/**
 * The rules file's own `tests:`, and built-in round trips of base64 edge cases.
 *
 * A file test classifies `key` (with its optional `type`/`db`) and checks every expectation given:
 * `expect` (the new key; null = must not match), `expect_category`, `expect_rule`, `expect_db`.
 * When the key is renamed by an invertible rule, the cut-over mapping is checked too: toOldKey(new
 * key) must give the key back.
 *
 * Built-in tests, for every rule with a `{x:base64}` placeholder: the match template is filled with
 * base64 edge-case payloads (`+ / =`, url-safe `- _`, padding only, ...) and the key must be taken by
 * that rule, carry the payload byte-exactly into the new key, and map back with toOldKey; an empty
 * payload must not match the rule.
 */
import type { LogicalType } from '../records/types.js';
import type { CompiledRule, CompiledRules } from './index.js';
import { instantiate, type PlaceholderKind, type Segment } from './template.js';

export interface TestOutcome {
  rule: string;
  ruleIndex: number;
  category: string;
  newKey: Buffer;
  toDb: number | undefined;
}

export interface TestResult {
  source: 'file' | 'builtin';
  /** Index in the file's tests (file) or running number (builtin). */
  index: number;
  name: string;
  key: Buffer;
  type?: LogicalType;
  db?: number;
  ok: boolean;
  /** Why it failed (one line per failed check). */
  failures: string[];
  /** What classify returned (null = no rule matched). */
  actual: TestOutcome | null;
  /** The expected new key, when the test gave one (null = expected unmatched). */
  expected?: Buffer | null;
  line?: number;
}

export const BASE64_EDGE_CASES: ReadonlyArray<{ name: string; value: string }> = [
  { name: 'standard alphabet with + / =', value: 'a+b/c=' },
  { name: 'padding ==', value: 'QUJDRA==' },
  { name: 'url-safe - _', value: 'a-b_c-_' },
  { name: 'only symbols', value: '+/-_=' },
  { name: 'plain', value: 'YWJjZA' },
  { name: 'single char', value: '=' },
];

const SAMPLE_VALUES: Record<PlaceholderKind, string> = {
  seg: 'id-1',
  any: 'id:1',
  base64: 'QUJD',
  int: '42',
};

function outcome(c: ReturnType<CompiledRules['classify']>): TestOutcome | null {
  if (c === null) return null;
  return { rule: c.rule, ruleIndex: c.ruleIndex, category: c.category, newKey: c.newKey, toDb: c.toDb };
}

export function displayBytes(b: Buffer): string {
  const s = b.toString('utf8');
  // eslint-disable-next-line no-control-regex
  if (Buffer.from(s, 'utf8').equals(b) && !/[\x00-\x1f\x7f]/.test(s)) return JSON.stringify(s);
  return `base64:${b.toString('base64')}`;
}

function checkRoundTrip(rules: CompiledRules, key: Buffer, actual: TestOutcome, type?: LogicalType, db?: number): string | null {
  const rule = rules.rules[actual.ruleIndex]!;
  if (!rule.invertible) return null;
  const targetDb = actual.toDb ?? db;
  const opts: { type?: LogicalType; db?: number } = {};
  if (type !== undefined) opts.type = type;
  if (targetDb !== undefined) opts.db = targetDb;
  const old = rules.toOldKey(actual.newKey, opts);
  if (old === null) return `cut-over: toOldKey(${displayBytes(actual.newKey)}) found no old key (expected ${displayBytes(key)})`;
  if (!old.equals(key)) return `cut-over: toOldKey(${displayBytes(actual.newKey)}) gives ${displayBytes(old)}, not ${displayBytes(key)}`;
  return null;
}

/** Run the file's tests. */
export function runFileTests(rules: CompiledRules): TestResult[] {
  return rules.tests.map((t) => {
    const c = rules.classify(t.key, t.type, t.db);
    const actual = outcome(c);
    const failures: string[] = [];
    const got = actual === null ? 'no rule matched' : `rule "${actual.rule}" gave ${displayBytes(actual.newKey)}`;
    if (t.expect === null && actual !== null) failures.push(`expected no match, but ${got}`);
    if (t.expect instanceof Buffer) {
      if (actual === null) failures.push(`expected ${displayBytes(t.expect)}, but no rule matched`);
      else if (!actual.newKey.equals(t.expect)) failures.push(`expected ${displayBytes(t.expect)}, but ${got}`);
    }
    if (t.expectCategory !== undefined && actual?.category !== t.expectCategory) {
      failures.push(`expected category "${t.expectCategory}", got ${actual === null ? 'no match' : `"${actual.category}"`}`);
    }
    if (t.expectRule !== undefined && actual?.rule !== t.expectRule) {
      failures.push(`expected rule "${t.expectRule}", got ${actual === null ? 'no match' : `"${actual.rule}"`}`);
    }
    if (t.expectDb !== undefined) {
      const db = actual?.toDb ?? t.db ?? 0;
      if (actual === null || db !== t.expectDb) failures.push(`expected target db ${t.expectDb}, got ${actual === null ? 'no match' : db}`);
    }
    if (actual !== null && failures.length === 0) {
      const rt = checkRoundTrip(rules, t.key, actual, t.type, t.db);
      if (rt !== null) failures.push(rt);
    }
    const r: TestResult = {
      source: 'file',
      index: t.index,
      name: t.description ?? `test #${t.index + 1}`,
      key: t.key,
      ok: failures.length === 0,
      failures,
      actual,
    };
    if (t.type !== undefined) r.type = t.type;
    if (t.db !== undefined) r.db = t.db;
    if (t.expect !== undefined) r.expected = t.expect;
    if (t.loc) r.line = t.loc.line;
    return r;
  });
}

function sampleValues(segs: readonly Segment[], override: Record<string, Buffer>): Record<string, Buffer> {
  const v: Record<string, Buffer> = {};
  for (const s of segs) if (s.kind === 'var') v[s.name] = override[s.name] ?? Buffer.from(SAMPLE_VALUES[s.type]);
  return v;
}

/** Built-in base64 edge-case round trips for every rule that has a `{x:base64}` placeholder. */
export function runBuiltinTests(rules: CompiledRules): TestResult[] {
  const out: TestResult[] = [];
  let n = 0;
  for (const rule of rules.rules) {
    const m = rule.spec.match;
    if (m === null) continue;
    const b64vars = m.segments.filter((s) => s.kind === 'var' && s.type === 'base64').map((s) => (s as { name: string }).name);
    if (b64vars.length === 0) continue;
    const type = rule.types?.[0];
    const db = rule.dbs?.[0];
    for (const v of b64vars) {
      for (const edge of BASE64_EDGE_CASES) {
        out.push(builtinCase(rules, rule, m.segments, v, Buffer.from(edge.value), `${rule.label}: {${v}:base64} ${edge.name}`, n++, type, db));
      }
      // Empty payload: must not match this rule.
      const key = instantiate(m.segments, sampleValues(m.segments, { [v]: Buffer.alloc(0) }));
      const failures: string[] = [];
      if (rules.ruleMatches(rule.index, key, type, db)) failures.push(`an empty {${v}} must not match ${rule.label}`);
      const r: TestResult = {
        source: 'builtin',
        index: n++,
        name: `${rule.label}: {${v}:base64} empty`,
        key,
        ok: failures.length === 0,
        failures,
        actual: outcome(rules.classify(key, type, db)),
      };
      if (type !== undefined) r.type = type;
      if (db !== undefined) r.db = db;
      out.push(r);
    }
  }
  return out;
}

function builtinCase(
  rules: CompiledRules,
  rule: CompiledRule,
  segs: readonly Segment[],
  v: string,
  payload: Buffer,
  name: string,
  index: number,
  type: LogicalType | undefined,
  db: number | undefined,
): TestResult {
  const values = sampleValues(segs, { [v]: payload });
  const key = instantiate(segs, values);
  const c = rules.classify(key, type, db);
  const actual = outcome(c);
  const failures: string[] = [];
  let expected: Buffer | undefined;
  if (actual === null) failures.push(`no rule matched ${displayBytes(key)}`);
  else if (actual.ruleIndex !== rule.index) {
    failures.push(`${displayBytes(key)} was taken by earlier rule "${actual.rule}"`);
  } else {
    const rename = rule.spec.rename;
    expected = rename === null ? key : instantiate(rename.segments, values);
    if (!actual.newKey.equals(expected)) {
      failures.push(`payload not carried byte-exactly: expected ${displayBytes(expected)}, got ${displayBytes(actual.newKey)}`);
    } else {
      const rt = checkRoundTrip(rules, key, actual, type, db);
      if (rt !== null) failures.push(rt);
    }
  }
  const r: TestResult = { source: 'builtin', index, name, key, ok: failures.length === 0, failures, actual };
  if (expected !== undefined) r.expected = expected;
  if (type !== undefined) r.type = type;
  if (db !== undefined) r.db = db;
  return r;
}
