// Rules benchmark: classify keys/s with the example rules and with 200 generated rules, and the
// collision detector's memory per key at 10M keys. Needs a build (`npx tsc -p tsconfig.build.json`).
//
//   node bench/classify.mjs                      # 1M keys, 10M for the collision detector
//   BENCH_CLASSIFY_KEYS=200000 BENCH_COLLISION_KEYS=1000000 node bench/classify.mjs
//
// Prints one markdown table; runClassifyBench() returns the rows for bench/run.mjs.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const dist = (p) => pathToFileURL(join(root, 'dist', p)).href;

const PFX = 'josancamon:rayban-meta-glasses-api:';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_';

/** Deterministic PRNG (mulberry32): the project's own. */
const { seededRandom: rng } = await import(dist('analyze/stats.js'));

function b64(r, n) {
  let s = '';
  for (let i = 0; i < n; i++) s += B64[Math.floor(r() * B64.length)];
  return s;
}

/** A key in one of the guide's five patterns (plus 10% noise), as a string. */
function exampleKey(r, i, unique = false) {
  const p = r();
  if (p < 0.3) return `${PFX}${b64(r, 24)}`;
  if (p < 0.5) return `${PFX}reminder:evt_${i}`;
  if (p < 0.65) return `${PFX}conversation_history:${15550000000 + i}`;
  if (p < 0.8) return `${PFX}user_profile:${15550000000 + i}`;
  if (p < 0.9) return `${PFX}cancellation:wa:${15550000000 + i}`;
  if (p < 0.93) return unique ? `${PFX}reminder:${i}:x` : `${PFX}reminder`;
  if (p < 0.96) return `session:${i}:data`;
  return `other-app:cache:${b64(r, 12)}`;
}

export function exampleKeys(n, seed = 1) {
  const r = rng(seed);
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = Buffer.from(exampleKey(r, i));
  return out;
}

const KINDS = ['', ':int', ':base64', ':*'];

/** 200 rules in a few families (shared and distinct prefixes, all placeholder kinds, suffixes). */
export function generatedRules(count = 200) {
  const rules = [];
  for (let i = 0; i < count; i++) {
    const kind = KINDS[i % 4];
    const fam = i % 5;
    let match;
    if (fam === 0) match = `svc${i}:item:{id${kind}}`;
    else if (fam === 1) match = `app:tenant${i}:{id${kind}}:meta`;
    else if (fam === 2) match = `app:tenant${i}:{id${kind}}`;
    else if (fam === 3) match = `cache:v${i}:{a}:{id${kind}}`;
    else match = `jobs:q${i}:{id${kind}}`;
    const rename = fam === 3 ? `new:${i}:{a}:{id}` : `new:${i}:{id}`;
    const rule = { name: `r${i}`, category: `c${i % 10}`, match, rename };
    if (i % 17 === 0) rule.type = 'hash';
    rules.push(rule);
  }
  return { version: 1, unmatched: 'keep', rules };
}

function idFor(kind, r, i) {
  if (kind === ':int') return String(i);
  if (kind === ':base64') return b64(r, 16);
  if (kind === ':*') return `x:${i}`;
  return `id${i}`;
}

export function generatedKeys(n, count = 200, seed = 2) {
  const r = rng(seed);
  const out = new Array(n);
  for (let k = 0; k < n; k++) {
    if (r() < 0.1) {
      out[k] = Buffer.from(`noise:${k}:${b64(r, 8)}`);
      continue;
    }
    const i = Math.floor(r() * count);
    const kind = KINDS[i % 4];
    const id = idFor(kind, r, k);
    const fam = i % 5;
    let s;
    if (fam === 0) s = `svc${i}:item:${id}`;
    else if (fam === 1) s = `app:tenant${i}:${id}:meta`;
    else if (fam === 2) s = `app:tenant${i}:${id}`;
    else if (fam === 3) s = `cache:v${i}:a${k % 13}:${id}`;
    else s = `jobs:q${i}:${id}`;
    out[k] = Buffer.from(s);
  }
  return out;
}

function timeClassify(rules, keys, reps = 3) {
  let best = Infinity;
  let matched = 0;
  for (let rep = 0; rep < reps + 1; rep++) {
    let m = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < keys.length; i++) if (rules.classify(keys[i], 'string', 0) !== null) m++;
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (rep > 0 && s < best) best = s; // first run warms up
    matched = m;
  }
  return { seconds: best, keysPerSec: keys.length / best, matched };
}

function fmt(n) {
  return Math.round(n).toLocaleString('en-US');
}

export async function runClassifyBench(opts = {}) {
  const nKeys = opts.keys ?? Number(process.env.BENCH_CLASSIFY_KEYS ?? 1_000_000);
  const nColl = opts.collisionKeys ?? Number(process.env.BENCH_COLLISION_KEYS ?? 10_000_000);
  const { loadRules, compileRules } = await import(dist('rules/index.js'));
  const { CollisionDetector } = await import(dist('rules/collisions.js'));
  const rows = [];

  const example = await loadRules(join(root, 'examples', 'meta-glasses.rules.yaml'));
  // Collision detector at nColl keys in the example patterns, all renamed (two digests a key).
  if (global.gc) global.gc();
  const heap0 = process.memoryUsage();
  const det = new CollisionDetector();
  const r = rng(3);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < nColl; i++) {
    const key = Buffer.from(exampleKey(r, i, true));
    const c = example.classify(key, 'string', 0);
    det.add(key, 0, c === null ? key : c.newKey, c?.toDb ?? 0);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (global.gc) global.gc();
  const heap1 = process.memoryUsage();
  const rep = det.report();
  const rssGrowth = heap1.rss - heap0.rss;
  const collisionRow = {
    case: 'collision detector (classify + add)',
    keys: nColl,
    rules: example.rules.length,
    keysPerSec: fmt(nColl / secs),
    notes:
      `table ${(det.memoryBytes / 1048576).toFixed(0)} MiB = ${(det.memoryBytes / nColl).toFixed(1)} B/key ` +
      `(${fmt(det.recordCount)} keys, renamed ones hold 2 digests; RSS +${(rssGrowth / 1048576).toFixed(0)} MiB); ` +
      `${rep.candidates} digest candidates`,
  };
  const ek = exampleKeys(nKeys);
  const e = timeClassify(example, ek);
  rows.push({
    case: 'classify, example rules',
    keys: nKeys,
    rules: example.rules.length,
    keysPerSec: fmt(e.keysPerSec),
    notes: `${fmt(e.matched)} matched; target >= 2,000,000 keys/s`,
  });

  const gen = compileRules(generatedRules(200), 'generated');
  const gk = generatedKeys(nKeys);
  const g = timeClassify(gen, gk);
  rows.push({ case: 'classify, 200 generated rules', keys: nKeys, rules: 200, keysPerSec: fmt(g.keysPerSec), notes: `${fmt(g.matched)} matched` });

  rows.push(collisionRow);
  return rows;
}

export function markdown(rows) {
  const lines = ['| case | keys | rules | keys/s | notes |', '|---|---:|---:|---:|---|'];
  for (const r of rows) lines.push(`| ${r.case} | ${fmt(r.keys)} | ${r.rules} | ${r.keysPerSec} | ${r.notes} |`);
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runClassifyBench();
  console.log(markdown(rows));
}
