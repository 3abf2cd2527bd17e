#!/usr/bin/env node
/**
 * `npm run servers`: build real Redis / Valkey servers of several versions and cache them outside
 * the repo, for the conformance fixtures and matrix (docs/conformance.md).
 *
 *   ${REKEY_SERVERS_DIR:-/var/cache/rekey-servers}/<name>/bin/{redis-server,redis-cli}
 *   ${REKEY_SERVERS_DIR:-/var/cache/rekey-servers}/<name>/info.json   what, from where, build seconds
 *   ${REKEY_SERVERS_DIR:-/var/cache/rekey-servers}/<name>/missing.txt why it could not be built
 *
 * Sources, nothing else is downloaded:
 * - Debian source packages (`apt-get source --download-only`) from the suites that carry newer
 *   redis/valkey; the deb-src lines go to their own file under /etc/apt/sources.list.d/.
 *   We build the upstream `.orig` tarball (no Debian patches: those switch to system libraries).
 * - Public git tags of redis/redis from a local bare mirror (REKEY_REDIS_GIT, default the one the
 *   team's `fetch github:redis/redis` leaves under /work/.mirror), `git archive <tag>`.
 * - Debian bookworm's installed /usr/bin/redis-server (7.0) is linked in, not built.
 *
 * Idempotent: a server whose bin/ already exists is skipped. Options: `--only <name,...>`, `--list`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, readFileSync, rmSync, copyFileSync, symlinkSync, readdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

const CACHE = process.env.REKEY_SERVERS_DIR || '/var/cache/rekey-servers';
const GIT_DIR = process.env.REKEY_REDIS_GIT || '/work/.mirror/redis+redis/repo';
const SOURCES_FILE = '/etc/apt/sources.list.d/rekey-servers-src.sources';
const SRC_SUITES = ['trixie', 'forky', 'sid'];
const MAKE_FLAGS = ['-j2', 'BUILD_TLS=no', 'MALLOC=libc'];

/**
 * What we want. `prefix` picks the highest version the Debian suites carry with that prefix;
 * `tag` is a git tag of redis/redis.
 */
const WANTED = [
  { product: 'redis', kind: 'system', bin: '/usr/bin/redis-server', cli: '/usr/bin/redis-cli' },
  { product: 'redis', kind: 'git', tag: '6.2.16' },
  { product: 'redis', kind: 'deb', pkg: 'redis', prefix: '8.0.' },
  { product: 'redis', kind: 'deb', pkg: 'redis', prefix: '8.6.' },
  { product: 'valkey', kind: 'deb', pkg: 'valkey', prefix: '9.' },
  { product: 'redis', kind: 'git', tag: '7.4.1' },
  { product: 'valkey', kind: 'deb', pkg: 'valkey', prefix: '8.1.' },
];

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...opts });
  return { ok: r.status === 0, out: (r.stdout ?? '') + (r.stderr ?? ''), status: r.status, error: r.error };
}

function tail(text, n = 15) {
  return text.trim().split('\n').slice(-n).join('\n');
}

/** Upstream version from a Debian version: `5:8.0.6-3` → `8.0.6`, `8.1.1+dfsg1-3+deb13u3` → `8.1.1`. */
function upstreamOf(debVersion) {
  return debVersion.replace(/^\d+:/, '').replace(/[-+~].*$/, '');
}

