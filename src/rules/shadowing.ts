/**
 * Shadowed rules, overlaps and potential collisions.
 *
 * Static (from the rules alone). A template is a regular language over bytes, so questions about
 * templates are decidable with small automata: each template becomes an NFA over a compressed byte
 * alphabet (bytes grouped by which placeholder classes contain them, every literal byte its own
 * symbol), and
 *  - a rule is *shadowed* when every key it matches is matched by earlier rules whose type/db filters
 *    admit that key: L(B) ⊆ ∪ L(A_i), checked per (type, db) combination by a product of B's NFA with
 *    the on-the-fly subset construction of the earlier rules' NFAs;
 *  - two rules *overlap* when an earlier one takes some keys the later one would also match (an
 *    example key is produced);
 *  - two rules *may collide* when their new-key languages intersect (example new key), and a rule's
 *    new keys *may equal source keys* of a renaming rule (including itself: running the migration
 *    twice would rename again).
 * Regex rules have no decidable language here: they are not used as shadowers (so a finding is never
 * wrong, only possibly missed), except that a literal-only later rule is checked exactly by running
 * every earlier rule (regex included) on its single key. Searches are capped (`maxStates`); a rule
 * whose check hits the cap is reported as undecided.
 *
 * Observed (over real keys): every key is matched against all rules; per rule we count the keys it
 * won and the keys it matched but lost to an earlier rule (with samples), which gives the rules
 * that never matched and those whose keys were all taken by earlier rules.
 */
import { LOGICAL_TYPES, type LogicalType } from '../records/types.js';
import type { CompiledRule, CompiledRules } from './index.js';
import { CLASS_TABLES, type PlaceholderKind, type Segment } from './template.js';

// ---------------------------------------------------------------------------------------------
// Automata over a compressed alphabet

interface Alphabet {
  /** byte → symbol */
  symOf: Uint8Array;
  /** symbol → representative byte (printable when possible) */
  rep: number[];
  size: number;
  /** per placeholder kind, per symbol: 1 if the symbol's bytes are in the class */
  inClass: Record<PlaceholderKind, Uint8Array>;
}

function buildAlphabet(templates: ReadonlyArray<readonly Segment[]>): Alphabet {
  const literal = new Uint8Array(256);
  for (const segs of templates) for (const s of segs) if (s.kind === 'lit') for (const b of s.bytes) literal[b] = 1;
  const kinds: PlaceholderKind[] = ['seg', 'any', 'base64', 'int'];
  const symOf = new Uint8Array(256);
  const sigToSym = new Map<string, number>();
  const members: number[][] = [];
  for (let b = 0; b < 256; b++) {
    const sig = literal[b] ? `L${b}` : kinds.map((k) => CLASS_TABLES[k][b]).join('');
    let sym = sigToSym.get(sig);
    if (sym === undefined) {
      sym = members.length;
      sigToSym.set(sig, sym);
      members.push([]);
    }
    symOf[b] = sym;
    members[sym]!.push(b);
  }
  const score = (b: number): number =>
    (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) ? 0 : b >= 0x41 && b <= 0x5a ? 1 : b > 0x20 && b < 0x7f ? 2 : 3;
  const rep = members.map((m) => m.slice().sort((a, b) => score(a) - score(b) || a - b)[0]!);
  const size = members.length;
  const inClass = {} as Record<PlaceholderKind, Uint8Array>;
  for (const k of kinds) {
    const t = new Uint8Array(size);
    for (let s = 0; s < size; s++) t[s] = CLASS_TABLES[k][members[s]![0]!]!;
    inClass[k] = t;
  }
  return { symOf, rep, size, inClass };
}

interface Nfa {
  n: number;
  accept: number;
  /** trans[state * size + sym] = target states */
  trans: number[][];
}

