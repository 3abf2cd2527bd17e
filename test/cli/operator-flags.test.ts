/**
 * What operators expect from their other tools (issue 12): -v/-V, shell completion, redis-cli's warning
 * for a password on the command line, and a password holding an unencoded `@` never printed.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/redis-server.js';
import { runCli } from '../helpers/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'fixtures', 'dump.rdb');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('operator flags', () => {
  it('-v, -V and --version print the package version', async () => {
    for (const f of ['-v', '-V', '--version']) {
      const r = await runCli([f]);
      expect(r.code, f).toBe(0);
      expect(r.stdout.toString().trim()).toBe(VERSION);
    }
  });

  it('completion prints a shell script that completes commands', async () => {
    const r = await runCli(['completion']);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/complete -o|compdef/);
    const c = await runCli(['--get-yargs-completions', 'val']);
    expect(c.stdout.toString()).toContain('validate');
  });

  it('warns about a password in a URL and never prints it, even with an unencoded @', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rekey-flags-'));
    try {
      const port = await freePort();
      const r = await runCli(['validate', FIXTURE, '--target', `redis://:p@ss-tail@127.0.0.1:${port}`, '--out-dir', dir]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/warning: a password on the command line/);
      expect(r.stderr).not.toContain('ss-tail');
      expect(r.stderr).toContain('redis://:***@127.0.0.1');
      const noPw = await runCli(['validate', FIXTURE, '--target', `redis://127.0.0.1:${port}`, '--out-dir', dir]);
      expect(noPw.stderr).not.toMatch(/warning: a password/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
