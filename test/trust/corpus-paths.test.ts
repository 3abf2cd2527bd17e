/** No test hard-codes where the corpus lives (issue 12, item 10): test/helpers/corpus.ts finds it. */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const TEST = join(import.meta.dirname, '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('corpus paths', () => {
  it('no test names an absolute path to the shared folder', () => {
    const self = join(import.meta.dirname, 'corpus-paths.test.ts');
    const bad = files(TEST).filter((f) => f !== self && /['"`]\/work\/shared|['"`]\/work\/main/.test(readFileSync(f, 'utf8')));
    expect(bad.map((f) => relative(TEST, f))).toEqual([]);
  });
});
