/**
 * Server detection from INFO (and CONFIG GET / COMMAND INFO where allowed): version, the newest RDB
 * version its RESTORE accepts, memory headroom, cluster mode, proto-max-bulk-len, which commands it
 * has. The RDB version is read from the server itself (the trailer of a DUMP of a key it holds); the
 * version table (redis/server-versions.ts) is only the fallback for an empty server or a refused DUMP.
 */
import type { Redis, Cluster } from 'ioredis';
import { redisRdbVersion, shippedModules, supportsHashFieldTtl, valkeyRdbVersion } from './server-versions.js';
import { profileForServer, writeVersion, type TargetProfile } from '../encode/target-profiles.js';

// Re-exported so callers need one import for server facts wherever the table lives.
export { redisRdbVersion, supportsHashFieldTtl, valkeyRdbVersion };

export interface TargetInfo {
  server: 'redis' | 'valkey';
  /** `redis_version` (Valkey reports a compatible one too). */
  redisVersion: string;
  valkeyVersion: string | null;
  /** Newest DUMP payload version RESTORE accepts (0: no RESTORE at all, before 2.6). */
  maxRdbVersion: number;
  /**
   * Where maxRdbVersion comes from: `dump` (the trailer of a DUMP the server wrote, its own RDB_VERSION)
   * or `table` (by version number: the server held no key, or DUMP was refused).
   */
  rdbVersionFrom?: 'dump' | 'table';
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
  /**
   * Module value types (9-character names, module.c) the target loads: what its version ships
   * (server-versions.ts shippedModules) plus the types of the modules MODULE LIST shows loaded.
   */
  modules?: readonly string[];
  /**
   * The row of encode/target-profiles.ts the facts follow: picked from INFO (valkey_version → valkey),
   * or named by the operator (`import --target-profile valkey-9.0`, applyProfile). Null: no row fits.
   */
  profile?: string | null;
  /** True when the operator named the profile instead of auto mode. */
  profileNamed?: boolean;
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
  info.modules = shippedModules(server, server === 'valkey' ? (valkeyVersion ?? '0') : redisVersion);
  info.profile = profileForServer(server, server === 'valkey' ? (valkeyVersion ?? '0') : redisVersion)?.name ?? null;
  return info;
}

/**
 * A profile the operator named (`import --target-profile redis-7.2`) replaces what the live server's
 * version says: the RDB version payloads are written for, the flavour, field TTLs and the module types.
 * Useful to write for an older server line than the one answering (a replica, a managed service that
 * hides INFO). Module types MODULE LIST showed loaded stay. Returns a warning when the live server
 * reported an older RDB version than the profile's (its RESTORE will refuse such payloads).
 */
export function applyProfile(info: TargetInfo, p: TargetProfile): string | null {
  const live = info.maxRdbVersion;
  const liveFork = info.server;
  const extra = (info.modules ?? []).filter((m) => p.bundled.includes(m));
  info.server = p.fork;
  info.maxRdbVersion = writeVersion(p);
  info.hashFieldTtl = p.hashFieldTtl && info.hashFieldTtl;
  info.modules = [...new Set([...p.modules, ...extra])];
  info.profile = p.name;
  info.profileNamed = true;
  const liveFlavor = live >= 80 ? 'VALKEY' : 'REDIS';
  if (live > 0 && (live < info.maxRdbVersion || liveFlavor !== p.magic)) {
    return `--target-profile ${p.name}: the target (${liveFork}) reports RDB ${live}; payloads are written for RDB ${info.maxRdbVersion} (${p.magic}) and its RESTORE may refuse them`;
  }
  return null;
}

/**
 * Value types registered by well-known modules, by the name MODULE LIST reports (each module's
 * RedisModule_CreateDataType calls). A module not listed here registers types rekey cannot name, so its
 * values are refused for that target rather than assumed loadable.
 */
const MODULE_TYPES: Record<string, readonly string[]> = {
  ReJSON: ['ReJSON-RL'],
  bf: ['MBbloom--', 'MBbloomCF', 'CMSk-TYPE', 'TopK-TYPE', 'TDIS-TYPE'],
  timeseries: ['TSDB-TYPE'],
  vectorset: ['vectorset'],
};

