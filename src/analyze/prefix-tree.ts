/**
 * Key-prefix tree: keys split on a separator byte (`:`), counted per prefix up to a depth, with a cap on
 * the number of nodes so that millions of distinct prefixes cannot grow memory without bound.
 *
 * A key `a:b:c:id` contributes to the prefixes `a:`, `a:b:` and `a:b:c:` (depth 1, 2, 3); its last segment
 * (`id`) is never a prefix. A key without the separator has no prefix (counted in `unprefixed`).
 *
 * Every key is counted in each node on its path, so a parent's counts already include its children's.
 * When the tree exceeds `maxNodes`, the smallest leaves (by key count) are dropped until it is back to
 * half the cap. A prefix dropped that way and seen again starts from zero, so after pruning the counts
 * of small prefixes are lower bounds (`approximate: true` in the output); a prefix that was never dropped
 * (in practice every prefix big enough to make a top list) has exact counts, and a parent is never
 * dropped before its children.
 */
import { toPrintable } from '../records/printable.js';

export interface PrefixStat {
  /** The prefix including its trailing separator (UTF-8 text, or { base64 } for binary prefixes). */
  prefix: string | { base64: string };
  depth: number;
  keys: number;
  bytes: number;
  memory: number;
}

export interface PrefixTreeState {
  nodes: Array<[number, string, number, number, number]>;
  unprefixed: { keys: number; bytes: number; memory: number };
  prunes: number;
}

interface Node {
  /** The segment as latin1 (one char per byte, binary-safe). */
  seg: string;
  parent: Node | null;
  depth: number;
  keys: number;
  bytes: number;
  memory: number;
  children: Map<string, Node> | null;
}

export interface PrefixTreeOptions {
  maxDepth: number;
  maxNodes?: number;
  separator?: number;
  /** Segments longer than this are cut (and merged) to bound the memory one node takes. */
  maxSegment?: number;
}

export class PrefixTree {
  private readonly root: Node = { seg: '', parent: null, depth: 0, keys: 0, bytes: 0, memory: 0, children: null };
  private nodes = 0;
  private prunes = 0;
  readonly maxDepth: number;
  readonly maxNodes: number;
  readonly separator: number;
  private readonly maxSegment: number;
  unprefixed = { keys: 0, bytes: 0, memory: 0 };

  constructor(o: PrefixTreeOptions) {
    this.maxDepth = Math.max(0, Math.floor(o.maxDepth));
    this.maxNodes = Math.max(16, o.maxNodes ?? 20_000);
    this.separator = o.separator ?? 0x3a;
    this.maxSegment = o.maxSegment ?? 128;
  }

  get nodeCount(): number {
    return this.nodes;
  }

  get approximate(): boolean {
    return this.prunes > 0;
  }

  add(key: Buffer, bytes: number, memory: number): void {
    let node = this.root;
    let start = 0;
    let depth = 0;
    const sep = this.separator;
    const len = key.length;
    while (depth < this.maxDepth) {
      let at = start;
      while (at < len && key[at] !== sep) at++;
      if (at >= len) break;
      const end = Math.min(at, start + this.maxSegment);
      const seg = end < at ? key.toString('latin1', start, end) + '...' : key.toString('latin1', start, end);
      let children = node.children;
      if (children === null) children = node.children = new Map();
      let child = children.get(seg);
      if (child === undefined) {
        child = { seg, parent: node, depth: depth + 1, keys: 0, bytes: 0, memory: 0, children: null };
        children.set(seg, child);
        this.nodes++;
      }
      child.keys++;
      child.bytes += bytes;
      child.memory += memory;
      node = child;
      start = at + 1;
      depth++;
    }
    if (depth === 0) {
      this.unprefixed.keys++;
      this.unprefixed.bytes += bytes;
      this.unprefixed.memory += memory;
    }
    if (this.nodes > this.maxNodes) this.prune();
  }

