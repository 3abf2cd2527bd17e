/**
 * All rules compiled into one matcher.
 *
 * A radix trie (byte-labelled edges, path-compressed) holds every rule's literal prefix: the
 * leading literal text of its `match` template, or the literal text a `regex` must start with (an
 * exact key is a prefix that is the whole key). Each trie node carries the ascending list of the
 * rules whose prefix ends there; rules without a usable prefix sit at the root. Classifying a key
 * walks the trie once along the key's bytes, then tries only the rules on that path, merged in rule
 * order, stopping at the first that matches (first match wins). The trie has at most two nodes per
 * rule, so 60k rules cost a few MB, whatever their prefixes' lengths or nesting.
 *
 * A candidate is tried by checking its type/db filter, then matching the template's remaining
 * segments with a small greedy backtracking matcher over the key Buffer (no string conversion, no
 * allocation: captures go into a shared Int32Array of [start, end) offsets). Regex rules run over the
 * key's latin1 view (one char per byte), computed once per call and only if a regex is tried.
 */
import type { LogicalType } from '../records/types.js';
import { LOGICAL_TYPES } from '../records/types.js';
import { CLASS_TABLES, type Segment } from './template.js';

export interface MatchEntry {
  /** Template segments (including the literal prefix), or null for a regex entry. */
  segments: readonly Segment[] | null;
  /** Anchored regex (linear-bounded, see linear-regex.ts), run over the latin1 view; or null. */
  regex: RegExp | null;
  /** Capture slot names: template variables / regex named groups. */
  captureNames: readonly string[];
  /**
   * Every match starts with one of these (the trie keys). A template has exactly one (its leading
   * literal text, possibly empty); a regex may have several (one per leading alternative).
   */
  prefixes: readonly Buffer[];
  /** Bit set of allowed types (see typeBit); 0 = any type. */
  typeMask: number;
  /** Allowed dbs, or null for any. */
  dbs: readonly number[] | null;
}

const TYPE_BITS: Record<string, number> = {};
LOGICAL_TYPES.forEach((t, i) => (TYPE_BITS[t] = 1 << i));

/** The filter bit of a type (0 for undefined: an unknown type passes every type filter). */
export function typeBit(type: LogicalType | undefined): number {
  return type === undefined ? 0 : TYPE_BITS[type] ?? 0;
}

export function typeMaskOf(types: readonly LogicalType[] | null): number {
  if (types === null) return 0;
  let m = 0;
  for (const t of types) m |= typeBit(t);
  return m;
}

const LIT = 0;
const VAR = 1;

/** One pattern in matcher form. Segments are stored after the prefix the trie has verified. */
class CompiledPattern {
  readonly n: number;
  // Small plain arrays, not typed arrays: a typed array costs ~200 bytes of header per pattern, which
  // 60k rules turn into tens of MB; V8 reads small-integer arrays as fast.
  readonly kinds: number[];
  readonly lits: Array<Uint8Array | null>;
  readonly classes: Array<Uint8Array | null>;
  readonly slots: number[];
  /** Bytes needed at least from segment i to the end (n+1 entries, last is 0). */
  readonly minRest: number[];
  /** For a placeholder followed by a literal whose first byte it cannot contain: no backtracking. */
  readonly stopAtRun: number[];
  /** Two or more placeholders that may backtrack: memoize failures so matching stays polynomial. */
  readonly needsMemo: boolean;
  readonly prefix: Uint8Array;
  readonly prefixLen: number;
  readonly minLen: number;
  readonly regex: RegExp | null;
  readonly regexGroups: readonly string[];
  readonly typeMask: number;
  readonly dbs: readonly number[] | null;

