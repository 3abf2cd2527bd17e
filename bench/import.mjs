// Import throughput for `npm run bench` (built code in dist/): keys/s of `rekey import --live` from an RDB
// into a local redis-server, beside `redis-cli --pipe` fed the same RESTORE stream (the exact bytes the
// import sends: same payloads, footers, ABSTTL/IDLETIME/FREQ) in the same run, and into a local 3-master
// cluster. Runs alternate (pipe, import, pipe, import, …) so both see the same machine load; the table
// shows the median and the best of each.
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

async function startCluster(n) {
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

/**
 * `rekey import --live` as a user runs it: a whole process (node start, CLI and module loading,
 * the dump read, the ledger and report written), timed from spawn to exit, like `redis-cli --pipe`.
 */
function importProcessOnce(rdbPath, url, outDir) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(process.execPath, [join(DIST, 'cli.js'), 'import', rdbPath, '--target', url, '--live', '--yes', '--no-progress', '--out-dir', outDir],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.once('error', reject);
    p.once('exit', (code) => {
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) reject(new Error(`rekey import exited ${code}: ${err.trim().split('\n').pop()}`));
      else resolve(s);
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Rows: { bench, keys, seconds (median), keys_per_s (median), best_keys_per_s, note }.
 * `rounds` alternations of pipe / import (default window) / import (a smaller window `bigWindow`) against one
 * standalone server (default 3), then one cluster import.
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
    const processS = [];
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
      await rawCommand(server.port, ['FLUSHALL'], 60000);
      processS.push(await importProcessOnce(rdbPath, server.url, join(work, `proc${i}`)));
    }
    const pipeRate = streamKeys / median(pipeS);
    const pipeBest = streamKeys / Math.min(...pipeS);
    rows.push({ bench: `redis-cli --pipe, same RESTORE stream (redis ${version})`, keys: streamKeys, seconds: +median(pipeS).toFixed(3), keys_per_s: Math.round(pipeRate), best_keys_per_s: Math.round(pipeBest), note: `${rounds} runs, alternating with the imports` });
    for (const v of variants) {
      const rate = v.keys / median(v.s);
      const best = v.keys / Math.min(...v.s);
      rows.push({ bench: `${v.label} → redis-server ${version}`, keys: v.keys, seconds: +median(v.s).toFixed(3), keys_per_s: Math.round(rate), best_keys_per_s: Math.round(best), note: `${(rate / pipeRate).toFixed(2)}× redis-cli --pipe (median; best ${(best / pipeBest).toFixed(2)}×)` });
    }
    // The same import as a whole process, timed as a user does: the time ratio to redis-cli --pipe
    // (a process too), which is what "1.38×" meant; the in-process rows leave out node's start.
    const keys = variants[0].keys;
    rows.push({ bench: `rekey import --live, whole process (CLI start included) → redis-server ${version}`, keys, seconds: +median(processS).toFixed(3), keys_per_s: Math.round(keys / median(processS)), best_keys_per_s: Math.round(keys / Math.min(...processS)),
      note: `${(median(processS) / median(pipeS)).toFixed(2)}× the time of redis-cli --pipe (median; in-process ${(median(variants[0].s) / median(pipeS)).toFixed(2)}×)` });
  } finally {
    await server.stop();
  }
  if (cluster) {
    const cl = await startCluster(3);
    try {
      const r = await importOnce(rdbPath, cl.url, join(work, 'cluster'), { 'to-db': 0 });
      rows.push({ bench: 'rekey import --live → 3-master cluster (local)', keys: r.keys, seconds: +r.seconds.toFixed(3), keys_per_s: Math.round(r.keys / r.seconds), best_keys_per_s: Math.round(r.keys / r.seconds), note: 'one pipeline per master, --to-db 0' });
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
