/**
 * Passwords (URL or REKEY_TARGET_PASSWORD, plain AUTH or ACL user) never appear in output, logs, reports
 * or ledgers — also when authentication fails; and rediss:// with --tls-ca works end to end.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedis } from '../helpers/redis-server.js';
import { importWithOutcome, type ImportArgs } from '../../src/commands/import.js';
import { runValidate } from '../../src/commands/validate.js';
import { runRollback } from '../../src/commands/rollback.js';
import { parseTargetUrl } from '../../src/redis/connect.js';
import { Redactor, redactUrl } from '../../src/redis/redact.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'fixtures', 'dump.rdb');
const SECRET = 'S3cr3t:p@ss/wörd';
const ENC = encodeURIComponent(SECRET);

function args(target: string, outDir: string, extra: Partial<ImportArgs> = {}): ImportArgs {
  return { input: FIXTURE, target, 'out-dir': outDir, json: false, 'ignore-checksum': false, 'allow-future-version': false, progress: false, live: true, yes: true, ...extra };
}

function allFiles(dir: string): string {
  let text = '';
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) text += readFileSync(join(e.parentPath, e.name), 'utf8');
  }
  return text;
}

describe('secrets and TLS', () => {
  let dir: string;
  let captured = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-sec-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const capture = (): void => {
    captured = '';
    const orig = process.stderr.write.bind(process.stderr);
    vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
      captured += String(chunk);
      return (orig as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write);
    const origOut = process.stdout.write.bind(process.stdout);
    vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
      captured += String(chunk);
      return (origOut as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write);
  };
  afterEach(() => vi.restoreAllMocks());

  it('URL parsing: db, user, password, env fallback, redaction', () => {
    const s = parseTargetUrl(`redis://alice:${ENC}@10.0.0.1:6380/3`, { env: {} });
    expect(s).toMatchObject({ host: '10.0.0.1', port: 6380, db: 3, username: 'alice', password: SECRET, tls: false });
    expect(s.display).not.toContain(ENC);
    expect(s.redactor.scrub(`failed: ${SECRET} and ${ENC}`)).toBe('failed: *** and ***');
    const e = parseTargetUrl('redis://127.0.0.1', { env: { REKEY_TARGET_PASSWORD: 'envpw', REKEY_TARGET_USER: 'bob' } });
    expect(e).toMatchObject({ password: 'envpw', username: 'bob', port: 6379, db: null });
    expect(e.redactor.scrub('x envpw y')).toBe('x *** y');
    expect(parseTargetUrl('redis://:pw@h:1', { env: {} })).toMatchObject({ username: null, password: 'pw' });
    // An unencoded `@` in the password: the userinfo runs to the last `@`, nothing of it is printed.
    expect(redactUrl('redis://:p@ss@h:1/0')).toBe('redis://:***@h:1/0');
    expect(redactUrl('rediss://u:a@b@c@h:1')).toBe('rediss://u:***@h:1');
    expect(redactUrl('redis://:ab/cdSECRET@h:1/2')).toBe('redis://:***@h:1/2');
    expect(new Redactor().scrub('to redis://:p@ss-tail@h:1 failed')).toBe('to redis://:***@h:1 failed');
    expect(parseTargetUrl('redis://carol@h:1', { env: { REKEY_TARGET_PASSWORD: 'x' } })).toMatchObject({ username: 'carol', password: 'x' });
    expect(() => parseTargetUrl(`http://u:${ENC}@h`, { env: {} })).toThrow(/redis:\/\//);
    try {
      parseTargetUrl(`redis://u:${ENC}@h:99999`, { env: {} });
    } catch (err) {
      expect(String(err)).not.toContain(ENC);
    }
  });

  it('requirepass: the password from the URL appears nowhere, also on a wrong password', async () => {
    const t = await startRedis();
    const out = join(dir, 'pw');
    try {
      const c0 = t.client();
      await c0.config('SET', 'requirepass', SECRET);
      c0.disconnect();
      capture();
      const url = `redis://:${ENC}@127.0.0.1:${t.port}`;
      const r = await importWithOutcome(args(url, out, { validate: true, json: true }));
      expect(r.exitCode).toBe(0);
      expect((r.report as any).validation.mismatched).toBe(0);
      expect(await runValidate({ input: FIXTURE, target: url, 'out-dir': out, json: false, 'ignore-checksum': false, 'allow-future-version': false })).toBe(0);
      expect(await runRollback({ ledger: r.ledgerPath!, target: url, live: true, yes: true, 'out-dir': out })).toBe(0);
      const bad = await importWithOutcome(args(`redis://:wrong-${ENC}@127.0.0.1:${t.port}`, out));
      expect(bad.exitCode).toBe(3);
      expect(captured).toMatch(/WRONGPASS|invalid password|NOAUTH/i);
      const text = captured + allFiles(out);
      expect(text).toContain('redis://:***@127.0.0.1');
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(ENC);
      expect(text).not.toContain('S3cr3t');
    } finally {
      await t.stop();
    }
  });

  it('ACL user with the password from REKEY_TARGET_PASSWORD', async () => {
    const t = await startRedis();
    const out = join(dir, 'acl');
    const saved = process.env.REKEY_TARGET_PASSWORD;
    try {
      const c = t.client();
      await c.call('ACL', 'SETUSER', 'importer', 'on', `>${SECRET}`, '~*', '&*', '+@all');
      await c.call('ACL', 'SETUSER', 'default', 'off');
      c.disconnect();
      process.env.REKEY_TARGET_PASSWORD = SECRET;
      capture();
      const r = await importWithOutcome(args(`redis://importer@127.0.0.1:${t.port}`, out, { validate: true }));
      expect(r.report).toMatchObject({ error_keys: [] });
      expect((r.report as any).validation.mismatched).toBe(0);
      expect(r.exitCode).toBe(0);
      const text = captured + allFiles(out);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('S3cr3t');
    } finally {
      if (saved === undefined) delete process.env.REKEY_TARGET_PASSWORD;
      else process.env.REKEY_TARGET_PASSWORD = saved;
      await t.stop();
    }
  });

  it('rediss:// with --tls-ca (and a password) imports and validates', async () => {
    const tls = join(dir, 'tls');
    mkdirSync(tls);
    const run = (a: string[]): void => {
      execFileSync('openssl', a, { cwd: tls, stdio: 'ignore' });
    };
    try {
      run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=rekey-test-ca']);
      run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
      writeFileSync(join(tls, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
      run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf']);
    } catch {
      // eslint-disable-next-line no-console
      console.warn('openssl not available: TLS test skipped');
      return;
    }
    const tlsPort = await freePort();
    const t = await startRedis({
      args: ['--tls-port', String(tlsPort), '--tls-cert-file', join(tls, 'server.crt'), '--tls-key-file', join(tls, 'server.key'), '--tls-ca-cert-file', join(tls, 'ca.crt'), '--tls-auth-clients', 'no'],
    });
    const out = join(dir, 'tlsout');
    try {
      const c0 = t.client();
      await c0.config('SET', 'requirepass', SECRET);
      c0.disconnect();
      capture();
      const url = `rediss://:${ENC}@127.0.0.1:${tlsPort}`;
      const r = await importWithOutcome(args(url, out, { validate: true, 'tls-ca': join(tls, 'ca.crt') }));
      expect((r.report as any).error_keys).toEqual([]);
      expect((r.report as any).validation.mismatched).toBe(0);
      expect(r.exitCode).toBe(0);
      // Without the CA the certificate is not trusted: a clean error, exit 3 (could not run).
      const bad = await importWithOutcome(args(url, join(dir, 'tlsbad')));
      expect(bad.exitCode).toBe(3);
      const text = captured + allFiles(out);
      expect(text).not.toContain(SECRET);
      expect(text).toContain('rediss://:***@');
    } finally {
      await t.stop();
    }
  });
});
