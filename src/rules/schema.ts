/**
 * The rules file: parsing (YAML through the `yaml` package so errors carry line/column; sound JSON
 * through JSON.parse, see json-rules.ts) and validation into `RulesDoc`, with precise diagnostics.
 *
 * ```yaml
 * version: 1
 * unmatched: keep            # keep | drop | error
 * rules:                     # first match wins
 *   - name: reminder         # optional, unique; default "rule-<n>"
 *     category: reminder     # optional; default the name
 *     match: "old:reminder:{event_id}"     # or  regex: "old:(?<id>.+)"
 *     rename: "new:reminder:{event_id}"    # optional; without it the key is kept
 *     type: hash             # optional: a type or a list of types
 *     db: 0                  # optional: a db or a list of dbs
 *     to_db: 1               # optional: move the key to this db
 *     ttl: keep              # keep (default) | drop (make persistent) | <ms> (set a TTL)
 * tests:
 *   - key: "old:reminder:1"  # or  key: {base64: "..."}  for binary keys
 *     expect: "new:reminder:1"   # or {base64}, or null (= must not match)
 *     expect_category: reminder  # optional; also expect_rule, expect_db, type, db, unmatched: true
 * ```
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Document, LineCounter } from 'yaml';

// `yaml` is loaded by the first rules file, not by every command that could take one (start-up time).
const yaml = (): typeof import('yaml') => createRequire(import.meta.url)('yaml') as typeof import('yaml');
import { RekeyUsageError } from '../errors.js';
import { LOGICAL_TYPES, type LogicalType } from '../records/types.js';
import { compileLinearRegExp } from './linear-regex.js';
import { lineColOf, readJsonRules } from './json-rules.js';
import { TemplateSyntaxError, parseTemplate, placeholderText, type PlaceholderKind, type Template } from './template.js';

export type UnmatchedMode = 'keep' | 'drop' | 'error';
/** `keep` the source TTL, `drop` it (key becomes persistent), or set a TTL of that many ms. */
export type TtlPolicy = 'keep' | 'drop' | number;

export interface SourceLoc {
  line: number;
  col: number;
}

export interface RegexSpec {
  /** As written in the file. */
  source: string;
  /** Compiled over the latin1 view of the key, anchored to the whole key, flag `s` (linear-bounded). */
  re: RegExp;
  groups: string[];
  /** Every match starts with one of these (a single empty prefix when none can be derived). */
  prefixes: Buffer[];
}

export interface RuleSpec {
  index: number;
  name: string;
  /** False when the file gave no name (then `name` is `rule-<n>`). */
  named: boolean;
  category: string;
  match: Template | null;
  regex: RegexSpec | null;
  rename: Template | null;
  types: LogicalType[] | null;
  dbs: number[] | null;
  toDb: number | null;
  ttl: TtlPolicy;
  description?: string;
  loc?: SourceLoc;
}

export interface RuleTestSpec {
  index: number;
  key: Buffer;
  type?: LogicalType;
  db?: number;
  /** undefined: not checked; null: the key must not match any rule. */
  expect?: Buffer | null;
  expectCategory?: string;
  expectRule?: string;
  expectDb?: number;
  description?: string;
  loc?: SourceLoc;
}

export interface RulesDoc {
  source: string;
  version: 1;
  unmatched: UnmatchedMode;
  rules: RuleSpec[];
  tests: RuleTestSpec[];
}

/** The plain-object shape of a rules file (what YAML/JSON parse to). */
export interface RulesDocInput {
  version?: number;
  unmatched?: UnmatchedMode;
  rules: Array<Record<string, unknown>>;
  tests?: Array<Record<string, unknown>>;
}

export interface RuleDiagnostic {
  severity: 'error' | 'warning';
  /** The message without location prefix. */
  message: string;
  source: string;
  line?: number;
  col?: number;
  /** Rule name (or `#n`) the diagnostic is about. */
  rule?: string;
  ruleIndex?: number;
  /** JSON-path-like location inside the document, e.g. `rules[2].rename`. */
  path?: string;
}

