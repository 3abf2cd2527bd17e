// Builds the bench's peer tools into the bench cache (outside the repo), when their sources can be had:
// librdb's `rdb-cli` (github:redis/librdb, C, make) with hiredis at the commit librdb pins as its
// deps/hiredis submodule. Nothing is downloaded: the sources come from local paths.
//
//   REKEY_LIBRDB_SRC=/path/to/librdb-checkout       a work tree (deps/hiredis filled in, or give hiredis below)
//   REKEY_LIBRDB_GIT=/work/.mirror/redis+librdb/repo a git repository or bare mirror; its HEAD is built
//   REKEY_HIREDIS_SRC / REKEY_HIREDIS_GIT            the same for hiredis (checked out at librdb's pinned commit)
//   REKEY_BENCH_CACHE                               cache folder (default ~/.cache/rekey-bench)
//
// Result: <cache>/peers/bin/rdb-cli (bench/peers.mjs finds it there). Prints why when it cannot build.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const CACHE = process.env.REKEY_BENCH_CACHE ?? join(homedir(), '.cache', 'rekey-bench');
const PEERS = join(CACHE, 'peers');
const BIN = join(PEERS, 'bin');

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd ?? '.'}) exited ${r.status}: ${(r.stderr || r.stdout || String(r.error)).slice(-1500)}`);
  return r.stdout.trim();
}

/** A private work tree of `commit` (or HEAD) from a local git repository or bare mirror. */
function checkout(gitDir, dest, commit) {
  rmSync(dest, { recursive: true, force: true });
  run('git', ['clone', '--quiet', '--no-checkout', gitDir, dest]);
  run('git', ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', commit ?? 'HEAD'], dest);
  return run('git', ['rev-parse', 'HEAD'], dest);
}

function buildLibrdb() {
  const src = process.env.REKEY_LIBRDB_SRC;
  const git = process.env.REKEY_LIBRDB_GIT;
  if (!src && !git) return 'skipped: set REKEY_LIBRDB_GIT (a git mirror of github:redis/librdb) or REKEY_LIBRDB_SRC (a checkout)';
  const work = join(PEERS, 'librdb-src');
  let commit;
  if (git) commit = checkout(git, work, undefined);
  else {
    rmSync(work, { recursive: true, force: true });
    cpSync(src, work, { recursive: true });
    commit = existsSync(join(src, '.git')) ? run('git', ['rev-parse', 'HEAD'], src) : 'unknown';
  }
  const stamp = join(BIN, `rdb-cli.${commit}`);
  if (existsSync(join(BIN, 'rdb-cli')) && existsSync(stamp)) return `rdb-cli up to date (librdb ${commit.slice(0, 12)})`;

  // hiredis at the commit librdb's tree records for deps/hiredis (a submodule entry).
  const hiredis = join(work, 'deps', 'hiredis');
  if (!existsSync(join(hiredis, 'hiredis.h'))) {
    const hgit = process.env.REKEY_HIREDIS_GIT;
    const hsrc = process.env.REKEY_HIREDIS_SRC;
    if (!hgit && !hsrc) return 'skipped: librdb needs hiredis: set REKEY_HIREDIS_GIT (a git mirror of github:redis/hiredis) or REKEY_HIREDIS_SRC';
    const pinned = git ? run('git', ['ls-tree', 'HEAD', 'deps/hiredis'], work).split(/\s+/)[2] : undefined;
    if (hgit) checkout(hgit, hiredis, pinned);
    else {
      rmSync(hiredis, { recursive: true, force: true });
      cpSync(hsrc, hiredis, { recursive: true });
    }
  }
  run('make', ['-j2', '-C', 'deps', 'all'], work);
  run('make', ['-j2', '-C', 'src/lib', 'all'], work);
  run('make', ['-j2', '-C', 'src/ext', 'all'], work);
  run('make', ['-j2', '-C', 'src/cli', 'all'], work);
  mkdirSync(BIN, { recursive: true });
  cpSync(join(work, 'bin', 'rdb-cli'), join(BIN, 'rdb-cli'));
  writeFileSync(stamp, `${commit}\n`);
  return `built rdb-cli from librdb ${commit.slice(0, 12)} into ${BIN}`;
}

mkdirSync(PEERS, { recursive: true });
try {
  console.log(`librdb: ${buildLibrdb()}`);
} catch (e) {
  console.log(`librdb: not built: ${e.message}`);
  process.exitCode = 1;
}
