import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { importWithOutcome, runImport, type ImportArgs } from '../../src/commands/import.js';
import { runValidate } from '../../src/commands/validate.js';
import { runRollback } from '../../src/commands/rollback.js';
import { openInput } from '../../src/sources/open.js';
import { readValue, valuesEqual } from '../../src/validate/read-value.js';
import { loadRules } from '../../src/rules/index.js';
import type { KeyRecord } from '../../src/records/types.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { MigrationStats } from '../../src/pipeline/stats.js';
import { JsonlSink } from '../../src/sinks/jsonl-sink.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'fixtures', 'dump.rdb');
const RULES = join(ROOT, 'examples', 'meta-glasses.rules.yaml');

function base(target: string, outDir: string, extra: Partial<ImportArgs> = {}): ImportArgs {
  return { input: FIXTURE, target, 'out-dir': outDir, json: false, 'ignore-checksum': false, 'allow-future-version': false, progress: false, ...extra };
}

function reportOf(dir: string): Record<string, any> {
  const f = readdirSync(dir).filter((n) => /^(migration|validation)_report_.*\.json$/.test(n)).sort().pop()!;
  return JSON.parse(readFileSync(join(dir, f), 'utf8'));
}

async function dbsizeAll(r: RedisHandle): Promise<number> {
  const c = r.client();
  const info = String(await c.info('keyspace'));
  c.disconnect();
  let n = 0;
  for (const m of info.matchAll(/keys=(\d+)/g)) n += Number(m[1]);
  return n;
}

async function fixtureKeys(): Promise<KeyRecord[]> {
  const input = await openInput(FIXTURE);
  const out: KeyRecord[] = [];
  for await (const b of input.batches) for (const r of b) if (r.kind === 'key') out.push(r);
  return out;
}