/** `rules.yaml:12:5: rule "reminder": rename uses {user} which match does not bind`. */
export function formatDiagnostic(d: RuleDiagnostic): string {
  let where = d.source;
  if (d.line !== undefined) where += `:${d.line}${d.col !== undefined ? `:${d.col}` : ''}`;
  const who = d.rule !== undefined ? `${d.rule}: ` : '';
  return `${where}: ${d.severity === 'warning' ? 'warning: ' : ''}${who}${d.message}`;
}

/** An invalid rules file (exit 2). `diagnostics` lists every problem found, in document order. */
export class RulesFileError extends RekeyUsageError {
  readonly diagnostics: RuleDiagnostic[];
  constructor(diagnostics: RuleDiagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.diagnostics = diagnostics;
  }
}

type PathSeg = string | number;
/** Where a path is in the source; `charIndex` points inside a string value when that can be mapped. */
type Locator = (path: PathSeg[], keyOf?: boolean, charIndex?: number) => SourceLoc | undefined;

function pathText(path: PathSeg[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s;
}

function yamlLocator(doc: Document, lc: LineCounter, text: string): Locator {
  const { isMap, isScalar, isSeq } = yaml();
  return (path, keyOf = false, charIndex) => {
    let node: unknown = doc.contents;
    let keyNode: unknown = null;
    let last: unknown = node;
    for (const seg of path) {
      if (typeof seg === 'number' && isSeq(node)) {
        node = node.items[seg];
        keyNode = null;
      } else if (typeof seg === 'string' && isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && p.key.value === seg);
        if (pair === undefined) break;
        keyNode = pair.key;
        node = pair.value;
      } else break;
      if (node === null || node === undefined) break;
      last = node;
    }
    const target = keyOf && keyNode !== null ? keyNode : node ?? keyNode ?? last;
    const range = (target as { range?: [number, number, number] } | null)?.range;
    if (range === undefined) return undefined;
    let offset = range[0];
    if (charIndex !== undefined && isScalar(target) && typeof target.value === 'string') {
      // Point inside the string when its source text is the value verbatim (no escapes, one line).
      const raw = text.slice(range[0], range[1]);
      if (target.type === 'PLAIN' && raw === target.value) offset += charIndex;
      else if ((target.type === 'QUOTE_DOUBLE' || target.type === 'QUOTE_SINGLE') && raw.slice(1, -1) === target.value) {
        offset += charIndex + 1;
      }
    }
    const pos = lc.linePos(offset);
    return { line: pos.line, col: pos.col };
  };
}

/** Read and validate a rules file. Throws RulesFileError (a RekeyUsageError) when invalid. */
export async function readRulesFile(path: string): Promise<RulesDoc> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new RulesFileError([
      { severity: 'error', source: path, message: `cannot read rules file (${e.code ?? e.message})` },
    ]);
  }
  return parseRulesText(text, path);
}

/**
 * Parse YAML or JSON text. A sound JSON file is read by JSON.parse (json-rules.ts: the YAML parser
 * costs seconds on big files); anything else, and any JSON file with an error, is read as YAML 1.2,
 * so every error carries line/column.
 */
export function parseRulesText(text: string, source = 'rules'): RulesDoc {
  const json = readJsonRules(text);
  if (json !== null) {
    const pos = lineColOf(text);
    const locate: Locator = (path) => {
      const [top, i] = path;
      if (path.length !== 2 || (top !== 'rules' && top !== 'tests') || typeof i !== 'number') return undefined;
      const off = json.elements[top][i];
      return off === undefined ? undefined : pos(off);
    };
    try {
      return validateRulesDoc(json.value, source, locate);
    } catch (e) {
      if (!(e instanceof RulesFileError)) throw e;
      // Read it again as YAML below: the same errors, with their positions.
    }
  }
  const { LineCounter, parseDocument } = yaml();
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, version: '1.2' });
  if (doc.errors.length > 0) {
    throw new RulesFileError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
        const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        return { severity: 'error' as const, source, line: pos.line, col: pos.col, message: `syntax error: ${msg}` };
      }),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    // yaml refuses an alias that expands past maxAliasCount (a "billion laughs" file): a bad file, not a crash.
    if (e instanceof ReferenceError && /alias/i.test(e.message)) {
      throw new RulesFileError([{ severity: 'error', source, message: 'the file expands aliases (&anchor/*alias) past 1000 copies: refused as a resource-exhaustion file' }]);
    }
    throw e;
  }
  return validateRulesDoc(value, source, yamlLocator(doc, lc, text));
}

