#!/usr/bin/env node
// Builds fixtures/dump.rdb from a real redis-server: starts a throwaway server (--save '', temp dir,
// free loopback port), fills dbs 0, 1 and 3 deterministically (fixed seeds, fixed absolute expiry
// times in 2100), runs SAVE and copies the RDB. Also writes fixtures/dump.summary.json (counts the
// tests check against) and fixtures/README.md. Usage: `npm run fixtures` (= node scripts/make-fixtures.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = join(ROOT, 'fixtures');
const EXPIRE_BASE = 4102444800000; // 2100-01-01T00:00:00Z: far enough that the fixtures never go stale
const PFX = 'josancamon:rayban-meta-glasses-api:';

// ------------------------------------------------------------------------------------------------
// deterministic randomness

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function makeRng(seed) {
  const next = mulberry32(seed);
  const r = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256))),
    hex: (n) => r.bytes(Math.ceil(n / 2)).toString('hex').slice(0, n),
    digits: (n) => Array.from({ length: n }, (_, i) => (i === 0 ? r.int(1, 9) : r.int(0, 9))).join(''),
  };
  return r;
}

// ------------------------------------------------------------------------------------------------
// a throwaway redis-server

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

function ping(port) {
  return new Promise((res) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok) => {
      sock.destroy();
      res(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      data += d;
      if (data.includes('\r\n')) done(data.startsWith('+PONG'));
    });
    sock.on('error', () => done(false));
  });
}

async function startServer(dir) {
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--dbfilename', 'dump.rdb', '--daemonize', 'no', '--logfile', ''];
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    let exited = false;
    proc.stdout.on('data', (d) => (log += d));
    proc.stderr.on('data', (d) => (log += d));
    proc.on('exit', () => (exited = true));
    proc.on('error', (e) => {
      exited = true;
      log += String(e);
    });
    process.on('exit', () => proc.kill('SIGKILL'));
    const deadline = Date.now() + 20_000;
    while (!exited && Date.now() < deadline) {
      if (await ping(port)) return { port, proc };
      await new Promise((r) => setTimeout(r, 50));
    }
    proc.kill('SIGKILL');
    if (!/Address already in use/.test(log)) throw new Error(`redis-server did not start:\n${log}`);
  }
  throw new Error('redis-server: no free port after 10 attempts');
}

// ------------------------------------------------------------------------------------------------
// content

/** Every key we create, in creation order: { db, key, type, ttl: true | false | 'auto' }. */
const created = [];