describe('import into a standalone redis-server', () => {
  let redis: RedisHandle;
  let dir: string;
  beforeAll(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'rekey-import-'));
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a dry run reads the target and writes nothing', async () => {
    const c = redis.client();
    await c.flushall();
    await c.set('pre-existing', 'x');
    await c.set('fx:str:raw:2', 'old value');
    const before = await dbsizeAll(redis);
    const out = join(dir, 'dry');
    const code = await runImport(base(redis.url, out));
    expect(code).toBe(0);
    expect(await dbsizeAll(redis)).toBe(before);
    expect(await c.get('fx:str:raw:2')).toBe('old value');
    const rep = reportOf(out);
    expect(rep.dry_run).toBe(true);
    expect(rep.plan.keys).toBe(446);
    expect(rep.plan.existing).toBe(1);
    expect(rep.migration_stats.total_keys_found).toBe(446);
    expect(rep.migration_stats.skipped_existing).toBe(1);
    expect(readdirSync(out).some((f) => f.startsWith('migration_ledger_'))).toBe(false);
    expect(readdirSync(out).some((f) => f.startsWith('redis_migration_') && f.endsWith('.log'))).toBe(true);
    await c.flushall();
    c.disconnect();
  });

  it('imports the fixture exactly (RESTORE, TTLs, every db), validates with 0 mismatches, and a second run skips every key', async () => {
    const fl = redis.client();
    await fl.flushall();
    fl.disconnect();
    const out = join(dir, 'live');
    const r1 = await importWithOutcome(base(redis.url, out, { live: true, yes: true, validate: true }));
    expect(r1.exitCode).toBe(0);
    const rep = r1.report as Record<string, any>;
    expect(rep.dry_run).toBe(false);
    expect(rep.migration_stats.total_keys_found).toBe(446);
    expect(rep.migration_stats.migrated_successfully).toBe(446);
    expect(rep.migration_stats.migration_errors).toBe(0);
    expect(rep.import.created).toBe(446);
    expect(rep.import.via_restore).toBe(446);
    expect(rep.validation.performed).toBe(true);
    expect(rep.validation.checked).toBe(446);
    expect(rep.validation.mismatched).toBe(0);
    expect(rep.migrated_keys.length).toBe(446);
    expect(await dbsizeAll(redis)).toBe(446);

    // Spot-check through the test's own reader: every key equal, TTLs exact.
    const keys = await fixtureKeys();
    const clients = new Map<number, ReturnType<RedisHandle['client']>>();
    for (const k of keys) {
      let c = clients.get(k.db);
      if (!c) clients.set(k.db, (c = redis.client({ db: k.db })));
      const got = await readValue(c, k.key);
      expect(got.type, k.key.toString()).toBe(k.type);
      expect(valuesEqual(k.decode(), got.value!).diff).toBeUndefined();
      expect(got.expireAtMs).toBe(k.expireAtMs);
    }
    for (const c of clients.values()) c.disconnect();

    // The ledger lists every key as created.
    const ledger = readFileSync(r1.ledgerPath!, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(ledger[0].$).toBe('ledger');
    expect(ledger.filter((l) => l.$ === undefined && l.created === true)).toHaveLength(446);
    expect(ledger[ledger.length - 1]).toMatchObject({ $: 'end', complete: true, created: 446 });

    // Second run: everything already there.
    const out2 = join(dir, 'again');
    const r2 = await importWithOutcome(base(redis.url, out2, { live: true, yes: true }));
    expect(r2.exitCode).toBe(0);
    const rep2 = r2.report as Record<string, any>;
    expect(rep2.migration_stats.skipped_existing).toBe(446);
    expect(rep2.migration_stats.migrated_successfully).toBe(0);
    expect(rep2.import.created).toBe(0);
    expect(rep2.migrated_keys).toEqual([]);
    expect(await dbsizeAll(redis)).toBe(446);

    // validate as its own command agrees.
    expect(await runValidate({ input: FIXTURE, target: redis.url, 'out-dir': join(dir, 'val'), json: false, 'ignore-checksum': false, 'allow-future-version': false })).toBe(0);
  });

  it('validate finds missing, changed, TTL-shifted and unexplained keys (exit 1)', async () => {
    const c = redis.client();
    await c.flushall();
    const out = join(dir, 'rules');
    expect(await runImport(base(redis.url, out, { live: true, yes: true, rules: RULES }))).toBe(0);
    const rules = await loadRules(RULES);
    const keys = await fixtureKeys();
    const renamed = keys
      .filter((k) => k.db === 0)
      .map((k) => ({ k, c: rules.classify(k.key, k.type, k.db) }))
      .filter((x) => x.c && !x.c.newKey.equals(x.k.key));
    expect(renamed.length).toBeGreaterThan(100);
    const str = renamed.find((x) => x.k.type === 'string' && x.k.expireAtMs === null)!;
    const ttl = renamed.find((x) => x.k.expireAtMs !== null)!;
    const gone = renamed.find((x) => x.k.type === 'hash')!;
    await c.set(str.c!.newKey, 'tampered');
    await c.pexpireat(ttl.c!.newKey, ttl.k.expireAtMs! + 60_000);
    await c.del(gone.c!.newKey);
    await c.set('meta-glasses:reminder:event:nobody-wrote-this', '1');
    await c.set('unrelated:key', '1');
    const vout = join(dir, 'val2');
    const code = await runValidate({ input: FIXTURE, target: redis.url, rules: RULES, 'out-dir': vout, json: false, 'ignore-checksum': false, 'allow-future-version': false });
    expect(code).toBe(1);
    const v = reportOf(vout).validation;
    expect(v.value_mismatch).toBe(1);
    expect(v.ttl_mismatch).toBe(1);
    expect(v.missing).toBe(1);
    expect(v.unexplained_keys).toBe(1);
    expect(v.other_keys_in_target).toBe(1);
    expect(v.mismatched).toBe(4);
    expect(v.mismatches.map((m: { kind: string }) => m.kind).sort()).toEqual(['missing', 'ttl', 'unexplained', 'value']);
    c.disconnect();
  });

  it('rollback deletes exactly the keys the run created', async () => {
    const c = redis.client();
    await c.flushall();
    await c.set('fx:str:raw:2', 'kept: existed before');
    await c.set('other', 'kept too');
    const out = join(dir, 'rb');
    const r = await importWithOutcome(base(redis.url, out, { live: true, yes: true }));
    expect(r.exitCode).toBe(0);
    expect((r.report as any).import.skipped_existing).toBe(1);
    expect(await dbsizeAll(redis)).toBe(447);
    // dry run first: nothing deleted
    expect(await runRollback({ ledger: r.ledgerPath!, target: redis.url, 'out-dir': join(dir, 'rb1') })).toBe(0);
    expect(await dbsizeAll(redis)).toBe(447);
    expect(await runRollback({ ledger: r.ledgerPath!, target: redis.url, live: true, yes: true, 'out-dir': join(dir, 'rb2') })).toBe(0);
    expect(await dbsizeAll(redis)).toBe(2);
    expect(await c.get('fx:str:raw:2')).toBe('kept: existed before');
    expect(await c.get('other')).toBe('kept too');
    c.disconnect();
  });

  it('--on-conflict replace overwrites, --on-conflict fail stops with exit 1', async () => {
    const c = redis.client();
    await c.flushall();
    await c.set('fx:str:raw:2', 'old');
    const r = await importWithOutcome(base(redis.url, join(dir, 'rep'), { live: true, yes: true, 'on-conflict': 'replace', validate: true }));
    expect(r.exitCode).toBe(0);
    const rep = r.report as any;
    expect(rep.import.replaced).toBe(1);
    expect(rep.import.created).toBe(445);
    expect(rep.validation.mismatched).toBe(0);
    const ledger = readFileSync(r.ledgerPath!, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(ledger.filter((l) => l.replaced === true)).toHaveLength(1);

    await c.flushall();
    await c.set('fx:str:raw:2', 'old');
    const f = await importWithOutcome(base(redis.url, join(dir, 'fail'), { live: true, yes: true, 'on-conflict': 'fail' }));
    expect(f.exitCode).toBe(1);
    expect((f.report as any).import.stopped).toMatch(/exists in the target/);
    expect(await c.get('fx:str:raw:2')).toBe('old');
    c.disconnect();
  });

  it('refusing the confirmation writes nothing (exit 1)', async () => {
    const c = redis.client();
    await c.flushall();
    let asked = '';
    const code = await runImport(base(redis.url, join(dir, 'confirm'), { live: true }), {
      confirm: async (q) => {
        asked = q;
        return false;
      },
    });
    expect(code).toBe(1);
    expect(asked).toMatch(/Import .*dump\.rdb: write \d+ keys to dbs? [\d, ]+ of redis:\/\/127\.0\.0\.1/);
    expect(await c.dbsize()).toBe(0);
    c.disconnect();
  });

  it('keys expired at --now are dropped and counted; validation agrees', async () => {
    const c = redis.client();
    await c.flushall();
    const now = 4102444800000 + 10 * 365 * 86400_000; // every fixture TTL (year 2100) has passed
    const r = await importWithOutcome(base(redis.url, join(dir, 'expired'), { live: true, yes: true, now }));
    const rep = r.report as Record<string, any>;
    expect(r.exitCode).toBe(0);
    expect(rep.migration_stats.expired_dropped).toBe(118);
    expect(rep.import.created).toBe(446 - 118);
    expect(await dbsizeAll(redis)).toBe(446 - 118);
    const vout = join(dir, 'expired-val');
    expect(await runValidate({ input: FIXTURE, target: redis.url, now, 'out-dir': vout, json: false, 'ignore-checksum': false, 'allow-future-version': false })).toBe(0);
    expect(reportOf(vout).validation.checked).toBe(446 - 118);
    c.disconnect();
  });

  it('--max-errors stops the run; keys of dbs the target lacks are errors', async () => {
    const small = await startRedis({ args: ['--databases', '2'] });
    try {
      // The fixture has dbs 0, 1 and 3: the 61 keys of db 3 cannot go to a 2-db server.
      const r = await importWithOutcome(base(small.url, join(dir, 'dbs'), { live: true, yes: true }));
      const rep = r.report as Record<string, any>;
      expect(r.exitCode).toBe(1);
      expect(rep.migration_stats.migration_errors).toBe(61);
      expect(rep.import.created).toBe(446 - 61);
      expect(rep.error_keys[0].error).toMatch(/only 2 databases/);
      const c = small.client();
      await c.flushall();
      c.disconnect();
      const r2 = await importWithOutcome(base(small.url, join(dir, 'maxerr'), { live: true, yes: true, 'max-errors': 5 }));
      expect(r2.exitCode).toBe(1);
      expect((r2.report as any).import.stopped).toMatch(/5 errors \(--max-errors\)/);
      expect((r2.report as any).migration_stats.migration_errors).toBe(5);
      // --to-db 1 puts everything into db 1: names the fixture's dbs share collide there. Dropping the later
      // copies is a problem (exit 1) unless keep-first was chosen; either way they are counted and named.
      const r3 = await importWithOutcome(base(small.url, join(dir, 'todb'), { live: true, yes: true, 'to-db': 1, 'on-conflict': 'replace', validate: true }));
      expect((r3.report as any).error_keys).toEqual([]);
      expect((r3.report as any).validation.mismatched).toBe(0);
      const collided = (r3.report as any).migration_stats.collisions as number;
      expect(collided).toBeGreaterThan(0);
      expect((r3.report as any).collision_keys).toHaveLength(collided);
      expect(r3.exitCode).toBe(1);
      const r4 = await importWithOutcome(base(small.url, join(dir, 'todb2'), { live: true, yes: true, 'to-db': 1, 'on-conflict': 'replace', 'on-collision': 'keep-first' }));
      expect((r4.report as any).migration_stats.collisions).toBe(collided);
      expect(r4.exitCode).toBe(0);
    } finally {
      await small.stop();
    }
  });

  it('the dry run compares the estimated size with the memory headroom', async () => {
    const c = redis.client();
    await c.flushall();
    const used = Number(/used_memory:(\d+)/.exec(await c.info('memory'))![1]);
    const max = used + 100_000; // the fixture needs more than 100 KB
    await c.config('SET', 'maxmemory', String(max));
    try {
      const out = join(dir, 'mem');
      // It will not fit: exit 1, with the shortfall (test/import/memory-stops.test.ts checks the model).
      expect(await runImport(base(redis.url, out))).toBe(1);
      const plan = reportOf(out).plan;
      expect(plan.memory.maxmemory).toBe(max);
      expect(plan.memory.estimated_bytes).toBeGreaterThan(0);
      expect(plan.memory.fits).toBe(false);
      expect(plan.memory.short_by).toBeGreaterThan(0);
    } finally {
      await c.config('SET', 'maxmemory', '0');
      c.disconnect();
    }
  });

  it('imports a JSONL dump (values re-encoded from JSON) and validates it', async () => {
    const c = redis.client();
    await c.flushall();
    const jsonl = join(dir, 'dump.jsonl');
    const input = await openInput(FIXTURE);
    await runPipeline(input.batches, { filter: null, rules: null, unmatched: 'keep', expired: 'keep', now: Date.now(), onCollision: 'keep-first', guard: null, sinks: [new JsonlSink({ path: jsonl })], stats: new MigrationStats() });
    const r = await importWithOutcome(base(redis.url, join(dir, 'jsonl'), { input: jsonl, live: true, yes: true, validate: true }));
    const rep = r.report as Record<string, any>;
    expect(rep.error_keys).toEqual([]);
    expect(rep.import.created).toBe(446);
    expect(rep.validation.mismatched).toBe(0);
    expect(r.exitCode).toBe(0);
    c.disconnect();
  });
});