const RULE_FIELDS = new Set(['name', 'category', 'match', 'regex', 'rename', 'type', 'db', 'to_db', 'ttl', 'description']);
const TEST_FIELDS = new Set([
  'key', 'type', 'db', 'expect', 'expect_category', 'expect_rule', 'expect_db', 'unmatched', 'description', 'name',
]);
const TOP_FIELDS = new Set(['version', 'unmatched', 'rules', 'tests']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/**
 * Validate a parsed document (a plain object; `locate` maps paths to line/column when known).
 * Collects every error before throwing one RulesFileError.
 */
export function validateRulesDoc(value: unknown, source = 'rules', locate: Locator = () => undefined): RulesDoc {
  const diags: RuleDiagnostic[] = [];
  const err: ErrFn = (path, message, rule, keyOf = false, charIndex) => {
    const loc = locate(path, keyOf, charIndex);
    const d: RuleDiagnostic = { severity: 'error', source, message, path: pathText(path) };
    if (loc) {
      d.line = loc.line;
      d.col = loc.col;
    }
    if (rule) {
      d.rule = rule.label;
      d.ruleIndex = rule.index;
    }
    diags.push(d);
  };

  if (!isPlainObject(value)) {
    err([], 'a rules file is a mapping with a "rules" list');
    throw new RulesFileError(diags);
  }
  for (const k of Object.keys(value)) {
    if (!TOP_FIELDS.has(k)) err([k], `unknown top-level field "${k}" (expected version, unmatched, rules, tests)`, undefined, true);
  }
  if (value.version !== undefined && value.version !== 1) err(['version'], `unsupported version ${JSON.stringify(value.version)} (only 1)`);
  let unmatched: UnmatchedMode = 'keep';
  if (value.unmatched !== undefined) {
    if (value.unmatched === 'keep' || value.unmatched === 'drop' || value.unmatched === 'error') unmatched = value.unmatched;
    else err(['unmatched'], `unmatched must be keep, drop or error (got ${JSON.stringify(value.unmatched)})`);
  }
  const rules: RuleSpec[] = [];
  if (!Array.isArray(value.rules)) {
    err(value.rules === undefined ? [] : ['rules'], 'missing "rules": a list of rules');
  } else {
    const names = new Map<string, number>();
    value.rules.forEach((raw, i) => {
      if (isPlainObject(raw) && typeof raw.name === 'string' && raw.name.length > 0) {
        const prev = names.get(raw.name);
        if (prev !== undefined) {
          err(['rules', i, 'name'], `duplicate rule name (rule #${prev + 1} has it too)`, { label: ruleLabel(raw.name, true, i), index: i });
        } else names.set(raw.name, i);
      }
      const r = validateRule(raw, i, err);
      if (r === null) return;
      const loc = locate(['rules', i]);
      if (loc) r.loc = loc;
      rules.push(r);
    });
  }
  const tests: RuleTestSpec[] = [];
  if (value.tests !== undefined) {
    if (!Array.isArray(value.tests)) err(['tests'], '"tests" must be a list');
    else {
      value.tests.forEach((raw, i) => {
        const t = validateTest(raw, i, err);
        if (t === null) return;
        const loc = locate(['tests', i]);
        if (loc) t.loc = loc;
        tests.push(t);
      });
    }
  }
  if (diags.length > 0) throw new RulesFileError(diags);
  return { source, version: 1, unmatched, rules, tests };
}

export function ruleLabel(name: string, named: boolean, index: number): string {
  return named ? `rule "${name}"` : `rule #${index + 1}`;
}

type ErrFn = (
  path: PathSeg[],
  message: string,
  rule?: { label: string; index: number },
  keyOf?: boolean,
  charIndex?: number,
) => void;

function templateError(e: unknown, what: string): string {
  if (e instanceof TemplateSyntaxError) return `${what}: ${e.message} (at character ${e.index + 1})`;
  return `${what}: ${(e as Error).message}`;
}

function validateRule(raw: unknown, i: number, err: ErrFn): RuleSpec | null {
  const base = ['rules', i] as PathSeg[];
  if (!isPlainObject(raw)) {
    err(base, `rule #${i + 1} must be a mapping with match or regex`);
    return null;
  }
  const named = typeof raw.name === 'string' && raw.name.length > 0;
  const name = named ? (raw.name as string) : `rule-${i + 1}`;
  const who = { label: ruleLabel(name, named, i), index: i };
  let bad = false;
  const e: ErrFn = (p, m, r, k, c) => {
    bad = true;
    err(p, m, r, k, c);
  };
  for (const k of Object.keys(raw)) {
    if (!RULE_FIELDS.has(k)) {
      e([...base, k], `unknown field "${k}" (expected one of ${[...RULE_FIELDS].join(', ')})`, who, true);
    }
  }
  if (raw.name !== undefined && !named) e([...base, 'name'], 'name must be a non-empty string', who);
  let category = name;
  if (raw.category !== undefined) {
    if (typeof raw.category === 'string' && raw.category.length > 0) category = raw.category;
    else e([...base, 'category'], 'category must be a non-empty string', who);
  }
  let match: Template | null = null;
  let regex: RegexSpec | null = null;
  if (raw.match !== undefined && raw.regex !== undefined) {
    e([...base, 'regex'], 'give either match or regex, not both', who);
  } else if (raw.match === undefined && raw.regex === undefined) {
    e(base, 'missing match (a template) or regex', who);
  }
  if (raw.match !== undefined) {
    if (typeof raw.match !== 'string' || raw.match.length === 0) e([...base, 'match'], 'match must be a non-empty string', who);
    else {
      try {
        match = parseTemplate(raw.match);
        const seen = new Set<string>();
        for (const s of match.segments) {
          if (s.kind !== 'var') continue;
          if (seen.has(s.name)) e([...base, 'match'], `match binds {${s.name}} twice`, who, false, s.at);
          seen.add(s.name);
        }
      } catch (x) {
        e([...base, 'match'], templateError(x, 'match'), who, false, x instanceof TemplateSyntaxError ? x.index : undefined);
      }
    }
  }
  if (raw.regex !== undefined) {
    if (typeof raw.regex !== 'string' || raw.regex.length === 0) e([...base, 'regex'], 'regex must be a non-empty string', who);
    else {
      try {
        regex = compileRuleRegex(raw.regex);
      } catch (x) {
        e([...base, 'regex'], `regex: ${(x as Error).message}`, who);
      }
    }
  }
  let rename: Template | null = null;
  if (raw.rename !== undefined) {
    if (typeof raw.rename !== 'string' || raw.rename.length === 0) e([...base, 'rename'], 'rename must be a non-empty string', who);
    else {
      try {
        rename = parseTemplate(raw.rename);
      } catch (x) {
        e([...base, 'rename'], templateError(x, 'rename'), who, false, x instanceof TemplateSyntaxError ? x.index : undefined);
      }
    }
  }
  if (rename !== null && (match !== null || regex !== null)) {
    const bound = new Map<string, string | null>();
    if (match !== null) for (const s of match.segments) if (s.kind === 'var') bound.set(s.name, s.type);
    if (regex !== null) for (const g of regex.groups) bound.set(g, null);
    const reported = new Set<string>();
    for (const s of rename.segments) {
      if (s.kind !== 'var' || reported.has(s.name)) continue;
      const kind = bound.get(s.name);
      if (kind === undefined) {
        reported.add(s.name);
        const what = match !== null ? 'match does not bind' : 'the regex has no such named group';
        e([...base, 'rename'], `rename uses {${s.name}} which ${what}`, who, false, s.at);
      } else if (s.explicitType) {
        if (kind === null) {
          reported.add(s.name);
          e([...base, 'rename'], `rename gives {${s.name}} a type, but regex groups have none (write {${s.name}})`, who, false, s.at);
        } else if (kind !== s.type) {
          reported.add(s.name);
          e(
            [...base, 'rename'],
            `rename writes ${placeholderText(s.name, s.type)} but match binds ${placeholderText(s.name, kind as PlaceholderKind)}`,
            who,
            false,
            s.at,
          );
        }
      }
    }
  }
  const types = parseList(raw.type, [...base, 'type'], 'type', who, e, (v) =>
    typeof v === 'string' && (LOGICAL_TYPES as readonly string[]).includes(v) ? (v as LogicalType) : undefined,
    `a type is one of ${LOGICAL_TYPES.join(', ')}`,
  );
  const dbs = parseList(raw.db, [...base, 'db'], 'db', who, e, (v) => (isDbNumber(v) ? v : undefined), 'a db is an integer >= 0');
  let toDb: number | null = null;
  if (raw.to_db !== undefined) {
    if (isDbNumber(raw.to_db)) toDb = raw.to_db;
    else e([...base, 'to_db'], 'to_db must be an integer >= 0', who);
  }
  let ttl: TtlPolicy = 'keep';
  if (raw.ttl !== undefined) {
    if (raw.ttl === 'keep' || raw.ttl === 'drop') ttl = raw.ttl;
    else if (typeof raw.ttl === 'number' && Number.isSafeInteger(raw.ttl) && raw.ttl > 0) ttl = raw.ttl;
    else e([...base, 'ttl'], `ttl must be keep, drop or a positive number of milliseconds (got ${JSON.stringify(raw.ttl)})`, who);
  }
  let description: string | undefined;
  if (raw.description !== undefined) {
    if (typeof raw.description === 'string') description = raw.description;
    else e([...base, 'description'], 'description must be a string', who);
  }
  if (bad) return null;
  const spec: RuleSpec = { index: i, name, named, category, match, regex, rename, types, dbs, toDb, ttl };
  if (description !== undefined) spec.description = description;
  return spec;
}

function isDbNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0x7fffffff;
}

