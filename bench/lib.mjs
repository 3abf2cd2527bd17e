// Shared helpers for the benchmark scripts: a throwaway redis-server, whole-process timing.
import { spawn, spawnSync } from 'node:child_process';
import { createServer, createConnection } from 'node:net';
import { mkdtempSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir, homedir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export const CACHE = process.env.REKEY_BENCH_CACHE ?? join(homedir(), '.cache', 'rekey-bench');
mkdirSync(CACHE, { recursive: true });

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitPing(port, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const c = createConnection({ port, host: '127.0.0.1' });
      c.once('error', () => resolve(false));
      c.once('connect', () => c.write('PING\r\n'));
      c.once('data', (d) => {
        c.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('redis-server did not answer PING');
}

/** Start redis-server in a temp dir; `rdb` is loaded at start when given. */
export async function startRedis({ rdb, args = [], timeoutMs = 600_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rekey-bench-'));
  const port = await freePort();
  if (rdb) spawnSync('cp', [rdb, join(dir, 'dump.rdb')]);
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--dbfilename', 'dump.rdb', ...args], { stdio: 'ignore' });
  await waitPing(port, child, timeoutMs);
  return {
    port, dir, child,
    async stop() {
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Run a command once as a whole process; wall seconds and peak RSS (KiB) via GNU time when present. */
export function timeOnce(cmd, argv, { stdin, stdout } = {}) {
  const haveTime = existsSync('/usr/bin/time');
  const t0 = process.hrtime.bigint();
  const shell = `${haveTime ? '/usr/bin/time -f "%M" ' : ''}${[cmd, ...argv].map(q).join(' ')}${stdin ? ` < ${q(stdin)}` : ''} > ${stdout ? q(stdout) : '/dev/null'}`;
  const r = spawnSync('sh', ['-c', shell], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const lines = (r.stderr ?? '').trim().split('\n');
  const rssKiB = haveTime ? Number(lines[lines.length - 1]) : NaN;
  return { wall, rssKiB, stderr: r.stderr, status: r.status };
}

const q = (s) => (/^[\w./=:,+-]+$/.test(s) ? s : `'${String(s).replace(/'/g, `'\\''`)}'`);

/** Median of n runs (after one warm-up). */
export function timeMedian(n, cmd, argv, opts) {
  timeOnce(cmd, argv, opts);
  const runs = [];
  for (let i = 0; i < n; i++) runs.push(timeOnce(cmd, argv, opts));
  runs.sort((a, b) => a.wall - b.wall);
  const mid = runs[Math.floor(runs.length / 2)];
  return { wall: mid.wall, rssKiB: Math.max(...runs.map((r) => r.rssKiB)), runs: runs.map((r) => r.wall) };
}

export function machine() {
  const c = cpus();
  return `${c.length} × ${c[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
}