function b64url(buf) {
  return buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function genericDb(c, db) {
  const rng = makeRng(1000 + db);
  const add = (type, key, ttl = 'auto') => created.push({ db, key: Buffer.isBuffer(key) ? key : Buffer.from(key), type, ttl });
  const k = (s) => `fx:${s}`;
  const p = c.pipeline();

  // strings
  const texts = ['hello world', 'héllo wörld ✓', '日本語のテキスト', 'emoji 🕶️ glasses', 'tab\tand\nnewline'];
  texts.forEach((t, i) => {
    p.set(k(`str:raw:${i}`), `${t} #${db}`);
    add('string', k(`str:raw:${i}`));
  });
  const ints = ['12345', '-7', '0', '127', '-128', '32767', '2147483647', '-2147483648', '4294967296', '9223372036854775807', '007', '1e3'];
  ints.forEach((v, i) => {
    p.set(k(`str:int:${i}`), v);
    add('string', k(`str:int:${i}`));
  });
  const lzf = [
    'abcdefgh'.repeat(40),
    JSON.stringify({ items: Array.from({ length: 30 }, (_, i) => ({ id: i, status: 'ok', db })) }),
    `${'lorem ipsum dolor sit amet '.repeat(200)}${db}`,
    'x'.repeat(21),
  ];
  lzf.forEach((v, i) => {
    p.set(k(`str:lzf:${i}`), v);
    add('string', k(`str:lzf:${i}`));
  });
  for (let i = 0; i < 3; i++) {
    const key = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.from('fx:bin:'), Buffer.from([0x80 + i, 0xc3])]);
    p.set(key, Buffer.concat([Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0x00, 0xff]), rng.bytes(24 + i * 20)]));
    add('string', key);
  }
  p.set(k('str:bin-value'), Buffer.from([0x00, 0x01, 0x02, 0xfe, 0xff, 0xed, 0xa0, 0x80]));
  add('string', k('str:bin-value'));
  p.set(k('str:empty'), '');
  add('string', k('str:empty'));
  p.set(k('str:random'), rng.bytes(300));
  add('string', k('str:random'));
  if (db === 3) {
    p.set('', 'the empty key');
    add('string', '', false);
  }

  // lists
  for (let i = 0; i < 4; i++) {
    const items = Array.from({ length: 3 + i * 2 }, (_, j) => (j % 2 ? String(j * 100 - 50) : `item-${i}-${j}`));
    p.rpush(k(`list:small:${i}`), ...items);
    add('list', k(`list:small:${i}`));
  }
  {
    const items = Array.from({ length: 200 }, (_, j) => `entry-${j}-${rng.hex(8)}`);
    items.splice(100, 0, `BIG:${'0123456789abcdef'.repeat(640)}`); // 10 KB element (> 8 KB node limit)
    p.rpush(k('list:large:0'), ...items);
    add('list', k('list:large:0'));
    p.rpush(k('list:large:1'), ...Array.from({ length: 300 }, (_, j) => String(j * j - 1000)));
    add('list', k('list:large:1'));
    p.rpush(k('list:bin'), Buffer.from([0xff]), Buffer.from([0x00, 0x80]), Buffer.alloc(0), rng.bytes(16));
    add('list', k('list:bin'));
  }

  // sets
  for (let i = 0; i < 3; i++) {
    const members = [String(i), '-1', '42', String(2 ** 31 + i), String(-(2 ** 40)), '9223372036854775807'];
    p.sadd(k(`set:int:${i}`), ...members.slice(0, 3 + i));
    add('set', k(`set:int:${i}`));
  }
  for (let i = 0; i < 3; i++) {
    p.sadd(k(`set:str:${i}`), ...['red', 'green', 'blue', 'cyan', 'magenta'].slice(0, 2 + i).map((s) => `${s}-${db}`));
    add('set', k(`set:str:${i}`));
  }
  p.sadd(k('set:large:0'), ...Array.from({ length: 600 }, (_, j) => `member:${j}:${rng.hex(6)}`));
  add('set', k('set:large:0'));
  p.sadd(k('set:large:ints'), ...Array.from({ length: 700 }, (_, j) => String(j * 3)));
  add('set', k('set:large:ints'));
  p.sadd(k('set:bin'), Buffer.from([0xff, 0x00]), Buffer.from([0x80]), Buffer.from('plain'));
  add('set', k('set:bin'));

  // zsets
  const special = [
    [1.5, 'one-and-half'], [-2.25, 'neg'], [0, 'zero'], [Infinity, 'pos-inf'], [-Infinity, 'neg-inf'],
    [3.141592653589793, 'pi'], [1e-10, 'tiny'], [-1e300, 'huge-neg'], [0.1, 'point-one'],
  ];
  for (let i = 0; i < 3; i++) {
    const args = [];
    for (const [s, m] of special.slice(0, 4 + i * 2)) args.push(s === Infinity ? '+inf' : s === -Infinity ? '-inf' : String(s), m);
    p.zadd(k(`zset:small:${i}`), ...args);
    add('zset', k(`zset:small:${i}`));
  }
  {
    const args = [];
    for (let j = 0; j < 200; j++) args.push(String(Math.round((rng.next() * 2000 - 1000) * 1e6) / 1e6), `player:${j}`);
    args.push('inf', 'champion', '-inf', 'last');
    p.zadd(k('zset:large:0'), ...args);
    add('zset', k('zset:large:0'));
    p.zadd(k('zset:longmember'), '1', 'm'.repeat(80), '2.5', 'short');
    add('zset', k('zset:longmember'));
  }

  // hashes
  for (let i = 0; i < 4; i++) {
    const fields = { name: `user ${i}`, age: String(20 + i), score: String(i * 1.5), city: 'Zürich' };
    p.hset(k(`hash:small:${i}`), ...Object.entries(fields).slice(0, 2 + i).flat());
    add('hash', k(`hash:small:${i}`));
  }
  p.hset(k('hash:large:0'), ...Array.from({ length: 600 }, (_, j) => [`field:${j}`, `value-${rng.hex(10)}`]).flat());
  add('hash', k('hash:large:0'));
  p.hset(k('hash:bigval'), 'doc', 'v'.repeat(100), 'n', '1');
  add('hash', k('hash:bigval'));
  p.hset(k('hash:bin'), Buffer.from([0xff, 0xfe]), Buffer.from([0x00]), 'utf8-field', Buffer.from([0x80, 0x81]));
  add('hash', k('hash:bin'));

  await p.exec();

  // streams
  const t0 = 1700000000000 + db * 1_000_000;
  const s = k('stream:events');
  await c.xadd(s, `${t0}-0`, 'type', 'click', 'x', '10', 'y', '20');
  await c.xadd(s, `${t0}-1`, 'type', 'click', 'x', '11', 'y', '21');
  await c.xadd(s, `${t0 + 5}-0`, 'type', 'scroll', 'delta', '-3');
  await c.xadd(s, `${t0 + 9}-0`, 'type', 'click', 'x', '12', 'y', '22');
  await c.xadd(s, `${t0 + 9}-7`, Buffer.from([0xff, 0x01]), Buffer.from([0x00, 0xfe]));
  await c.xadd(s, `${t0 + 20}-0`, 'type', 'key', 'code', 'Enter', 'mods', '', 'repeat', 'no');
  await c.xadd(s, `${t0 + 21}-0`, 'type', 'key', 'code', 'Tab', 'mods', 'shift', 'repeat', 'yes');
  await c.xdel(s, `${t0 + 5}-0`);
  await c.xgroup('CREATE', s, 'workers', '0');
  await c.xreadgroup('GROUP', 'workers', 'alice', 'COUNT', '3', 'STREAMS', s, '>');
  await c.xreadgroup('GROUP', 'workers', 'bob', 'COUNT', '2', 'STREAMS', s, '>');
  await c.call('XGROUP', 'CREATECONSUMER', s, 'workers', 'carol');
  await c.xack(s, 'workers', `${t0}-1`);
  await c.xgroup('CREATE', s, 'audit', `${t0 + 9}-0`);
  add('stream', s);
  await c.xgroup('CREATE', k('stream:empty'), 'idle-group', '$', 'MKSTREAM');
  add('stream', k('stream:empty'));
  for (let i = 0; i < 3; i++) {
    const sk = k(`stream:plain:${i}`);
    for (let j = 0; j < 3 + i * 40; j++) await c.xadd(sk, `${t0 + j * 1000}-${j % 3}`, 'n', String(j), 'tag', `t${j % 4}`);
    add('stream', sk);
  }
}

