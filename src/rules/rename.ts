/**
 * Building new keys from captures, and the inverse (new key → old key) for invertible rules.
 *
 * A rename plan is a list of parts, each a literal byte string or a capture slot; the new key is
 * allocated once at its exact length and filled by copying bytes (keys stay bytes throughout).
 */
import { Matcher, type MatchEntry } from './matcher.js';
import type { PlaceholderKind, Segment, Template } from './template.js';

export interface RenamePlan {
  /** Literal bytes of part i, or null when part i is a capture. */
  readonly lits: ReadonlyArray<Uint8Array | null>;
  /** Capture slot of part i (-1 for literals). */
  readonly slots: Int32Array;
  /** Total length of the literal parts. */
  readonly fixedLen: number;
}

/** Compile a template into a plan over capture slots (`slotOf` maps a variable to its slot). */
export function compileRename(segments: readonly Segment[], slotOf: (name: string) => number): RenamePlan {
  const lits: Array<Uint8Array | null> = [];
  const slots: number[] = [];
  let fixedLen = 0;
  for (const s of segments) {
    if (s.kind === 'lit') {
      lits.push(new Uint8Array(s.bytes));
      slots.push(-1);
      fixedLen += s.bytes.length;
    } else {
      const slot = slotOf(s.name);
      if (slot < 0) throw new Error(`internal: {${s.name}} has no capture slot`);
      lits.push(null);
      slots.push(slot);
    }
  }
  return { lits, slots: Int32Array.from(slots), fixedLen };
}

/** Build the key described by `plan` from `src` bytes and `caps` ([start, end) per slot; -1 = empty). */
export function buildKey(plan: RenamePlan, src: Uint8Array, caps: Int32Array): Buffer {
  const n = plan.slots.length;
  let len = plan.fixedLen;
  for (let i = 0; i < n; i++) {
    const slot = plan.slots[i]!;
    if (slot >= 0) {
      const s = caps[2 * slot]!;
      if (s >= 0) len += caps[2 * slot + 1]! - s;
    }
  }
  const out = Buffer.allocUnsafe(len);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const slot = plan.slots[i]!;
    let from: Uint8Array;
    let s: number;
    let e: number;
    if (slot < 0) {
      from = plan.lits[i]!;
      s = 0;
      e = from.length;
    } else {
      s = caps[2 * slot]!;
      if (s < 0) continue;
      e = caps[2 * slot + 1]!;
      from = src;
    }
    const L = e - s;
    if (L < 24) {
      for (let j = 0; j < L; j++) out[o + j] = from[s + j]!;
    } else out.set(from.subarray(s, e), o);
    o += L;
  }
  return out;
}

/** What the inverse mapper needs to know about one invertible rule. */
export interface InvertibleRule {
  /** Index of the rule in the rules file. */
  ruleIndex: number;
  match: Template;
  /** The rename template; null for a rule that keeps its key (identity). */
  rename: Template | null;
  typeMask: number;
  /** Allowed target dbs: the rule's to_db, else its dbs (null = any). */
  targetDbs: readonly number[] | null;
}

/**
 * Maps new keys back to old keys. The rename templates, typed with the kinds their variables have
 * in `match`, are compiled into one matcher; a new key is parsed with each rename template that
 * matches it (in rule order), the old key is rebuilt from the match template, and `verify` (normally
 * "classifying the old key gives back this new key") decides whether it is the real preimage.
 */
export class InverseMapper {
  private readonly matcher: Matcher;
  private readonly plans: RenamePlan[];
  private readonly rules: readonly InvertibleRule[];

  constructor(rules: readonly InvertibleRule[]) {
    this.rules = rules;
    const entries: MatchEntry[] = [];
    this.plans = [];
    for (const r of rules) {
      const kinds = new Map<string, PlaceholderKind>();
      for (const s of r.match.segments) if (s.kind === 'var') kinds.set(s.name, s.type);
      const src = r.rename ?? r.match;
      const segments: Segment[] = src.segments.map((s) =>
        s.kind === 'lit' ? s : { kind: 'var', name: s.name, type: kinds.get(s.name)!, explicitType: true },
      );
      const first = segments[0];
      const captureNames = src.variables;
      entries.push({
        segments,
        regex: null,
        captureNames,
        prefixes: [first !== undefined && first.kind === 'lit' ? first.bytes : Buffer.alloc(0)],
        typeMask: r.typeMask,
        dbs: r.targetDbs,
      });
      this.plans.push(compileRename(r.match.segments, (name) => captureNames.indexOf(name)));
    }
    this.matcher = new Matcher(entries);
  }

  get size(): number {
    return this.rules.length;
  }

  /**
   * The old key whose rename is `newKey`, or null. `verify(oldKey, ruleIndex)` must confirm the
   * candidate (e.g. that no earlier rule takes the old key first).
   */
  toOldKey(
    newKey: Buffer,
    tbit: number,
    db: number,
    verify: (oldKey: Buffer, ruleIndex: number) => boolean,
  ): { oldKey: Buffer; ruleIndex: number } | null {
    let from = 0;
    for (;;) {
      const i = this.matcher.match(newKey, tbit, db, from);
      if (i < 0) return null;
      const oldKey = buildKey(this.plans[i]!, this.matcher.capSrc, this.matcher.caps);
      const ruleIndex = this.rules[i]!.ruleIndex;
      if (verify(oldKey, ruleIndex)) return { oldKey, ruleIndex };
      from = i + 1;
    }
  }
}
