/**
 * The version table: which RDB (DUMP payload) version a server of a given version accepts, whether it
 * has hash field TTLs, and which module value types every build of it loads. Server detection from INFO
 * is redis/server-info.ts; `namedTarget` turns `redis-8.6` / `valkey-9.0` into the same facts for
 * `transform --rdb-version` from the profile table (encode/target-profiles.ts).
 */
import { flavorOf, type Flavor } from '../records/types.js';
import type { TargetInfo } from './server-info.js';
import { MAX_WRITE, profileForServer, profileNames, targetProfile, writeVersion } from '../encode/target-profiles.js';

function versionParts(v: string): [number, number, number] {
  const [a, b, c] = v.split('.').map((x) => Number.parseInt(x, 10));
  return [a ?? 0, b ?? 0, c ?? 0];
}

/**
 * Newest RDB (DUMP payload) version a Redis server of this version accepts. 7.4–8.4 write 12, 8.6 writes
 * 13 (KEY_META, stream v4), 8.8 writes 14 and 8.10 writes 15 (per issue 11; see docs/rdb-format.md §2).
 */
export function redisRdbVersion(version: string): number {
  const [maj, min] = versionParts(version);
  const v = maj * 100 + min;
  if (v < 206) return 0; // no DUMP/RESTORE before 2.6
  if (v < 302) return 6;
  if (v < 400) return 7;
  if (v < 500) return 8;
  if (v < 700) return 9;
  if (v < 702) return 10;
  if (v < 704) return 11;
  if (v < 806) return 12;
  if (v < 808) return 13;
  if (v < 810) return 14;
  return 15;
}

/**
 * Newest RDB version a Valkey server accepts: 7.2/8.x write and read 11 (magic REDIS); 9.0/9.1 → 80 and
 * 9.2+ → 81 (magic VALKEY; valkey: rdb.h `RDB_VERSION_MAP`).
 */
export function valkeyRdbVersion(version: string): number {
  const [maj, min] = versionParts(version);
  if (maj < 9) return 11;
  if (maj === 9 && min < 2) return 80;
  return 81;
}

export function supportsHashFieldTtl(info: Pick<TargetInfo, 'server' | 'redisVersion' | 'valkeyVersion'>): boolean {
  if (info.server === 'valkey') return versionParts(info.valkeyVersion ?? '0')[0] >= 9;
  const [maj, min] = versionParts(info.redisVersion);
  return maj > 7 || (maj === 7 && min >= 4);
}

/** FUNCTION LOAD exists: Redis 7.0+ (RDB 10+), every Valkey (forked from 7.2). */
export function targetHasFunctions(info: Pick<TargetInfo, 'server' | 'maxRdbVersion'>): boolean {
  return info.server === 'valkey' || info.maxRdbVersion >= 10;
}

/**
 * Module value types (the 9-character names of module.c) every build of a server loads: its profile's
 * built-in ones (encode/target-profiles.ts: Redis 8 has vector sets in the core). JSON, bloom and time
 * series types come only with modules a build may lack, so they count only when MODULE LIST shows them.
 */
export function shippedModules(server: 'redis' | 'valkey', version: string): readonly string[] {
  return profileForServer(server, version)?.modules ?? [];
}

/** Newest RDB version rekey writes for each flavour (RDB 14/15 are read-only gaps, see the README). */
export const MAX_WRITE_REDIS = MAX_WRITE.redis;
export const MAX_WRITE_VALKEY = MAX_WRITE.valkey;

/** What `transform --rdb-version redis-8.6` stands for. */
export interface NamedTarget {
  /** The name as given, normalised (`redis-8.6`). */
  name: string;
  server: 'redis' | 'valkey';
  /** Server version `major.minor`. */
  version: string;
  /** Newest RDB version that server loads. */
  serverRdbVersion: number;
  /** The version rekey writes for it: the server's, or rekey's newest when the server's is newer. */
  rdbVersion: number;
  /** Magic of the written file: REDIS below 80, VALKEY from 80. */
  flavor: Flavor;
  hashFieldTtl: boolean;
  /** Module value types the target loads; any other module value is refused per key. */
  modules: readonly string[];
}

/** `redis-8.6` / `valkey-9.0` → the facts above, from the profile table; null for a name it lacks. */
export function namedTarget(name: string): NamedTarget | null {
  const p = targetProfile(name);
  if (!p) return null;
  const rdbVersion = writeVersion(p);
  return {
    name: p.name,
    server: p.fork,
    version: p.version,
    serverRdbVersion: p.rdbVersion,
    rdbVersion,
    flavor: flavorOf(rdbVersion),
    hashFieldTtl: p.hashFieldTtl,
    modules: p.modules,
  };
}

/** Every name `namedTarget` accepts, for messages. */
export function namedTargetList(): string[] {
  return profileNames();
}

/**
 * A DUMP payload newer than rekey reads, from a live source (Redis 8.8 writes RDB 14 payloads, 8.10
 * writes 15, for every key: createDumpPayload stamps the server's own RDB_VERSION): the per-key message
 * names the server and what to do, not only the number.
 */
export function futureDumpMessage(server: 'redis' | 'valkey', version: string, rdbVersion: number, max: number): string {
  const name = `${server === 'valkey' ? 'Valkey' : 'Redis'} ${version}`;
  const what =
    server === 'redis' && (rdbVersion === 14 || rdbVersion === 15)
      ? `RDB ${rdbVersion} is Redis ${rdbVersion === 14 ? '8.8' : '8.10'}'s format; its new types (${rdbVersion === 14 ? 'stream v5, Array' : 'stream v5, Array, hash templates'}) are not defined in the sources rekey was built from`
      : `newer than rekey knows`;
  return (
    `expected a DUMP RDB version up to ${max}, found ${rdbVersion}: ${name} stamps every DUMP with RDB ${rdbVersion} (${what}). ` +
    `Run again with --allow-future-version: values of the types rekey reads (strings, lists, sets, sorted sets, hashes, streams up to v4, modules) are read as they are; a key of a new type stops the run naming it, so leave such keys out with --type or --exclude-regex`
  );
}

/** Why a DUMP's type byte is not one rekey reads, when the payload is newer than rekey (null otherwise). */
export function futureTypeHint(server: 'redis' | 'valkey', version: string, rdbVersion: number, max: number): string | null {
  if (rdbVersion <= max) return null;
  return ` (a type of RDB ${rdbVersion}, written by ${server === 'valkey' ? 'Valkey' : 'Redis'} ${version}, that rekey does not read: skip the key with --type or --exclude-regex)`;
}