function buildNfa(segs: readonly Segment[], a: Alphabet): Nfa {
  const trans: number[][] = [];
  const addState = (): number => {
    const s = trans.length / a.size;
    for (let i = 0; i < a.size; i++) trans.push([]);
    return s;
  };
  let cur = addState();
  for (const seg of segs) {
    if (seg.kind === 'lit') {
      for (const b of seg.bytes) {
        const s = addState();
        trans[cur * a.size + a.symOf[b]!]!.push(s);
        cur = s;
      }
    } else {
      const p = addState();
      const cls = a.inClass[seg.type];
      for (let sym = 0; sym < a.size; sym++) {
        if (cls[sym]) {
          trans[cur * a.size + sym]!.push(p);
          trans[p * a.size + sym]!.push(p);
        }
      }
      cur = p;
    }
  }
  return { n: trans.length / a.size, accept: cur, trans };
}

/** A byte string in L(x) ∩ L(y), or null when they are disjoint; 'cap' if the search was cut. */
function intersect(x: Nfa, y: Nfa, a: Alphabet, maxStates: number): Buffer | null | 'cap' {
  const N = x.n * y.n;
  const parent = new Int32Array(N).fill(-2);
  const psym = new Int32Array(N);
  const start = 0;
  parent[start] = -1;
  const queue = [start];
  let visited = 1;
  while (queue.length > 0) {
    const id = queue.shift()!;
    const xs = Math.floor(id / y.n);
    const ys = id % y.n;
    if (xs === x.accept && ys === y.accept) {
      const out: number[] = [];
      for (let c = id; parent[c]! >= 0; c = parent[c]!) out.push(a.rep[psym[c]!]!);
      return Buffer.from(out.reverse());
    }
    for (let sym = 0; sym < a.size; sym++) {
      const tx = x.trans[xs * a.size + sym]!;
      if (tx.length === 0) continue;
      const ty = y.trans[ys * a.size + sym]!;
      if (ty.length === 0) continue;
      for (const nx of tx) {
        for (const ny of ty) {
          const nid = nx * y.n + ny;
          if (parent[nid] !== -2) continue;
          parent[nid] = id;
          psym[nid] = sym;
          if (++visited > maxStates) return 'cap';
          queue.push(nid);
        }
      }
    }
  }
  return null;
}

/** Whether L(b) ⊆ ∪ L(others): 'yes', 'no' or 'cap'. */
function covered(b: Nfa, others: readonly Nfa[], a: Alphabet, maxStates: number): 'yes' | 'no' | 'cap' {
  if (others.length === 0) return 'no';
  // Global numbering of the others' states.
  const offsets: number[] = [];
  let total = 0;
  for (const o of others) {
    offsets.push(total);
    total += o.n;
  }
  const owner = new Int32Array(total);
  others.forEach((o, i) => owner.fill(i, offsets[i]!, offsets[i]! + o.n));
  const isAccept = (g: number): boolean => {
    const i = owner[g]!;
    return g - offsets[i]! === others[i]!.accept;
  };
  const startSet = offsets.slice();
  const seen = new Set<string>();
  const queue: Array<[number, number[]]> = [[0, startSet]];
  seen.add(`0|${startSet.join(',')}`);
  while (queue.length > 0) {
    const [bs, set] = queue.shift()!;
    for (let sym = 0; sym < a.size; sym++) {
      const tb = b.trans[bs * a.size + sym]!;
      if (tb.length === 0) continue;
      const next = new Set<number>();
      for (const g of set) {
        const i = owner[g]!;
        const o = others[i]!;
        for (const t of o.trans[(g - offsets[i]!) * a.size + sym]!) next.add(t + offsets[i]!);
      }
      // Every NFA state of a template can reach acceptance, so an empty set is a counterexample.
      if (next.size === 0) return 'no';
      const arr = [...next].sort((p, q) => p - q);
      const acc = arr.some(isAccept);
      for (const nb of tb) {
        if (nb === b.accept && !acc) return 'no';
        const k = `${nb}|${arr.join(',')}`;
        if (seen.has(k)) continue;
        seen.add(k);
        if (seen.size > maxStates) return 'cap';
        queue.push([nb, arr]);
      }
    }
  }
  return 'yes';
}

// ---------------------------------------------------------------------------------------------
// Static analysis

export interface ShadowFinding {
  rule: number;
  /** Earlier rules that together cover it. */
  by: number[];
  how: 'static' | 'observed';
  message: string;
}

