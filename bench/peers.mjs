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

/** rdb-cli's argv for one job: its log to /dev/null (default ./rdb-cli.log), output to `out`. */
export function rdbCliArgs(rdb, format, out) {
  return [rdb, '-l', '/dev/null', format, '-o', out];
}
