/**
 * The package as a user receives it (issue 12): LICENSE packed, no `prepare` script to run on a user's
 * install, and the public .d.ts compiling in a fresh strict project without skipLibCheck.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

describe('package', () => {
  it('packs LICENSE, README and dist, and has no prepare script', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.prepare).toBeUndefined();
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/cli.js']) expect(files).toContain(f);
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);
  });

  it('the public types compile in a fresh strict project without skipLibCheck', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rekey-dts-'));
    try {
      const nm = join(dir, 'node_modules');
      mkdirSync(join(nm, '@types'), { recursive: true });
      symlinkSync(ROOT, join(nm, 'rekey'));
      // What a user's project has: the runtime dependencies (their own types) and @types/node.
      for (const d of ['ioredis', '@ioredis', 'yaml', 'yargs', 'cli-progress']) symlinkSync(join(ROOT, 'node_modules', d), join(nm, d));
      symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(nm, '@types', 'node'));
      writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
      writeFileSync(join(dir, 'index.ts'), "import * as rekey from 'rekey';\nexport const n: number = Object.keys(rekey).length;\n");
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['index.ts'] }));
      execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