async function migrationKeys(c) {
  const db = 0;
  const rng = makeRng(42);
  const add = (type, key, ttl) => created.push({ db, key: Buffer.from(key), type, ttl });
  const p = c.pipeline();

  const questions = [
    'What am I looking at?', 'Translate this sign to English', 'How many calories in this meal?',
    'Who painted this?', 'Read the menu for me', 'What breed is this dog?', 'Is this mushroom edible?',
    'Summarize this page', 'What time does the museum close?', 'Describe the scene in front of me',
  ];
  const models = ['gpt-4o-mini', 'gemini-1.5-flash', 'claude-3-haiku'];

  // 1. cache: josancamon:rayban-meta-glasses-api:<base64>
  const payloads = [
    // fixed edge cases first: '+', '/', '=' padding and url-safe '-', '_'
    Buffer.from([0xfb, 0xff, 0xbf]).toString('base64'), // "+/+/"
    Buffer.from('a?').toString('base64'), // "YT8=" (padding)
    Buffer.from('??>').toString('base64'), // "Pz8+"
    Buffer.from([0xff, 0xef]).toString('base64'), // "/+8="
    b64url(Buffer.from([0xfb, 0xff, 0xbf])), // "-_-_"
    b64url(Buffer.from([0xff, 0xef, 0xfe, 0x3f])), // url-safe with '_' and '-'
  ];
  for (let i = 0; payloads.length < 120; i++) {
    if (i % 3 === 0) payloads.push(Buffer.from(`${rng.pick(questions)}|${rng.hex(8)}`).toString('base64'));
    else if (i % 3 === 1) payloads.push(rng.bytes(rng.int(12, 40)).toString('base64'));
    else payloads.push(b64url(rng.bytes(rng.int(12, 40))));
  }
  payloads.forEach((b64, i) => {
    const key = PFX + b64;
    const value =
      i % 4 === 3
        ? `${rng.pick(['It looks like', 'This appears to be', 'I can see'])} ${rng.pick(['a golden retriever', 'a Van Gogh print', 'a bowl of ramen', 'a street sign in Spanish'])}.`
        : JSON.stringify({
            query: rng.pick(questions),
            response: `${rng.pick(['Sure!', 'Here you go:', 'Got it.'])} ${'Detailed answer text. '.repeat(rng.int(1, 6))}`.trim(),
            model: rng.pick(models),
            cached_at: 1717000000 + i * 37,
          });
    p.set(key, value);
    add('string', key, i % 10 < 2);
  });

  // 2. reminder:<event_id>: JSON strings and hashes
  const eventIds = [];
  for (let i = 0; i < 60; i++) {
    const kind = i % 4;
    eventIds.push(
      kind === 0 ? `evt_${rng.hex(12)}`
        : kind === 1 ? `${rng.hex(8)}-${rng.hex(4)}-4${rng.hex(3)}-a${rng.hex(3)}-${rng.hex(12)}`
          : kind === 2 ? rng.digits(10)
            : `${rng.hex(26)}_20250${rng.int(1, 9)}${rng.int(10, 28)}T090000Z`,
    );
  }
  const users = Array.from({ length: 30 }, () => `1${rng.digits(10)}`);
  const tasks = ['Take medication', 'Call mom', 'Stand-up meeting', 'Pick up groceries', 'Water the plants', 'Dentist appointment'];
  const zones = ['America/New_York', 'Europe/Madrid', 'America/Los_Angeles', 'Asia/Kolkata'];
  eventIds.forEach((id, i) => {
    const key = `${PFX}reminder:${id}`;
    const r = {
      event_id: id,
      user_id: rng.pick(users),
      message: rng.pick(tasks),
      remind_at: `2025-0${rng.int(1, 9)}-${rng.int(10, 28)}T${rng.int(10, 23)}:${rng.pick(['00', '15', '30', '45'])}:00`,
      timezone: rng.pick(zones),
      status: rng.pick(['scheduled', 'scheduled', 'sent', 'snoozed']),
      created_at: 1717000000 + i * 600,
    };
    if (i % 3 === 2) {
      p.hset(key, ...Object.entries(r).map(([f, v]) => [f, String(v)]).flat());
      add('hash', key, i % 2 === 0);
    } else {
      p.set(key, JSON.stringify(r));
      add('string', key, i % 2 === 0);
    }
  });

  // 3. conversation_history:<user_id>: lists of JSON messages, one with 150 entries
  const userSays = ['What is this building?', 'Remind me to call mom at 5', 'Translate that', 'Thanks!', 'What did I ask yesterday?'];
  const botSays = ['That is the Flatiron Building, completed in 1902.', "OK, I'll remind you at 5 PM.", 'It says "exit only".', "You're welcome!", 'You asked about a museum.'];
  users.slice(0, 25).forEach((u, i) => {
    const key = `${PFX}conversation_history:${u}`;
    const n = i === 0 ? 150 : rng.int(2, 20);
    const msgs = [];
    for (let j = 0; j < n; j++) {
      const role = j % 2 ? 'assistant' : 'user';
      msgs.push(JSON.stringify({ role, content: role === 'user' ? rng.pick(userSays) : rng.pick(botSays), timestamp: 1717000000 + i * 10000 + j * 30 }));
    }
    p.rpush(key, ...msgs);
    add('list', key, i % 5 === 4);
  });

  // 4. user_profile:<user_id>: hashes
  const names = ['Ana', 'Bruno', 'Chen', 'Dana', 'Emeka', 'Farah', 'Goran', 'Hiro', 'Inés', 'Jonas'];
  users.slice(0, 25).forEach((u, i) => {
    const key = `${PFX}user_profile:${u}`;
    p.hset(key,
      'name', rng.pick(names), 'phone', `+${u}`, 'timezone', rng.pick(zones), 'language', rng.pick(['en', 'es', 'pt', 'hi']),
      'glasses_model', rng.pick(['Ray-Ban Meta Wayfarer', 'Ray-Ban Meta Skyler', 'Ray-Ban Meta Headliner']),
      'created_at', String(1710000000 + i * 86400), 'preferences', JSON.stringify({ voice: i % 2 === 0, units: i % 3 ? 'metric' : 'imperial' }));
    add('hash', key, i % 8 === 7);
  });

  // 5. cancellation:wa:<user_id>: "1" with TTL
  users.slice(0, 15).forEach((u) => {
    const key = `${PFX}cancellation:wa:${u}`;
    p.set(key, '1');
    add('string', key, true);
  });

  // look-alikes: no id, ids containing ':', other apps
  const lookalikes = [
    ['string', `${PFX}reminder`, 'not a reminder: no event id'],
    ['string', `${PFX}reminder:`, 'empty event id'],
    ['string', `${PFX}reminder:evt:2024:abc`, JSON.stringify({ event_id: 'evt:2024:abc', message: 'id has colons' })],
    ['hash', `${PFX}user_profile:wa:${users[0]}`, ['name', 'Ana', 'note', 'id contains a colon']],
    ['list', `${PFX}conversation_history:${users[1]}:archived`, [JSON.stringify({ role: 'user', content: 'old' })]],
    ['string', `${PFX}conversation_history`, 'no user id'],
    ['string', `${PFX}cancellation:wa`, '1'],
    ['string', 'josancamon:other-api:reminder:evt_1', 'different app'],
  ];
  for (const [type, key, v] of lookalikes) {
    if (type === 'string') p.set(key, v);
    else if (type === 'hash') p.hset(key, ...v);
    else p.rpush(key, ...v);
    add(type, key, false);
  }

  // unrelated
  for (let i = 0; i < 6; i++) {
    const key = `session:${rng.hex(32)}`;
    if (i % 2) p.hset(key, 'user_id', rng.pick(users), 'ip', `10.0.${i}.${rng.int(1, 254)}`, 'ua', 'Mozilla/5.0');
    else p.set(key, JSON.stringify({ user_id: rng.pick(users), csrf: rng.hex(16) }));
    add(i % 2 ? 'hash' : 'string', key, i % 3 === 0);
    const rkey = `rate:10.0.${i}.${rng.int(1, 254)}:${28600000 + i}`;
    p.set(rkey, String(rng.int(1, 120)));
    add('string', rkey, true);
  }
  await p.exec();
}

