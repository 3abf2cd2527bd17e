/**
 * JSON.parse keeps the last of repeated object keys in silence: `{"a":"1","a":"2"}` is `{"a":"2"}`.
 * For a hash written in the object form that drops a field (Redis refuses a hash repeating one, as the
 * pairs form already reports), so the reader scans such lines once more for the repeat. The text has
 * already been parsed by JSON.parse, so it is valid JSON and the scan only needs to find token edges:
 * strings (skipped with indexOf, escapes counted), nesting, and the keys of two levels. The common
 * case only counts keys (JSON.parse merged a repeat iff the text has more keys than the object);
 * keys are read and compared only when the counts differ, to name the repeat.
 */

/** A key that occurs twice: `where` is "" for the line's top-level object, else the member it is under. */
export interface RepeatedKey {
  where: string;
  key: string;
}

/** Index of the closing quote of the string whose opening quote is at `i`. */
export function stringEnd(t: string, i: number): number {
  let j = i;
  for (;;) {
    j = t.indexOf('"', j + 1);
    if (j < 0) return t.length;
    // A quote preceded by an odd number of backslashes is escaped.
    let k = j - 1;
    while (t.charCodeAt(k) === 0x5c) k--;
    if ((j - 1 - k) % 2 === 0) return j;
  }
}

export function skipWs(t: string, i: number): number {
  for (;;) {
    const c = t.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
    else return i;
  }
}

/** Index just past the JSON value starting at `i`. */
function valueEnd(t: string, i: number): number {
  const c = t.charCodeAt(i);
  if (c === 0x22) return stringEnd(t, i) + 1;
  if (c !== 0x7b && c !== 0x5b) {
    // number, true, false, null
    let j = i;
    for (;;) {
      const d = t.charCodeAt(j);
      if (j >= t.length || d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d) return j;
      j++;
    }
  }
  let depth = 0;
  let j = i;
  while (j < t.length) {
    const d = t.charCodeAt(j);
    if (d === 0x22) j = stringEnd(t, j);
    else if (d === 0x7b || d === 0x5b) depth++;
    else if (d === 0x7d || d === 0x5d) {
      if (--depth === 0) return j + 1;
    }
    j++;
  }
  return j;
}

export function keyText(t: string, start: number, end: number): string {
  const raw = t.slice(start + 1, end);
  return raw.includes('\\') ? (JSON.parse(t.slice(start, end + 1)) as string) : raw;
}

/**
 * The first repeated key of the object at `i` (a `{`), or null; when `inner` names members whose
 * values are objects, their keys are checked too.
 */
function scanObject(t: string, i: number, where: string, inner: ReadonlySet<string> | null): RepeatedKey | null {
  const seen = new Set<string>();
  let j = skipWs(t, i + 1);
  if (t.charCodeAt(j) === 0x7d) return null;
  for (;;) {
    const ke = stringEnd(t, j);
    const key = keyText(t, j, ke);
    if (seen.has(key)) return { where, key };
    seen.add(key);
    j = skipWs(t, ke + 1) + 1; // past ':'
    j = skipWs(t, j);
    if (inner !== null && inner.has(key) && t.charCodeAt(j) === 0x7b) {
      const r = scanObject(t, j, key, null);
      if (r !== null) return r;
    }
    j = skipWs(t, valueEnd(t, j));
    if (t.charCodeAt(j) !== 0x2c) return null; // '}'
    j = skipWs(t, j + 1);
  }
}

/**
 * The first key repeated in the line's top-level object or in the objects under `members`
 * (e.g. a hash's "value" and "field_expire_at_ms"), or null. `text` must be valid JSON.
 */
export function repeatedKey(text: string, members: ReadonlySet<string>): RepeatedKey | null {
  const i = skipWs(text, 0);
  if (text.charCodeAt(i) !== 0x7b) return null;
  return scanObject(text, i, '', members);
}

/** How many keys the object at `i` (a `{`) has in the text; the counts of `inner` members' objects go to `counts`. */
function countObject(t: string, i: number, inner: ReadonlySet<string> | null, counts: Map<string, number> | null): number {
  let n = 0;
  let j = skipWs(t, i + 1);
  if (t.charCodeAt(j) === 0x7d) return 0;
  for (;;) {
    n++;
    const ks = j;
    const ke = stringEnd(t, ks);
    j = skipWs(t, skipWs(t, ke + 1) + 1); // past ':'
    if (inner !== null && t.charCodeAt(j) === 0x7b) {
      const name = keyText(t, ks, ke);
      if (inner.has(name)) counts!.set(name, countObject(t, j, null, null));
    }
    j = skipWs(t, valueEnd(t, j));
    if (t.charCodeAt(j) !== 0x2c) return n;
    j = skipWs(t, j + 1);
  }
}

/**
 * Whether JSON.parse merged a repeated key of the line (`parsed` is what it returned): the text's key
 * counts, top level and under `members`, against the parsed objects'. Names the repeat when so.
 */
export function mergedRepeat(text: string, parsed: Record<string, unknown>, members: ReadonlySet<string>): RepeatedKey | null {
  const i = skipWs(text, 0);
  if (text.charCodeAt(i) !== 0x7b) return null;
  const counts = new Map<string, number>();
  let differ = countObject(text, i, members, counts) !== Object.keys(parsed).length;
  for (const [name, n] of counts) {
    const v = parsed[name];
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length !== n) differ = true;
  }
  return differ ? repeatedKey(text, members) : null;
}