  constructor(e: MatchEntry) {
    this.regex = e.regex;
    this.regexGroups = e.regex !== null ? e.captureNames : [];
    this.typeMask = e.typeMask;
    this.dbs = e.dbs;
    const pre = e.segments !== null ? e.prefixes[0] ?? Buffer.alloc(0) : Buffer.alloc(0);
    if (e.segments !== null && e.prefixes.length !== 1) throw new Error('internal: a template has one prefix');
    this.prefix = pre;
    this.prefixLen = pre.length;
    let segs: Segment[] = [];
    if (e.segments !== null) {
      segs = e.segments.slice();
      // Drop the prefix the trie verifies.
      const first = segs[0];
      if (first !== undefined && first.kind === 'lit' && first.bytes.length > 0) {
        if (first.bytes.length !== pre.length) throw new Error('internal: prefix mismatch');
        segs.shift();
      }
    }
    const n = segs.length;
    this.n = n;
    this.kinds = new Array<number>(n).fill(LIT);
    this.lits = new Array<Uint8Array | null>(n).fill(null);
    this.classes = new Array<Uint8Array | null>(n).fill(null);
    this.slots = new Array<number>(n).fill(-1);
    this.minRest = new Array<number>(n + 1).fill(0);
    this.stopAtRun = new Array<number>(n).fill(0);
    segs.forEach((s, i) => {
      if (s.kind === 'lit') {
        this.kinds[i] = LIT;
        this.lits[i] = s.bytes;
      } else {
        this.kinds[i] = VAR;
        this.classes[i] = CLASS_TABLES[s.type];
        this.slots[i] = e.captureNames.indexOf(s.name);
      }
    });
    for (let i = n - 1; i >= 0; i--) {
      this.minRest[i] = this.minRest[i + 1]! + (this.kinds[i] === LIT ? this.lits[i]!.length : 1);
    }
    for (let i = 0; i + 1 < n; i++) {
      if (this.kinds[i] === VAR && this.kinds[i + 1] === LIT && this.classes[i]![this.lits[i + 1]![0]!] === 0) {
        this.stopAtRun[i] = 1;
      }
    }
    let backtracking = 0;
    for (let i = 0; i + 1 < n; i++) if (this.kinds[i] === VAR && this.stopAtRun[i] === 0) backtracking++;
    this.needsMemo = backtracking >= 2;
    this.minLen = this.prefixLen + (e.segments !== null ? this.minRest[0]! : 0);
  }
}

/**
 * Failure memo for backtracking patterns: MEMO[si * MEMO_W + pos] === STAMP means "segments si.. do
 * not match from pos" was already computed in this attempt. Reused across keys (no allocation).
 */
let MEMO = new Int32Array(1024);
let MEMO_W = 0;
let STAMP = 0;
let MEMO_ON = false;
const MEMO_MAX = 1 << 22;

function beginMemo(n: number, kl: number): void {
  const size = (n + 1) * (kl + 1);
  if (size > MEMO_MAX) {
    MEMO_ON = false;
    return;
  }
  if (size > MEMO.length) MEMO = new Int32Array(Math.max(size, MEMO.length * 2));
  if (++STAMP >= 0x7fffffff) {
    MEMO.fill(0);
    STAMP = 1;
  }
  MEMO_W = kl + 1;
  MEMO_ON = true;
}

