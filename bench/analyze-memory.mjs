// Memory bound of `rekey analyze`: feeds synthetic key records straight into the analyzer (no file, no
// parser) and samples RSS and heap as the number of distinct keys grows. Build first:
//
//   npx tsc -p tsconfig.build.json && node bench/analyze-memory.mjs [--keys 10000000] [--rules] [--every 1000000]
//
// Without --rules the analyzer's state is bounded (fixed histograms, top-N heaps, reservoirs, a capped prefix
// tree); with --rules it also keeps the collision guard's 12-byte digest per written key, as transform does.
// The key mix stresses the bounds: every key is distinct, and most keys have a distinct depth-2 prefix
// ("user:<id>:…"), so the prefix tree hits its node cap and prunes all the time.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

if (typeof globalThis.gc !== 'function') {
  // Re-run with --expose-gc so the samples measure live memory, not garbage waiting to be collected.
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const dist = new URL('../dist/', import.meta.url);
const { Analyzer } = await import(new URL('analyze/aggregator.js', dist).href);
const { compileRules } = await import(new URL('rules/index.js', dist).href);
const { listpackEncode } = await import(new URL('codec/listpack.js', dist).href);
const { intsetEncode } = await import(new URL('codec/intset.js', dist).href);

const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('--keys', 10_000_000);
const EVERY = arg('--every', Math.max(100_000, Math.floor(N / 10)));
const WITH_RULES = process.argv.includes('--rules');
const BATCH = 1000;

// --- prebuilt payloads (RDB string header + blob) -----------------------------------------------------------
function rdbString(b) {
  if (b.length < 64) return Buffer.concat([Buffer.from([b.length]), b]);
  if (b.length < 16384) return Buffer.concat([Buffer.from([0x40 | (b.length >> 8), b.length & 0xff]), b]);
  const h = Buffer.alloc(5);
  h[0] = 0x80;
  h.writeUInt32BE(b.length, 1);
  return Buffer.concat([h, b]);
}
const kinds = [
  { type: 'string', rdbType: 0, encoding: 'string', payload: rdbString(Buffer.from('x'.repeat(20))) },
  { type: 'string', rdbType: 0, encoding: 'string', payload: Buffer.from([0xc0, 42]) },
  { type: 'string', rdbType: 0, encoding: 'string', payload: rdbString(Buffer.from('{"json":"' + 'y'.repeat(120) + '"}')) },
  { type: 'hash', rdbType: 16, encoding: 'listpack', payload: rdbString(listpackEncode(['name', 'Ada', 'email', 'ada@example.com', 'age', 36, 'city', 'London', 'plan', 'pro'].map((x) => (typeof x === 'string' ? Buffer.from(x) : x)))) },
  { type: 'list', rdbType: 18, encoding: 'quicklist2', payload: Buffer.concat([Buffer.from([1, 2]), rdbString(listpackEncode(Array.from({ length: 12 }, (_, i) => Buffer.from(`msg-${i}-hello`))))]) },
  { type: 'set', rdbType: 11, encoding: 'intset', payload: rdbString(intsetEncode(Array.from({ length: 16 }, (_, i) => i * 7))) },
  { type: 'zset', rdbType: 17, encoding: 'listpack', payload: rdbString(listpackEncode([Buffer.from('a'), 1, Buffer.from('b'), 2, Buffer.from('c'), Buffer.from('3.5')])) },
];
const decodeUnsupported = () => {
  throw new Error('bench records are not decoded');
};

function record(i) {
  const k = kinds[i % kinds.length];
  let key;
  switch (i % 4) {
    case 0: key = `user:${i}:profile`; break; // distinct depth-2 prefix per key
    case 1: key = `session:${(i * 2654435761 >>> 0).toString(16)}:${i}`; break;
    case 2: key = `josancamon:rayban-meta-glasses-api:reminder:evt_${i.toString(36)}`; break;
    default: key = `cache:${i % 997}:${i}`;
  }
  return {
    kind: 'key',
    db: i % 3 === 0 ? 1 : 0,
    key: Buffer.from(key),
    type: k.type,
    rdbType: k.rdbType,
    encoding: k.encoding,
    flavor: 'redis',
    rdbVersion: 11,
    expireAtMs: i % 5 === 0 ? 1_700_000_000_000 + (i % 100_000) * 60_000 : null,
    payload: k.payload,
    offset: 0,
    decode: decodeUnsupported,
  };
}

const rules = WITH_RULES
  ? compileRules({
      version: 1,
      unmatched: 'keep',
      rules: [
        { name: 'reminder', category: 'reminder', match: 'josancamon:rayban-meta-glasses-api:reminder:{id:*}', rename: 'meta-glasses:reminder:event:{id}' },
        { name: 'profile', category: 'user', match: 'user:{id}:profile', rename: 'u:{id}:p' },
      ],
    })
  : null;

const mib = (b) => (b / 1048576).toFixed(1);
function sample() {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, ext: m.external + m.arrayBuffers };
}

const analyzer = new Analyzer({ now: 1_700_000_000_000, top: 20, samples: 5, prefixDepth: 3, rules });
const base = sample();
const rows = [];
let peakRss = base.rss;
const t0 = process.hrtime.bigint();
let warm = null;
for (let i = 0; i < N; i += BATCH) {
  const batch = [];
  for (let j = i; j < Math.min(N, i + BATCH); j++) batch.push(record(j));
  analyzer.addBatch(batch);
  const done = Math.min(N, i + BATCH);
  if (done === 100_000 || done % EVERY === 0 || done === N) {
    const s = sample();
    if (done === 100_000) warm = s;
    peakRss = Math.max(peakRss, s.rss);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    rows.push({ keys: done, rss: s.rss, heap: s.heap, secs });
    console.log(`${String(done).padStart(10)} keys  rss ${mib(s.rss).padStart(7)} MiB  heap ${mib(s.heap).padStart(7)} MiB  ${Math.round(done / secs).toLocaleString('en-US').padStart(10)} keys/s`);
  }
}
const report = analyzer.report({ path: '<synthetic>', format: 'rdb' });
const end = sample();
const w = warm ?? base;
console.log('');
console.log(`analyze memory, ${N.toLocaleString('en-US')} distinct keys${WITH_RULES ? ' with --rules' : ''} (node ${process.version})`);
console.log(`  rss at start ${mib(base.rss)} MiB, after 100k keys ${mib(w.rss)} MiB, at the end ${mib(end.rss)} MiB, peak sampled ${mib(peakRss)} MiB`);
console.log(`  growth from 100k keys to ${N.toLocaleString('en-US')}: rss ${mib(end.rss - w.rss)} MiB, heap ${mib(end.heap - w.heap)} MiB`);
console.log(`  prefix tree: ${report.prefix_tree.nodes} nodes (cap ${report.prefix_tree.max_nodes}), approximate=${report.prefix_tree.approximate}`);
console.log(`  totals: ${report.totals.keys} keys, est. memory ${mib(report.totals.memory)} MiB${report.collisions ? `, collisions ${report.collisions.keys}` : ''}`);
