/**
 * redis-cli's connection flags beside URLs: `-h HOST -p PORT -a PASSWORD -n DB --user NAME --tls
 * --cacert FILE --cert FILE --key FILE`, and REDISCLI_AUTH for the password. The one place that turns
 * them into an endpoint: they are folded into a `redis[s]://` URL (each flag overriding that part of a
 * URL given too, as redis-cli lets a later -h override -u), which parseRedisUrl (endpoint.ts) then
 * reads like any other, so every command path sees one form.
 */
import { RekeyUsageError } from '../errors.js';
import { redactUrl } from './redact.js';

export interface CliEndpointFlags {
  host?: string | undefined;
  port?: number | undefined;
  /** -a / --pass */
  pass?: string | undefined;
  /** -n: the db number */
  n?: number | undefined;
  user?: string | undefined;
  tls?: boolean | undefined;
  cacert?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
}

const FLAG_KEYS = ['host', 'port', 'pass', 'n', 'user', 'tls', 'cacert', 'cert', 'key'] as const;

/** Any of the flags given (a `--tls` false from `--no-tls` counts too: it was asked for). */
export function cliFlagsGiven(f: CliEndpointFlags): boolean {
  return FLAG_KEYS.some((k) => f[k] !== undefined);
}

/** Does the URL (or, with none, the flags) carry its own password? */
function urlPassword(url: URL): boolean {
  return url.password !== '';
}

/**
 * The endpoint URL: `url` (default `redis://127.0.0.1:6379`) with each given flag replacing its part.
 * The password is -a, else the URL's, else the environment: `REKEY_<ROLE>_PASSWORD` is left to
 * parseRedisUrl, and only without it REDISCLI_AUTH is put in (redis-cli reads it when -a is absent).
 * `what` names the URL in errors (`--target`, or the input).
 */
export function endpointUrl(url: string | undefined, f: CliEndpointFlags, o: { env?: NodeJS.ProcessEnv; role?: 'target' | 'source'; what?: string } = {}): string {
  const env = o.env ?? process.env;
  const ENV = (o.role ?? 'target') === 'target' ? 'REKEY_TARGET' : 'REKEY_SOURCE';
  let u: URL;
  try {
    u = new URL(url ?? 'redis://127.0.0.1:6379');
  } catch {
    // parseRedisUrl names the problem in full; the flags cannot repair a URL that does not parse
    return url ?? '';
  }
  if (!/^rediss?:$/i.test(u.protocol)) return url ?? '';
  const bad = (msg: string): never => {
    throw new RekeyUsageError(`${o.what ? `${o.what} ${redactUrl(url ?? '')}: ` : ''}${msg}`);
  };
  if (f.tls === true) u.protocol = 'rediss:';
  else if (f.tls === false) u.protocol = 'redis:';
  if (f.host !== undefined) {
    if (f.host === '' || /[\s/@?#]/.test(f.host)) bad(`-h ${f.host}: expected a host name or address`);
    u.hostname = f.host.includes(':') && !f.host.startsWith('[') ? `[${f.host}]` : f.host;
  } else if (u.hostname === '') {
    u.hostname = '127.0.0.1';
  }
  if (f.port !== undefined) {
    if (!(Number.isInteger(f.port) && f.port >= 1 && f.port <= 65535)) bad(`-p ${f.port}: expected a port 1–65535`);
    u.port = String(f.port);
  }
  if (f.n !== undefined) {
    if (!(Number.isInteger(f.n) && f.n >= 0)) bad(`-n ${f.n}: expected a db number`);
    u.pathname = `/${f.n}`;
  }
  // The URL API's userinfo setters leave `%` alone: encode fully, parseRedisUrl decodes.
  if (f.user !== undefined) u.username = encodeURIComponent(f.user);
  if (f.pass !== undefined) u.password = encodeURIComponent(f.pass);
  else if (!urlPassword(u) && !env[`${ENV}_PASSWORD`] && env.REDISCLI_AUTH) u.password = encodeURIComponent(env.REDISCLI_AUTH);
  for (const k of ['cacert', 'cert', 'key'] as const) {
    const v = f[k];
    if (v !== undefined) u.searchParams.set(k, v);
  }
  return u.toString();
}