/** Match segments si.. of p against key from pos; fills caps. */
function matchSegments(p: CompiledPattern, key: Uint8Array, si: number, pos: number, caps: Int32Array): boolean {
  const n = p.n;
  const kl = key.length;
  while (si < n) {
    if (p.kinds[si] === LIT) {
      const lit = p.lits[si]!;
      const L = lit.length;
      if (pos + L > kl) return false;
      for (let j = 0; j < L; j++) if (key[pos + j] !== lit[j]) return false;
      pos += L;
      si++;
      continue;
    }
    const cls = p.classes[si]!;
    const slot = p.slots[si]!;
    const maxEnd = kl - p.minRest[si + 1]!;
    if (maxEnd <= pos) return false;
    let end = pos;
    while (end < maxEnd && cls[key[end]!] === 1) end++;
    if (end === pos) return false;
    caps[2 * slot] = pos;
    if (si === n - 1) {
      if (end !== kl) return false;
      caps[2 * slot + 1] = end;
      return true;
    }
    if (p.stopAtRun[si] === 1) {
      caps[2 * slot + 1] = end;
      pos = end;
      si++;
      continue;
    }
    const memo = MEMO_ON && p.needsMemo;
    for (let e = end; e > pos; e--) {
      if (memo) {
        const at = (si + 1) * MEMO_W + e;
        if (MEMO[at] === STAMP) continue;
        caps[2 * slot + 1] = e;
        if (matchSegments(p, key, si + 1, e, caps)) return true;
        MEMO[at] = STAMP;
        continue;
      }
      caps[2 * slot + 1] = e;
      if (matchSegments(p, key, si + 1, e, caps)) return true;
    }
    return false;
  }
  return pos === kl;
}

interface TrieNode {
  /** Edge label from the parent; label[0] is the dispatch byte. Empty for the root. */
  label: Uint8Array;
  /** Children indexed by first label byte (sparse; only for wide nodes, it costs 2 KB), or null. */
  table: Array<TrieNode | undefined> | null;
  /** First label bytes of the children of a narrow node (searched linearly), with `kids` alongside. */
  keys: Uint8Array | null;
  kids: TrieNode[] | null;
  /** The only child, when there is exactly one (avoids the table). */
  only: TrieNode | null;
  /** Entries whose prefix ends exactly here, ascending (the candidates of a walk are the union along it). */
  own: number[];
}

/** Build-time radix node: edges split on insert, so the tree has at most two nodes per prefix. */
interface BuildNode {
  label: Buffer;
  children: Map<number, BuildNode>;
  own: number[];
}

/** Longest common prefix length of a[ai..] and b. */
function commonLen(a: Uint8Array, ai: number, b: Uint8Array): number {
  const n = Math.min(a.length - ai, b.length);
  let i = 0;
  while (i < n && a[ai + i] === b[i]) i++;
  return i;
}

function insertPrefix(root: BuildNode, prefix: Buffer, idx: number): void {
  let node = root;
  let pos = 0;
  while (pos < prefix.length) {
    const child = node.children.get(prefix[pos]!);
    if (child === undefined) {
      node.children.set(prefix[pos]!, { label: prefix.subarray(pos), children: new Map(), own: [idx] });
      return;
    }
    const common = commonLen(prefix, pos, child.label);
    if (common < child.label.length) {
      // Split the edge: child keeps the tail of its label under a new middle node.
      const mid: BuildNode = { label: child.label.subarray(0, common), children: new Map(), own: [] };
      child.label = child.label.subarray(common);
      mid.children.set(child.label[0]!, child);
      node.children.set(mid.label[0]!, mid);
      node = mid;
    } else node = child;
    pos += common;
  }
  if (node.own[node.own.length - 1] !== idx) node.own.push(idx);
}

/** Nodes with more children than this dispatch through a 256-slot table; narrower ones search. */
const WIDE = 16;

/** Initial size of the walk's list scratch (it grows when a key passes more nodes with entries). */
const PATH_INIT = 16;

export class Matcher {
  /** Captures of the last successful match: [start, end) per slot into `capSrc`, -1 when unset. */
  readonly caps: Int32Array;
  /**
   * The bytes `caps` points into: the key for a template match; for a regex match a scratch buffer
   * holding the groups' bytes (regexes run without the `d` flag, so group offsets are not known).
   */
  capSrc: Uint8Array = new Uint8Array(0);
  private scratch: Buffer = Buffer.alloc(256);
  readonly size: number;
  private readonly patterns: CompiledPattern[];
  private readonly root: TrieNode;
  /** Latin1 view of the key, computed at most once per match() call when a regex is tried. */
  private latin1: string | null = null;
  /** Trie statistics (for the bench and tests). */
  readonly trieNodes: number;
  /** The non-empty `own` lists met by the last walk, and a read position in each (k-way merge). */
  private pathLists: number[][] = [];
  private pathPos: Int32Array = new Int32Array(PATH_INIT);
  private pathLen = 0;
  /** The candidate last returned: a regex with nested prefixes sits in two lists, try it once. */
  private lastCand = -1;

