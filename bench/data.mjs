// Deterministic synthetic dumps for the benchmarks, made by a real redis-server (fed with
// redis-cli --pipe, then SAVE) and cached outside the repository.
import { spawn } from 'node:child_process';
import { existsSync, copyFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE, startRedis } from './lib.mjs';

// the project's seeded PRNG (mulberry32), from the build bench/run.mjs makes first
const { seededRandom: rng } = await import(new URL('../dist/analyze/stats.js', import.meta.url).href);

const enc = (args) => {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return s;
};

const P = 'josancamon:rayban-meta-glasses-api:';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Commands for key i: mixed types in realistic proportions, the guide's five patterns included. */
function* commandsFor(i, r) {
  const ttl = r() < 0.3 ? 86_400_000 * (1 + Math.floor(r() * 60)) : 0;
  const pick = r();
  let key;
  if (pick < 0.25) {
    let b = '';
    for (let j = 0; j < 24; j++) b += B64[Math.floor(r() * 64)];
    key = `${P}${b}${i}`;
    yield enc(['SET', key, JSON.stringify({ cached: i, payload: 'x'.repeat(20 + Math.floor(r() * 200)) })]);
  } else if (pick < 0.35) {
    key = `${P}reminder:evt_${i}`;
    yield enc(['HSET', key, 'title', `Reminder ${i}`, 'at', String(1767225600000 + i), 'user', `u${i % 5000}`]);
  } else if (pick < 0.42) {
    key = `${P}conversation_history:user_${i}`;
    const n = 1 + Math.floor(r() * 20);
    const args = ['RPUSH', key];
    for (let j = 0; j < n; j++) args.push(JSON.stringify({ role: j % 2 ? 'assistant' : 'user', text: `message ${j} of ${i}` }));
    yield enc(args);
  } else if (pick < 0.5) {
    key = `${P}user_profile:user_${i}`;
    yield enc(['HSET', key, 'name', `User ${i}`, 'lang', 'en', 'tz', 'UTC', 'plan', r() < 0.5 ? 'free' : 'pro']);
  } else if (pick < 0.53) {
    key = `${P}cancellation:wa:${i}`;
    yield enc(['SET', key, '1']);
  } else if (pick < 0.7) {
    key = `session:${i}`;
    yield enc(['SET', key, String(Math.floor(r() * 1e9))]);
  } else if (pick < 0.8) {
    key = `cache:page:${i}`;
    yield enc(['SET', key, 'lorem ipsum dolor sit amet '.repeat(1 + Math.floor(r() * 8))]);
  } else if (pick < 0.87) {
    key = `tags:${i}`;
    const args = ['SADD', key];
    const n = 1 + Math.floor(r() * 12);
    for (let j = 0; j < n; j++) args.push(r() < 0.5 ? String(Math.floor(r() * 1000)) : `tag${Math.floor(r() * 100)}`);
    yield enc(args);
  } else if (pick < 0.93) {
    key = `leaderboard:${i}`;
    const args = ['ZADD', key];
    const n = 1 + Math.floor(r() * 15);
    for (let j = 0; j < n; j++) args.push(String((r() * 1000).toFixed(2)), `player${j}`);
    yield enc(args);
  } else if (pick < 0.99) {
    key = `queue:${i}`;
    const args = ['RPUSH', key];
    const n = 1 + Math.floor(r() * 30);
    for (let j = 0; j < n; j++) args.push(String(j * 7));
    yield enc(args);
  } else {
    key = `events:${i}`;
    const n = 1 + Math.floor(r() * 5);
    for (let j = 0; j < n; j++) yield enc(['XADD', key, `${1700000000000 + j}-${i}`, 'type', 'click', 'n', String(j)]);
    if (r() < 0.3) yield enc(['XGROUP', 'CREATE', key, 'g1', '0']);
  }
  if (ttl) yield enc(['PEXPIRE', key, String(ttl)]);
}

/**
 * Cache `name` in CACHE: when missing, start a redis-server, let `feed(send)` stream RESP commands
 * into redis-cli --pipe, SAVE, and keep the dump (renamed into place only when complete).
 */