async function applyTtls(clients) {
  // 'auto' keys: every 5th key of each type in each db, in creation order.
  const counters = new Map();
  let n = 0;
  const byDb = new Map();
  for (const e of created) {
    let ttl = e.ttl;
    if (ttl === 'auto') {
      const ck = `${e.db}/${e.type}`;
      const i = counters.get(ck) ?? 0;
      counters.set(ck, i + 1);
      ttl = i % 5 === 2;
    }
    if (!ttl) continue;
    const at = EXPIRE_BASE + n * 1000 + (n % 7);
    n++;
    if (!byDb.has(e.db)) byDb.set(e.db, clients[e.db].pipeline());
    byDb.get(e.db).pexpireat(e.key, at);
  }
  for (const p of byDb.values()) {
    for (const [err, r] of await p.exec()) if (err || r !== 1) throw new Error(`PEXPIREAT failed: ${err ?? r}`);
  }
}

// ------------------------------------------------------------------------------------------------
// summary

async function summarize(clients, dbs) {
  const out = { dbs: {}, totals: { keys: 0, with_ttl: 0, by_type: {}, with_ttl_by_type: {} }, by_encoding: {} };
  for (const db of dbs) {
    const c = clients[db];
    const d = { keys: 0, with_ttl: 0, by_type: {}, with_ttl_by_type: {} };
    let cursor = '0';
    do {
      const [next, keys] = await c.scanBuffer(cursor, 'COUNT', 1000);
      cursor = String(next);
      const p = c.pipeline();
      for (const key of keys) {
        p.type(key);
        p.pttl(key);
        p.object('ENCODING', key);
      }
      const res = await p.exec();
      for (let i = 0; i < keys.length; i++) {
        const type = res[i * 3][1];
        const ttl = res[i * 3 + 1][1];
        const enc = res[i * 3 + 2][1];
        d.keys++;
        d.by_type[type] = (d.by_type[type] ?? 0) + 1;
        out.totals.by_type[type] = (out.totals.by_type[type] ?? 0) + 1;
        out.by_encoding[`${type}:${enc}`] = (out.by_encoding[`${type}:${enc}`] ?? 0) + 1;
        if (ttl >= 0) {
          d.with_ttl++;
          d.with_ttl_by_type[type] = (d.with_ttl_by_type[type] ?? 0) + 1;
          out.totals.with_ttl_by_type[type] = (out.totals.with_ttl_by_type[type] ?? 0) + 1;
        }
      }
    } while (cursor !== '0');
    d.by_type = Object.fromEntries(Object.entries(d.by_type).sort());
    d.with_ttl_by_type = Object.fromEntries(Object.entries(d.with_ttl_by_type).sort());
    out.dbs[db] = d;
    out.totals.keys += d.keys;
    out.totals.with_ttl += d.with_ttl;
  }
  out.totals.by_type = Object.fromEntries(Object.entries(out.totals.by_type).sort());
  out.totals.with_ttl_by_type = Object.fromEntries(Object.entries(out.totals.with_ttl_by_type).sort());
  out.by_encoding = Object.fromEntries(Object.entries(out.by_encoding).sort());
  return out;
}

