/**
 * Key rules: classify and rename keys.
 *
 *   const rules = await loadRules('examples/meta-glasses.rules.yaml');
 *   const c = rules.classify(key, 'hash', 0);   // first matching rule, or null
 *   if (c) write(c.newKey, c.toDb ?? db, c.ttl); else if (rules.unmatched === 'keep') write(key, db);
 *   rules.toOldKey(newKey);                     // cut-over: the old name of a renamed key, or null
 */
import type { LogicalType } from '../records/types.js';
import { Matcher, typeBit, typeMaskOf, type MatchEntry } from './matcher.js';
import { buildKey, compileRename, InverseMapper, type InvertibleRule, type RenamePlan } from './rename.js';
import {
  readRulesFile,
  ruleLabel,
  validateRulesDoc,
  type RuleDiagnostic,
  type RuleSpec,
  type RuleTestSpec,
  type RulesDoc,
  type RulesDocInput,
  type TtlPolicy,
  type UnmatchedMode,
} from './schema.js';
import { ambiguousAdjacency, literalPrefix, type Template } from './template.js';

export type { RuleDiagnostic, RuleSpec, RuleTestSpec, RulesDoc, RulesDocInput, TtlPolicy, UnmatchedMode } from './schema.js';
export { RulesFileError, formatDiagnostic, parseRulesText, readRulesFile, validateRulesDoc } from './schema.js';
export type { PlaceholderKind, Segment, Template } from './template.js';
export { parseTemplate } from './template.js';

export interface Classification {
  /** Rule name. */
  rule: string;
  ruleIndex: number;
  category: string;
  /** The new key; the same Buffer as the input key when the rule has no rename. */
  newKey: Buffer;
  /** Target db when the rule moves keys (to_db), else undefined (keep the key's db). */
  toDb: number | undefined;
  ttl: TtlPolicy;
}

export interface CompiledRule {
  index: number;
  name: string;
  /** `rule "name"` or `rule #n`, for messages. */
  label: string;
  category: string;
  match: string | null;
  regex: string | null;
  rename: string | null;
  types: LogicalType[] | null;
  dbs: number[] | null;
  toDb: number | null;
  ttl: TtlPolicy;
  /** Variables bound by match (template variables or regex named groups). */
  variables: string[];
  /** The rename binds every variable of the match (or there is no rename): toOldKey can undo it. */
  invertible: boolean;
  line?: number;
  spec: RuleSpec;
}

export interface CompiledRules {
  /** Where the rules came from (file path or the name given to compileRules). */
  readonly source: string;
  readonly unmatched: UnmatchedMode;
  readonly rules: readonly CompiledRule[];
  readonly tests: readonly RuleTestSpec[];
  /** Compile-time warnings (e.g. ambiguous adjacent placeholders, renames that drop a variable). */
  readonly warnings: readonly RuleDiagnostic[];
  /** Distinct categories in rule order. */
  readonly categories: readonly string[];
  /**
   * The first rule matching `key` (with `type`/`db` when known: an unknown type or db passes every
   * type/db filter), or null when no rule matches (then `unmatched` says what to do).
   */
  classify(key: Buffer, type?: LogicalType, db?: number): Classification | null;
  /** Indices of every rule matching `key`, in order (the first is the one classify picks). */
  matchingRules(key: Buffer, type?: LogicalType, db?: number): number[];
  /** Whether rule `ruleIndex` on its own matches `key`. */
  ruleMatches(ruleIndex: number, key: Buffer, type?: LogicalType, db?: number): boolean;
  /**
   * Cut-over helper: the old key that this rule set renames to `newKey`, or null when no invertible
   * rule produces it. Only rules whose rename binds every placeholder of their match (or that do not
   * rename) take part. `db` is the db the new key lives in. The answer is verified: classifying the
   * returned old key gives `newKey` back.
   */
  toOldKey(newKey: Buffer, opts?: { type?: LogicalType; db?: number }): Buffer | null;
}