function parseList<T>(
  v: unknown,
  path: PathSeg[],
  field: string,
  who: { label: string; index: number },
  e: ErrFn,
  conv: (x: unknown) => T | undefined,
  hint: string,
): T[] | null {
  if (v === undefined) return null;
  const items = Array.isArray(v) ? v : [v];
  if (items.length === 0) {
    e(path, `${field} must not be an empty list`, who);
    return null;
  }
  const out: T[] = [];
  items.forEach((x, j) => {
    const c = conv(x);
    if (c === undefined) e(Array.isArray(v) ? [...path, j] : path, `bad ${field} ${JSON.stringify(x)}: ${hint}`, who);
    else if (!out.includes(c)) out.push(c);
  });
  return out;
}

/**
 * Compile a rule's regex. The regex runs over the key's latin1 view (one char per byte, so
 * `\xHH` means byte HH); non-ASCII characters written in the pattern stand for their UTF-8 bytes, so
 * `é` matches the UTF-8 key bytes C3 A9. It must match the whole key (it is anchored), `.` matches
 * any byte including newline (flag `s`).
 */
export function compileRuleRegex(source: string): RegexSpec {
  // Non-ASCII pattern characters → their UTF-8 bytes as latin1 chars.
  // eslint-disable-next-line no-control-regex
  const latinSource = /[^\x00-\x7f]/.test(source) ? Buffer.from(source, 'utf8').toString('latin1') : source;
  let re: RegExp;
  let probe: RegExp;
  try {
    // No `d` flag: it would disable the linear-time fallback (see linear-regex.ts).
    re = compileLinearRegExp(`^(?:${latinSource})$`, 's');
    probe = new RegExp(`(?:${latinSource})|`, 's');
  } catch (x) {
    throw new Error((x as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, 'invalid: ').replace(/^Invalid regular expression: /, 'invalid: '));
  }
  const groups = Object.keys(probe.exec('')?.groups ?? {});
  return { source, re, groups, prefixes: regexPrefixes(latinSource) };
}

