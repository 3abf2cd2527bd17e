/**
 * The real servers `npm run servers` (scripts/servers.mjs) built and cached outside the repo, for tests
 * that need a given version. A missing server comes with the exact reason, so a test can print it and
 * skip instead of passing in silence.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SERVERS_DIR = process.env.REKEY_SERVERS_DIR || '/var/cache/rekey-servers';

export interface CachedServer {
  /** e.g. `redis-6.2.16`, `valkey-9.1.2` (the cache folder name). */
  name: string;
  product: 'redis' | 'valkey';
  version: string;
  /** [major, minor, patch] */
  semver: [number, number, number];
  server: string;
  cli: string;
  source: string;
  /** 7.0 added `--enable-debug-command`; older servers refuse the flag. */
  debugCommand: boolean;
}

function parse(v: string): [number, number, number] {
  const [a = 0, b = 0, c = 0] = v.split('.').map((x) => Number.parseInt(x, 10) || 0);
  return [a, b, c];
}

export function cmpSemver(a: [number, number, number], b: [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

function fromDir(name: string): CachedServer | null {
  const home = join(SERVERS_DIR, name);
  const server = join(home, 'bin', 'redis-server');
  const cli = join(home, 'bin', 'redis-cli');
  if (!existsSync(server) || !existsSync(cli)) return null;
  let info: { product?: string; version?: string; source?: string } = {};
  try {
    info = JSON.parse(readFileSync(join(home, 'info.json'), 'utf8')) as typeof info;
  } catch {
    /* fall back to the folder name */
  }
  const m = /^(redis|valkey)-(\d+\.\d+\.\d+)/.exec(name);
  const product = (info.product ?? m?.[1] ?? 'redis') as 'redis' | 'valkey';
  const version = info.version ?? m?.[2] ?? '0.0.0';
  const semver = parse(version);
  return {
    name,
    product,
    version,
    semver,
    server,
    cli,
    source: info.source ?? 'unknown',
    debugCommand: product === 'valkey' || semver[0] >= 7,
  };
}

/** Every cached server, oldest first (Redis before Valkey at equal versions). */
export function listServers(): CachedServer[] {
  if (!existsSync(SERVERS_DIR)) return [];
  const out: CachedServer[] = [];
  for (const name of readdirSync(SERVERS_DIR).sort()) {
    if (name.startsWith('.')) continue;
    const s = fromDir(name);
    if (s) out.push(s);
  }
  return out.sort((a, b) => (a.product === b.product ? cmpSemver(a.semver, b.semver) : a.product === 'redis' ? -1 : 1));
}

/** Why no cached server matches `prefix` (e.g. `redis-6.2`), or null when one does. */
export function whyMissing(prefix: string): string | null {
  if (findServer(prefix)) return null;
  if (!existsSync(SERVERS_DIR)) return `no server cache at ${SERVERS_DIR}: run \`npm run servers\` (or set REKEY_SERVERS_DIR)`;
  const reasons: string[] = [];
  for (const name of readdirSync(SERVERS_DIR).sort()) {
    if (!name.startsWith(prefix)) continue;
    const f = join(SERVERS_DIR, name, 'missing.txt');
    reasons.push(existsSync(f) ? `${name}: ${readFileSync(f, 'utf8').trim()}` : `${name}: incomplete (no bin/redis-server; rerun \`npm run servers\`)`);
  }
  if (reasons.length) return `${prefix} is not built: ${reasons.join('; ')}`;
  return `${prefix} is not in ${SERVERS_DIR} (have: ${listServers().map((s) => s.name).join(', ') || 'none'}); \`npm run servers\` builds it if its source is reachable`;
}

/** The newest cached server whose name starts with `prefix` (`redis-6.2`, `valkey-9`), or null. */
export function findServer(prefix: string): CachedServer | null {
  const all = listServers().filter((s) => s.name.startsWith(prefix));
  return all.length ? all[all.length - 1]! : null;
}