export interface OverlapFinding {
  /** The earlier rule, which wins. */
  rule: number;
  /** The later rule that also matches. */
  other: number;
  example: Buffer | null;
  /** Observed: number of keys. */
  count?: number;
  samples?: Buffer[];
}

export interface PotentialCollision {
  kind: 'new_keys_overlap' | 'new_key_may_be_source_key';
  rule: number;
  other: number;
  example: Buffer;
  message: string;
}

export interface StaticAnalysis {
  shadowed: ShadowFinding[];
  overlaps: OverlapFinding[];
  potentialCollisions: PotentialCollision[];
  /** Rules a check could not decide (regex rules, or searches that hit the cap). */
  undecided: Array<{ rule: number; reason: string }>;
}

const ANY_DB = -1;

function admits(r: CompiledRule, t: LogicalType, db: number): boolean {
  if (r.types !== null && !r.types.includes(t)) return false;
  if (r.dbs !== null && (db === ANY_DB || !r.dbs.includes(db))) return false;
  return true;
}

function filtersIntersect(x: CompiledRule, y: CompiledRule): boolean {
  if (x.types !== null && y.types !== null && !x.types.some((t) => y.types!.includes(t))) return false;
  if (x.dbs !== null && y.dbs !== null && !x.dbs.some((d) => y.dbs!.includes(d))) return false;
  return true;
}

/** Target dbs a rule writes to (null = any / same as source). */
function targetDbs(r: CompiledRule): number[] | null {
  return r.toDb !== null ? [r.toDb] : r.dbs;
}

function dbSetsIntersect(x: number[] | null, y: number[] | null): boolean {
  return x === null || y === null || x.some((d) => y.includes(d));
}

function prefixCompatible(x: Buffer, y: Buffer): boolean {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return false;
  return true;
}

function suffixCompatible(x: readonly Segment[], y: readonly Segment[]): boolean {
  const lx = x[x.length - 1];
  const ly = y[y.length - 1];
  if (lx === undefined || ly === undefined || lx.kind !== 'lit' || ly.kind !== 'lit') return true;
  const n = Math.min(lx.bytes.length, ly.bytes.length);
  for (let i = 1; i <= n; i++) if (lx.bytes[lx.bytes.length - i] !== ly.bytes[ly.bytes.length - i]) return false;
  return true;
}

/** A list whose items are computed on first access, then kept. */
function lazyList<T>(n: number, make: (i: number) => T): (i: number) => T {
  const done = new Array<boolean>(n).fill(false);
  const items = new Array<T>(n);
  return (i) => {
    if (!done[i]) {
      items[i] = make(i);
      done[i] = true;
    }
    return items[i]!;
  };
}

/**
 * The ids whose prefix is compatible with a query (one starts with the other). Sorted, the longer
 * prefixes starting with the query are one range; the shorter ones are looked up by each length
 * that occurs. Prefixes are compared as latin1 strings (one char per byte, so string order is byte
 * order).
 */
class PrefixIndex {
  private readonly sorted: string[];
  private readonly idsOf = new Map<string, number[]>();
  private readonly lengths: number[];

  constructor(items: ReadonlyArray<[Buffer, number]>) {
    for (const [p, id] of items) {
      const k = p.toString('latin1');
      const ids = this.idsOf.get(k);
      if (ids === undefined) this.idsOf.set(k, [id]);
      else if (ids[ids.length - 1] !== id) ids.push(id);
    }
    this.sorted = [...this.idsOf.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.lengths = [...new Set(this.sorted.map((k) => k.length))].sort((a, b) => a - b);
  }

  /** Ascending, distinct ids compatible with any of `queries`. */
  compatible(queries: readonly Buffer[]): number[] {
    const out: number[] = [];
    for (const q of queries) {
      const s = q.toString('latin1');
      for (const L of this.lengths) {
        if (L > s.length) break;
        const ids = this.idsOf.get(L === s.length ? s : s.slice(0, L));
        if (ids !== undefined) for (const id of ids) out.push(id);
      }
      // Strictly longer prefixes that start with s: a contiguous run from s's place in sorted order.
      let lo = 0;
      let hi = this.sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.sorted[mid]! < s) lo = mid + 1;
        else hi = mid;
      }
      for (let k = lo; k < this.sorted.length && this.sorted[k]!.startsWith(s); k++) {
        const key = this.sorted[k]!;
        if (key.length > s.length) for (const id of this.idsOf.get(key)!) out.push(id);
      }
    }
    out.sort((a, b) => a - b);
    let w = 0;
    for (let r = 0; r < out.length; r++) if (r === 0 || out[r] !== out[r - 1]) out[w++] = out[r]!;
    out.length = w;
    return out;
  }
}