async function cachedDump(name, what, feed) {
  const path = join(CACHE, name);
  if (existsSync(path)) return path;
  process.stderr.write(`bench: generating ${what} with redis-server (cached in ${CACHE})\n`);
  const srv = await startRedis();
  try {
    const cli = spawn('redis-cli', ['-p', String(srv.port), '--pipe'], { stdio: ['pipe', 'ignore', 'inherit'] });
    let buf = '';
    const send = async (s) => {
      buf += s;
      if (buf.length < 1 << 20) return;
      const out = buf;
      buf = '';
      if (!cli.stdin.write(out)) await new Promise((res) => cli.stdin.once('drain', res));
    };
    await feed(send);
    cli.stdin.end(buf);
    await new Promise((res, rej) => cli.once('exit', (code) => (code === 0 ? res() : rej(new Error(`redis-cli --pipe exited ${code}`)))));
    const save = spawn('redis-cli', ['-p', String(srv.port), 'SAVE'], { stdio: 'ignore' });
    await new Promise((res) => save.once('exit', res));
    copyFileSync(join(srv.dir, 'dump.rdb'), path + '.tmp');
    renameSync(path + '.tmp', path);
  } finally {
    await srv.stop();
  }
  return path;
}

/** Path of the cached n-key mixed dump, generating it when missing. */
export function benchRdb(n) {
  return cachedDump(`mixed-${n}.rdb`, `${n}-key dump`, async (send) => {
    const r = rng(42);
    for (let i = 0; i < n; i++) for (const c of commandsFor(i, r)) await send(c);
  });
}

/** A dump of a few very large values: a 200 MB string, a 2M-field hash, a 1M-entry stream. */
export function benchLargeRdb() {
  return cachedDump('large-values.rdb', 'the large-value dump', async (send) => {
    // 200 MB string, appended in 1 MB pieces of varied bytes (not trivially compressible).
    const r = rng(7);
    for (let i = 0; i < 200; i++) {
      let piece = '';
      while (piece.length < 1 << 20) piece += B64[Math.floor(r() * 64)].repeat(1 + Math.floor(r() * 16));
      await send(enc(['APPEND', 'big:string', piece.slice(0, 1 << 20)]));
    }
    for (let i = 0; i < 2_000_000; i += 1000) {
      const args = ['HSET', 'big:hash'];
      for (let j = i; j < i + 1000; j++) args.push(`field:${j}`, `value-${j * 7}`);
      await send(enc(args));
    }
    for (let i = 1; i <= 1_000_000; i++) {
      await send(enc(['XADD', 'big:stream', `${1700000000000 + i}-0`, 'n', String(i), 'kind', i % 3 ? 'view' : 'click']));
    }
  });
}

/**
 * A 3-master cluster backup: the n keys of benchRdb(n) split by hash slot into 3 dumps, master i holding
 * slots [i·16384/3, (i+1)·16384/3) as a cluster would. Needs dist/ (the slot function).
 */
export async function benchClusterRdbs(n, shards = 3) {
  const { keySlot } = await import(join(import.meta.dirname, '..', 'dist', 'redis', 'slot.js'));
  const paths = [];
  for (let s = 0; s < shards; s++) {
    const lo = Math.floor((s * 16384) / shards);
    const hi = Math.floor(((s + 1) * 16384) / shards);
    paths.push(await cachedDump(`cluster-${n}-${s + 1}of${shards}.rdb`, `shard ${s + 1}/${shards} of the ${n}-key dump`, async (send) => {
      const r = rng(42);
      for (let i = 0; i < n; i++) {
        const cmds = [...commandsFor(i, r)];
        // Every key's first command names the key as its first argument: *N $len CMD $len KEY.
        const key = (cmds[0] ?? '').split('\r\n')[4] ?? '';
        const slot = keySlot(Buffer.from(key));
        if (slot >= lo && slot < hi) for (const c of cmds) await send(c);
      }
    }));
  }
  return paths;
}