  constructor(entries: readonly MatchEntry[]) {
    this.size = entries.length;
    this.patterns = entries.map((e) => new CompiledPattern(e));
    let maxSlots = 1;
    for (const e of entries) maxSlots = Math.max(maxSlots, e.captureNames.length);
    this.caps = new Int32Array(2 * maxSlots).fill(-1);
    // Entries are inserted in index order, so every own list comes out ascending. Memory is linear in
    // the number of entries (not in their prefix bytes, nor quadratic when prefixes nest): each node
    // stores only its own entries, and a walk merges the lists it passes.
    const broot: BuildNode = { label: Buffer.alloc(0), children: new Map(), own: [] };
    entries.forEach((e, idx) => {
      for (const prefix of e.prefixes.length > 0 ? e.prefixes : [Buffer.alloc(0)]) insertPrefix(broot, prefix, idx);
    });
    let count = 0;
    const convert = (b: BuildNode): TrieNode => {
      count++;
      const node: TrieNode = { label: b.label, table: null, keys: null, kids: null, only: null, own: b.own };
      const kids: TrieNode[] = [];
      for (const child of b.children.values()) kids.push(convert(child));
      if (kids.length === 1) node.only = kids[0]!;
      else if (kids.length > WIDE) {
        node.table = new Array<TrieNode | undefined>(256);
        for (const k of kids) node.table[k.label[0]!] = k;
      } else if (kids.length > 1) {
        node.keys = Uint8Array.from(kids, (k) => k.label[0]!);
        node.kids = kids;
      }
      return node;
    };
    this.root = convert(broot);
    this.trieNodes = count;
  }

  /** Walk the trie along `key`, collecting the non-empty own lists of the nodes passed (root first). */
  private walk(key: Uint8Array): void {
    let node = this.root;
    let pos = 0;
    const kl = key.length;
    this.pathLen = 0;
    this.lastCand = -1;
    for (;;) {
      if (node.own.length > 0) {
        if (this.pathLen === this.pathPos.length) this.pathPos = new Int32Array(this.pathLen * 2);
        this.pathLists[this.pathLen] = node.own;
        this.pathPos[this.pathLen++] = 0;
      }
      if (pos >= kl) break;
      const b = key[pos]!;
      let child: TrieNode | undefined;
      if (node.only !== null) {
        if (node.only.label[0] === b) child = node.only;
      } else if (node.keys !== null) {
        const ks = node.keys;
        for (let j = 0; j < ks.length; j++) {
          if (ks[j] === b) {
            child = node.kids![j];
            break;
          }
        }
      } else if (node.table !== null) child = node.table[b];
      if (child === undefined) break;
      const lab = child.label;
      const L = lab.length;
      if (pos + L > kl) break;
      let ok = true;
      for (let j = 1; j < L; j++) {
        if (key[pos + j] !== lab[j]) {
          ok = false;
          break;
        }
      }
      if (!ok) break;
      node = child;
      pos += L;
    }
  }

  /** The next candidate of the last walk in ascending entry order, or -1 (a k-way merge of its lists). */
  private nextCandidate(): number {
    const n = this.pathLen;
    const lists = this.pathLists;
    const at = this.pathPos;
    for (;;) {
      let best = -1;
      let bestList = -1;
      for (let i = 0; i < n; i++) {
        const l = lists[i]!;
        const p = at[i]!;
        if (p < l.length && (best < 0 || l[p]! < best)) {
          best = l[p]!;
          bestList = i;
        }
      }
      if (bestList < 0) return -1;
      at[bestList]!++;
      if (best !== this.lastCand) return (this.lastCand = best);
    }
  }