/** Read, validate and compile a rules file (YAML or JSON). Throws RulesFileError (exit 2). */
export async function loadRules(path: string): Promise<CompiledRules> {
  return compileRules(await readRulesFile(path));
}

/**
 * Compile a validated document (from parseRulesText/readRulesFile) or a plain object shaped like a
 * rules file (validated here; invalid input throws RulesFileError).
 */
export function compileRules(doc: RulesDoc | RulesDocInput, sourceName?: string): CompiledRules {
  const valid = isValidated(doc) ? doc : validateRulesDoc(doc, sourceName ?? 'rules');
  return new RuleSet(valid, sourceName ?? valid.source);
}

function isValidated(doc: RulesDoc | RulesDocInput): doc is RulesDoc {
  return (
    typeof (doc as RulesDoc).source === 'string' &&
    Array.isArray(doc.rules) &&
    doc.rules.every((r) => typeof (r as unknown as RuleSpec).index === 'number' && 'named' in r)
  );
}

class RuleSet implements CompiledRules {
  readonly source: string;
  readonly unmatched: UnmatchedMode;
  readonly rules: readonly CompiledRule[];
  readonly tests: readonly RuleTestSpec[];
  readonly warnings: RuleDiagnostic[] = [];
  readonly categories: readonly string[];
  private readonly matcher: Matcher;
  private readonly plans: Array<RenamePlan | null>;
  private readonly names: string[];
  private readonly cats: string[];
  private readonly toDbs: Array<number | undefined>;
  private readonly ttls: TtlPolicy[];
  private readonly inverse: InverseMapper;

  constructor(doc: RulesDoc, source: string) {
    this.source = source;
    this.unmatched = doc.unmatched;
    this.tests = doc.tests;
    const entries: MatchEntry[] = [];
    const compiled: CompiledRule[] = [];
    this.plans = [];
    const invertibles: InvertibleRule[] = [];
    for (const spec of doc.rules) {
      const variables = spec.match !== null ? spec.match.variables : spec.regex!.groups;
      const captureNames = variables;
      entries.push({
        segments: spec.match !== null ? spec.match.segments : null,
        regex: spec.regex !== null ? spec.regex.re : null,
        captureNames,
        prefixes: spec.match !== null ? [literalPrefix(spec.match.segments)] : spec.regex!.prefixes,
        typeMask: typeMaskOf(spec.types),
        dbs: spec.dbs,
      });
      this.plans.push(spec.rename !== null ? compileRename(spec.rename.segments, (n) => captureNames.indexOf(n)) : null);
      const invertible =
        spec.match !== null && (spec.rename === null || spec.match.variables.every((v) => spec.rename!.variables.includes(v)));
      const label = ruleLabel(spec.name, spec.named, spec.index);
      const rule: CompiledRule = {
        index: spec.index,
        name: spec.name,
        label,
        category: spec.category,
        match: spec.match?.source ?? null,
        regex: spec.regex?.source ?? null,
        rename: spec.rename?.source ?? null,
        types: spec.types,
        dbs: spec.dbs,
        toDb: spec.toDb,
        ttl: spec.ttl,
        variables: [...variables],
        invertible,
        spec,
      };
      if (spec.loc) rule.line = spec.loc.line;
      compiled.push(rule);
      if (invertible) {
        invertibles.push({
          ruleIndex: spec.index,
          match: spec.match!,
          rename: spec.rename,
          typeMask: typeMaskOf(spec.types),
          targetDbs: spec.toDb !== null ? [spec.toDb] : spec.dbs,
        });
      }
      this.collectWarnings(spec, label);
    }
    this.rules = compiled;
    this.names = compiled.map((r) => r.name);
    this.cats = compiled.map((r) => r.category);
    this.toDbs = compiled.map((r) => r.toDb ?? undefined);
    this.ttls = compiled.map((r) => r.ttl);
    this.categories = [...new Set(this.cats)];
    this.matcher = new Matcher(entries);
    this.inverse = new InverseMapper(invertibles);
  }

