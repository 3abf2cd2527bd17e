// `npm run bench`: times rekey's jobs as whole processes (median of several runs) beside the
// baselines on the same files, and prints one markdown table (also saved to bench/results/).
import { existsSync, mkdirSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { benchClusterRdbs, benchLargeRdb, benchRdb } from './data.mjs';
import { PEER_JOBS, rdbCli, rdbCliArgs } from './peers.mjs';
import { markdown as classifyMarkdown, runClassifyBench } from './classify.mjs';
import { importCliOnce, runImportBench, startCluster } from './import.mjs';
import { machine, timeMedian, startRedis } from './lib.mjs';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const sizes = (process.env.BENCH_SIZES ?? '100000,1000000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const out = join(tmpdir(), `rekey-bench-out-${process.pid}`);
mkdirSync(out, { recursive: true });
const rules = join(root, 'examples', 'meta-glasses.rules.yaml');

const rows = [];
/** One table row; `baseline` is one { wall, name } or several (each gets its ratio). */
function row(job, n, bytes, t, baseline) {
  const bases = baseline ? [baseline].flat() : [];
  rows.push({
    job, keys: n,
    seconds: t.wall.toFixed(2),
    keysPerSec: n ? Math.round(n / t.wall).toLocaleString('en-US') : '',
    mbPerSec: bytes ? (bytes / 1048576 / t.wall).toFixed(1) : '',
    rss: Number.isFinite(t.rssKiB) ? `${(t.rssKiB / 1024).toFixed(0)} MiB` : 'n/a',
    vs: bases.map((b) => `${(t.wall / b.wall).toFixed(2)}× ${b.name}`).join('; '),
  });
}

function loadTime(rdb) {
  // Whole start-to-PING time of a redis-server loading the file.
  const t0 = process.hrtime.bigint();
  return startRedis({ rdb }).then(async (s) => {
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const st = spawnSync('sh', ['-c', `grep VmHWM /proc/${s.child.pid}/status`], { encoding: 'utf8' });
    await s.stop();
    return { wall, rssKiB: Number((st.stdout.match(/(\d+)/) ?? [])[1]) };
  });
}

// CLI start: `rekey --version` / `--help` as whole processes (median of 10) beside a bare `node -e 0`.
{
  const node = process.execPath;
  const bare = { ...timeMedian(10, node, ['-e', '0']), name: 'node -e 0' };
  row('node -e 0 (baseline)', 0, 0, bare);
  row('rekey --version (CLI start)', 0, 0, timeMedian(10, node, [cli, '--version']), bare);
  row('rekey --help (CLI start)', 0, 0, timeMedian(10, node, [cli, '--help']), bare);
}

const peer = rdbCli();
// rdb-cli's RESTORE needs the target version; the bench dumps come from this redis-server.
const redisVer = /v=(\d+\.\d+)/.exec(spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? '7.0';
if (peer.reason) console.error(`bench: skipping the librdb peer: ${peer.reason}`);

for (const n of sizes) {
  const rdb = await benchRdb(n);
  const bytes = statSync(rdb).size;
  const check = { ...timeMedian(RUNS, 'redis-check-rdb', [rdb]), name: 'redis-check-rdb' };
  row('redis-check-rdb (baseline)', n, bytes, check);
  const load = { ...(await loadTime(rdb)), name: 'redis-server load' };
  row('redis-server load (baseline)', n, bytes, load);
  const node = process.execPath;
  row('rekey parse (walk only)', n, bytes, timeMedian(RUNS, node, [join(root, 'bench', 'decode.mjs'), rdb, '--raw']), check);
  row('rekey decode (every value)', n, bytes, timeMedian(RUNS, node, [join(root, 'bench', 'decode.mjs'), rdb]), check);
  const jobs = [
    ['analyze', ['analyze', rdb, '--json', '--out-dir', out]],
    ['analyze --rules', ['analyze', rdb, '--json', '--rules', rules, '--out-dir', out]],
    ['analyze --verify', ['analyze', rdb, '--json', '--verify', '--out-dir', out]],
    ['transform rdb→rdb --rules', ['transform', rdb, '-o', join(out, 'o.rdb'), '--rules', rules, '--out-dir', out]],
    ['transform rdb→jsonl', ['transform', rdb, '-o', join(out, 'o.jsonl'), '--out-dir', out]],
    ['transform rdb→jsonl --jobs 2', ['transform', rdb, '-o', join(out, 'o.jsonl'), '--jobs', '2', '--out-dir', out]],
    ['transform rdb→resp', ['transform', rdb, '-o', join(out, 'o.resp'), '--out-dir', out]],
  ];
  // librdb's rdb-cli on the same file: rekey's JSONL / RESP jobs get its time as a second ratio.
  const peerRuns = {};
  if (peer.path) {
    for (const [label, fmt, opts, job] of PEER_JOBS) {
      try {
        const t = { ...timeMedian(RUNS, peer.path, rdbCliArgs(rdb, fmt, join(out, `peer.${fmt}`), { ...opts, redisVer })), name: label.replace(/^librdb | \(peer.*$/g, '') };
        if (job) peerRuns[job] = t;
        row(label, n, bytes, t, check);
      } catch (e) {
        rows.push({ job: label, keys: n, seconds: 'failed', keysPerSec: '', mbPerSec: '', rss: '', vs: String(e.message).split('\n')[0].slice(0, 80) });
      }
    }
  }
  for (const [name, argv] of jobs) {
    try {
      row(`rekey ${name}`, n, bytes, timeMedian(RUNS, node, [cli, ...argv]), peerRuns[name.replace(/ --jobs \d+$/, '')] ? [check, peerRuns[name.replace(/ --jobs \d+$/, '')]] : check);
    } catch (e) {
      rows.push({ job: `rekey ${name}`, keys: n, seconds: 'failed', keysPerSec: '', mbPerSec: '', rss: '', vs: String(e.message).split('\n')[0].slice(0, 80) });
    }
  }
}

// A 3-master cluster backup (the smallest size's keys split by slot): one analyze over the three files
// as one dataset, beside redis-check-rdb run over each file in turn.
if (process.env.BENCH_CLUSTER !== '0') {
  const n = sizes[0];
  const files = await benchClusterRdbs(n);
  const bytes = files.reduce((t, f) => t + statSync(f).size, 0);
  const per = files.map((f) => timeMedian(RUNS, 'redis-check-rdb', [f]));
  const check = { wall: per.reduce((t, x) => t + x.wall, 0), rssKiB: Math.max(...per.map((x) => x.rssKiB)), name: 'redis-check-rdb ×3' };
  row('redis-check-rdb, 3 shard files in turn (baseline)', n, bytes, check);
  try {
    row('rekey analyze, 3-file cluster backup', n, bytes, timeMedian(RUNS, process.execPath, [cli, 'analyze', ...files, '--json', '--out-dir', out]), check);
  } catch (e) {
    rows.push({ job: 'rekey analyze, 3-file cluster backup', keys: n, seconds: 'failed', keysPerSec: '', mbPerSec: '', rss: '', vs: String(e.message).split('\n')[0].slice(0, 80) });
  }
  const node = process.execPath;
  const multi = [
    ['rekey transform, 3 files → one merged rdb --rules', ['transform', ...files, '-o', join(out, 'merged.rdb'), '--rules', rules, '--out-dir', out]],
    ['rekey transform, 3 files → one jsonl', ['transform', ...files, '-o', join(out, 'merged.jsonl'), '--out-dir', out]],
  ];
  for (const [name, argv] of multi) {
    try {
      row(name, n, bytes, timeMedian(RUNS, node, [cli, ...argv]), check);
    } catch (e) {
      rows.push({ job: name, keys: n, seconds: 'failed', keysPerSec: '', mbPerSec: '', rss: '', vs: String(e.message).split('\n')[0].slice(0, 80) });
    }
  }
  // The 3 files into a fresh local 3-master cluster per run (its start not timed), whole process.
  if (process.env.BENCH_IMPORT !== '0') {
    const name = 'rekey import --live, 3 files → 3-master cluster';
    try {
      const runs = [];
      for (let i = 0; i < RUNS; i++) {
        const cl = await startCluster(3);
        try {
          runs.push(importCliOnce(files, cl.url, join(out, `cl${i}`), ['--to-db', '0']));
        } finally {
          await cl.stop();
        }
      }
      runs.sort((a, b) => a.s - b.s);
      row(name, n, bytes, { wall: runs[Math.floor(runs.length / 2)].s, rssKiB: Math.max(...runs.map((r) => r.rssKiB)) }, check);
    } catch (e) {
      rows.push({ job: name, keys: n, seconds: 'failed', keysPerSec: '', mbPerSec: '', rss: '', vs: String(e.message).split('\n')[0].slice(0, 80) });
    }
  }
}

// Few very large values: RSS is bounded by the largest single value (streaming holds one value).
if (process.env.BENCH_LARGE !== '0') {
  const big = await benchLargeRdb();
  const bytes = statSync(big).size;
  const check = { ...timeMedian(RUNS, 'redis-check-rdb', [big]), name: 'redis-check-rdb' };
  row('redis-check-rdb large values (baseline)', 3, bytes, check);
  const node = process.execPath;
  row('rekey parse large values', 3, bytes, timeMedian(RUNS, node, [join(root, 'bench', 'decode.mjs'), big, '--raw']), check);
  row('rekey decode large values', 3, bytes, timeMedian(RUNS, node, [join(root, 'bench', 'decode.mjs'), big]), check);
  row('rekey transform large rdb→rdb', 3, bytes, timeMedian(RUNS, node, [cli, 'transform', big, '-o', join(out, 'big.rdb'), '--out-dir', out]), check);
  row('rekey transform large rdb→jsonl', 3, bytes, timeMedian(RUNS, node, [cli, 'transform', big, '-o', join(out, 'big.jsonl'), '--out-dir', out]), check);
}

const classifyRows = await runClassifyBench();
// Import: into a local redis-server beside redis-cli --pipe of the same RESTORE stream, and a 3-master cluster.
const importSize = sizes.includes(1_000_000) ? 1_000_000 : sizes[0];
const importRows = process.env.BENCH_IMPORT === '0' ? [] : await runImportBench({ rdbPath: await benchRdb(importSize), rounds: RUNS });
const importTable = ['| import | keys | s (median) | keys/s (median) | best keys/s | peak RSS | notes |', '|---|---:|---:|---:|---:|---:|---|',
  ...importRows.map((r) => `| ${r.bench} | ${r.keys.toLocaleString('en-US')} | ${r.seconds} | ${r.keys_per_s.toLocaleString('en-US')} | ${r.best_keys_per_s.toLocaleString('en-US')} | ${r.rss ?? ''} | ${r.note} |`)].join('\n');

const header = '| job | keys | s (median) | keys/s | MB/s | peak RSS | vs baseline |\n|---|---:|---:|---:|---:|---:|---|';
const table = [header, ...rows.map((r) => `| ${r.job} | ${r.keys.toLocaleString('en-US')} | ${r.seconds} | ${r.keysPerSec} | ${r.mbPerSec} | ${r.rss} | ${r.vs} |`)].join('\n');
const text = `# rekey benchmark ${new Date().toISOString()}\n\nMachine: ${machine()}. Median of ${RUNS} runs after one warm-up; whole processes; peak RSS is the largest of the runs (GNU time). Shared machine: the numbers are noisy.${peer.reason ? ` librdb peer skipped: ${peer.reason}.` : ''}\n\n${table}\n\n## Import (live servers on loopback)\n\nWhole-process rows time each command from spawn to exit as a user runs it (node start, module loading, the dump read from disk, ledger and report written; redis-cli reads the RESTORE stream rekey would send from a file), each into a fresh redis-server, median of ≥ 3. In-process rows call the import inside the already-running bench process (no CLI start): the bench's former figure.\n\n${importTable}\n\n## Rules (in-process)\n\n${classifyMarkdown(classifyRows)}\n`;
console.log(text);
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', `${new Date().toISOString().slice(0, 10)}.md`), text);
rmSync(out, { recursive: true, force: true });
