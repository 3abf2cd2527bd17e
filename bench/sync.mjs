// `npm run bench:sync`: commands/s that `rekey sync` applies to its target, beside a plain
// `redis-server --replicaof` replica on the same write load. Each consumer is caught up, then paused
// (SIGSTOP) while redis-benchmark writes BENCH_SYNC_N requests of each of SET/INCR/LPUSH/HSET to a fresh
// source (no output-buffer limit, so the source holds the backlog), then resumed (SIGCONT): the figure
// is the write count over the time from SIGCONT until a sentinel written last is readable on the
// consumer, i.e. the drain rate of the stream. Printed as a table, never asserted.
// BENCH_SYNC_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the rekey process.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machine, startRedis } from './lib.mjs';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const N = Number(process.env.BENCH_SYNC_N ?? 100_000);
const TESTS = ['set', 'incr', 'lpush', 'hset'];
const WRITES = N * TESTS.length;
const SOURCE_ARGS = ['--repl-backlog-size', '1gb', '--client-output-buffer-limit', 'replica 0 0 0', '--repl-timeout', '600'];
const tmp = mkdtempSync(join(tmpdir(), 'rekey-bench-sync-'));
const rules = join(tmp, 'rules.yaml');
// redis-benchmark's keys: key:<n> (SET), counter:<n> (INCR), mylist (LPUSH), myhash (HSET)
writeFileSync(rules, `version: 1
unmatched: keep
rules:
  - name: strings
    match: "key:{n}"
    rename: "k:{n}"
  - name: counters
    match: "counter:{n}"
    rename: "c:{n}"
  - name: list
    match: "mylist"
    rename: "list:new"
`);

const cliCall = (port, ...args) => spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, ok, ms = 600_000) {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`bench:sync: timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Write the load while the consumer is stopped; resume it and time the drain. */
async function measure(name, source, consumerPid, consumerPort) {
  await sleep(200);
  cliCall(source.port, 'SET', 'bench:sentinel', 'warm');
  await until('the warm-up sentinel', () => cliCall(consumerPort, 'GET', 'bench:sentinel') === 'warm');
  process.kill(consumerPid, 'SIGSTOP');
  const t0 = process.hrtime.bigint();
  const b = spawnSync('redis-benchmark', ['-h', '127.0.0.1', '-p', String(source.port), '-n', String(N), '-P', '64', '-r', '100000', '-t', TESTS.join(','), '-q'], { encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`redis-benchmark failed: ${b.stderr}`);
  const loadSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  cliCall(source.port, 'SET', 'bench:sentinel', 'done');
  const backlog = Number(/master_repl_offset:(\d+)/.exec(cliCall(source.port, 'INFO', 'replication'))?.[1] ?? 0);
  const t1 = process.hrtime.bigint();
  process.kill(consumerPid, 'SIGCONT');
  await until('the sentinel on the consumer', () => cliCall(consumerPort, 'GET', 'bench:sentinel') === 'done');
  const drain = Number(process.hrtime.bigint() - t1) / 1e9;
  return { name, drain, rate: WRITES / drain, loadRate: WRITES / loadSeconds, backlog };
}

async function replica() {
  const source = await startRedis({ args: SOURCE_ARGS });
  const r = await startRedis({ args: ['--replicaof', '127.0.0.1', String(source.port), '--repl-timeout', '600'] });
  try {
    await until('the replica link', () => /master_link_status:up/.test(cliCall(r.port, 'INFO', 'replication')), 60_000);
    return await measure('redis-server --replicaof (plain replica, no renaming)', source, r.child.pid, r.port);
  } finally {
    await Promise.all([r.stop(), source.stop()]);
  }
}

async function rekey() {
  const source = await startRedis({ args: SOURCE_ARGS });
  const target = await startRedis();
  const child = spawn(process.execPath, [...(process.env.BENCH_SYNC_NODE_ARGS ?? '').split(' ').filter(Boolean), cli, 'sync', `redis://127.0.0.1:${source.port}`, '--target', `redis://127.0.0.1:${target.port}`, '--rules', rules, '--out-dir', join(tmp, 'out'), '--status-interval', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  try {
    await until('rekey sync streaming', () => /snapshot loaded/.test(err) || child.exitCode !== null, 60_000);
    if (child.exitCode !== null) throw new Error(`rekey sync exited ${child.exitCode}: ${err}`);
    const m = await measure('rekey sync (renaming by rules, batch 5000)', source, child.pid, target.port);
    const renamed = cliCall(target.port, 'EXISTS', 'list:new') === '1' && cliCall(target.port, 'EXISTS', 'mylist') === '0';
    if (!renamed) throw new Error('bench:sync: the target does not hold the renamed list');
    return m;
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    await Promise.all([target.stop(), source.stop()]);
  }
}

try {
  const rows = [await replica(), await rekey()];
  const base = rows[0];
  const table = [
    `| consumer | writes | stream bytes | drain s | applied commands/s | vs replica | load commands/s (redis-benchmark -P 64) |`,
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${WRITES.toLocaleString('en-US')} | ${r.backlog.toLocaleString('en-US')} | ${r.drain.toFixed(2)} | ${Math.round(r.rate).toLocaleString('en-US')} | ${(r.rate / base.rate).toFixed(2)}× | ${Math.round(r.loadRate).toLocaleString('en-US')} |`),
  ].join('\n');
  console.log(`# rekey sync benchmark ${new Date().toISOString()}\n\nMachine: ${machine()}. One run each; shared machine, noisy.\n\n${table}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
