/**
 * JSON rules files without the YAML parser. `yaml` takes ~6 s and ~700 MB for a 13 MB file of 60k
 * rules; JSON.parse takes a fraction of a second. What the YAML path gives besides the value is kept:
 * a key repeated in any object (yaml's uniqueKeys, which JSON.parse would merge in silence) sends the
 * file to the YAML path, which reports it with its line; the start of each rule and test is found by
 * one scan of the text, for the line numbers of warnings. Any error in the file is re-read through
 * YAML by the caller, so messages carry the same positions either way.
 */
import { keyText, skipWs, stringEnd } from '../jsonl/repeated-keys.js';

export interface JsonRulesText {
  value: unknown;
  /** Text offsets of the elements of the top-level "rules" and "tests" arrays. */
  elements: { rules: number[]; tests: number[] };
}

class Repeat extends Error {}

/** Index past the value at `i`; throws Repeat when an object in it repeats a key. */
function scanValue(t: string, i: number, onTop: ((key: string, at: number) => void) | null): number {
  const c = t.charCodeAt(i);
  if (c === 0x22) return stringEnd(t, i) + 1;
  if (c === 0x7b) {
    const seen = new Set<string>();
    let j = skipWs(t, i + 1);
    if (t.charCodeAt(j) === 0x7d) return j + 1;
    for (;;) {
      const ke = stringEnd(t, j);
      const key = keyText(t, j, ke);
      if (seen.has(key)) throw new Repeat();
      seen.add(key);
      j = skipWs(t, skipWs(t, ke + 1) + 1);
      if (onTop !== null) onTop(key, j);
      j = skipWs(t, scanValue(t, j, null));
      if (t.charCodeAt(j) !== 0x2c) return j + 1;
      j = skipWs(t, j + 1);
    }
  }
  if (c === 0x5b) {
    let j = skipWs(t, i + 1);
    if (t.charCodeAt(j) === 0x5d) return j + 1;
    for (;;) {
      j = skipWs(t, scanValue(t, j, null));
      if (t.charCodeAt(j) !== 0x2c) return j + 1;
      j = skipWs(t, j + 1);
    }
  }
  let j = i;
  for (;;) {
    const d = t.charCodeAt(j);
    if (j >= t.length || d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d) return j;
    j++;
  }
}

/** Offsets of the elements of the array at `i`. */
function elementOffsets(t: string, i: number): number[] {
  const out: number[] = [];
  if (t.charCodeAt(i) !== 0x5b) return out;
  let j = skipWs(t, i + 1);
  if (t.charCodeAt(j) === 0x5d) return out;
  for (;;) {
    out.push(j);
    j = skipWs(t, scanValue(t, j, null));
    if (t.charCodeAt(j) !== 0x2c) return out;
    j = skipWs(t, j + 1);
  }
}

/**
 * The parsed file when `text` is a JSON object that JSON.parse reads without merging a repeated key,
 * else null (then the YAML path reads it and reports what is wrong where).
 */
export function readJsonRules(text: string): JsonRulesText | null {
  const start = skipWs(text, text.charCodeAt(0) === 0xfeff ? 1 : 0);
  if (text.charCodeAt(start) !== 0x7b) return null;
  let value: unknown;
  try {
    value = JSON.parse(start > 0 ? text.slice(start) : text); // JSON.parse refuses a BOM
  } catch {
    return null;
  }
  const at: Record<string, number> = {};
  try {
    scanValue(text, start, (key, pos) => {
      if (key === 'rules' || key === 'tests') at[key] = pos;
    });
  } catch (e) {
    // A repeated key, or nesting too deep for this scanner: the YAML path decides.
    if (e instanceof Repeat || e instanceof RangeError) return null;
    throw e;
  }
  return {
    value,
    elements: {
      rules: at.rules !== undefined ? elementOffsets(text, at.rules) : [],
      tests: at.tests !== undefined ? elementOffsets(text, at.tests) : [],
    },
  };
}

/** 1-based line and column of `offset` (newline offsets computed once, on first use). */
export function lineColOf(text: string): (offset: number) => { line: number; col: number } {
  let nl: number[] | null = null;
  return (offset) => {
    if (nl === null) {
      nl = [];
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) nl.push(i);
    }
    let lo = 0;
    let hi = nl.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (nl[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    const lineStart = lo === 0 ? 0 : nl[lo - 1]! + 1;
    return { line: lo + 1, col: offset - lineStart + 1 };
  };
}
