/**
 * Server detection from INFO (and CONFIG GET / COMMAND INFO where allowed): version, the newest RDB
 * version its RESTORE accepts, memory headroom, cluster mode, proto-max-bulk-len, which commands it
 * has. The version table itself is redis/server-versions.ts.
 */
import type { Redis, Cluster } from 'ioredis';
import { redisRdbVersion, supportsHashFieldTtl, valkeyRdbVersion } from './server-versions.js';

// Re-exported so callers need one import for server facts wherever the table lives.
export { redisRdbVersion, supportsHashFieldTtl, valkeyRdbVersion };

export interface TargetInfo {
  server: 'redis' | 'valkey';
  /** `redis_version` (Valkey reports a compatible one too). */
  redisVersion: string;
  valkeyVersion: string | null;
  /** Newest DUMP payload version RESTORE accepts (0: no RESTORE at all, before 2.6). */
  maxRdbVersion: number;
  maxmemory: number;
  usedMemory: number;
  maxmemoryPolicy: string | null;
  clusterEnabled: boolean;
  /** Largest bulk argument the server takes (CONFIG GET proto-max-bulk-len; 512 MB when refused). */
  protoMaxBulkLen: number;
  /** `keys` per db from INFO keyspace. */
  keyspace: Map<number, number>;
  /** Hash field TTL commands (HPEXPIREAT): Redis 7.4+, Valkey 9+. */
  hashFieldTtl: boolean;
  /** RESTORE is callable (false when renamed/disabled or refused by ACL; null when unknown). */
  restoreCommand: boolean | null;
  /** Number of databases (CONFIG GET databases; 16 when refused). */
  databases: number;
}

export const DEFAULT_PROTO_MAX_BULK_LEN = 512 * 1024 * 1024;

/** `INFO` text → field map (section headers and blank lines skipped). */
export function parseInfo(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}

/** Derive TargetInfo from INFO text (CONFIG values and command availability filled in by readTargetInfo). */
export function targetInfoFromInfo(text: string): TargetInfo {
  const f = parseInfo(text);
  const redisVersion = f.get('redis_version') ?? '0.0.0';
  const valkeyVersion = f.get('valkey_version') ?? null;
  const server: 'redis' | 'valkey' = valkeyVersion !== null || f.get('server_name') === 'valkey' ? 'valkey' : 'redis';
  const keyspace = new Map<number, number>();
  for (const [k, v] of f) {
    const m = /^db(\d+)$/.exec(k);
    if (m) keyspace.set(Number(m[1]), Number(/keys=(\d+)/.exec(v)?.[1] ?? 0));
  }
  const info: TargetInfo = {
    server,
    redisVersion,
    valkeyVersion,
    maxRdbVersion: server === 'valkey' ? valkeyRdbVersion(valkeyVersion ?? '8.0.0') : redisRdbVersion(redisVersion),
    maxmemory: Number(f.get('maxmemory') ?? 0) || 0,
    usedMemory: Number(f.get('used_memory') ?? 0) || 0,
    maxmemoryPolicy: f.get('maxmemory_policy') ?? null,
    clusterEnabled: f.get('cluster_enabled') === '1',
    protoMaxBulkLen: DEFAULT_PROTO_MAX_BULK_LEN,
    keyspace,
    hashFieldTtl: false,
    restoreCommand: null,
    databases: 16,
  };
  info.hashFieldTtl = supportsHashFieldTtl(info);
  return info;
}

type Client = Pick<Redis, 'call'> | Pick<Cluster, 'call'>;

async function configGet(client: Client, name: string): Promise<string | null> {
  try {
    const r = (await (client as Pick<Redis, 'call'>).call('CONFIG', 'GET', name)) as unknown;
    if (Array.isArray(r) && r.length >= 2) return String(r[1]);
    return null;
  } catch {
    return null; // CONFIG renamed, ACL-restricted, or a managed service
  }
}

async function commandExists(client: Client, name: string): Promise<boolean | null> {
  try {
    const r = (await (client as Pick<Redis, 'call'>).call('COMMAND', 'INFO', name)) as unknown;
    if (!Array.isArray(r)) return null;
    return r.length > 0 && r[0] !== null;
  } catch {
    return null;
  }
}

/** INFO + CONFIG GET + COMMAND INFO on one node. */
export async function readTargetInfo(client: Client): Promise<TargetInfo> {
  const text = String(await (client as Pick<Redis, 'call'>).call('INFO'));
  const info = targetInfoFromInfo(text);
  const bulk = await configGet(client, 'proto-max-bulk-len');
  if (bulk !== null && Number(bulk) > 0) info.protoMaxBulkLen = Number(bulk);
  const dbs = await configGet(client, 'databases');
  if (dbs !== null && Number(dbs) > 0) info.databases = Number(dbs);
  info.restoreCommand = await commandExists(client, 'restore');
  const hpx = await commandExists(client, 'hpexpireat');
  if (hpx !== null) info.hashFieldTtl = hpx;
  return info;
}