function writeAtomic(path, data) {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function readme(summary) {
  const types = ['string', 'list', 'set', 'zset', 'hash', 'stream'];
  const rows = Object.entries(summary.dbs).map(
    ([db, d]) => `| ${db} | ${d.keys} | ${d.with_ttl} | ${types.map((t) => d.by_type[t] ?? 0).join(' | ')} |`,
  );
  const t = summary.totals;
  return `# Test fixtures

Generated by \`npm run fixtures\` (\`node scripts/make-fixtures.mjs\`): the script starts a throwaway
\`redis-server\` (\`--save ''\`, temp dir, free loopback port), fills it with deterministic content
(fixed PRNG seeds; absolute expiry times from \`PEXPIREAT ${EXPIRE_BASE} + n\`, i.e. year 2100, so the
fixtures never go stale), runs \`SAVE\` and copies the RDB here. Do not edit the files by hand; rerun
the script. The content is deterministic, the bytes are not: the RDB's aux fields (ctime, used-mem,
repl ids), hashtable iteration order (randomly seeded per server start), stream consumer
seen/delivery times (wall clock) and LRU idle times differ between runs.

- \`dump.rdb\` — written by redis-server ${summary.redis_version}, RDB version ${summary.rdb_version}, ${summary.bytes} bytes.
- \`dump.summary.json\` — what the generator counted on the live server before SAVE (keys per db and
  type, keys with TTL, \`OBJECT ENCODING\` per type); tests compare against it.
- \`dump.jsonl\` — (when present) the JSONL export made by rekey's own transform.

## Counts

| db | keys | with TTL | ${types.join(' | ')} |
|----|------|----------|${types.map(() => '---').join('|')}|
${rows.join('\n')}
| all | ${t.keys} | ${t.with_ttl} | ${types.map((x) => t.by_type[x] ?? 0).join(' | ')} |

Encodings on the generating server: ${Object.entries(summary.by_encoding).map(([k, v]) => `${k} ${v}`).join(', ')}.
Plus one function library, \`rekeylib\` (function \`rekey_echo\`).

## Content

**dbs 0, 1 and 3** each hold generic \`fx:*\` keys covering every native type and encoding:
strings raw / UTF-8 / int-encodable (\`12345\`, \`-7\`, 32-bit bounds; \`4294967296\`,
\`9223372036854775807\`, \`007\`, \`1e3\` stay raw in RDB) / LZF-compressible (long repetitive values) /
binary non-UTF-8 keys (\`\\xff\\xfe\\x00fx:bin:…\`) and values / the empty string / random bytes; db 3 also
has the empty key \`""\`. Lists small and large (201 elements including one 10 KB element, which
gets a quicklist node of its own; 300 integers) — Redis 7.0 writes every list as quicklist 2 with
listpack nodes (7.2+ would write small ones as a plain listpack); sets intset, small strings
(hashtable in 7.0, listpack in 7.2+), large (600 strings; 700 integers > set-max-intset-entries)
and binary members; zsets small (listpack) with fractional, negative, 0,
\`+inf\`/\`-inf\` scores and large (skiplist: 202 members, also a member > 64 bytes); hashes small
(listpack), large (600 fields > hash-max-listpack-entries, whose server default is 512), a value > 64 bytes (hashtable) and binary fields; streams: \`fx:stream:events\`
(entries with different field sets, binary field, one deleted entry so max-deleted-entry-id is set;
group \`workers\` with consumers alice (pending), bob (pending), carol (no pending), one entry acked;
group \`audit\` with no consumers), \`fx:stream:empty\` (empty, made by \`XGROUP CREATE … MKSTREAM\`) and
three plain streams (3, 43 and 83 entries). Every fifth generic key of each type has a TTL
(counting the pattern keys below too, 17–30% of each type; see \`with_ttl_by_type\` in the summary).

**db 0** also holds the migration guide's five patterns with realistic values
(prefix \`${PFX}\`):
- \`<base64>\` — 120 cached responses (JSON or text), base64 with \`+ / =\` and url-safe \`- _\`
  (first six are fixed edge cases: \`+/+/\`, \`YT8=\`, \`Pz8+\`, \`/+8=\`, \`-_-_\`, \`_-_-Pw\`); 20% with TTL.
- \`reminder:<event_id>\` — 60 reminders (40 JSON strings, 20 hashes); ids \`evt_<hex>\`, UUIDs,
  digits and calendar-style \`<hex>_<date>T090000Z\`; half with TTL.
- \`conversation_history:<user_id>\` — 25 lists of JSON messages (one with 150 entries); 20% with TTL.
- \`user_profile:<user_id>\` — 25 hashes; a few with TTL.
- \`cancellation:wa:<user_id>\` — 15 × \`"1"\`, all with TTL.
- Look-alikes that a careless rule would catch: \`${PFX}reminder\` (no id; note that \`reminder\` is
  itself valid base64, so the cache pattern matches it), \`…reminder:\` (empty id),
  \`…reminder:evt:2024:abc\` and \`…user_profile:wa:<id>\` (ids containing \`:\`),
  \`…conversation_history:<id>:archived\`, \`…conversation_history\`, \`…cancellation:wa\`,
  \`josancamon:other-api:reminder:evt_1\`.
- Unrelated keys: \`session:<hex>\` (strings and hashes) and \`rate:<ip>:<minute>\` counters (TTL).
`;
}

// ------------------------------------------------------------------------------------------------

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'rekey-fixtures-'));
  let server;
  const clients = {};
  try {
    server = await startServer(dir);
    const dbs = [0, 1, 3];
    for (const db of dbs) clients[db] = new Redis({ host: '127.0.0.1', port: server.port, db, maxRetriesPerRequest: 1 });
    await clients[0].flushall();

    for (const db of dbs) await genericDb(clients[db], db);
    await migrationKeys(clients[0]);
    await applyTtls(clients);
    await clients[0].call(
      'FUNCTION', 'LOAD',
      "#!lua name=rekeylib\n redis.register_function('rekey_echo', function(keys, args) return args[1] end)",
    );

    const info = await clients[0].info('server');
    const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    const summary = await summarize(clients, dbs);
    const expected = created.length;
    if (summary.totals.keys !== expected) throw new Error(`created ${expected} keys but the server holds ${summary.totals.keys}`);

    await clients[0].save();
    mkdirSync(OUT_DIR, { recursive: true });
    const rdbPath = join(OUT_DIR, 'dump.rdb');
    copyFileSync(join(dir, 'dump.rdb'), `${rdbPath}.tmp-${process.pid}`);
    renameSync(`${rdbPath}.tmp-${process.pid}`, rdbPath);
    const head = readFileSync(rdbPath).subarray(0, 9).toString('latin1');
    const full = {
      generated_by: 'scripts/make-fixtures.mjs',
      redis_version: redisVersion,
      rdb_version: Number(head.slice(5)),
      bytes: statSync(rdbPath).size,
      functions: ['rekeylib'],
      expire_base_ms: EXPIRE_BASE,
      ...summary,
    };
    writeAtomic(join(OUT_DIR, 'dump.summary.json'), JSON.stringify(full, null, 2) + '\n');
    writeAtomic(join(OUT_DIR, 'README.md'), readme(full));

    const check = spawnSync('redis-check-rdb', [rdbPath], { encoding: 'utf8' });
    const checkNote = check.error ? 'redis-check-rdb not available' : check.status === 0 ? 'redis-check-rdb: OK' : `redis-check-rdb FAILED:\n${check.stdout}${check.stderr}`;

    // summary on stdout
    const types = ['string', 'list', 'set', 'zset', 'hash', 'stream'];
    const pad = (s, n) => String(s).padStart(n);
    console.log(`fixtures/dump.rdb: ${full.bytes} bytes, ${head} (redis ${redisVersion}), ${full.totals.keys} keys, ${full.totals.with_ttl} with TTL; ${checkNote}`);
    console.log(`${'db'.padEnd(4)}${pad('keys', 6)}${pad('ttl', 6)}${types.map((t) => pad(t, 8)).join('')}`);
    for (const [db, d] of Object.entries(full.dbs)) {
      console.log(`${db.padEnd(4)}${pad(d.keys, 6)}${pad(d.with_ttl, 6)}${types.map((t) => pad(d.by_type[t] ?? 0, 8)).join('')}`);
    }
    console.log(`${'ttl'.padEnd(16)}${types.map((t) => pad(full.totals.with_ttl_by_type[t] ?? 0, 8)).join('')}  (keys with TTL per type, all dbs)`);
    console.log(`encodings: ${Object.entries(full.by_encoding).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    if (check.status !== 0 && !check.error) process.exitCode = 1;
  } finally {
    for (const c of Object.values(clients)) c.disconnect();
    if (server) {
      server.proc.kill('SIGTERM');
      await new Promise((r) => (server.proc.exitCode !== null ? r() : server.proc.once('exit', r)));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`make-fixtures: ${e instanceof Error ? e.stack : e}`);
  process.exit(1);
});