const META = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}']);

/**
 * Calls `visit` with each `(`, `)` and `|` of `src` from `at` on that is syntax: not escaped, not in a
 * `[class]`; stops when `visit` returns true.
 */
function eachSyntax(src: string, at: number, visit: (c: '(' | ')' | '|', i: number) => boolean | void): void {
  let inClass = false;
  for (let i = at; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if ((c === '(' || c === ')' || c === '|') && visit(c, i) === true) return;
  }
}

/** Split `src` at top-level `|` (outside groups and classes). */
function splitTopLevel(src: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  eachSyntax(src, 0, (c, i) => {
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0) {
      parts.push(src.slice(start, i));
      start = i + 1;
    }
  });
  parts.push(src.slice(start));
  return parts;
}

/** Index of the `)` closing the group opened at `open`, or -1. */
function groupEnd(src: string, open: number): number {
  let depth = 0;
  let end = -1;
  eachSyntax(src, open, (c, i) => {
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) {
      end = i;
      return true;
    }
    return false;
  });
  return end;
}

/** Literal run at the start of `src` (char codes), and where it stopped. */
function literalRun(src: string, from: number): { codes: number[]; end: number; quantified: boolean } {
  let i = from;
  const codes: number[] = [];
  while (i < src.length) {
    const c = src[i]!;
    let code: number;
    let len = 1;
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) break;
      if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(src.slice(i + 2, i + 4))) {
        code = parseInt(src.slice(i + 2, i + 4), 16);
        len = 4;
      } else if (/[^A-Za-z0-9]/.test(n) && n.charCodeAt(0) < 0x80) {
        code = n.charCodeAt(0);
        len = 2;
      } else break;
    } else if (META.has(c)) {
      break;
    } else {
      code = c.charCodeAt(0);
      if (code > 0xff) break;
    }
    codes.push(code);
    i += len;
  }
  // A quantifier applies to the last literal: it is not certain.
  const next = src[i];
  const quantified = next === '?' || next === '*' || next === '+' || next === '{';
  if (quantified) codes.pop();
  return { codes, end: i, quantified };
}

