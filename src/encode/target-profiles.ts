/**
 * Target profiles: the one table of the server lines rekey writes for, by name (`--rdb-version redis-8.6`,
 * `import --target-profile valkey-9.0`) or picked from a live server's INFO (valkey_version vs
 * redis_version, redis/server-info.ts). Each row says what that server's loader takes: its newest RDB
 * version, the file magic, the value type bytes it reads and the module value types every build of it
 * loads. What rekey writes for a row is derived here too (its newest writable version at most).
 *
 * Sources: redis rdb.h `RDB_VERSION` / `RDB_TYPE_*` per release, valkey rdb.h `RDB_VERSION_MAP` /
 * `RDB_FOREIGN_TYPE_MIN` (docs/rdb-format.md §2); module types are module.c 9-character names.
 */

export type Fork = 'redis' | 'valkey';

export interface TargetProfile {
  /** `redis-8.6`, `valkey-9.0`. */
  name: string;
  fork: Fork;
  /** Server line `major.minor`. */
  version: string;
  /** Newest RDB (file and DUMP payload) version its loader accepts. */
  rdbVersion: number;
  /** File magic: `REDIS` below RDB 80, `VALKEY` from 80 (valkey rdb.c rdbSaveRio). */
  magic: 'REDIS' | 'VALKEY';
  /** Value type bytes its loader reads, in its own numbering (Valkey's 22+ are not Redis' 22+). */
  types: readonly number[];
  /** Module value types built into every build (Redis 8: vector sets in the core). */
  modules: readonly string[];
  /**
   * Module value types the fork's distribution bundles as separate modules (Redis 8: the former Stack
   * modules, built with BUILD_WITH_MODULES=yes). Not every build has them, so they are accepted only when
   * a live server's MODULE LIST shows them loaded (server-info.ts), never for an offline named target.
   */
  bundled: readonly string[];
  /** Hash field TTLs (Redis 7.4+ HPEXPIREAT and types 22–25; Valkey 9+ HASH_2 and HSETEX). */
  hashFieldTtl: boolean;
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

// Type bytes by the release that added them (rdb.h RDB_TYPE_*): 0–4 since 1, ziplist/intset/zipmap 9–13
// since 2 (RDB 6 loaders of 2.6), quicklist 14 at 7, modules 5–7 at 8, stream 15 at 9, listpacks 16–19 at
// 10, set listpack 20 and stream v3 21 at 11 (which dropped type 6), field-TTL hashes 22–25 at 12, stream
// v4 26 at 13.
const R6 = [...range(0, 4), ...range(9, 13)];
const R7 = [...R6, 14];
const R8 = [...R7, 5, 6, 7].sort((a, b) => a - b);
const R9 = [...R8, 15].sort((a, b) => a - b);
const R10 = [...R9, ...range(16, 19)].sort((a, b) => a - b);
const R11 = [...R10.filter((t) => t !== 6), 20, 21];
const R12 = [...R11, ...range(22, 25)];
const R13 = [...R12, 26];
// RDB 14 (8.8): stream v5 27, Array 28; RDB 15 (8.10): template hashes 29–32 (issue 11; layouts not held).
const R14 = [...R13, 27, 28];
const R15 = [...R14, ...range(29, 32)];
// Valkey keeps Redis' types up to 21 and numbers its own from 22: HASH_2 (9.0), PATH_HASH 23 (9.2).
const V80 = [...R11, 22];
const V81 = [...V80, 23];

const REDIS8_MODULES = ['vectorset'];
const REDIS8_BUNDLED = ['ReJSON-RL', 'MBbloom--', 'MBbloomCF', 'CMSk-TYPE', 'TopK-TYPE', 'TDIS-TYPE', 'TSDB-TYPE'];

function redis(version: string, rdbVersion: number, types: readonly number[]): TargetProfile {
  const v8 = Number(version.split('.')[0]) >= 8;
  return {
    name: `redis-${version}`, fork: 'redis', version, rdbVersion, magic: 'REDIS', types,
    modules: v8 ? REDIS8_MODULES : [], bundled: v8 ? REDIS8_BUNDLED : [], hashFieldTtl: rdbVersion >= 12,
  };
}

function valkey(version: string, rdbVersion: number, types: readonly number[]): TargetProfile {
  // valkey-bloom, valkey-json, valkey-search are separate projects: no build ships a module type.
  return {
    name: `valkey-${version}`, fork: 'valkey', version, rdbVersion, magic: rdbVersion >= 80 ? 'VALKEY' : 'REDIS', types,
    modules: [], bundled: [], hashFieldTtl: rdbVersion >= 80,
  };
}

/** The table, oldest first per fork. */
export const TARGET_PROFILES: readonly TargetProfile[] = [
  redis('2.6', 6, R6), redis('2.8', 6, R6), redis('3.0', 6, R6), redis('3.2', 7, R7), redis('4.0', 8, R8),
  redis('5.0', 9, R9), redis('6.0', 9, R9), redis('6.2', 9, R9),
  redis('7.0', 10, R10), redis('7.2', 11, R11),
  redis('7.4', 12, R12), redis('8.0', 12, R12), redis('8.2', 12, R12), redis('8.4', 12, R12),
  redis('8.6', 13, R13), redis('8.8', 14, R14), redis('8.10', 15, R15),
  valkey('7.2', 11, R11), valkey('8.0', 11, R11), valkey('8.1', 11, R11),
  valkey('9.0', 80, V80), valkey('9.1', 80, V80), valkey('9.2', 81, V81),
];

/** Newest RDB version rekey writes per fork (RDB 14/15 are read-gaps, see the README). */
export const MAX_WRITE: Record<Fork, number> = { redis: 13, valkey: 81 };

/** The version rekey writes for a profile: the server's own, or rekey's newest when the server's is newer. */
export function writeVersion(p: TargetProfile): number {
  return Math.min(p.rdbVersion, MAX_WRITE[p.fork]);
}

/** `redis-8.6` / `Valkey-9.0` → its row; null for a name the table lacks. */
export function targetProfile(name: string): TargetProfile | null {
  const m = /^(redis|valkey)-(\d+)\.(\d+)$/i.exec(name.trim());
  if (!m) return null;
  const wanted = `${m[1]!.toLowerCase()}-${Number(m[2])}.${Number(m[3])}`;
  return TARGET_PROFILES.find((p) => p.name === wanted) ?? null;
}

/**
 * The row for a live server (`fork` from INFO: valkey_version present → valkey): its own line, or for a
 * release the table does not list yet the newest row of that fork at or below it (null below the first).
 */
export function profileForServer(fork: Fork, version: string): TargetProfile | null {
  const [maj = 0, min = 0] = version.split('.').map((x) => Number.parseInt(x, 10) || 0);
  let best: TargetProfile | null = null;
  for (const p of TARGET_PROFILES) {
    if (p.fork !== fork) continue;
    const [a = 0, b = 0] = p.version.split('.').map(Number);
    if (a < maj || (a === maj && b <= min)) best = p;
  }
  return best;
}

/** Every name the table accepts, for messages. */
export function profileNames(): string[] {
  return TARGET_PROFILES.map((p) => p.name);
}
