/**
 * ioredis clients for an endpoint (standalone and cluster), connected with errors scrubbed of
 * secrets. URL parsing is endpoint.ts, TLS options tls.ts.
 */
import { createRequire } from 'node:module';
import type { Redis, Cluster, RedisOptions, ClusterOptions } from 'ioredis';
import { parseRedisUrl, type TargetSpec, type TargetUrlOptions } from './endpoint.js';
import { tlsOptions, checkSpeaksTls } from './tls.js';
import { EXIT_COULD_NOT_RUN } from '../errors.js';

const require = createRequire(import.meta.url);
let loaded: typeof import('ioredis') | null = null;

/**
 * ioredis, loaded when the first client is made: parsing it costs about as much as the rest of the
 * start-up, and `--help`, a file analyze or the import's write path (its own RESP sockets) never
 * need it. A CommonJS package, so a synchronous require keeps every client factory synchronous.
 */
export function ioredis(): typeof import('ioredis') {
  return (loaded ??= require('ioredis') as typeof import('ioredis'));
}

/** Parse a --target URL (see parseRedisUrl). */
export function parseTargetUrl(url: string, opts: TargetUrlOptions = {}): TargetSpec {
  return parseRedisUrl(url, { ...opts, role: 'target' });
}


function baseOptions(spec: TargetSpec): RedisOptions {
  const o: RedisOptions = {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 10_000,
    enableReadyCheck: true,
    retryStrategy: (times) => (times > 3 ? null : 200 * times),
  };
  if (spec.username !== null) o.username = spec.username;
  if (spec.password !== null) o.password = spec.password;
  const t = tlsOptions(spec);
  if (t) o.tls = t;
  return o;
}

/** A standalone ioredis client (for INFO, EXISTS, reading values). Connects on first use. */
export function standaloneClient(spec: TargetSpec, db?: number, host = spec.host, port = spec.port): Redis {
  const c = new (ioredis().Redis)({ ...baseOptions(spec), host, port, db: db ?? spec.db ?? 0 });
  c.on('error', (e: Error) => {
    // surfaced through command rejections; kept for connect errors ("Connection is closed" says little)
    lastErrors.set(c, e);
  });
  return c;
}

const lastErrors = new WeakMap<object, Error>();

/** An ioredis Cluster client seeded with the target. */
export function clusterClient(spec: TargetSpec): Cluster {
  const ro = baseOptions(spec);
  const o: ClusterOptions = {
    redisOptions: ro,
    lazyConnect: true,
    maxRedirections: 32,
    retryDelayOnMoved: 0,
    retryDelayOnTryAgain: 100,
    retryDelayOnClusterDown: 200,
    slotsRefreshTimeout: 5000,
    enableReadyCheck: true,
  };
  if (spec.tls) {
    o.dnsLookup = (address, callback) => callback(null, address);
  }
  const c = new (ioredis().Cluster)([{ host: spec.host, port: spec.port }], o);
  c.on('error', (e: Error) => {
    lastErrors.set(c, e);
  });
  return c;
}

/** Connect a client, with the error scrubbed of secrets. */
export async function connectClient<T extends Redis | Cluster>(client: T, spec: TargetSpec): Promise<T> {
  if (spec.tls) {
    // A plain server never answers a TLS ClientHello (it waits for a newline): ask first, fail at once.
    const plain = await checkSpeaksTls(spec.host, spec.port);
    if (plain) {
      client.disconnect();
      throw new TargetConnectionError(`cannot connect to ${spec.display}: TLS handshake impossible: ${plain}; use redis:// for a server without TLS`);
    }
  }
  try {
    await client.connect();
  } catch (e) {
    client.disconnect();
    const last = lastErrors.get(client);
    const why = last && last !== e ? `${spec.redactor.message(last)} (${spec.redactor.message(e)})` : spec.redactor.message(e);
    throw new TargetConnectionError(`cannot connect to ${spec.display}: ${why}${authHint(why, spec)}`);
  }
  return client;
}

/** What to do about an authentication refusal (redis-cli's flags and the environment variables). */
export function authHint(why: string, spec: TargetSpec): string {
  const env = spec.role === 'source' ? 'REKEY_SOURCE_PASSWORD' : 'REKEY_TARGET_PASSWORD';
  if (/\bNOAUTH\b/.test(why)) return `\n  hint: the server requires a password: give it in ${env}${spec.role === 'target' ? ' (or REDISCLI_AUTH, -a PASSWORD)' : ''} or in the URL (redis://:PASSWORD@host:port)`;
  if (/\bWRONGPASS\b|invalid password/i.test(why)) {
    return `\n  hint: the server refused the user/password${spec.username === null ? ' (no user given: the default user)' : ''}; a password with @ : / # in a URL must be URL-encoded`;
  }
  return '';
}

/** The endpoint could not be reached, authenticated or spoken to: the job could not run (exit 3). */
export class TargetConnectionError extends Error {
  override readonly name = 'TargetConnectionError';
  readonly exitCode = EXIT_COULD_NOT_RUN;
}