/**
 * Prefixes of a (latin1) pattern: every string it matches starts with one of them. A leading
 * alternation, at top level or in a group right after the literal text, gives one prefix per
 * alternative (so `app:(?:a|b):x` sits at `app:a` and `app:b` in the trie). Conservative: when in
 * doubt a prefix is shortened, down to the empty prefix.
 */
export function regexPrefixes(src: string, depth = 0): Buffer[] {
  const alts = splitTopLevel(src);
  if (alts.length > 1) {
    const out: Buffer[] = [];
    for (const a of alts) for (const p of regexPrefixes(a, depth + 1)) out.push(p);
    return dedupePrefixes(out);
  }
  let i = src[0] === '^' ? 1 : 0;
  const run = literalRun(src, i);
  const base = Buffer.from(run.codes);
  i = run.end;
  if (run.quantified || src[i] !== '(' || depth > 8) return [base];
  const close = groupEnd(src, i);
  if (close < 0) return [base];
  const after = src[close + 1];
  if (after === '?' || after === '*' || after === '{') return [base];
  let body = src.slice(i + 1, close);
  if (body.startsWith('?:')) body = body.slice(2);
  else if (/^\?<[A-Za-z_$][\w$]*>/.test(body)) body = body.slice(body.indexOf('>') + 1);
  else if (body.startsWith('?')) return [base]; // lookaround
  const inner = regexPrefixes(body, depth + 1);
  return dedupePrefixes(inner.map((p) => Buffer.concat([base, p])));
}

function dedupePrefixes(list: Buffer[]): Buffer[] {
  const seen = new Set<string>();
  const out: Buffer[] = [];
  for (const b of list) {
    const k = b.toString('latin1');
    if (!seen.has(k)) {
      seen.add(k);
      out.push(b);
    }
  }
  return out;
}

