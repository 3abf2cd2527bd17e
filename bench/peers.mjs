// Peer tools the bench runs beside rekey on the same files, when scripts/build-peers.mjs has built
// them into the bench cache: librdb's rdb-cli (json, resp). Absent: a printed reason, no row.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE } from './lib.mjs';

/** { path } of rdb-cli, or { reason } why the bench skips it. */
export function rdbCli() {
  const path = process.env.REKEY_RDB_CLI ?? join(CACHE, 'peers', 'bin', 'rdb-cli');
  if (existsSync(path)) return { path };
  return { reason: `librdb rdb-cli not found at ${path}: build it with REKEY_LIBRDB_GIT=<librdb mirror> REKEY_HIREDIS_GIT=<hiredis mirror> node scripts/build-peers.mjs` };
}

/**
 * rdb-cli's argv for one job: its log to /dev/null (default ./rdb-cli.log), output to a file `out`, as
 * rekey's jobs write theirs. `restore` (resp only) is `-r -t <redisVer>`: RESTORE of the value's own
 * bytes where the RDB version allows, the work rekey's rdb→resp does; without it rdb-cli decodes every
 * value into SET/RPUSH/HSET… commands (more work, a different stream).
 */
export function rdbCliArgs(rdb, format, out, { restore, redisVer = '7.0' } = {}) {
  return [rdb, '-l', '/dev/null', format, ...(restore ? ['-r', '-t', redisVer] : []), '-o', out];
}

/**
 * The peer jobs beside rekey's: [row label, rdb-cli format, options, the rekey job it is the ratio for].
 * rdb-cli json is one JSON document of key → value per db, without expiry, type or metadata; rekey's
 * JSONL carries type, expiry, LRU/LFU and stream metadata per key, so it writes more per key.
 */
export const PEER_JOBS = [
  ['librdb rdb-cli json (peer)', 'json', {}, 'transform rdb→jsonl'],
  ['librdb rdb-cli resp -r (peer, RESTORE)', 'resp', { restore: true }, 'transform rdb→resp'],
  ['librdb rdb-cli resp (peer, decoded commands)', 'resp', {}, undefined],
];