/** Module value types of the modules MODULE LIST reports (empty when refused or none). */
async function loadedModuleTypes(client: Client): Promise<string[]> {
  try {
    const r = (await (client as Pick<Redis, 'call'>).call('MODULE', 'LIST')) as unknown;
    if (!Array.isArray(r)) return [];
    const out: string[] = [];
    for (const m of r) {
      if (!Array.isArray(m)) continue;
      const i = m.findIndex((x) => String(x) === 'name');
      const types = i >= 0 ? MODULE_TYPES[String(m[i + 1])] : undefined;
      if (types) out.push(...types);
    }
    return out;
  } catch {
    return []; // MODULE renamed or refused: the version table alone
  }
}

type Client = Pick<Redis, 'call' | 'callBuffer'> | Pick<Cluster, 'call' | 'callBuffer'>;

/**
 * The RDB version in a DUMP payload's trailer: `... | rdb version u16le | crc64 u64le` (cluster.c
 * createDumpPayload writes its own RDB_VERSION there; verifyDumpPayload accepts up to that).
 */
export function dumpTrailerVersion(dump: Buffer): number | null {
  return dump.length >= 11 ? dump.readUInt16LE(dump.length - 10) : null;
}

/** Keys bigger than this are not DUMPed by the probe (another random key is tried). */
const PROBE_MAX_BYTES = 64 * 1024;

/** MEMORY USAGE (sampled, so cheap on big collections); 0 when unknown (command refused, before 4.0). */
async function memoryUsage(c: Pick<Redis, 'call'>, key: Buffer): Promise<number> {
  try {
    return Number(await c.call('MEMORY', 'USAGE', key, 'SAMPLES', '5')) || 0;
  } catch {
    return 0;
  }
}

/**
 * Ask the server which RDB version it writes, without writing anything: RANDOMKEY + DUMP in a db that
 * holds keys (db 0 first; the client is put back on `homeDb`). A key may expire or be deleted between
 * the two calls (DUMP → nil), and a big key is passed over (MEMORY USAGE), so a few keys are tried. Null: no key, or DUMP/SELECT refused (ACL,
 * renamed), and the caller falls back to the table.
 */
export async function probeRdbVersion(client: Client, keyspace: ReadonlyMap<number, number>, homeDb = 0): Promise<number | null> {
  const c = client as Pick<Redis, 'call' | 'callBuffer'>;
  const dbs = [...keyspace.entries()].filter(([, n]) => n > 0).map(([db]) => db).sort((a, b) => (a === homeDb ? -1 : b === homeDb ? 1 : a - b));
  let on = homeDb;
  try {
    for (const db of dbs.slice(0, 4)) {
      if (db !== on) {
        await c.call('SELECT', String(db));
        on = db;
      }
      for (let i = 0; i < 5; i++) {
        const key = (await c.callBuffer('RANDOMKEY')) as Buffer | null;
        if (key === null) break;
        if ((await memoryUsage(c, key)) > PROBE_MAX_BYTES) continue; // a 2-byte answer is not worth a big DUMP
        const dump = (await c.callBuffer('DUMP', key)) as Buffer | null;
        const v = dump === null ? null : dumpTrailerVersion(dump);
        if (v !== null && v > 0) return v;
      }
    }
    return null;
  } catch {
    return null; // DUMP/RANDOMKEY/SELECT refused: the table decides
  } finally {
    if (on !== homeDb) await c.call('SELECT', String(homeDb)).catch(() => undefined);
  }
}

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

/** INFO + CONFIG GET + COMMAND INFO + the DUMP probe on one node (whose client is on `homeDb`). */
export async function readTargetInfo(client: Client, homeDb = 0): Promise<TargetInfo> {
  const text = String(await (client as Pick<Redis, 'call'>).call('INFO'));
  const info = targetInfoFromInfo(text);
  const bulk = await configGet(client, 'proto-max-bulk-len');
  if (bulk !== null && Number(bulk) > 0) info.protoMaxBulkLen = Number(bulk);
  const dbs = await configGet(client, 'databases');
  if (dbs !== null && Number(dbs) > 0) info.databases = Number(dbs);
  info.restoreCommand = await commandExists(client, 'restore');
  const loaded = await loadedModuleTypes(client);
  if (loaded.length) info.modules = [...new Set([...(info.modules ?? []), ...loaded])];
  info.rdbVersionFrom = 'table';
  if (info.maxRdbVersion > 0) {
    const probed = await probeRdbVersion(client, info.keyspace, homeDb);
    if (probed !== null) {
      info.maxRdbVersion = probed;
      info.rdbVersionFrom = 'dump';
    }
  }
  const hpx = await commandExists(client, 'hpexpireat');
  if (hpx !== null) info.hashFieldTtl = hpx;
  return info;
}
