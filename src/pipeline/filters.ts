import { RekeyUsageError } from '../errors.js';
import { compileLinearRegExp } from '../rules/linear-regex.js';
import { LOGICAL_TYPES, type KeyRecord, type LogicalType } from '../records/types.js';

export interface FilterOptions {
  db?: number[];
  type?: string[];
  match?: string;
  keyRegex?: string;
  excludeRegex?: string;
}

export type KeyFilter = (rec: KeyRecord) => boolean;

/**
 * Redis glob (util.c stringmatchlen: `*`, `?`, `[abc]`, `[^a-z]`, `\x`) as a RegExp over the
 * key's latin1 view, where each byte is one character, so binary keys match byte for byte.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') re += '[\\s\\S]*';
    else if (ch === '?') re += '[\\s\\S]';
    else if (ch === '\\' && i + 1 < glob.length) re += escapeChar(glob[++i]!);
    else if (ch === '[') {
      let j = i + 1;
      let cls = '';
      if (glob[j] === '^') {
        cls += '^';
        j++;
      }
      for (; j < glob.length && glob[j] !== ']'; j++) {
        const c = glob[j]!;
        if (c === '\\' && j + 1 < glob.length) cls += escapeChar(glob[++j]!);
        else if (c === '-' && cls.length > 0 && glob[j + 1] !== ']') cls += '-';
        else cls += escapeChar(c);
      }
      if (j >= glob.length) re += '\\['; // unterminated: literal, as Redis does at end of pattern
      else {
        re += `[${cls}]`;
        i = j;
      }
    } else re += escapeChar(ch);
  }
  return compileLinearRegExp(re + '$', 's');
}

function escapeChar(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

function compileRegex(src: string, flag: string): RegExp {
  try {
    // Linear-bounded: a hostile pattern cannot hang the run (see rules/linear-regex.ts).
    return compileLinearRegExp(src, 's');
  } catch (e) {
    const msg = (e as Error).message.replace(/^Invalid regular expression: /, '');
    throw new RekeyUsageError(`${flag} ${JSON.stringify(src)}: invalid regular expression: ${msg}`);
  }
}

/** One predicate from the common filter flags (all must hold). Returns null when nothing filters. */
export function buildFilter(o: FilterOptions): KeyFilter | null {
  const tests: KeyFilter[] = [];
  if (o.db && o.db.length > 0) {
    const dbs = new Set(o.db);
    tests.push((r) => dbs.has(r.db));
  }
  if (o.type && o.type.length > 0) {
    for (const t of o.type) {
      if (!(LOGICAL_TYPES as readonly string[]).includes(t)) throw new RekeyUsageError(`--type ${t}: expected one of ${LOGICAL_TYPES.join(', ')}`);
    }
    const types = new Set(o.type as LogicalType[]);
    tests.push((r) => types.has(r.type));
  }
  if (o.match !== undefined) {
    const re = globToRegExp(o.match);
    tests.push((r) => re.test(r.key.toString('latin1')));
  }
  if (o.keyRegex !== undefined) {
    const re = compileRegex(o.keyRegex, '--key-regex');
    tests.push((r) => re.test(r.key.toString('latin1')));
  }
  if (o.excludeRegex !== undefined) {
    const re = compileRegex(o.excludeRegex, '--exclude-regex');
    tests.push((r) => !re.test(r.key.toString('latin1')));
  }
  if (tests.length === 0) return null;
  if (tests.length === 1) return tests[0]!;
  return (r) => tests.every((t) => t(r));
}
