import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { openInput } from '../src/sources/open.js';
import { loadRules } from '../src/rules/index.js';
import type { KeyRecord, Value } from '../src/records/types.js';
import { readValue, valuesEqual } from '../src/validate/read-value.js';
import { startRedis, type RedisHandle } from './helpers/redis-server.js';
import { runCli } from './helpers/cli.js';
import { CORPUS_GENERATED, corpusMissing } from './helpers/corpus.js';

const ROOT = join(import.meta.dirname, '..');
const FIXTURE = join(ROOT, 'fixtures', 'dump.rdb');
const FIXTURE_JSONL = join(ROOT, 'fixtures', 'dump.jsonl');
const RULES = join(ROOT, 'examples', 'meta-glasses.rules.yaml');
const CORPUS = CORPUS_GENERATED;
corpusMissing('transform e2e over the corpus');

interface Expected {
  db: number;
  key: Buffer;
  value: Value;
  expireAtMs: number | null;
}

async function expectedFrom(path: string, map?: (r: KeyRecord) => { db: number; key: Buffer } | null): Promise<Expected[]> {
  const input = await openInput(path);
  const out: Expected[] = [];
  for await (const batch of input.batches) {
    for (const r of batch) {
      if (r.kind !== 'key') continue;
      const m = map ? map(r) : { db: r.db, key: r.key };
      if (m) out.push({ ...m, value: r.decode(), expireAtMs: r.expireAtMs });
    }
  }
  return out;
}

/** Every expected key is in the server with an equal value and expiry, and nothing else is. */
async function expectServerHolds(srv: RedisHandle, expected: Expected[], opts: { streamTimes?: boolean } = {}): Promise<void> {
  const clients = new Map<number, Redis>();
  const client = (db: number) => {
    let c = clients.get(db);
    if (!c) clients.set(db, (c = srv.client({ db })));
    return c;
  };
  const problems: string[] = [];
  const perDb = new Map<number, number>();
  for (const e of expected) {
    perDb.set(e.db, (perDb.get(e.db) ?? 0) + 1);
    const got = await readValue(client(e.db), e.key);
    if (got.value === null) {
      problems.push(`db ${e.db} ${e.key.toString('latin1')}: missing`);
      continue;
    }
    const eq = valuesEqual(e.value, got.value, opts);
    if (!eq.equal) problems.push(`db ${e.db} ${e.key.toString('latin1')}: ${eq.diff}`);
    if (got.expireAtMs !== e.expireAtMs) problems.push(`db ${e.db} ${e.key.toString('latin1')}: expiry ${got.expireAtMs} != ${e.expireAtMs}`);
  }
  for (const [db, n] of perDb) expect(await client(db).dbsize(), `db ${db} size`).toBe(n);
  expect(problems.slice(0, 10)).toEqual([]);
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'rekey-e2e-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('fixtures', () => {
  it('fixtures/dump.jsonl equals what the redis-server that made fixtures/dump.rdb returns', async () => {
    const srv = await startRedis({ rdbFile: FIXTURE });
    try {
      await expectServerHolds(srv, await expectedFrom(FIXTURE_JSONL));
    } finally {
      await srv.stop();
    }
  });

  it('fixtures/dump.jsonl is what transform writes for fixtures/dump.rdb', async () => {
    const out = join(tmp, 'fixtures.jsonl');
    const r = await runCli(['transform', FIXTURE, '-o', out, '--out-dir', tmp, '--now', '0']);
    expect(r.stderr).toMatch(/446 keys read/);
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(FIXTURE_JSONL, 'utf8'));
  });
});

