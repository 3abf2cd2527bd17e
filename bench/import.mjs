// Import throughput for `npm run bench` (built code in dist/): keys/s of `rekey import --live` from an RDB
// into a local redis-server, beside `redis-cli --pipe` fed the same RESTORE stream (the exact bytes the
// import sends: same payloads, footers, ABSTTL/IDLETIME/FREQ) in the same run, and into a local 3-master
// cluster. Runs alternate (pipe, import, pipe, import, …) so both see the same machine load; the table
// shows the median and the best of each.
//
// Two ways of timing, both printed. Whole process (what a user sees, and what the 1.38× meant):
// `redis-cli --pipe < stream.resp` and `node dist/cli.js import <rdb> --live` each timed from spawn to
// exit, CLI start included, both reading a file on disk, each into a fresh redis-server, with peak RSS.
// In-process (the bench's former 1.06×): importWithOutcome() called in this already-warm process, so it
// leaves out node's start, module loading and the process exit, and shares this process's heap.
//
//   import { runImportBench } from './import.mjs';
//   const rows = await runImportBench({ rdbPath: 'bench/.cache/bench-1m.rdb' });
//
// Needs redis-server and redis-cli on PATH.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { timeOnce } from './lib.mjs';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = process.env.REKEY_BENCH_DIST ?? join(ROOT, 'dist');

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** One RESP command on a fresh connection; resolves with the raw reply text. */
function rawCommand(port, args, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let data = '';
    const t = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no reply from ${port}`));
    }, timeoutMs);
    sock.on('connect', () => sock.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')));
    sock.on('data', (d) => {
      data += d.toString('latin1');
      if (data.endsWith('\r\n')) {
        clearTimeout(t);
        sock.end();
        resolve(data);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

async function startServer(extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'rekey-bench-redis-'));
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', '', ...extraArgs], { stdio: 'ignore' });
  const deadline = Date.now() + 15000;
  for (;;) {
    try {
      if ((await rawCommand(port, ['PING'], 1000)).startsWith('+PONG')) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error('redis-server did not start');
    }
    await delay(50);
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      proc.kill('SIGKILL');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startCluster(n) {
  const nodes = [];
  for (let i = 0; i < n; i++) {
    const bus = await freePort();
    nodes.push(await startServer(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000', '--cluster-port', String(bus)]));
    nodes[i].bus = bus;
  }
  for (let i = 0; i < n; i++) {
    await rawCommand(nodes[i].port, ['CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1)]);
    await rawCommand(nodes[i].port, ['CLUSTER', 'ADDSLOTSRANGE', String(Math.floor((i * 16384) / n)), String(Math.floor(((i + 1) * 16384) / n) - 1)]);
  }
  for (let i = 1; i < n; i++) await rawCommand(nodes[0].port, ['CLUSTER', 'MEET', '127.0.0.1', String(nodes[i].port), String(nodes[i].bus)]);
  const deadline = Date.now() + 30000;
  for (;;) {
    const ok = await Promise.all(nodes.map(async (x) => /cluster_state:ok/.test(await rawCommand(x.port, ['CLUSTER', 'INFO']))));
    if (ok.every(Boolean)) break;
    if (Date.now() > deadline) throw new Error('cluster did not reach cluster_state:ok');
    await delay(100);
  }
  await delay(500); // let every node learn every other node's slots
  return { nodes, url: nodes[0].url, stop: () => Promise.all(nodes.map((x) => x.stop())) };
}

/** The RESTORE stream the import sends for `rdbPath` (same payloads and options), written to `out`. */
async function writeRestoreStream(rdbPath, out, maxRdbVersion) {
  const { openInput } = await import(join(DIST, 'sources', 'open.js'));
  const { appendRestore } = await import(join(DIST, 'encode', 'resp.js'));
  const { footerVersion } = await import(join(DIST, 'import', 'key-plan.js'));
  const { loadsVerbatim, convertPayload } = await import(join(DIST, 'encode', 'down-convert.js'));
  const { ByteWriter } = await import(join(DIST, 'encode', 'rdb-primitives.js'));
  const input = await openInput(rdbPath);
  const fd = openSync(out, 'w');
  const w = new ByteWriter(1 << 20);
  const now = Date.now();
  let keys = 0;
  let db = 0;
  try {
    for await (const batch of input.batches) {
      for (const r of batch) {
        if (r.kind !== 'key') continue;
        if (r.expireAtMs !== null && r.expireAtMs <= now) continue; // the import drops these too
        if (r.db !== db) {
          const t = String(r.db);
          const s = `*2\r\n$6\r\nSELECT\r\n$${t.length}\r\n${t}\r\n`;
          w.ensure(s.length);
          w.pos += w.buf.write(s, w.pos, 'latin1');
          db = r.db;
        }
        let type = r.rdbType;
        let payload = r.payload;
        let version = footerVersion(r, maxRdbVersion, 'redis');
        if (!loadsVerbatim(r, maxRdbVersion, 'redis')) {
          const c = convertPayload(r, maxRdbVersion, { lossy: true });
          if (!c) continue;
          type = c.rdbType;
          payload = c.payload;
          version = maxRdbVersion;
        }
        appendRestore(w, r.key, type, payload, version, r.expireAtMs, false, r.idle, r.idle === undefined ? r.freq : undefined);
        keys++;
        if (w.pos >= 1 << 20) writeSync(fd, w.finish());
      }
    }
    writeSync(fd, w.finish());
  } finally {
    closeSync(fd);
  }
  return keys;
}

function pipeOnce(port, file) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn('redis-cli', ['-p', String(port), '--pipe'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    createReadStream(file).pipe(p.stdin);
    p.once('error', reject);
    p.once('exit', (code) => {
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0 || !/errors: 0,/.test(out)) reject(new Error(`redis-cli --pipe failed (${code}): ${out.trim().split('\n').pop()}`));
      else resolve(s);
    });
  });
}

async function importOnce(rdbPath, url, outDir, extra = {}) {
  const { importWithOutcome } = await import(join(DIST, 'commands', 'import.js'));
  const write = process.stderr.write;
  process.stderr.write = () => true; // keep the bench table clean
  const t0 = process.hrtime.bigint();
  try {
    const r = await importWithOutcome({ input: rdbPath, target: url, live: true, yes: true, progress: false, 'out-dir': outDir, json: false, 'ignore-checksum': false, 'allow-future-version': false, ...extra });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.exitCode !== 0) throw new Error(`import failed: ${JSON.stringify(r.report.error_keys?.slice(0, 3) ?? r.report)}`);
    return { seconds: s, keys: r.report.import.created + r.report.import.replaced };
  } finally {
    process.stderr.write = write;
  }
}

/** `redis-cli --pipe < file` as a whole process (shell redirect, no node in between): { s, rssKiB }. */
function pipeProcessOnce(port, file, work) {
  const out = join(work, 'pipe.out');
  const t = timeOnce('redis-cli', ['-p', String(port), '--pipe'], { stdin: file, stdout: out });
  const text = readFileSync(out, 'utf8');
  if (!/errors: 0,/.test(text)) throw new Error(`redis-cli --pipe failed: ${text.trim().split('\n').pop()}`);
  return { s: t.wall, rssKiB: t.rssKiB };
}

/** `rekey import <inputs> --live` as a whole process, spawn to exit: { s, rssKiB }. */
export function importCliOnce(inputs, url, outDir, extra = []) {
  const t = timeOnce(process.execPath, [join(DIST, 'cli.js'), 'import', ...[inputs].flat(), '--target', url, '--live', '--yes', '--no-progress', '--quiet', '--out-dir', outDir, ...extra]);
  if (t.status !== 0) throw new Error(`rekey import exited ${t.status}: ${t.stderr.trim().split('\n').slice(-2).join(' ')}`);
  return { s: t.wall, rssKiB: t.rssKiB };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Rows: { bench, keys, seconds (median), keys_per_s (median), best_keys_per_s, rss, note }.
 * `rounds` in-process alternations of pipe / import (default window) / import (window `bigWindow`) against one
 * standalone server, then ≥ 3 whole-process alternations of redis-cli --pipe / rekey import (a fresh server
 * each), then one in-process cluster import.
 */
export async function runImportBench({ rdbPath, rounds = 3, cluster = true, bigWindow = 1000 } = {}) {
  if (spawnSync('redis-cli', ['--version']).status !== 0) throw new Error('redis-cli is not on PATH');
  const work = mkdtempSync(join(tmpdir(), 'rekey-bench-import-'));
  const rows = [];
  const server = await startServer();
  try {
    const info = await rawCommand(server.port, ['INFO', 'server']);
    const version = /redis_version:([\d.]+)/.exec(info)?.[1] ?? '0';
    const { redisRdbVersion } = await import(join(DIST, 'redis', 'server-versions.js'));
    const stream = join(work, 'restore.resp');
    const streamKeys = await writeRestoreStream(rdbPath, stream, redisRdbVersion(version));
    const pipeS = [];
    const variants = [
      { label: 'rekey import --live', extra: {}, s: [], keys: 0 },
      { label: `rekey import --live --pipeline ${bigWindow}`, extra: { pipeline: bigWindow }, s: [], keys: 0 },
    ];
    for (let i = 0; i < rounds; i++) {
      await rawCommand(server.port, ['FLUSHALL'], 60000);
      pipeS.push(await pipeOnce(server.port, stream));
      // Alternate which import goes first, so the cold (first) run does not always hit the same one.
      const order = i % 2 === 0 ? variants : [...variants].reverse();
      for (const v of order) {
        const j = variants.indexOf(v);
        await rawCommand(server.port, ['FLUSHALL'], 60000);
        const r = await importOnce(rdbPath, server.url, join(work, `out${i}_${j}`), v.extra);
        v.s.push(r.seconds);
        v.keys = r.keys;
      }
    }
    const pipeRate = streamKeys / median(pipeS);
    const pipeBest = streamKeys / Math.min(...pipeS);
    rows.push({ bench: `in-process: redis-cli --pipe, same RESTORE stream (redis ${version})`, keys: streamKeys, seconds: +median(pipeS).toFixed(3), keys_per_s: Math.round(pipeRate), best_keys_per_s: Math.round(pipeBest), rss: '', note: `${rounds} runs; the stream piped through this node process` });
    for (const v of variants) {
      const rate = v.keys / median(v.s);
      const best = v.keys / Math.min(...v.s);
      rows.push({ bench: `in-process: ${v.label} → redis-server ${version}`, keys: v.keys, seconds: +median(v.s).toFixed(3), keys_per_s: Math.round(rate), best_keys_per_s: Math.round(best), rss: '', note: `${(median(v.s) / median(pipeS)).toFixed(2)}× the time of redis-cli --pipe (median; warm process, no CLI start)` });
    }

    // Whole processes, as a user runs them: a fresh redis-server for every run (its start not timed),
    // both reading a file on disk, alternating which goes first.
    const whole = { pipe: [], rekey: [], pipeRss: 0, rekeyRss: 0 };
    for (let i = 0; i < Math.max(3, rounds); i++) {
      for (const which of i % 2 === 0 ? ['pipe', 'rekey'] : ['rekey', 'pipe']) {
        const fresh = await startServer();
        try {
          const r = which === 'pipe' ? pipeProcessOnce(fresh.port, stream, work) : importCliOnce(rdbPath, fresh.url, join(work, `proc${i}`));
          const got = Number(/db0:keys=(\d+)/.exec(await rawCommand(fresh.port, ['INFO', 'keyspace']))?.[1] ?? 0);
          if (got !== streamKeys) throw new Error(`${which}: the target holds ${got} keys, expected ${streamKeys}`);
          whole[which].push(r.s);
          whole[`${which}Rss`] = Math.max(whole[`${which}Rss`], r.rssKiB);
        } finally {
          await fresh.stop();
        }
      }
    }
    const mib = (k) => (Number.isFinite(k) ? `${(k / 1024).toFixed(0)} MiB` : 'n/a');
    const wp = median(whole.pipe);
    const wr = median(whole.rekey);
    rows.push({ bench: `whole process: redis-cli --pipe < restore.resp (redis ${version})`, keys: streamKeys, seconds: +wp.toFixed(3), keys_per_s: Math.round(streamKeys / wp), best_keys_per_s: Math.round(streamKeys / Math.min(...whole.pipe)), rss: mib(whole.pipeRss), note: `${whole.pipe.length} runs, a fresh server each` });
    rows.push({ bench: `whole process: rekey import <rdb> --live → redis-server ${version}`, keys: streamKeys, seconds: +wr.toFixed(3), keys_per_s: Math.round(streamKeys / wr), best_keys_per_s: Math.round(streamKeys / Math.min(...whole.rekey)), rss: mib(whole.rekeyRss),
      note: `**${(wr / wp).toFixed(2)}× the time of redis-cli --pipe** (median; CLI start, dump read, ledger and report included)` });
  } finally {
    await server.stop();
  }
  if (cluster) {
    const cl = await startCluster(3);
    try {
      const r = await importOnce(rdbPath, cl.url, join(work, 'cluster'), { 'to-db': 0 });
      rows.push({ bench: 'in-process: rekey import --live → 3-master cluster (local)', keys: r.keys, seconds: +r.seconds.toFixed(3), keys_per_s: Math.round(r.keys / r.seconds), best_keys_per_s: Math.round(r.keys / r.seconds), rss: '', note: 'one pipeline per master, --to-db 0' });
    } finally {
      await cl.stop();
    }
  }
  rmSync(work, { recursive: true, force: true });
  return rows;
}

// `node bench/import.mjs <file.rdb>` runs it on its own.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rdbPath = process.argv[2];
  if (!rdbPath) {
    process.stderr.write('usage: node bench/import.mjs <file.rdb> [rounds]\n');
    process.exit(2);
  }
  const rows = await runImportBench({ rdbPath, rounds: Number(process.argv[3] ?? 3) });
  console.table(rows);
}