function cmpVersion(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

let aptReady;
/** Writes the deb-src file once and runs apt-get update; returns null or why apt cannot be used. */
function prepareApt() {
  if (aptReady !== undefined) return aptReady;
  if (process.getuid?.() !== 0) return (aptReady = 'not root: cannot write apt sources or run apt-get update');
  if (!existsSync('/usr/share/keyrings/debian-archive-keyring.gpg')) return (aptReady = 'no Debian archive keyring (not a Debian system?)');
  const body =
    '# Written by rekey scripts/servers.mjs: source packages only, to build newer redis/valkey.\n' +
    `Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: ${SRC_SUITES.join(' ')}\nComponents: main\n` +
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n';
  if (!existsSync(SOURCES_FILE) || readFileSync(SOURCES_FILE, 'utf8') !== body) writeFileSync(SOURCES_FILE, body);
  const r = run('apt-get', ['update', '-qq']);
  aptReady = r.ok ? null : `apt-get update failed:\n${tail(r.out)}`;
  return aptReady;
}

/** Versions of a source package the configured suites carry (apt-cache showsrc). */
function sourceVersions(pkg) {
  const r = run('apt-cache', ['showsrc', pkg]);
  if (!r.ok) return [];
  const out = [];
  let cur = null;
  for (const line of r.out.split('\n')) {
    if (line.startsWith('Package: ')) cur = line.slice(9).trim();
    else if (line.startsWith('Version: ') && cur === pkg) out.push(line.slice(9).trim());
  }
  return [...new Set(out)];
}

/** Resolve a wanted entry to { name, version, ... } or { name, missing }. */
function resolve(w) {
  if (w.kind === 'system') {
    const r = run(w.bin, ['--version']);
    const v = /v=(\d+\.\d+\.\d+)/.exec(r.out)?.[1];
    if (!r.ok || !v) return { ...w, name: 'redis-system', missing: `${w.bin} does not run (apt-get install redis-server)` };
    return { ...w, name: `redis-${v}`, version: v, source: `Debian package redis-server (${w.bin})` };
  }
  if (w.kind === 'git') {
    const name = `redis-${w.tag}`;
    if (!existsSync(GIT_DIR)) return { ...w, name, missing: `no redis/redis git mirror at ${GIT_DIR} (set REKEY_REDIS_GIT to a bare clone that has tag ${w.tag})` };
    const r = run('git', ['--git-dir', GIT_DIR, 'rev-parse', '--verify', '--quiet', `refs/tags/${w.tag}`]);
    if (!r.ok) return { ...w, name, missing: `tag ${w.tag} is not in the git mirror ${GIT_DIR}` };
    return { ...w, name, version: w.tag, source: `git tag ${w.tag} of redis/redis (${GIT_DIR})` };
  }
  const guess = `${w.product}-${w.prefix}x`;
  const why = prepareApt();
  if (why) return { ...w, name: guess, missing: why };
  const versions = sourceVersions(w.pkg).filter((v) => upstreamOf(v).startsWith(w.prefix));
  if (versions.length === 0) {
    const all = sourceVersions(w.pkg).map((v) => upstreamOf(v));
    return {
      ...w,
      name: guess,
      missing: `no Debian source package ${w.pkg} ${w.prefix}x in suites ${SRC_SUITES.join(', ')} (they carry: ${all.join(', ') || 'none'})`,
    };
  }
  versions.sort((a, b) => cmpVersion(upstreamOf(a), upstreamOf(b)));
  const deb = versions[versions.length - 1];
  const version = upstreamOf(deb);
  return { ...w, name: `${w.product}-${version}`, version, deb, source: `Debian source package ${w.pkg}=${deb}` };
}

/** Unpack sources into dir; returns null or why not. */
function unpack(t, dir) {
  if (t.kind === 'git') {
    const a = spawnSync('sh', ['-c', `git --git-dir "${GIT_DIR}" archive --format=tar "refs/tags/${t.tag}" | tar -x -C "${dir}"`], { encoding: 'utf8' });
    return a.status === 0 ? null : `git archive ${t.tag} failed: ${a.stderr}`;
  }
  const dl = join(dir, '..', 'download');
  mkdirSync(dl, { recursive: true });
  const r = run('apt-get', ['source', '--download-only', `${t.pkg}=${t.deb}`], { cwd: dl });
  const orig = readdirSync(dl).find((f) => f.includes('.orig.tar'));
  // A mirror may serve the upstream tarball but no longer the .dsc/.debian.tar of a superseded Debian
  // revision (404): apt-get fails, yet the tarball it fetched and verified is all we build from.
  if (!r.ok && !(orig && /^Fetched /m.test(r.out))) return `apt-get source --download-only ${t.pkg}=${t.deb} failed:\n${tail(r.out)}`;
  if (!orig) return `no .orig tarball among ${readdirSync(dl).join(', ')}`;
  if (!r.ok) console.log(`  ${t.name}: apt-get could not fetch Debian's own files (${tail(r.out, 1)}); building the upstream ${orig} it fetched`);
  const x = run('tar', ['-x', '--strip-components=1', '-f', join(dl, orig), '-C', dir]);
  return x.ok ? null : `tar ${orig} failed:\n${tail(x.out)}`;
}

function build(t) {
  const home = join(CACHE, t.name);
  const binDir = join(home, 'bin');
  const work = join(CACHE, '.build', t.name);
  rmSync(work, { recursive: true, force: true });
  const src = join(work, 'src');
  mkdirSync(src, { recursive: true });
  const why = unpack(t, src);
  if (why) return { missing: why };
  const started = Date.now();
  const m = run('nice', ['-n', '10', 'make', ...MAKE_FLAGS], { cwd: src });
  const seconds = Math.round((Date.now() - started) / 1000);
  writeFileSync(join(work, 'build.log'), m.out);
  if (!m.ok) return { missing: `make failed after ${seconds} s (log ${join(work, 'build.log')}):\n${tail(m.out)}` };
  const exe = t.product === 'valkey' ? 'valkey' : 'redis';
  mkdirSync(binDir, { recursive: true });
  for (const tool of ['server', 'cli']) {
    const from = join(src, 'src', `${exe}-${tool}`);
    if (!existsSync(from)) return { missing: `make succeeded but ${from} is absent` };
    copyFileSync(from, join(binDir, `${exe}-${tool}`));
    chmodSync(join(binDir, `${exe}-${tool}`), 0o755);
    // One name for every server so tests need not care which product it is.
    if (exe !== 'redis') symlinkSync(`${exe}-${tool}`, join(binDir, `redis-${tool}`));
  }
  rmSync(work, { recursive: true, force: true });
  return { seconds };
}

function main() {
  mkdirSync(CACHE, { recursive: true });
  const results = [];
  for (const w of WANTED) {
    const t = resolve(w);
    if (only && !only.some((o) => t.name.startsWith(o))) continue;
    const home = join(CACHE, t.name);
    if (t.missing) {
      mkdirSync(home, { recursive: true });
      writeFileSync(join(home, 'missing.txt'), t.missing + '\n');
      results.push(`MISSING ${t.name}: ${t.missing}`);
      continue;
    }
    if (existsSync(join(home, 'bin', 'redis-server'))) {
      results.push(`cached  ${t.name} (${home})`);
      continue;
    }
    if (args.includes('--list')) {
      results.push(`todo    ${t.name} from ${t.source}`);
      continue;
    }
    rmSync(home, { recursive: true, force: true });
    mkdirSync(home, { recursive: true });
    let res;
    if (t.kind === 'system') {
      mkdirSync(join(home, 'bin'));
      symlinkSync(t.bin, join(home, 'bin', 'redis-server'));
      symlinkSync(t.cli, join(home, 'bin', 'redis-cli'));
      res = { seconds: 0 };
    } else {
      process.stdout.write(`building ${t.name} from ${t.source} ...\n`);
      res = build(t);
    }
    if (res.missing) {
      rmSync(join(home, 'bin'), { recursive: true, force: true });
      writeFileSync(join(home, 'missing.txt'), res.missing + '\n');
      results.push(`FAILED  ${t.name}: ${res.missing}`);
      continue;
    }
    const info = { name: t.name, product: t.product, version: t.version, source: t.source, buildSeconds: res.seconds, builtAt: new Date().toISOString() };
    writeFileSync(join(home, 'info.json'), JSON.stringify(info, null, 2) + '\n');
    results.push(`built   ${t.name} from ${t.source} in ${res.seconds} s`);
  }
  process.stdout.write(`\nservers in ${CACHE}:\n${results.map((r) => '  ' + r).join('\n')}\n`);
}

main();
