import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI } from '../helpers/cli.js';

// A module-resolve hook records every module the CLI process loads, so the test sees what
// `--version` / `--help` really pull in (the lazy loading in src/cli.ts).
const dir = mkdtempSync(join(tmpdir(), 'rekey-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hooks = join(dir, 'hooks.mjs');
writeFileSync(hooks, `import { appendFileSync } from 'node:fs';
export async function resolve(spec, ctx, next) { const r = await next(spec, ctx); appendFileSync(process.env.REKEY_TRACE, r.url + '\\n'); return r; }\n`);
const register = join(dir, 'register.mjs');
writeFileSync(register, `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
// CommonJS packages loaded by require() (ioredis and yaml are, lazily) pass no ESM hook: the CJS module
// cache is listed at exit too.
const cjs = join(dir, 'cjs-trace.cjs');
writeFileSync(cjs, `const { appendFileSync } = require('node:fs');
process.on('exit', () => appendFileSync(process.env.REKEY_TRACE, Object.keys(require('node:module')._cache).join('\\n') + '\\n'));\n`);

let n = 0;
function loaded(args: string[]): { modules: string[]; stdout: string; code: number | null } {
  const trace = join(dir, `trace-${n++}.txt`);
  writeFileSync(trace, '');
  const r = spawnSync(process.execPath, ['-r', cjs, '--import', register, CLI, ...args], { encoding: 'utf8', env: { ...process.env, REKEY_TRACE: trace, NO_COLOR: '1' } });
  return { modules: readFileSync(trace, 'utf8').split('\n').filter(Boolean), stdout: r.stdout, code: r.status };
}
const heavy = /node_modules\/(ioredis|yaml|stream-json|cli-progress)\//;
const ioredis = /node_modules\/ioredis\//;
const yaml = /node_modules\/yaml\//;
const ROOT = join(CLI, '..', '..');

describe('CLI start loads only what the command needs', () => {
  for (const args of [['--version'], ['--help'], []]) {
    it(`rekey ${args.join(' ') || '(no command)'} loads no command module and no ioredis/yaml/stream-json`, () => {
      const r = loaded(args);
      expect(r.modules.some((m) => m.endsWith('/dist/cli.js'))).toBe(true);
      expect(r.modules.filter((m) => heavy.test(m))).toEqual([]);
      // the option groups every command shares (--quiet/--verbose are global) are no command module
      expect(r.modules.filter((m) => m.includes('/dist/commands/') && !m.includes('/dist/commands/options/'))).toEqual([]);
    });
  }

  it('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(join(CLI, '..', '..', 'package.json'), 'utf8')) as { version: string };
    const r = loaded(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
  });

  it('a command loads its own module and not the others', () => {
    const r = loaded(['analyze', '--help']);
    expect(r.code).toBe(0);
    expect(r.modules.some((m) => m.endsWith('/dist/commands/analyze.js'))).toBe(true);
    expect(r.modules.some((m) => m.endsWith('/dist/commands/sync.js') || m.endsWith('/dist/commands/import.js'))).toBe(false);
    expect(r.stdout).toContain('--prefix-depth');
  });

  it('the top-level help names every command as its module does', async () => {
    const help = loaded(['--help']).stdout.replace(/\s+/g, ' ');
    const mods = await Promise.all(['analyze', 'transform', 'rules', 'import', 'validate', 'rollback', 'sync'].map((c) => import(join(CLI, '..', 'commands', `${c}.js`))));
    const commands = mods.flatMap((m: Record<string, { command?: string; describe?: string }>) => Object.values(m).filter((v) => typeof v?.command === 'string' && typeof v.describe === 'string' && !v.command.startsWith('test ')));
    expect(commands).toHaveLength(7);
    for (const c of commands) expect(help).toContain(`rekey ${c.command} ${c.describe}`);
  });

  it('analyze of a file loads neither ioredis nor yaml; a rules file loads yaml', () => {
    const out = join(dir, 'analyze-out');
    const plain = loaded(['analyze', join(ROOT, 'fixtures', 'dump.rdb'), '--out-dir', out]);
    expect(plain.code).toBe(0);
    expect(plain.modules.filter((m) => ioredis.test(m) || yaml.test(m))).toEqual([]);
    const rules = loaded(['analyze', join(ROOT, 'fixtures', 'dump.rdb'), '--rules', join(ROOT, 'examples', 'meta-glasses.rules.yaml'), '--out-dir', out]);
    expect(rules.code).toBe(0);
    expect(rules.modules.some((m) => yaml.test(m))).toBe(true);
    expect(rules.modules.some((m) => ioredis.test(m))).toBe(false);
  });

  it('import --help loads no ioredis; a command that probes a target does', () => {
    const help = loaded(['import', '--help']);
    expect(help.code).toBe(0);
    expect(help.modules.filter((m) => ioredis.test(m))).toEqual([]);
    // port 1 on loopback: closed, so the probe fails (exit 3) after making its ioredis client
    const probe = loaded(['validate', join(ROOT, 'fixtures', 'dump.rdb'), '-p', '1', '--out-dir', join(dir, 'probe-out')]);
    expect(probe.code).toBe(3);
    expect(probe.modules.some((m) => ioredis.test(m))).toBe(true);
  });
});
