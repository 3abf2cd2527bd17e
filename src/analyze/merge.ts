/**
 * `analyze --merge a.json b.json …`: fold the `merge_state` of separately written analysis reports (one
 * per shard, from any job runner) into the report one run over all the dumps gives. Every counter,
 * histogram, top list, the prefix tree (within its cap), samples (chosen by key hash, key-sample.ts),
 * the per-file table and slot coverage merge exactly.
 *
 * What bounded reports cannot carry is a digest per key, so two checks that span the parts are limited:
 * - duplicate keys across parts are known to be none when any two parts hold disjoint dbs or disjoint
 *   hash slots (a key repeated in two parts has the same db and slot); otherwise `duplicates.checked`
 *   is false;
 * - rule collisions between parts (two shards' keys renamed onto one new key) are not seen: only one
 *   run over the dumps (or `transform`, whose key guard spans its inputs) finds those.
 */
import { readFile, stat } from 'node:fs/promises';
import { RekeyInputError, RekeyUsageError } from '../errors.js';
import { loadRules, type CompiledRules } from '../rules/index.js';
import { SLOT_COUNT } from '../redis/slot.js';
import { Analyzer, MERGE_STATE_VERSION, type AnalysisReport, type AnalyzerState } from './aggregator.js';

/** Partial reports are read whole: bound their size before reading (they are small unless tampered with). */
const MAX_PARTIAL_BYTES = 512 * 1024 * 1024;

export async function readPartial(path: string): Promise<AnalyzerState> {
  return (await readPart(path)).state;
}

/** A part: its merge state, and its `verify` section (analyze --verify) when it has one. */
interface Part {
  state: AnalyzerState;
  verify: AnalysisReport['verify'];
}

async function readPart(path: string): Promise<Part> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new RekeyUsageError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (size > MAX_PARTIAL_BYTES) throw new RekeyInputError(path, 0, `expected an analysis report of at most ${MAX_PARTIAL_BYTES} bytes, found ${size}`);
  let j: Partial<AnalysisReport>;
  try {
    j = JSON.parse(await readFile(path, 'utf8')) as Partial<AnalysisReport>;
  } catch (e) {
    throw new RekeyInputError(path, 0, `expected an analysis report (JSON): ${(e as Error).message}`);
  }
  const st = j.merge_state as { version?: unknown; counters?: unknown } | undefined;
  if (!st || typeof st !== 'object' || !Array.isArray(st.counters)) throw new RekeyInputError(path, 0, 'expected an analysis report with "merge_state" (written by rekey analyze --json or its report file)');
  if (st.version !== MERGE_STATE_VERSION) {
    throw new RekeyInputError(path, 0, `expected "merge_state" version ${MERGE_STATE_VERSION}, found ${JSON.stringify(st.version)}: analyse that part again with this rekey`);
  }
  const v = j.verify;
  if (v !== undefined && !(v && typeof v === 'object' && Number.isInteger(v.checked) && Number.isInteger(v.bad_keys) && Array.isArray(v.keys))) {
    throw new RekeyInputError(path, 0, 'expected "verify" to hold "checked", "bad_keys" and "keys"');
  }
  return { state: st as AnalyzerState, verify: v };
}

/** Options that must agree across partial reports, or the merge would mix incomparable numbers. */
function sameOptions(a: AnalyzerState['options'], b: AnalyzerState['options']): string | null {
  for (const k of ['now', 'top', 'samples', 'prefix_depth', 'prefix_max_nodes', 'max_key_bytes', 'rules', 'unmatched', 'filter'] as const) {
    if (a[k] !== b[k]) return `${k} ${String(b[k])} (the first report has ${String(a[k])})`;
  }
  return null;
}

/**
 * No key can be in two parts: for every pair of parts, their dbs or their key slots are disjoint (a key
 * repeated in two parts sits in the same db and hashes to the same slot).
 */
function partsCannotShareKeys(states: readonly AnalyzerState[]): boolean {
  const parts = states.map((st) => {
    const slots = new Uint8Array(SLOT_COUNT);
    for (const f of st.files) {
      const k = f.holdings.keys;
      for (let i = 0; i + 1 < k.length; i += 2) if (k[i + 1]! > 0 && k[i]! >= 0 && k[i]! < SLOT_COUNT) slots[k[i]!] = 1;
    }
    return { dbs: new Set(st.by_db.filter((d) => (d.g[0] ?? 0) > 0).map((d) => d.db)), slots };
  });
  for (let p = 0; p < parts.length; p++) {
    for (let q = p + 1; q < parts.length; q++) {
      const a = parts[p]!;
      const b = parts[q]!;
      if (![...a.dbs].some((db) => b.dbs.has(db))) continue;
      for (let s = 0; s < SLOT_COUNT; s++) if (a.slots[s] === 1 && b.slots[s] === 1) return false;
    }
  }
  return true;
}

/**
 * Merge partial reports, in the order given (the order one run would have read the dumps), into one
 * analyzer. `rulesPath` overrides the rules path the parts recorded (the same rules, found elsewhere).
 */
export async function mergeReports(paths: readonly string[], rulesPath?: string): Promise<Analyzer> {
  const parts: Part[] = [];
  for (const p of paths) parts.push(await readPart(p));
  const states = parts.map((p) => p.state);
  const o = states[0]!.options;
  states.forEach((st, i) => {
    const diff = sameOptions(o, st.options);
    if (diff !== null) throw new RekeyUsageError(`${paths[i]}: cannot merge: ${diff}; analyse every part with the same --now, --top, --samples, --prefix-depth, filters and rules`);
  });
  const rp = rulesPath ?? o.rules;
  const rules: CompiledRules | null = rp ? await loadRules(rp) : null;
  const analyzer = new Analyzer({
    now: o.now,
    top: o.top,
    samples: o.samples,
    prefixDepth: o.prefix_depth,
    prefixMaxNodes: o.prefix_max_nodes,
    maxKeyBytes: o.max_key_bytes,
    rules,
    ...(rp ? { rulesPath: rp } : {}),
    // The merged report has a verify section when any part was verified (those that were not add nothing).
    ...(parts.some((p) => p.verify !== undefined) ? { verify: true } : {}),
  });
  for (const st of states) analyzer.mergeState(st);
  for (const p of parts) if (p.verify !== undefined) analyzer.mergeVerify(p.verify);
  const files = states.reduce((n, st) => n + st.files.length, 0);
  const eachChecked = states.every((st) => st.files.length <= 1 || st.duplicates.checked);
  analyzer.duplicatesChecked = files > 1 && eachChecked && partsCannotShareKeys(states);
  return analyzer;
}
