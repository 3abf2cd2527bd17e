/**
 * SCAN MATCH push-down for a live source: when every key the run can use starts with one literal
 * prefix, the server filters the keyspace (SCAN … MATCH prefix*) and never sends us the rest, so a
 * migration of one app's keys does not DUMP the whole production keyspace.
 *
 * Globs here are "byte strings": each character is one byte (latin1), the way the `--match` filter
 * (pipeline/filters.ts) reads a key, so the pushed-down glob and the filter agree byte for byte.
 */
import type { CompiledRules } from '../rules/index.js';
import { literalPrefix } from '../rules/template.js';

/** Characters with a meaning in a Redis glob (util.c stringmatchlen). */
const GLOB_META = new Set(['*', '?', '[', ']', '\\']);

/** Escape bytes so a Redis glob matches them literally (`a*b` → `a\*b`). Returns a latin1 string. */
export function escapeGlob(literal: Buffer | string): string {
  const s = typeof literal === 'string' ? literal : literal.toString('latin1');
  let out = '';
  for (const ch of s) out += GLOB_META.has(ch) ? `\\${ch}` : ch;
  return out;
}

/**
 * The literal bytes every key matched by `glob` starts with, and whether the glob is exactly that
 * literal followed by a single trailing `*` (a pure prefix glob).
 */
export function globLiteralPrefix(glob: string): { prefix: string; pureprefix: boolean } {
  let prefix = '';
  let i = 0;
  for (; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*' || ch === '?' || ch === '[') break;
    if (ch === '\\' && i + 1 < glob.length) {
      prefix += glob[++i]!;
      continue;
    }
    prefix += ch;
  }
  return { prefix, pureprefix: i === glob.length - 1 && glob[i] === '*' };
}

/** Longest common prefix of byte strings. */
function commonPrefix(list: readonly Buffer[]): Buffer {
  if (list.length === 0) return Buffer.alloc(0);
  let n = list[0]!.length;
  for (const b of list) {
    let k = 0;
    while (k < n && k < b.length && b[k] === list[0]![k]) k++;
    n = k;
  }
  return list[0]!.subarray(0, n);
}

/**
 * The literal prefix every key some rule can match starts with: the longest common prefix of every
 * rule's match template literal head (or, for `regex:` rules, of the prefixes the compiled regex is
 * known to start with). Empty when the rules share none (or there are no rules).
 */
export function rulesLiteralPrefix(rules: CompiledRules): Buffer {
  const heads: Buffer[] = [];
  for (const r of rules.rules) {
    const spec = r.spec;
    if (spec.match !== null) heads.push(literalPrefix(spec.match.segments));
    else if (spec.regex !== null) for (const p of spec.regex.prefixes.length > 0 ? spec.regex.prefixes : [Buffer.alloc(0)]) heads.push(p);
    else heads.push(Buffer.alloc(0));
  }
  return commonPrefix(heads);
}

export interface MatchPrefixOptions {
  /**
   * Let the rules narrow the scan (default true). Only correct when keys no rule matches are not
   * needed by the run: `unmatched: drop`, or an in-place import where a kept unmatched key would be
   * written onto itself (and skipped as existing). The caller decides; see redis-source-cli.ts.
   */
  useRules?: boolean;
}

/**
 * A SCAN MATCH glob that selects a superset of the keys the run needs, or null when the whole
 * keyspace must be scanned.
 *
 * - `filterGlob` (the `--match` filter) is always safe to push down: keys it rejects are filtered out
 *   anyway.
 * - The rules narrow it to `<their common literal prefix>*` (metacharacters escaped) when they share
 *   a non-empty prefix; combined with a pure-prefix filter glob the longer of the two prefixes is
 *   used when one extends the other.
 *
 * With examples/meta-glasses.rules.yaml this is `josancamon:rayban-meta-glasses-api:*`.
 */
export function matchPrefixFor(rules: CompiledRules | null | undefined, filterGlob?: string | null, opts: MatchPrefixOptions = {}): string | null {
  const useRules = opts.useRules ?? true;
  const rp = useRules && rules && rules.rules.length > 0 ? rulesLiteralPrefix(rules).toString('latin1') : '';
  const rulesGlob = rp.length > 0 ? escapeGlob(rp) + '*' : null;
  const f = filterGlob === undefined || filterGlob === null || filterGlob === '' ? null : filterGlob;
  // A glob with characters beyond one byte cannot be sent as the filter reads it; scan everything.
  if (f !== null && /[^\x00-\xff]/.test(f)) return rulesGlob;
  if (f === null || f === '*') return rulesGlob;
  if (rulesGlob === null) return f;
  const fp = globLiteralPrefix(f);
  // Both are prefix constraints: keep the narrower one when one implies the other.
  if (fp.pureprefix && rp.startsWith(fp.prefix)) return rulesGlob;
  return f;
}