/** The literal text every match of the (latin1) pattern starts with (longest common prefix). */
export function regexLiteralPrefix(src: string): Buffer {
  const ps = regexPrefixes(src);
  let n = ps[0]!.length;
  for (const p of ps) {
    let k = 0;
    while (k < n && k < p.length && p[k] === ps[0]![k]) k++;
    n = k;
  }
  return Buffer.from(ps[0]!.subarray(0, n));
}

function parseKeyValue(v: unknown): Buffer | undefined {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (isPlainObject(v) && typeof v.base64 === 'string' && Object.keys(v).length === 1) {
    if (!/^[A-Za-z0-9+/=_-]*$/.test(v.base64)) return undefined;
    return Buffer.from(v.base64, 'base64');
  }
  return undefined;
}

function validateTest(raw: unknown, i: number, err: ErrFn): RuleTestSpec | null {
  const base = ['tests', i] as PathSeg[];
  const who = { label: `test #${i + 1}`, index: i };
  if (!isPlainObject(raw)) {
    err(base, 'a test is a mapping with key and expect', who);
    return null;
  }
  let bad = false;
  const e: ErrFn = (p, m, r, k, c) => {
    bad = true;
    err(p, m, r, k, c);
  };
  for (const k of Object.keys(raw)) {
    if (!TEST_FIELDS.has(k)) e([...base, k], `unknown field "${k}" (expected one of ${[...TEST_FIELDS].join(', ')})`, who, true);
  }
  const key = parseKeyValue(raw.key);
  if (key === undefined) e([...base, 'key'], 'key must be a string or {base64: "..."}', who);
  const t: RuleTestSpec = { index: i, key: key ?? Buffer.alloc(0) };
  if (raw.type !== undefined) {
    if (typeof raw.type === 'string' && (LOGICAL_TYPES as readonly string[]).includes(raw.type)) t.type = raw.type as LogicalType;
    else e([...base, 'type'], `type must be one of ${LOGICAL_TYPES.join(', ')}`, who);
  }
  if (raw.db !== undefined) {
    if (isDbNumber(raw.db)) t.db = raw.db;
    else e([...base, 'db'], 'db must be an integer >= 0', who);
  }
  if (raw.expect !== undefined) {
    if (raw.expect === null) t.expect = null;
    else {
      const x = parseKeyValue(raw.expect);
      if (x === undefined) e([...base, 'expect'], 'expect must be a string, {base64: "..."} or null', who);
      else t.expect = x;
    }
  }
  if (raw.unmatched !== undefined) {
    if (raw.unmatched === true) {
      if (t.expect !== undefined && t.expect !== null) e([...base, 'unmatched'], 'unmatched: true contradicts expect', who);
      t.expect = null;
    } else if (raw.unmatched !== false) e([...base, 'unmatched'], 'unmatched must be true or false', who);
  }
  for (const [field, prop] of [
    ['expect_category', 'expectCategory'],
    ['expect_rule', 'expectRule'],
  ] as const) {
    const v = raw[field];
    if (v === undefined) continue;
    if (typeof v === 'string' && v.length > 0) t[prop] = v;
    else e([...base, field], `${field} must be a non-empty string`, who);
  }
  if (raw.expect_db !== undefined) {
    if (isDbNumber(raw.expect_db)) t.expectDb = raw.expect_db;
    else e([...base, 'expect_db'], 'expect_db must be an integer >= 0', who);
  }
  if (raw.description !== undefined || raw.name !== undefined) {
    const d = raw.description ?? raw.name;
    if (typeof d === 'string') t.description = d;
  }
  if (
    t.expect === undefined &&
    t.expectCategory === undefined &&
    t.expectRule === undefined &&
    t.expectDb === undefined &&
    key !== undefined
  ) {
    e(base, 'a test needs expect, expect_category, expect_rule, expect_db or unmatched: true', who);
  }
  return bad ? null : t;
}
