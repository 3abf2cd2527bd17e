/**
 * One Redis endpoint, for either end of a migration: `redis://[user:pass@]host:port[/db]` and
 * `rediss://` (TLS, with an optional CA file and client certificate: `?cacert=&cert=&key=`), ACL
 * user/password, REKEY_TARGET_* / REKEY_SOURCE_* environment variables. redis-cli's flags are folded
 * into such a URL by cli-endpoint.ts. Secrets are scrubbed by the endpoint's Redactor (redact.ts).
 */
import { readFileSync } from 'node:fs';
import { RekeyUsageError } from '../errors.js';
import { Redactor, redactUrl } from './redact.js';

export { Redactor, redactUrl };

export interface TargetSpec {
  /** The URL with its password replaced (safe to print). */
  readonly display: string;
  readonly host: string;
  readonly port: number;
  /** The db given in the URL path (`/3`), else null. */
  readonly db: number | null;
  readonly username: string | null;
  readonly password: string | null;
  readonly tls: boolean;
  /** CA bundle for `rediss://` (from --tls-ca, --cacert or `?cacert=`). */
  readonly tlsCa: Buffer | null;
  /** Client certificate and its key for mutual TLS (--cert/--key or `?cert=&key=`). */
  readonly tlsCert: Buffer | null;
  readonly tlsKey: Buffer | null;
  /** Scrubs this target's secrets from any text. */
  readonly redactor: Redactor;
  /** Which end of a migration (names the flags and environment variables in hints). */
  readonly role: 'target' | 'source';
}

export interface TargetUrlOptions {
  tlsCa?: string;
  env?: NodeJS.ProcessEnv;
  /** Which end of a migration this URL is: names the flags and environment variables used. */
  role?: 'target' | 'source';
}

/**
 * Parse a `redis[s]://[user[:password]@]host[:port][/db]` URL. `redis://:pw@host` gives a password
 * only, `redis://user@host` a user whose password comes from REKEY_<ROLE>_PASSWORD. Throws
 * RekeyUsageError (with the URL redacted) when it is not usable.
 */
export function parseRedisUrl(url: string, opts: TargetUrlOptions = {}): TargetSpec {
  const env = opts.env ?? process.env;
  const role = opts.role ?? 'target';
  const ENV = role === 'target' ? 'REKEY_TARGET' : 'REKEY_SOURCE';
  const caFlag = role === 'target' ? '--tls-ca' : '--source-tls-ca';
  const what = role === 'target' ? '--target ' : '';
  const redactor = new Redactor();
  const display = redactUrl(url);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RekeyUsageError(`${what}${display}: not a URL; expected redis://[user:pass@]host:port[/db] or rediss://…`);
  }
  const scheme = u.protocol.toLowerCase();
  if (scheme !== 'redis:' && scheme !== 'rediss:') {
    throw new RekeyUsageError(`${what}${display}: the scheme must be redis:// or rediss://`);
  }
  let host = u.hostname;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (!host) host = '127.0.0.1';
  const port = u.port ? Number(u.port) : 6379;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RekeyUsageError(`${what}${display}: bad port`);
  let db: number | null = null;
  const path = u.pathname.replace(/^\/+/, '').replace(/\/+$/, '');
  if (path !== '') {
    if (!/^\d+$/.test(path)) throw new RekeyUsageError(`${what}${display}: the path must be a db number (/0, /1, …)`);
    db = Number(path);
  }
  const dec = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  // redis://user:pass@host, redis://:pass@host (password only), redis://user@host (password from the env).
  let username: string | null = u.username ? dec(u.username) : null;
  let password: string | null = u.password ? dec(u.password) : null;
  if (password === null && env[`${ENV}_PASSWORD`]) password = env[`${ENV}_PASSWORD`]!;
  if (username === null && env[`${ENV}_USER`]) username = env[`${ENV}_USER`]!;
  redactor.add(password);
  if (u.password) redactor.add(u.password);
  const tls = scheme === 'rediss:';
  // TLS files: the flag (--tls-ca) first, else the URL's query (what --cacert/--cert/--key become).
  const q = u.searchParams;
  const file = (path: string | null | undefined, flag: string): Buffer | null => {
    if (!path) return null;
    if (!tls) throw new RekeyUsageError(`${flag} needs a rediss:// ${role} (or --tls)`);
    try {
      return readFileSync(path);
    } catch (e) {
      throw new RekeyUsageError(`${flag} ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  const tlsCa = opts.tlsCa ? file(opts.tlsCa, caFlag) : file(q.get('cacert'), '--cacert');
  const tlsCert = file(q.get('cert'), '--cert');
  const tlsKey = file(q.get('key'), '--key');
  if ((tlsCert === null) !== (tlsKey === null)) throw new RekeyUsageError(`${what}${display}: a client certificate needs both --cert and --key`);
  return { display, host, port, db, username, password, tls, tlsCa, tlsCert, tlsKey, redactor, role };
}