  private collectWarnings(spec: RuleSpec, label: string): void {
    const warn = (message: string, field: string): void => {
      const d: RuleDiagnostic = {
        severity: 'warning',
        source: this.source,
        message,
        rule: label,
        ruleIndex: spec.index,
        path: `rules[${spec.index}].${field}`,
      };
      if (spec.loc) {
        d.line = spec.loc.line;
        d.col = spec.loc.col;
      }
      this.warnings.push(d);
    };
    const check = (t: Template | null, field: string): void => {
      if (t === null) return;
      for (const [a, b] of ambiguousAdjacency(t.segments)) {
        warn(`${field} has adjacent placeholders {${a}}{${b}}: where one ends is ambiguous (the first takes the longest value)`, field);
      }
    };
    check(spec.match, 'match');
    if (spec.rename !== null) {
      check(spec.rename, 'rename');
      const vars = spec.match !== null ? spec.match.variables : spec.regex!.groups;
      const dropped = vars.filter((v) => !spec.rename!.variables.includes(v));
      if (dropped.length > 0) {
        warn(
          `rename drops ${dropped.map((v) => `{${v}}`).join(', ')}: different keys can map to one new key, and the rule is not invertible`,
          'rename',
        );
      }
    }
  }

  classify(key: Buffer, type?: LogicalType, db?: number): Classification | null {
    const m = this.matcher;
    const i = m.match(key, type === undefined ? 0 : typeBit(type), db ?? -1, 0);
    if (i < 0) return null;
    const plan = this.plans[i]!;
    return {
      rule: this.names[i]!,
      ruleIndex: i,
      category: this.cats[i]!,
      newKey: plan === null ? key : buildKey(plan, m.capSrc, m.caps),
      toDb: this.toDbs[i],
      ttl: this.ttls[i]!,
    };
  }

  matchingRules(key: Buffer, type?: LogicalType, db?: number): number[] {
    return this.matcher.matchAll(key, typeBit(type), db ?? -1);
  }

  ruleMatches(ruleIndex: number, key: Buffer, type?: LogicalType, db?: number): boolean {
    return this.matcher.matchOne(ruleIndex, key, typeBit(type), db ?? -1);
  }

  /** The new key rule `ruleIndex` would give `key` (null when it does not match). */
  renameWith(ruleIndex: number, key: Buffer, type?: LogicalType, db?: number): Buffer | null {
    if (!this.matcher.matchOne(ruleIndex, key, typeBit(type), db ?? -1)) return null;
    const plan = this.plans[ruleIndex]!;
    return plan === null ? key : buildKey(plan, this.matcher.capSrc, this.matcher.caps);
  }

  toOldKey(newKey: Buffer, opts: { type?: LogicalType; db?: number } = {}): Buffer | null {
    const tbit = typeBit(opts.type);
    const db = opts.db ?? -1;
    const hit = this.inverse.toOldKey(newKey, tbit, db, (oldKey, ruleIndex) => {
      const r = this.rules[ruleIndex]!;
      // The source db: the target db unless the rule moves keys (then its single db, if it has one).
      const srcDb = r.toDb === null ? db : r.dbs !== null && r.dbs.length === 1 ? r.dbs[0]! : -1;
      const c = this.classify(oldKey, opts.type, srcDb < 0 ? undefined : srcDb);
      return c !== null && c.ruleIndex === ruleIndex && c.newKey.equals(newKey);
    });
    return hit === null ? null : hit.oldKey;
  }
}

/** Compile-time extras used by `rules test` (not part of the stable API). */
export function renameWith(rules: CompiledRules, ruleIndex: number, key: Buffer, type?: LogicalType, db?: number): Buffer | null {
  if (rules instanceof RuleSet) return rules.renameWith(ruleIndex, key, type, db);
  return rules.ruleMatches(ruleIndex, key, type, db) ? key : null;
}
