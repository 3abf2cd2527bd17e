/**
 * redis-cli's connection flags beside URLs (issue 14): -h -p -a -n --user --tls --cacert --cert --key
 * and REDISCLI_AUTH, for --target and for a live source, against real servers: requirepass, an ACL
 * user, and mutual TLS with certificates made by openssl. Passwords never appear in any output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endpointUrl } from '../../src/redis/cli-endpoint.js';
import { parseRedisUrl } from '../../src/redis/endpoint.js';
import { freePort, startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { runCli } from '../helpers/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'fixtures', 'dump.rdb');
const SECRET = 'pw%41:s@cr/t';
/** No REKEY_*_PASSWORD or REDISCLI_AUTH from the shell running the tests. */
const CLEAN = { REKEY_TARGET_PASSWORD: '', REKEY_SOURCE_PASSWORD: '', REDISCLI_AUTH: '' };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-cliflags-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Everything a run left behind in its out dir, for the password check. */
function filesText(d: string): string {
  try {
    return readdirSync(d).map((f) => readFileSync(join(d, f), 'utf8')).join('\n');
  } catch {
    return '';
  }
}

describe('redis-cli flags into one endpoint', () => {
  it('each flag replaces its part of the URL; the password survives %, @, : and /', () => {
    const url = endpointUrl('redis://u:old@10.0.0.9:7000/2', { host: '127.0.0.1', port: 6390, pass: SECRET, n: 4, user: 'alice' }, { env: {} });
    const s = parseRedisUrl(url, { env: {} });
    expect(s).toMatchObject({ host: '127.0.0.1', port: 6390, db: 4, username: 'alice', password: SECRET, tls: false });
    expect(s.display).not.toContain('pw');
    // no URL at all: redis-cli's default endpoint
    expect(parseRedisUrl(endpointUrl(undefined, { n: 1 }, { env: {} }), { env: {} })).toMatchObject({ host: '127.0.0.1', port: 6379, db: 1, password: null });
    expect(() => endpointUrl(undefined, { port: 70000 }, { env: {} })).toThrow(/-p 70000/);
  });

  it('REDISCLI_AUTH only when neither -a, the URL nor REKEY_<ROLE>_PASSWORD gives a password', () => {
    const env = { REDISCLI_AUTH: 'from-env' };
    const pw = (url: string | undefined, f: { pass?: string }, e: NodeJS.ProcessEnv): string | null => parseRedisUrl(endpointUrl(url, f, { env: e }), { env: e }).password;
    expect(pw(undefined, {}, env)).toBe('from-env');
    expect(pw(undefined, { pass: 'flag' }, env)).toBe('flag');
    expect(pw('redis://:inurl@127.0.0.1:1', {}, env)).toBe('inurl');
    expect(pw(undefined, {}, { ...env, REKEY_TARGET_PASSWORD: 'rekey-env' })).toBe('rekey-env');
    expect(pw(undefined, {}, {})).toBeNull();
  });

  it('--tls, --cacert, --cert and --key make a rediss:// endpoint with its files; TLS files need TLS', () => {
    const f = join(dir, 'some.pem');
    writeFileSync(f, 'PEM');
    const s = parseRedisUrl(endpointUrl(undefined, { port: 6400, tls: true, cacert: f, cert: f, key: f }, { env: {} }), { env: {} });
    expect(s.tls).toBe(true);
    expect([s.tlsCa, s.tlsCert, s.tlsKey].map((b) => b?.toString())).toEqual(['PEM', 'PEM', 'PEM']);
    expect(() => parseRedisUrl(endpointUrl(undefined, { cert: f, key: f }, { env: {} }), { env: {} })).toThrow(/--cert needs a rediss:\/\//);
    expect(() => parseRedisUrl(endpointUrl(undefined, { tls: true, cert: f }, { env: {} }), { env: {} })).toThrow(/both --cert and --key/);
  });

  it('no --target and no -h/-p: a usage error (exit 2)', async () => {
    const r = await runCli(['validate', FIXTURE, '--out-dir', dir], { env: CLEAN });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/give the target: --target .* \(or -h HOST -p PORT\)/);
    const s = await runCli(['analyze', FIXTURE, '-p', '6379', '--out-dir', dir], { env: CLEAN });
    expect(s.code, s.stderr).toBe(2);
    expect(s.stderr).toMatch(/describe a live source: give redis:\/\//);
  });
});

describe('against real servers', () => {
  it('requirepass: -a (with the warning) and REDISCLI_AUTH (without) reach the target; no password, NOAUTH', async () => {
    const t = await startRedis();
    try {
      const c = t.client();
      await c.config('SET', 'requirepass', SECRET);
      c.disconnect();
      const base = ['import', FIXTURE, '-h', '127.0.0.1', '-p', String(t.port)];
      const out1 = join(dir, 'pass-a');
      const a = await runCli([...base, '-a', SECRET, '--out-dir', out1], { env: CLEAN });
      expect(a.code, a.stderr).toBe(0);
      expect(a.stderr).toMatch(/warning: a password on the command line \(-a\) may not be safe; use REDISCLI_AUTH/);
      const out2 = join(dir, 'pass-env');
      const e = await runCli([...base, '--out-dir', out2], { env: { ...CLEAN, REDISCLI_AUTH: SECRET } });
      expect(e.code, e.stderr).toBe(0);
      expect(e.stderr).not.toMatch(/warning: a password/);
      const out3 = join(dir, 'pass-none');
      const n = await runCli([...base, '--out-dir', out3], { env: CLEAN });
      expect(n.code, n.stderr).toBe(3);
      expect(n.stderr).toMatch(/NOAUTH/);
      const w = await runCli([...base, '--out-dir', out3], { env: { ...CLEAN, REDISCLI_AUTH: 'wrong' } });
      expect(w.code, w.stderr).toBe(3);
      for (const r of [a, e, n, w]) expect(r.stderr + r.stdout.toString()).not.toContain('s@cr');
      for (const d of [out1, out2, out3]) expect(filesText(d)).not.toContain('s@cr');
      expect(filesText(out1)).toContain('dry_run');
    } finally {
      await t.stop();
    }
  });

  it('an ACL user: import with --user -a -n into db 5, then read it back as a live source with REDISCLI_AUTH', async () => {
    const t = await startRedis();
    try {
      const c = t.client();
      await c.call('ACL', 'SETUSER', 'alice', 'on', `>${SECRET}`, '~*', '&*', '+@all');
      await c.call('ACL', 'SETUSER', 'default', 'off');
      c.disconnect();
      const out = join(dir, 'acl');
      const imp = await runCli(['import', FIXTURE, '--db', '1', '--live', '--yes', '-p', String(t.port), '--user', 'alice', '-a', SECRET, '-n', '5', '--out-dir', out], { env: CLEAN });
      expect(imp.code, imp.stderr).toBe(0);
      const check = t.client({ username: 'alice', password: SECRET, db: 5 });
      expect(await check.dbsize()).toBe(60);
      check.disconnect();
      // the same user without a password, and as the default user: refused
      const noPw = await runCli(['import', FIXTURE, '-p', String(t.port), '--user', 'alice', '--out-dir', out], { env: CLEAN });
      expect(noPw.code, noPw.stderr).toBe(3);
      const an = await runCli(['analyze', 'redis://', '-p', String(t.port), '--user', 'alice', '-n', '5', '--json', '--out-dir', out], { env: { ...CLEAN, REDISCLI_AUTH: SECRET } });
      expect(an.code, an.stderr).toBe(0);
      const report = JSON.parse(an.stdout.toString()) as { totals: { keys: number }; by_db: Record<string, unknown> };
      expect(report.totals.keys).toBe(60);
      expect(Object.keys(report.by_db)).toEqual(['5']);
      expect(an.stderr + an.stdout.toString() + filesText(out)).not.toContain('s@cr');
    } finally {
      await t.stop();
    }
  });

  it('mutual TLS: --tls --cacert --cert --key connect; without the client certificate the server refuses', async (ctx) => {
    const tls = join(dir, 'tls');
    const run = (a: string[]): void => {
      execFileSync('openssl', a, { cwd: tls, stdio: 'ignore' });
    };
    try {
      execFileSync('mkdir', ['-p', tls]);
      run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=rekey-test-ca']);
      writeFileSync(join(tls, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
      for (const who of ['server', 'client']) {
        run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who === 'server' ? '127.0.0.1' : 'rekey-client'}`]);
        run(['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.crt`, '-days', '2', '-extfile', 'ext.cnf']);
      }
    } catch (e) {
      ctx.skip(`openssl cannot make test certificates (${(e as Error).message}): mutual TLS not tested`);
      return;
    }
    const tlsPort = await freePort();
    let t: RedisHandle;
    try {
      t = await startRedis({
        args: ['--tls-port', String(tlsPort), '--tls-cert-file', join(tls, 'server.crt'), '--tls-key-file', join(tls, 'server.key'), '--tls-ca-cert-file', join(tls, 'ca.crt'), '--tls-auth-clients', 'yes'],
      });
    } catch (e) {
      ctx.skip(`this redis-server does not start with --tls-port (built without TLS?): ${(e as Error).message.split('\n')[0]}`);
      return;
    }
    try {
      const seed = t.client();
      await seed.set('tls:key', 'v');
      seed.disconnect();
      const tlsArgs = ['--tls', '-h', '127.0.0.1', '-p', String(tlsPort), '--cacert', join(tls, 'ca.crt')];
      const out = join(dir, 'tlsout');
      const ok = await runCli(['import', FIXTURE, ...tlsArgs, '--cert', join(tls, 'client.crt'), '--key', join(tls, 'client.key'), '--out-dir', out], { env: CLEAN });
      expect(ok.code, ok.stderr).toBe(0);
      const an = await runCli(['analyze', 'rediss://', ...tlsArgs, '--cert', join(tls, 'client.crt'), '--key', join(tls, 'client.key'), '--json', '--out-dir', out], { env: CLEAN });
      expect(an.code, an.stderr).toBe(0);
      expect((JSON.parse(an.stdout.toString()) as { totals: { keys: number } }).totals.keys).toBe(1);
      const noCert = await runCli(['import', FIXTURE, ...tlsArgs, '--out-dir', join(dir, 'tlsbad')], { env: CLEAN });
      expect(noCert.code, noCert.stderr).toBe(3);
    } finally {
      await t.stop();
    }
  });
});