describe('transform rdb -> rdb with rules', () => {
  it('redis-server loads the output and holds exactly the renamed content', async () => {
    const rules = await loadRules(RULES);
    const out = join(tmp, 'renamed.rdb');
    const r = await runCli(['transform', FIXTURE, '-o', out, '--rules', RULES, '--out-dir', tmp, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout.toString()) as { migration_stats: Record<string, number> };
    expect(report.migration_stats.reminder_keys).toBeGreaterThan(0);
    expect(report.migration_stats.migrated_successfully).toBe(446);
    const expected = await expectedFrom(FIXTURE, (rec) => {
      const c = rules.classify(rec.key, rec.type, rec.db);
      return { db: c?.toDb ?? rec.db, key: c ? c.newKey : rec.key };
    });
    expect(expected.some((e) => e.key.toString().startsWith('meta-glasses:reminder:event:'))).toBe(true);
    expect(spawnSync('redis-check-rdb', [out]).status).toBe(0);
    const srv = await startRedis({ rdbFile: out });
    try {
      await expectServerHolds(srv, expected);
      const fl = (await srv.client().call('FUNCTION', 'LIST')) as unknown[];
      expect(JSON.stringify(fl)).toContain('rekeylib');
    } finally {
      await srv.stop();
    }
  });
});

/** Corpus files Redis 7.0 can load: RDB ≤ 10 and no module values. */
function loadableCorpus(): string[] {
  if (!existsSync(CORPUS)) return [];
  const out: string[] = [];
  for (const dir of readdirSync(CORPUS).sort()) {
    const meta = JSON.parse(readFileSync(join(CORPUS, dir, 'meta.json'), 'utf8')) as { rdb_version: number };
    if (meta.rdb_version > 10) continue;
    for (const f of readdirSync(join(CORPUS, dir))) if (f.endsWith('.rdb') && !f.startsWith('modules')) out.push(join(dir, f));
  }
  return out;
}

describe('RDB -> JSONL -> RDB -> redis-server equals the original', () => {
  it.each([['fixtures/dump.rdb', FIXTURE] as const, ...loadableCorpus().map((f) => [f, join(CORPUS, f)] as const)])('%s', async (name, src) => {
    const base = join(tmp, name.replace(/\W+/g, '_'));
    const a = await runCli(['transform', src, '-o', `${base}.jsonl`, '--out-dir', tmp, '--expired', 'keep']);
    expect(a.code, a.stderr).toBe(0);
    const b = await runCli(['transform', `${base}.jsonl`, '-o', `${base}.rdb`, '--out-dir', tmp, '--expired', 'keep']);
    expect(b.code, b.stderr).toBe(0);
    const srv = await startRedis({ rdbFile: `${base}.rdb` });
    try {
      await expectServerHolds(srv, await expectedFrom(src));
    } finally {
      await srv.stop();
    }
  });
});

describe('RESP output through redis-cli --pipe', () => {
  it.each(['restore', 'commands'] as const)('%s mode yields the same content', async (mode) => {
    const out = join(tmp, `fixtures-${mode}.resp`);
    const r = await runCli(['transform', FIXTURE, '-o', out, '--out-dir', tmp, ...(mode === 'commands' ? ['--commands'] : [])]);
    expect(r.code, r.stderr).toBe(0);
    const srv = await startRedis();
    try {
      const pipe = spawnSync('redis-cli', ['-p', String(srv.port), '--pipe'], { input: readFileSync(out) });
      expect(pipe.stdout.toString()).toMatch(/errors: 0, replies: \d+/);
      await expectServerHolds(srv, await expectedFrom(FIXTURE), { streamTimes: mode === 'restore' });
    } finally {
      await srv.stop();
    }
  });
});

describe('bad input and stdio', () => {
  it('a truncated dump exits 2 naming file and offset, and leaves no output behind', async () => {
    const bad = join(tmp, 'truncated.rdb');
    writeFileSync(bad, readFileSync(FIXTURE).subarray(0, 100_000));
    const dir = mkdtempSync(join(tmp, 'out-'));
    const r = await runCli(['transform', bad, '-o', join(dir, 'out.rdb'), '--out-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: at byte \\d+: expected`));
    expect(readdirSync(dir).filter((f) => !f.startsWith('redis_migration_'))).toEqual([]);
  });

  it('a flipped byte fails the CRC check (exit 2) unless --ignore-checksum', async () => {
    const bad = join(tmp, 'flipped.rdb');
    const data = Buffer.from(readFileSync(FIXTURE));
    const at = data.indexOf('fx:str:random');
    expect(at).toBeGreaterThan(0);
    data[at + 3]! ^= 0x20; // "fx:Str:random": same length, still a valid file apart from its checksum
    writeFileSync(bad, data);
    const r = await runCli(['transform', bad, '-o', join(tmp, 'flipped.jsonl'), '--out-dir', tmp]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/CRC64/);
    expect(existsSync(join(tmp, 'flipped.jsonl'))).toBe(false);
    const ok = await runCli(['transform', bad, '-o', join(tmp, 'flipped.jsonl'), '--out-dir', tmp, '--ignore-checksum']);
    expect(ok.code).toBe(0);
  });

  it('reads gzip from stdin and writes JSONL to stdout', async () => {
    const gz = spawnSync('gzip', ['-c', FIXTURE]).stdout;
    const r = await runCli(['transform', '-', '-o', '-', '--out-dir', tmp], { input: gz });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toBe(readFileSync(FIXTURE_JSONL, 'utf8'));
  });
});
