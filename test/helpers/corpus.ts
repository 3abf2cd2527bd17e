/**
 * Where the shared RDB corpus is: `$REKEY_CORPUS`, else `../shared/rdb-corpus` beside the project, else
 * beside the main checkout (a git worktree may live elsewhere). Never an absolute path in a test.
 * A test that needs the corpus and cannot find it says so (corpusMissing), it does not pass in silence.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

function mainCheckout(): string | null {
  try {
    const common = execFileSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirname(common);
  } catch {
    return null;
  }
}

function find(): { dir: string; tried: string[] } {
  const tried: string[] = [];
  const env = process.env.REKEY_CORPUS;
  if (env) return { dir: resolve(env), tried: [resolve(env)] };
  const main = mainCheckout();
  for (const base of [ROOT, ...(main && main !== ROOT ? [main] : [])]) {
    const d = join(base, '..', 'shared', 'rdb-corpus');
    tried.push(d);
    if (existsSync(d)) return { dir: d, tried };
  }
  return { dir: tried[0]!, tried };
}

const found = find();

/** The corpus folder (may not exist: check corpusMissing). */
export const CORPUS_DIR = found.dir;
/** `generated/`: dumps written by real servers, with their truth files. */
export const CORPUS_GENERATED = join(CORPUS_DIR, 'generated');

/** null when the corpus is there, else why the corpus tests are skipped (printed once per file). */
export function corpusMissing(what = 'corpus tests'): string | null {
  if (existsSync(CORPUS_DIR)) return null;
  const why = `${what} skipped: no RDB corpus at ${found.tried.join(' or ')} (set REKEY_CORPUS to its folder)`;
  // eslint-disable-next-line no-console
  console.warn(why);
  return why;
}
