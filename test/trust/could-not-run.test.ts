/**
 * "Could not run" is its own exit code (3, src/errors.ts): a target that cannot be reached, a password
 * missing (NOAUTH, with a hint) or wrong (WRONGPASS), and a rediss:// URL to a plain server, which must
 * fail at once with a TLS message instead of waiting for a timeout (issue 12, item 9).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { runCli } from '../helpers/cli.js';
import { importWithOutcome } from '../../src/commands/import.js';

const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'dump.rdb');

describe('could not run: exit 3', () => {
  let plain: RedisHandle;
  let locked: RedisHandle;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-trust-conn-'));
    plain = await startRedis();
    // the helper's readiness check speaks without a password: lock the server after it is up
    locked = await startRedis();
    const admin = locked.client();
    await admin.call('CONFIG', 'SET', 'requirepass', 'sekret');
    admin.disconnect();
  }, 30_000);
  afterAll(async () => {
    await plain?.stop();
    await locked?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (cmd: 'validate' | 'import', target: string, env: NodeJS.ProcessEnv = {}) =>
    runCli([cmd, FIXTURE, '--target', target, '--out-dir', dir, ...(cmd === 'import' ? ['--no-progress'] : [])], { env });

  it('a closed loopback port', async () => {
    const port = await freePort();
    for (const cmd of ['validate', 'import'] as const) {
      const r = await run(cmd, `redis://127.0.0.1:${port}`);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/cannot connect/);
    }
  }, 60_000);

  it('import reports the unreachable target in its outcome (one connect block with validate)', async () => {
    const port = await freePort();
    const o = await importWithOutcome({ input: FIXTURE, target: `redis://127.0.0.1:${port}`, 'out-dir': dir, progress: false } as Parameters<typeof importWithOutcome>[0]);
    expect(o.exitCode).toBe(3);
    expect(o.reportPath).toBeNull();
    expect(String(o.report['error'])).toMatch(/cannot connect/);
  }, 30_000);

  it('NOAUTH: no password given, with a hint', async () => {
    const r = await run('validate', locked.url);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/NOAUTH/);
    expect(r.stderr).toMatch(/REKEY_TARGET_PASSWORD|-a /);
  }, 30_000);

  it('WRONGPASS, and the password never printed', async () => {
    const r = await run('validate', 'redis://:nottheone@127.0.0.1:' + locked.port);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/WRONGPASS|invalid password/i);
    expect(r.stderr).not.toContain('nottheone');
  }, 30_000);

  it('rediss:// to a plain server fails fast with a TLS message', async () => {
    const t0 = Date.now();
    const r = await run('validate', `rediss://127.0.0.1:${plain.port}`);
    const took = Date.now() - t0;
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/TLS/);
    expect(r.stderr).not.toMatch(/ETIMEDOUT/);
    // not a performance assertion: a timeout-driven failure takes 10 s or more, this one must not wait for one
    expect(took).toBeLessThan(8_000);
  }, 60_000);
});
