/**
 * Redis 7's multi-part AOF (aof.c, `appendonlydir`): `<appendfilename>.<seq>.base.rdb` is an RDB snapshot
 * and `<appendfilename>.manifest` lists, after it, incremental files (`type i`) holding the commands
 * written since. The base file is a complete RDB, so reading it alone would lose those commands without a
 * word: such an input is refused, naming them. Manifest lines (aofInfoFormat / aofLoadManifestFromFile):
 * `file <name> seq <n> type <b|h|i>`, names possibly quoted (sdssplitargs).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Manifest fields of one line; null for a line that is no `file …` entry. */
function manifestEntry(line: string): { file: string; type: string } | null {
  const tokens = [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!));
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < tokens.length; i += 2) f[tokens[i]!] = tokens[i + 1]!;
  return f.file !== undefined && f.type !== undefined ? { file: f.file, type: f.type } : null;
}

/**
 * The incremental AOF files (with at least one byte) that a manifest next to `path` lists after `path` as
 * its base; empty when `path` is no multi-part AOF base (or cannot be looked at: stdin, a URL).
 */
export function aofIncrementsAfter(path: string): string[] {
  const name = basename(path);
  if (!/\.base\.rdb$/.test(name)) return [];
  const dir = dirname(path);
  let manifests: string[];
  try {
    manifests = readdirSync(dir).filter((f) => f.endsWith('.manifest'));
  } catch {
    return [];
  }
  for (const m of manifests) {
    let text: string;
    try {
      text = readFileSync(join(dir, m), 'utf8');
    } catch {
      continue;
    }
    const entries = text.split('\n').map(manifestEntry).filter((e) => e !== null);
    if (!entries.some((e) => e.type === 'b' && e.file === name)) continue;
    return entries
      .filter((e) => e.type === 'i')
      .map((e) => e.file)
      .filter((f) => {
        try {
          return statSync(join(dir, f)).size > 0;
        } catch {
          return false; // listed but absent: Redis itself refuses such a directory
        }
      });
  }
  return [];
}