  /** The candidate entries for a key: every entry whose prefix the key starts with, ascending. */
  candidates(key: Uint8Array): Int32Array {
    this.walk(key);
    const out: number[] = [];
    for (let c = this.nextCandidate(); c >= 0; c = this.nextCandidate()) out.push(c);
    return Int32Array.from(out);
  }

  /**
   * The first entry with index >= `from` matching `key` (its captures are in `caps`), or -1.
   * `tbit` is typeBit(type) (0 = unknown type, passes type filters); `db` < 0 = unknown db.
   */
  match(key: Buffer, tbit: number, db: number, from = 0): number {
    this.walk(key);
    this.latin1 = null;
    const kl = key.length;
    for (let idx = this.nextCandidate(); idx >= 0; idx = this.nextCandidate()) {
      if (idx < from) continue;
      const p = this.patterns[idx]!;
      if (kl < p.minLen) continue;
      if (tbit !== 0 && p.typeMask !== 0 && (p.typeMask & tbit) === 0) continue;
      if (db >= 0 && p.dbs !== null && !p.dbs.includes(db)) continue;
      if (p.regex !== null) {
        if (this.matchRegex(p, key)) return idx;
        continue;
      }
      if (p.needsMemo) beginMemo(p.n, kl);
      if (matchSegments(p, key, 0, p.prefixLen, this.caps)) {
        this.capSrc = key;
        return idx;
      }
    }
    return -1;
  }

  /** Whether entry `idx` alone matches (filters included); captures in `caps`. */
  matchOne(idx: number, key: Buffer, tbit: number, db: number): boolean {
    const p = this.patterns[idx]!;
    if (tbit !== 0 && p.typeMask !== 0 && (p.typeMask & tbit) === 0) return false;
    if (db >= 0 && p.dbs !== null && !p.dbs.includes(db)) return false;
    if (key.length < p.minLen) return false;
    this.latin1 = null;
    if (p.regex !== null) return this.matchRegex(p, key);
    const pre = p.prefix;
    for (let j = 0; j < pre.length; j++) if (key[j] !== pre[j]) return false;
    if (p.needsMemo) beginMemo(p.n, key.length);
    this.capSrc = key;
    return matchSegments(p, key, 0, p.prefixLen, this.caps);
  }

  /** All entries matching `key`, in order (for shadowing analysis; not the hot path). */
  matchAll(key: Buffer, tbit: number, db: number): number[] {
    const out: number[] = [];
    let from = 0;
    for (;;) {
      const i = this.match(key, tbit, db, from);
      if (i < 0) return out;
      out.push(i);
      from = i + 1;
    }
  }

  private matchRegex(p: CompiledPattern, key: Buffer): boolean {
    if (this.latin1 === null) this.latin1 = key.toString('latin1');
    const m = p.regex!.exec(this.latin1);
    if (m === null) return false;
    const groups = m.groups;
    const names = p.regexGroups;
    // Each group's text is a latin1 slice of the key (one char per byte): copy it into the scratch.
    let need = 0;
    for (let s = 0; s < names.length; s++) need += groups?.[names[s]!]?.length ?? 0;
    if (need > this.scratch.length) this.scratch = Buffer.alloc(Math.max(need, this.scratch.length * 2));
    let o = 0;
    for (let s = 0; s < names.length; s++) {
      const g = groups?.[names[s]!];
      if (g === undefined) {
        this.caps[2 * s] = -1;
        this.caps[2 * s + 1] = -1;
      } else {
        this.caps[2 * s] = o;
        o += this.scratch.write(g, o, 'latin1');
        this.caps[2 * s + 1] = o;
      }
    }
    this.capSrc = this.scratch;
    return true;
  }
}
