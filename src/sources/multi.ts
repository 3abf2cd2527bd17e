/**
 * Many inputs as one dataset: paths and globs (`shards/*.rdb`) expanded to files, then opened one after
 * the other so a consumer sees one stream of records with a file boundary between inputs. A cluster
 * backup is one RDB per master; analyze (and later transform/import) read them as one.
 *
 * Node 20 has no stable fs.glob, so globs are expanded here: each path segment that holds `*`, `?` or
 * `[` is matched against a directory listing with the Redis glob of the key filters (globToRegExp).
 */
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, sep } from 'node:path';
import { RekeyUsageError } from '../errors.js';
import { globToRegExp } from '../pipeline/filters.js';
import { openInput, type OpenedInput, type OpenOptions } from './open.js';

const GLOB_CHARS = /[*?[]/;

function isGlob(segment: string): boolean {
  return GLOB_CHARS.test(segment);
}

/** Files a glob names, sorted; directories only along the way. `**` is not special (one segment). */
function expandGlob(pattern: string): string[] {
  const parts = pattern.split(/[\\/]+/);
  const absolute = isAbsolute(pattern);
  if (absolute || parts[0] === '.') parts.shift(); // the empty segment before "/", or "./"
  let bases: string[] = [absolute ? sep : '.'];
  for (let i = 0; i < parts.length; i++) {
    const seg = parts[i]!;
    if (seg === '') continue;
    const last = i === parts.length - 1;
    const next: string[] = [];
    for (const base of bases) {
      if (!isGlob(seg)) {
        next.push(base === '.' ? seg : join(base, seg));
        continue;
      }
      const re = globToRegExp(seg);
      let names: string[];
      try {
        names = readdirSync(base);
      } catch {
        continue; // a directory that does not exist matches nothing
      }
      // Hidden entries only when the pattern asks for them, like a shell.
      for (const name of names.sort()) {
        if (name.startsWith('.') && !seg.startsWith('.')) continue;
        if (!re.test(name)) continue;
        const p = base === '.' ? name : join(base, name);
        if (!last) {
          try {
            if (!statSync(p).isDirectory()) continue;
          } catch {
            continue;
          }
        }
        next.push(p);
      }
    }
    bases = next;
  }
  return bases.filter((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * The files named by the arguments, in argument order (a glob's matches sorted), each once. `-` and
 * `redis://` URLs pass through. A glob that matches no file is a usage error: a shard set with a typo
 * must not quietly become a smaller dataset.
 */
export function expandInputs(args: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const push = (p: string): void => {
    if (seen.has(p)) return;
    seen.add(p);
    out.push(p);
  };
  for (const a of args) {
    if (a === '-' || /^rediss?:\/\//i.test(a) || !isGlob(a)) {
      push(a);
      continue;
    }
    const files = expandGlob(a);
    if (files.length === 0) throw new RekeyUsageError(`${a}: no file matches this pattern`);
    for (const f of files) push(f);
  }
  if (out.length === 0) throw new RekeyUsageError('no input given');
  if (out.filter((p) => p === '-').length > 0 && out.length > 1) throw new RekeyUsageError('- (stdin) cannot be combined with other inputs');
  return out;
}

export interface InputPart {
  /** Position in the dataset (0-based). */
  index: number;
  /** How many inputs the dataset has. */
  count: number;
  input: OpenedInput;
}

/**
 * Open the inputs one at a time, in order: each is opened only when the previous one is fully read, so
 * one file handle and one parser are live at a time whatever the number of shards.
 */
export async function* openInputs(paths: readonly string[], opts: OpenOptions = {}): AsyncGenerator<InputPart> {
  for (let i = 0; i < paths.length; i++) {
    const input = await openInput(paths[i]!, opts);
    yield { index: i, count: paths.length, input };
  }
}