  /**
   * Drop the smallest leaves until the tree is at half its cap: one pass finds the key-count threshold
   * (leaf counts above 255 are all "big"), a second pass removes leaves below it (and at it, as needed).
   * Linear in the tree size, so even one new prefix per key costs amortised O(1).
   */
  private prune(): void {
    this.prunes++;
    const target = Math.floor(this.maxNodes / 2);
    while (this.nodes > target) {
      const hist = new Float64Array(257);
      const leaves: Node[] = [];
      const walk = (n: Node): void => {
        if (n.children === null) {
          if (n !== this.root) leaves.push(n);
          return;
        }
        for (const c of n.children.values()) walk(c);
      };
      walk(this.root);
      if (leaves.length === 0) return;
      for (const l of leaves) hist[Math.min(256, l.keys)]!++;
      let need = this.nodes - target;
      let threshold = 0;
      let below = 0;
      while (threshold < 256 && below + hist[threshold]! < need) below += hist[threshold++]!;
      let atThreshold = need - below; // how many leaves with keys === threshold may go
      for (const leaf of leaves) {
        const k = Math.min(256, leaf.keys);
        if (k > threshold || need <= 0) continue;
        if (k === threshold) {
          if (atThreshold <= 0) continue;
          atThreshold--;
        }
        const parent = leaf.parent!;
        parent.children!.delete(leaf.seg);
        if (parent.children!.size === 0) parent.children = null;
        this.nodes--;
        need--;
      }
    }
  }

  /**
   * The whole tree for merging: nodes parent-first as [parent index (-1: root), segment (latin1), keys,
   * bytes, memory], plus the unprefixed counts and whether it was ever pruned.
   */
  toState(): PrefixTreeState {
    const nodes: PrefixTreeState['nodes'] = [];
    const index = new Map<Node, number>();
    const walk = (n: Node): void => {
      if (n.children === null) return;
      for (const c of n.children.values()) {
        index.set(c, nodes.length);
        nodes.push([n === this.root ? -1 : index.get(n)!, c.seg, c.keys, c.bytes, c.memory]);
        walk(c);
      }
    };
    walk(this.root);
    return { nodes, unprefixed: { ...this.unprefixed }, prunes: this.prunes };
  }

  /** Add another tree's counts (from toState), node by node; then prune as adding keys would. */
  merge(st: PrefixTreeState): void {
    const made: Node[] = [];
    for (const [parentAt, seg, keys, bytes, memory] of st.nodes) {
      const parent = parentAt < 0 ? this.root : made[parentAt];
      if (parent === undefined) throw new Error('prefix tree state: a node before its parent');
      let children = parent.children;
      if (children === null) children = parent.children = new Map();
      let child = children.get(seg);
      if (child === undefined) {
        child = { seg, parent, depth: parent.depth + 1, keys: 0, bytes: 0, memory: 0, children: null };
        children.set(seg, child);
        this.nodes++;
      }
      child.keys += keys;
      child.bytes += bytes;
      child.memory += memory;
      made.push(child);
    }
    this.unprefixed.keys += st.unprefixed.keys;
    this.unprefixed.bytes += st.unprefixed.bytes;
    this.unprefixed.memory += st.unprefixed.memory;
    this.prunes += st.prunes;
    if (this.nodes > this.maxNodes) this.prune();
  }

  /** Every prefix (all depths, parent before child), e.g. for a CSV export. */
  list(): PrefixStat[] {
    return this.all().map((x) => this.stat(x));
  }

  private label(n: Node): Buffer {
    const segs: string[] = [];
    for (let x: Node | null = n; x !== null && x !== this.root; x = x.parent) segs.push(x.seg);
    segs.reverse();
    const sep = String.fromCharCode(this.separator);
    return Buffer.from(segs.join(sep) + sep, 'latin1');
  }

  private all(): Node[] {
    const out: Node[] = [];
    const walk = (n: Node): void => {
      if (n.children === null) return;
      for (const c of n.children.values()) {
        out.push(c);
        walk(c);
      }
    };
    walk(this.root);
    return out;
  }

  private stat(n: Node): PrefixStat {
    return { prefix: toPrintable(this.label(n)), depth: n.depth, keys: n.keys, bytes: n.bytes, memory: n.memory };
  }

  /** The `n` prefixes with the most keys (all depths; ties: more bytes first, then shallower). */
  top(n: number, by: 'keys' | 'bytes' | 'memory' = 'keys'): PrefixStat[] {
    const other = by === 'keys' ? 'bytes' : 'keys';
    return this.all()
      .sort((a, b) => b[by] - a[by] || b[other] - a[other] || a.depth - b.depth)
      .slice(0, Math.max(0, n))
      .map((x) => this.stat(x));
  }
}
