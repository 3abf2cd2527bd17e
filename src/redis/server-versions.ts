/**
 * The version table: which RDB (DUMP payload) version a server of a given version accepts, and
 * whether it has hash field TTLs. Server detection from INFO is redis/server-info.ts.
 */
import type { TargetInfo } from './server-info.js';

function versionParts(v: string): [number, number, number] {
  const [a, b, c] = v.split('.').map((x) => Number.parseInt(x, 10));
  return [a ?? 0, b ?? 0, c ?? 0];
}

/** Newest RDB (DUMP payload) version a Redis server of this version accepts. */
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
  return 12;
}

/** Newest RDB version a Valkey server accepts (7.2/8.x write and read 11; 9.0 → 80; 9.2+ → 81). */
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
