#!/usr/bin/env node
/**
 * Fixtures from real servers: for each server `npm run servers` cached, start it (loopback, temp dir,
 * `--save ''`), write one deterministic data set of every type and encoding that server supports, SAVE,
 * and copy the snapshot to fixtures/servers/<server>.rdb. Beside it, <server>.truth.jsonl is the
 * server's own readback (its commands, not our decoder) in the corpus truth shape
 * (test/helpers/truth.ts), and <server>.meta.json says which features the server had.
 *
 *   node scripts/server-fixtures.mjs [--only redis-6.2,valkey-9]
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUtf8 } from 'node:buffer';
import { Redis } from 'ioredis';

const CACHE = process.env.REKEY_SERVERS_DIR || '/var/cache/rekey-servers';
const OUT = join(import.meta.dirname, '..', 'fixtures', 'servers');
const argv = process.argv.slice(2);
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1].split(',') : null;

/** Far-future absolute expiries (2100-01-01 + n ms) so fixtures never expire and stay byte-stable. */
const FAR = 4102444800000;

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });

async function startServer(bin, dir, debug) {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--dbfilename', 'dump.rdb', '--daemonize', 'no'];
  if (debug) args.push('--enable-debug-command', 'local');
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  for (let i = 0; i < 100; i++) {
    try {
      await client.connect();
      await client.ping();
      return { proc, client, port };
    } catch {
      client.disconnect();
      if (proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  proc.kill('SIGKILL');
  throw new Error(`${bin} did not start:\n${log.slice(-2000)}`);
}

const B = (s) => Buffer.from(s, 'utf8');
const tb = (buf) => (isUtf8(buf) ? buf.toString('utf8') : { b64: buf.toString('base64') });
const str = (x) => (Buffer.isBuffer(x) ? x.toString('latin1') : String(x));
/** A flat [k, v, k, v] reply as a Map with string keys. */
const pairs = (arr) => {
  const m = new Map();
  for (let i = 0; i + 1 < arr.length; i += 2) m.set(str(arr[i]), arr[i + 1]);
  return m;
};

async function has(c, cmd) {
  const r = await c.call('COMMAND', 'INFO', cmd);
  return Array.isArray(r) && r[0] !== null;
}

async function hasArg(c, cmd, arg) {
  try {
    const docs = await c.call('COMMAND', 'DOCS', cmd);
    return JSON.stringify(docs).toUpperCase().includes(`"${arg.toUpperCase()}"`);
  } catch {
    return false; // COMMAND DOCS is 7.0+
  }
}

/** Write the data set; returns the feature list and what this server could not hold. */
async function writeData(c) {
  const features = [];
  const absent = [];
  const run = (...a) => c.callBuffer(a[0], ...a.slice(1));
  await run('SELECT', '0');
  // strings: int, embstr, raw, LZF-compressible, binary, empty
  await run('SET', 'str:int', '12345');
  await run('SET', 'str:int-neg', '-9223372036854775808');
  await run('SET', 'str:embstr', 'hello world');
  await run('SET', 'str:raw', 'r'.repeat(20) + 'x'.repeat(60) + 'end');
  await run('SET', 'str:lzf', 'abcdefgh'.repeat(800));
  await run('SET', 'str:binary', Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
  await run('SET', 'str:empty', '');
  await run('SET', Buffer.from([0xff, 0x00, 0x3a, 0x80]), 'binary key');
  features.push('string');
  // lists: small (ziplist/listpack), big (quicklist of several nodes), numbers
  await run('RPUSH', 'list:small', 'a', 'b', 'c', '1', '-2', '300000');
  for (let i = 0; i < 1200; i += 200) await run('RPUSH', 'list:big', ...Array.from({ length: 200 }, (_, j) => `item:${i + j}:` + 'p'.repeat((i + j) % 13)));
  await run('RPUSH', 'list:long-element', 'L'.repeat(9000), 'short');
  features.push('list');
  // sets: intset, listpack (7.2+; hashtable before), hashtable
  await run('SADD', 'set:intset', ...Array.from({ length: 20 }, (_, i) => String(i * 7 - 30)));
  await run('SADD', 'set:small', 'apple', 'banana', 'cherry', '42');
  await run('SADD', 'set:big', ...Array.from({ length: 300 }, (_, i) => `member-${i}`));
  await run('SADD', 'set:bigint', '1', '2', '9223372036854775807', '-9223372036854775808');
  features.push('set');
  // sorted sets: small (ziplist/listpack), big (skiplist), special scores
  await run('ZADD', 'zset:small', '1', 'a', '2.5', 'b', '-inf', 'c', '+inf', 'd', '0.1', 'e', '-3', 'f');
  await run('ZADD', 'zset:big', ...Array.from({ length: 300 }, (_, i) => [String(i / 8), `z-${i}`]).flat());
  features.push('zset');
  // hashes: small (ziplist/listpack), big (hashtable)
  await run('HSET', 'hash:small', 'name', 'Ada', 'age', '36', 'n', '-12');
  await run('HSET', 'hash:big', ...Array.from({ length: 300 }, (_, i) => [`f${i}`, `v${i}`]).flat());
  features.push('hash');
  if (await has(c, 'HPEXPIREAT')) {
    await run('HSET', 'hash:ttl-small', 'a', '1', 'b', '2', 'c', '3', 'd', '4');
    await run('HPEXPIREAT', 'hash:ttl-small', String(FAR + 11), 'FIELDS', '2', 'a', 'c');
    await run('HSET', 'hash:ttl-big', ...Array.from({ length: 300 }, (_, i) => [`f${i}`, `v${i}`]).flat());
    await run('HPEXPIREAT', 'hash:ttl-big', String(FAR + 22), 'FIELDS', '100', ...Array.from({ length: 100 }, (_, i) => `f${i * 3}`));
    await run('HSET', 'hash:ttl-key', 'x', '1', 'y', '2');
    await run('HPEXPIREAT', 'hash:ttl-key', String(FAR + 33), 'FIELDS', '1', 'y');
    await run('PEXPIREAT', 'hash:ttl-key', String(FAR + 44));
    features.push('hash-field-ttl');
  } else absent.push('hash field TTLs: no HPEXPIREAT');
  // streams: entries over several nodes, groups, consumers, PEL (one of whose entries is deleted), trimmed
  for (let i = 1; i <= 6; i++) await run('XADD', 'stream:groups', `${1000 + i}-1`, 'n', String(i), 'who', i % 2 ? 'odd' : 'even');
  await run('XGROUP', 'CREATE', 'stream:groups', 'g1', '0');
  await run('XGROUP', 'CREATE', 'stream:groups', 'g2', '1003-1');
  await run('XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '3', 'STREAMS', 'stream:groups', '>');
  await run('XREADGROUP', 'GROUP', 'g1', 'bob', 'COUNT', '2', 'STREAMS', 'stream:groups', '>');
  await run('XACK', 'stream:groups', 'g1', '1001-1');
  await run('XGROUP', 'CREATECONSUMER', 'stream:groups', 'g2', 'carol');
  await run('XDEL', 'stream:groups', '1002-1'); // still pending for alice: a PEL entry without its message
  for (let i = 0; i < 250; i++) await run('XADD', 'stream:big', `${5000 + i}-0`, 'k', `v${i}`, 'i', String(i));
  for (let i = 1; i <= 10; i++) await run('XADD', 'stream:trimmed', `${i}-0`, 'x', String(i));
  await run('XTRIM', 'stream:trimmed', 'MAXLEN', '3');
  await run('XGROUP', 'CREATE', 'stream:empty', 'g', '$', 'MKSTREAM');
  features.push('stream');
  if (await hasArg(c, 'XADD', 'IDMP')) {
    await run('XADD', 'stream:idmp', 'IDMP', 'producer-1', 'req-1', '*', 'f', 'v');
    features.push('stream-idmp');
  } else absent.push('stream IDMP: XADD has no IDMP argument');
  if (await has(c, 'VADD')) {
    await run('VADD', 'vset:small', 'VALUES', '3', '0.1', '0.2', '0.3', 'e1');
    await run('VADD', 'vset:small', 'VALUES', '3', '0.5', '0.1', '0.9', 'e2');
    features.push('vectorset');
  } else absent.push('vector sets: no VADD');
  // key TTLs
  await run('SET', 'ttl:string', 'expires', 'PXAT', String(FAR + 1));
  await run('RPUSH', 'ttl:list', 'a', 'b');
  await run('PEXPIREAT', 'ttl:list', String(FAR + 2));
  features.push('key-ttl');
  await run('SELECT', '1');
  await run('SET', 'db1:key', 'in db 1');
  await run('SELECT', '0');
  features.push('db1');
  return { features, absent };
}

async function readTtl(c, key, pexpiretime) {
  if (pexpiretime) {
    const t = Number(await c.call('PEXPIRETIME', key));
    return { expire_at_ms: t < 0 ? null : t };
  }
  // Before 7.0 there is no PEXPIRETIME: server clock + PTTL in one transaction, exact to a few ms.
  const [[, time], [, pttl]] = await c.multi().time().pttl(key).exec();
  if (Number(pttl) < 0) return { expire_at_ms: null };
  const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
  return { expire_at_ms: now + Number(pttl), expire_tolerance_ms: 3 };
}

const sortBy = (arr, get) => arr.sort((a, b) => Buffer.compare(get(a), get(b)));

async function readStream(c, key) {
  const entries = (await c.callBuffer('XRANGE', key, '-', '+')).map(([id, fv]) => {
    const f = [];
    for (let i = 0; i < fv.length; i += 2) f.push([tb(fv[i]), tb(fv[i + 1])]);
    return [str(id), f];
  });
  const full = pairs(await c.callBuffer('XINFO', 'STREAM', key, 'FULL', 'COUNT', '0'));
  const v = { entries, length: Number(full.get('length')), last_generated_id: str(full.get('last-generated-id')) };
  if (full.has('max-deleted-entry-id')) v.max_deleted_entry_id = str(full.get('max-deleted-entry-id'));
  if (full.has('entries-added')) v.entries_added = Number(full.get('entries-added'));
  if (full.has('recorded-first-entry-id')) v.recorded_first_entry_id = str(full.get('recorded-first-entry-id'));
  const groups = (full.get('groups') ?? []).map((g) => {
    const gm = pairs(g);
    const out = { name: tb(gm.get('name')), last_delivered_id: str(gm.get('last-delivered-id')) };
    if (gm.has('entries-read')) {
      const er = gm.get('entries-read');
      out.entries_read = er === null ? null : Number(er);
    }
    out.pending = (gm.get('pending') ?? []).map(([id, consumer, time, count]) => ({
      id: str(id),
      consumer: tb(consumer),
      delivery_count: Number(count),
      delivery_time_ms: Number(time),
    }));
    out.consumers = sortBy(
      (gm.get('consumers') ?? []).map((cm) => pairs(cm)),
      (m) => m.get('name'),
    ).map((cm) => {
      const co = { name: tb(cm.get('name')), pending: (cm.get('pending') ?? []).map(([id]) => str(id)), seen_time_ms: Number(cm.get('seen-time')) };
      if (cm.has('active-time')) co.active_time_ms = Number(cm.get('active-time'));
      return co;
    });
    return { _name: gm.get('name'), ...out };
  });
  v.groups = sortBy(groups, (g) => g._name).map(({ _name, ...g }) => g);
  return v;
}

/** The server's own view of every key, in the corpus truth shape. */
async function readBack(c, db) {
  const pexpiretime = await has(c, 'PEXPIRETIME');
  const hpexpiretime = await has(c, 'HPEXPIRETIME');
  await c.select(db);
  const keys = [];
  let cursor = '0';
  do {
    const [next, batch] = await c.scanBuffer(cursor, 'COUNT', 1000);
    cursor = String(next);
    keys.push(...batch);
  } while (cursor !== '0');
  sortBy(keys, (k) => k);
  const out = [];
  for (const key of keys) {
    const type = str(await c.callBuffer('TYPE', key));
    const rec = { db, key: tb(key), type, ...(await readTtl(c, key, pexpiretime)) };
    let enc = null;
    try {
      enc = str(await c.callBuffer('OBJECT', 'ENCODING', key));
    } catch {
      /* module types may refuse */
    }
    rec.encoding = enc;
    switch (type) {
      case 'string':
        rec.value = tb(await c.callBuffer('GET', key));
        break;
      case 'list':
        rec.value = (await c.callBuffer('LRANGE', key, '0', '-1')).map(tb);
        break;
      case 'set':
        rec.value = sortBy(await c.callBuffer('SMEMBERS', key), (m) => m).map(tb);
        break;
      case 'zset': {
        const flat = await c.callBuffer('ZRANGE', key, '0', '-1', 'WITHSCORES');
        const e = [];
        for (let i = 0; i < flat.length; i += 2) e.push([flat[i], str(flat[i + 1])]);
        rec.value = sortBy(e, (x) => x[0]).map(([m, s]) => [tb(m), s]);
        break;
      }
      case 'hash': {
        const flat = await c.callBuffer('HGETALL', key);
        const e = [];
        for (let i = 0; i < flat.length; i += 2) e.push([flat[i], flat[i + 1]]);
        sortBy(e, (x) => x[0]);
        rec.value = e.map(([f, v]) => [tb(f), tb(v)]);
        if (hpexpiretime) {
          const t = await c.callBuffer('HPEXPIRETIME', key, 'FIELDS', String(e.length), ...e.map((x) => x[0]));
          const f = [];
          e.forEach(([field], i) => {
            if (Number(t[i]) >= 0) f.push([tb(field), Number(t[i])]);
          });
          if (f.length) rec.field_expire_at_ms = f;
        }
        break;
      }
      case 'stream':
        rec.value = await readStream(c, key);
        break;
      case 'vectorset':
        rec.module_type = 'vectorset';
        rec.module_readback = { card: Number(await c.call('VCARD', key)), dim: Number(await c.call('VDIM', key)) };
        rec.value = null;
        break;
      default:
        rec.module_type = type;
        rec.value = null;
    }
    out.push(rec);
  }
  return out;
}

async function one(server) {
  const bin = join(CACHE, server, 'bin', 'redis-server');
  const info = existsSync(join(CACHE, server, 'info.json')) ? JSON.parse(readFileSync(join(CACHE, server, 'info.json'), 'utf8')) : {};
  const version = info.version ?? server.replace(/^\D+-/, '');
  const debug = info.product === 'valkey' || Number(version.split('.')[0]) >= 7;
  const dir = mkdtempSync(join(tmpdir(), 'rekey-fixture-'));
  const { proc, client } = await startServer(bin, dir, debug);
  try {
    const { features, absent } = await writeData(client);
    await client.call('SAVE');
    const truth = [...(await readBack(client, 0)), ...(await readBack(client, 1))];
    const rdb = readFileSync(join(dir, 'dump.rdb'));
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, `${server}.rdb`), rdb);
    writeFileSync(join(OUT, `${server}.truth.jsonl`), truth.map((t) => JSON.stringify(t)).join('\n') + '\n');
    const serverInfo = pairs((await client.call('INFO', 'server')).split('\r\n').filter((l) => l.includes(':')).flatMap((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
    const meta = {
      server,
      reports: serverInfo.get('redis_version'),
      valkey_version: serverInfo.get('valkey_version') ?? undefined,
      source: info.source,
      rdb_header: rdb.subarray(0, 9).toString('latin1'),
      keys: truth.length,
      bytes: rdb.length,
      features,
      not_supported_by_server: absent,
    };
    writeFileSync(join(OUT, `${server}.meta.json`), JSON.stringify(meta, null, 2) + '\n');
    return `${server}: ${meta.rdb_header}, ${truth.length} keys, ${rdb.length} bytes; features ${features.join(' ')}${absent.length ? `; not on this server: ${absent.join('; ')}` : ''}`;
  } finally {
    client.disconnect();
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

const servers = existsSync(CACHE)
  ? readdirSync(CACHE)
      .filter((n) => !n.startsWith('.') && existsSync(join(CACHE, n, 'bin', 'redis-server')))
      .filter((n) => !only || only.some((o) => n.startsWith(o)))
      .sort()
  : [];
if (servers.length === 0) {
  console.error(`no cached servers in ${CACHE}: run \`npm run servers\` first`);
  process.exit(2);
}
for (const s of servers) {
  try {
    console.log(await one(s));
  } catch (e) {
    console.error(`${s}: FAILED ${e.message}`);
    process.exitCode = 1;
  }
}
for (const f of readdirSync(OUT)) if (f.endsWith('.rdb') && statSync(join(OUT, f)).size > 200 * 1024) console.error(`warning: ${f} is over 200 KB`);