/** The ascending union of two ascending id lists. */
function mergeIds(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
    if (out.length === 0 || out[out.length - 1] !== x) out.push(x);
  }
  return out;
}

function leadingLiteral(segs: readonly Segment[]): Buffer {
  const f = segs[0];
  return f !== undefined && f.kind === 'lit' ? f.bytes : Buffer.alloc(0);
}

/** The rename template typed with the match's kinds (the language of new keys), or null. */
function outputSegments(r: CompiledRule): Segment[] | null {
  const spec = r.spec;
  if (spec.match === null) return null;
  if (spec.rename === null) return spec.match.segments.slice();
  const kinds = new Map<string, PlaceholderKind>();
  for (const s of spec.match.segments) if (s.kind === 'var') kinds.set(s.name, s.type);
  return spec.rename.segments.map((s) =>
    s.kind === 'lit' ? s : { kind: 'var' as const, name: s.name, type: kinds.get(s.name) ?? 'any', explicitType: true },
  );
}

export function analyzeStatic(rules: CompiledRules, opts: { maxStates?: number } = {}): StaticAnalysis {
  const maxStates = opts.maxStates ?? 20000;
  const rs = rules.rules;
  const out: StaticAnalysis = { shadowed: [], overlaps: [], potentialCollisions: [], undecided: [] };
  const matchSegs: Array<readonly Segment[] | null> = rs.map((r) => r.spec.match?.segments ?? null);
  const outSegs = rs.map(outputSegments);
  const all: Array<readonly Segment[]> = [];
  for (const s of matchSegs) if (s) all.push(s);
  for (const s of outSegs) if (s) all.push(s);
  const alpha = buildAlphabet(all);
  // Automata are built on first use: with thousands of rules most never meet a compatible rule, and
  // an NFA costs (states x alphabet) arrays.
  const matchNfa = lazyList(matchSegs.length, (i) => (matchSegs[i] ? buildNfa(matchSegs[i], alpha) : null));
  const outNfa = lazyList(outSegs.length, (i) => (outSegs[i] ? buildNfa(outSegs[i], alpha) : null));
  const prefixes: Buffer[][] = matchSegs.map((s, i) => (s ? [leadingLiteral(s)] : rs[i]!.spec.regex!.prefixes));
  const anyCompatible = (x: readonly Buffer[], y: readonly Buffer[]): boolean => x.some((p) => y.some((q) => prefixCompatible(p, q)));
  // Pairs are only looked at when their literal prefixes are compatible: the indexes find those
  // without trying every pair (60k rules are 1.8 billion pairs).
  const matchIndex = new PrefixIndex(prefixes.flatMap((ps, i) => ps.map((p): [Buffer, number] => [p, i])));
  const outPrefix = outSegs.map((s) => (s ? leadingLiteral(s) : null));
  const outIndex = new PrefixIndex(outPrefix.flatMap((p, i): Array<[Buffer, number]> => (p !== null ? [[p, i]] : [])));
  const undecided = new Set<number>();

  for (let bi = 0; bi < rs.length; bi++) {
    const B = rs[bi]!;
    const bSegs = matchSegs[bi]!;
    const literalKey = bSegs !== null && bSegs.every((s) => s.kind === 'lit') ? Buffer.concat(bSegs.map((s) => (s as { bytes: Buffer }).bytes)) : null;
    // Earlier rules that could matter at all.
    const earlier: number[] = [];
    for (const ai of matchIndex.compatible(prefixes[bi]!)) {
      if (ai >= bi) break;
      if (!filtersIntersect(rs[ai]!, B)) continue;
      if (!anyCompatible(prefixes[ai]!, prefixes[bi]!)) continue;
      earlier.push(ai);
    }
    // Shadowing, per (type, db) combination.
    let shadowed: boolean | null = null;
    const coverers = new Set<number>();
    if (bSegs === null) {
      undecided.add(bi);
      out.undecided.push({ rule: bi, reason: 'regex rule: shadowing is only observed over keys' });
    } else {
      const types = B.types ?? LOGICAL_TYPES;
      const dbs = B.dbs ?? [ANY_DB];
      const byCombo = new Map<string, number[]>();
      for (const t of types) {
        for (const d of dbs) {
          const set = earlier.filter((ai) => admits(rs[ai]!, t, d));
          byCombo.set(set.join(','), set);
        }
      }
      shadowed = true;
      for (const set of byCombo.values()) {
        if (literalKey !== null) {
          // Exact: run the earlier rules (regex ones too) on the single key.
          const hit = set.filter((ai) => rules.ruleMatches(ai, literalKey));
          if (hit.length === 0) {
            shadowed = false;
            break;
          }
          coverers.add(hit[0]!);
          continue;
        }
        const tmpl = set.filter((ai) => matchSegs[ai] !== null);
        const res = tmpl.length === 0 ? 'no' : covered(matchNfa(bi)!, tmpl.map((ai) => matchNfa(ai)!), alpha, maxStates);
        if (res === 'cap') {
          shadowed = null;
          undecided.add(bi);
          out.undecided.push({ rule: bi, reason: 'shadowing check too large' });
          break;
        }
        if (res === 'no') {
          shadowed = false;
          break;
        }
        for (const ai of tmpl) {
          if (suffixCompatible(matchSegs[ai]!, bSegs) && intersect(matchNfa(ai)!, matchNfa(bi)!, alpha, maxStates) !== null) coverers.add(ai);
        }
      }
      if (shadowed === true) {
        const by = [...coverers].sort((x, y) => x - y);
        out.shadowed.push({
          rule: bi,
          by,
          how: 'static',
          message: `no key can reach ${B.label}: every key it matches is taken first by ${by.map((i) => rs[i]!.label).join(', ')}`,
        });
      }
    }
    // Overlaps (partial): an earlier template rule takes some of B's keys.
    if (shadowed !== true && bSegs !== null) {
      for (const ai of earlier) {
        const aSegs = matchSegs[ai]!;
        if (aSegs === null || !suffixCompatible(aSegs, bSegs)) continue;
        const ex = intersect(matchNfa(ai)!, matchNfa(bi)!, alpha, maxStates);
        if (ex === 'cap') continue;
        if (ex !== null) out.overlaps.push({ rule: ai, other: bi, example: ex });
      }
    }
  }

  // Potential collisions between rules' new keys, and new keys that look like source keys.
  const renames = (i: number): boolean => rs[i]!.rename !== null;
  for (let i = 0; i < rs.length; i++) {
    if (outSegs[i] === null || !renames(i)) continue;
    // Only rules whose new-key or match prefix is compatible with i's new-key prefix can meet it.
    const js = mergeIds(outIndex.compatible([outPrefix[i]!]), matchIndex.compatible([outPrefix[i]!]));
    for (const j of js) {
      // new keys of i vs new keys of j (j renames or keeps its keys)
      if (j !== i && outSegs[j] !== null && (j > i || !renames(j)) && dbSetsIntersect(targetDbs(rs[i]!), targetDbs(rs[j]!))) {
        if (prefixCompatible(outPrefix[i]!, outPrefix[j]!) && suffixCompatible(outSegs[i]!, outSegs[j]!)) {
          const ex = intersect(outNfa(i)!, outNfa(j)!, alpha, maxStates);
          if (ex instanceof Buffer) {
            out.potentialCollisions.push({
              kind: 'new_keys_overlap',
              rule: i,
              other: j,
              example: ex,
              message: `${rs[i]!.label} and ${rs[j]!.label} can produce the same new key`,
            });
          }
        }
      }
      // new keys of i vs source keys of a renaming rule j
      if (renames(j) && matchSegs[j] !== null && dbSetsIntersect(targetDbs(rs[i]!), rs[j]!.dbs)) {
        if (anyCompatible([outPrefix[i]!], prefixes[j]!) && suffixCompatible(outSegs[i]!, matchSegs[j]!)) {
          const ex = intersect(outNfa(i)!, matchNfa(j)!, alpha, maxStates);
          if (ex instanceof Buffer) {
            out.potentialCollisions.push({
              kind: 'new_key_may_be_source_key',
              rule: i,
              other: j,
              example: ex,
              message:
                i === j
                  ? `new keys of ${rs[i]!.label} match its own pattern: migrating twice renames them again`
                  : `new keys of ${rs[i]!.label} look like keys ${rs[j]!.label} renames`,
            });
          }
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Observed over real keys

export interface ObservedRuleStats {
  rule: number;
  /** Keys this rule classified (it was the first match). */
  matched: number;
  /** Keys this rule matched but an earlier rule took. */
  lost: number;
}

export interface ObservedShadowing {
  perRule: ObservedRuleStats[];
  /** Rules that matched no key at all. */
  neverMatched: number[];
  /** Rules that matched keys, every one of which an earlier rule took. */
  shadowed: ShadowFinding[];
  /** Pairs (winner, later rule that also matched) with counts and samples. */
  overlaps: OverlapFinding[];
}

export class ShadowObserver {
  private readonly matched: Float64Array;
  private readonly lost: Float64Array;
  private readonly pairs = new Map<number, { count: number; samples: Buffer[] }>();

  constructor(
    private readonly rules: CompiledRules,
    private readonly sampleLimit = 3,
  ) {
    this.matched = new Float64Array(rules.rules.length);
    this.lost = new Float64Array(rules.rules.length);
  }

  /** Record one key; returns the indices of every rule that matches it (first = winner). */
  add(key: Buffer, type?: LogicalType, db?: number): number[] {
    const all = this.rules.matchingRules(key, type, db);
    if (all.length === 0) return all;
    const w = all[0]!;
    this.matched[w]!++;
    const n = this.rules.rules.length;
    for (let k = 1; k < all.length; k++) {
      const j = all[k]!;
      this.lost[j]!++;
      const id = w * n + j;
      let p = this.pairs.get(id);
      if (p === undefined) {
        p = { count: 0, samples: [] };
        this.pairs.set(id, p);
      }
      p.count++;
      if (p.samples.length < this.sampleLimit) p.samples.push(Buffer.from(key));
    }
    return all;
  }

  result(): ObservedShadowing {
    const rs = this.rules.rules;
    const n = rs.length;
    const perRule = rs.map((r, i) => ({ rule: i, matched: this.matched[i]!, lost: this.lost[i]! }));
    const overlaps: OverlapFinding[] = [];
    const takenBy = new Map<number, number[]>();
    for (const [id, p] of [...this.pairs.entries()].sort((x, y) => x[0] - y[0])) {
      const w = Math.floor(id / n);
      const j = id % n;
      overlaps.push({ rule: w, other: j, example: p.samples[0] ?? null, count: p.count, samples: p.samples });
      const list = takenBy.get(j) ?? [];
      list.push(w);
      takenBy.set(j, list);
    }
    const neverMatched: number[] = [];
    const shadowed: ShadowFinding[] = [];
    for (const s of perRule) {
      if (s.matched > 0) continue;
      if (s.lost === 0) neverMatched.push(s.rule);
      else {
        const by = takenBy.get(s.rule) ?? [];
        shadowed.push({
          rule: s.rule,
          by,
          how: 'observed',
          message: `${rs[s.rule]!.label} matched ${s.lost} key(s), all taken first by ${by.map((i) => rs[i]!.label).join(', ')}`,
        });
      }
    }
    return { perRule, neverMatched, shadowed, overlaps };
  }
}
