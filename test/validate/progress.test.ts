/**
 * Issue 12: validation showed nothing for 30 s on 210k keys. On a terminal it now draws a progress bar
 * (keys compared, keys/s, ETA from the input bytes); with --json, --no-progress or stderr not a terminal
 * it stays silent. The terminal is a real pseudo-terminal (util-linux `script`), the target a real server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { CLI, runCli } from '../helpers/cli.js';

const haveScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

/** Run the CLI with stdin/stdout/stderr on a pseudo-terminal; returns what the terminal showed. */
function onTerminal(args: string[]): Promise<{ code: number | null; screen: string }> {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const cmd = [process.execPath, CLI, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', cmd, '/dev/null'], { env: { ...process.env, NO_COLOR: '1', COLUMNS: '160' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
    child.stderr.on('data', (d: Buffer) => (screen += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, screen }));
  });
}

describe.skipIf(!haveScript)('validate progress bar', () => {
  let redis: RedisHandle;
  let dir: string;
  let input: string;
  beforeAll(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'rekey-vprog-'));
    input = join(dir, 'keys.jsonl');
    const lines: string[] = [];
    const c = redis.client();
    const p = c.pipeline();
    for (let i = 0; i < 2000; i++) {
      lines.push(JSON.stringify({ db: 0, key: `k:${i}`, type: 'string', value: `v${i}` }));
      p.set(`k:${i}`, `v${i}`);
    }
    await p.exec();
    c.disconnect();
    writeFileSync(input, lines.join('\n') + '\n');
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('draws a bar on a terminal, ending at every key compared', async () => {
    const r = await onTerminal(['validate', input, '--target', redis.url, '--out-dir', join(dir, 'tty')]);
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).toMatch(/validate .*100% \| 2000 keys \| [\d.]+ MB \| \d+ keys\/s/);
    expect(r.screen).toMatch(/: OK/);
  });

  it('is silent with --json or --no-progress on a terminal, and when stderr is not a terminal', async () => {
    const j = await onTerminal(['validate', input, '--target', redis.url, '--out-dir', join(dir, 'json'), '--json']);
    expect(j.code, j.screen).toBe(0);
    expect(j.screen).not.toMatch(/keys\/s/);
    const n = await onTerminal(['validate', input, '--target', redis.url, '--out-dir', join(dir, 'np'), '--no-progress']);
    expect(n.code, n.screen).toBe(0);
    expect(n.screen).not.toMatch(/keys\/s/);
    const pipe = await runCli(['validate', input, '--target', redis.url, '--out-dir', join(dir, 'pipe')]);
    expect(pipe.code, pipe.stderr).toBe(0);
    expect(pipe.stderr).not.toMatch(/keys\/s/);
    expect(pipe.stderr).toMatch(/: OK/);
  });
});
