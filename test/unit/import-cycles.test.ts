/** The layout has no import cycles (issue 14: sources → records → rules → sinks, one home per concern). */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

describe('module graph', () => {
  it('src/ has no import cycle (scripts/import-cycles.mjs)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'import-cycles.mjs')], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/cycle/);
  });
});
