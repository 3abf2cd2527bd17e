/**
 * The migration guide's in-place run: `rekey import redis://prod --target redis://prod --rules … --live
 * --validate` copies each old key to its new name in the same instance, keeps the old keys, skips new
 * keys that already exist, and carries the remaining TTL as an absolute expiry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { openInput } from '../../src/sources/open.js';
import { liveSourceOptions } from '../../src/sources/redis-source-cli.js';
import type { RedisSourceInput } from '../../src/sources/redis-source.js';
import { loadRules, type CompiledRules } from '../../src/rules/index.js';
import { decodeValue } from '../../src/rdb/value-decode.js';
import { valuesEqual } from '../../src/validate/read-value.js';
import type { KeyRecord } from '../../src/records/types.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { collect, commandStats, dumpAll, FIXTURE, keysOf, PREFIX, ROOT, RULES } from './helpers.js';

const IMPORT_TS = join(ROOT, 'src', 'commands', 'import.ts');
const haveImport = existsSync(IMPORT_TS);

type ImportModule = typeof import('../../src/commands/import.js');

let srv: RedisHandle;
let c: Redis;
let dir: string;
let fileKeys: KeyRecord[];
let rules: CompiledRules;

beforeAll(async () => {
  srv = await startRedis({ rdbFile: FIXTURE });
  c = srv.client();
  dir = mkdtempSync(join(tmpdir(), 'rekey-inplace-'));
  fileKeys = keysOf(await collect(await openInput(FIXTURE)));
  rules = await loadRules(RULES);
});

afterAll(async () => {
  await srv?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function args(url: string, extra: Record<string, unknown> = {}) {
  return {
    input: url,
    target: url,
    rules: RULES,
    live: true,
    yes: true,
    validate: true,
    'out-dir': dir,
    json: false,
    'ignore-checksum': false,
    'allow-future-version': false,
    progress: false,
    ...extra,
  };
}

/** Read a key from the server as a record-like value (DUMP decoded) with its absolute expiry. */
async function readKey(db: number, key: Buffer): Promise<{ value: ReturnType<typeof decodeValue>; expireAtMs: number | null } | null> {
  await c.select(db);
  const d = (await c.callBuffer('DUMP', key)) as Buffer | null;
  const t = await c.pexpiretime(key);
  await c.select(0);
  if (d === null) return null;
  return { value: decodeValue(d.subarray(1, d.length - 10), d[0]!, 'redis', 'dump', 1), expireAtMs: t >= 0 ? t : null };
}

describe('in-place migration from a live source', () => {
  it.skipIf(!haveImport)('renames into the same instance, keeps old keys, validates with 0 mismatches; a second run skips all', async () => {
    const { importWithOutcome } = (await import(IMPORT_TS)) as ImportModule;
    const before = await dumpAll(c, [0, 1, 3]);
    const renames = fileKeys
      .map((k) => ({ k, cls: rules.classify(k.key, k.type, k.db) }))
      .filter((x) => x.cls !== null && !x.cls.newKey.equals(x.k.key));
    expect(renames.length).toBeGreaterThan(200);

    // 1. as the CLI runs it today (the plain redis:// input, every key scanned)
    const r1 = await importWithOutcome(args(srv.url) as never);
    const rep1 = r1.report as { validation: { performed: boolean; mismatched: number; checked: number }; import: { created: number; skipped_existing: number; errors: number }; migration_stats: Record<string, number> };
    expect(rep1.validation.performed).toBe(true);
    expect(rep1.validation.mismatched).toBe(0);
    expect(rep1.import.errors).toBe(0);
    expect(rep1.import.created).toBe(renames.length);
    // every key read that keeps its name (unmatched, or a rule without rename) was written onto itself:
    // skipped. All keys are read, or (once the import command passes liveSourceOptions) only the app's.
    const appKeys = fileKeys.filter((k) => k.key.toString('latin1').startsWith(PREFIX)).length;
    expect([fileKeys.length, appKeys]).toContain(rep1.migration_stats.total_keys_found);
    expect(rep1.import.skipped_existing).toBe(rep1.migration_stats.total_keys_found! - renames.length);
    expect(r1.exitCode).toBe(0);

    // the new keys: same value, same absolute expiry as their old key
    for (const { k, cls } of renames) {
      const got = await readKey(cls!.toDb ?? k.db, cls!.newKey);
      expect(got, cls!.newKey.toString()).not.toBeNull();
      const eq = valuesEqual(got!.value, k.decode());
      expect(eq.equal, `${cls!.newKey.toString()}: ${eq.diff}`).toBe(true);
      expect(got!.expireAtMs).toBe(k.expireAtMs);
    }
    // the old keys: untouched (same DUMP bytes and expiry)
    const after = await dumpAll(c, [0, 1, 3]);
    for (const [k, v] of before) expect(after.get(k), k).toBe(v);
    expect(after.size).toBe(before.size + renames.length);

    // 2. as wired with liveSourceOptions: in place, so SCAN MATCH is pushed down to the rules' prefix;
    //    everything already exists and is skipped, validation still finds nothing wrong
    const open = async () => (await openInput(srv.url, liveSourceOptions({ input: srv.url, target: srv.url, 'scan-match': 'auto', 'scan-count': 100 }, { rules, unmatched: 'keep' }))) as RedisSourceInput;
    const input = await open();
    expect(input.match).toBe('josancamon:rayban-meta-glasses-api:*');
    await c.call('CONFIG', 'RESETSTAT');
    const r2 = await importWithOutcome(args(srv.url) as never, { input, reopenInput: open });
    const stats = await commandStats(c);
    const rep2 = r2.report as typeof rep1;
    expect(rep2.import.created).toBe(0);
    expect(rep2.import.skipped_existing).toBe(appKeys);
    expect(rep2.migration_stats.total_keys_found).toBe(appKeys);
    expect(rep2.validation.performed).toBe(true);
    expect(rep2.validation.mismatched).toBe(0);
    expect(r2.exitCode).toBe(0);
    // the source side DUMPed only the app's keys (twice: the import and the validation pass); the
    // validation reads the target separately
    expect(stats.get('dump') ?? 0).toBeGreaterThanOrEqual(2 * appKeys);
    expect(await dumpAll(c, [0, 1, 3])).toEqual(after);
  });

  it.skipIf(!haveImport)('keys changed during the run are reported by validation, not silently mismatched', async () => {
    const { importWithOutcome } = (await import(IMPORT_TS)) as ImportModule;
    const s = await startRedis({ rdbFile: FIXTURE });
    try {
      const w = s.client();
      const victim = fileKeys.find((k) => k.db === 0 && k.type === 'string' && k.key.toString().startsWith(`${PREFIX}reminder:`))!;
      let changed = false;
      // the source reads, the import writes, then the old key changes before validation reads it again
      const open = async () =>
        (await openInput(s.url, {
          ...liveSourceOptions({ input: s.url, target: s.url, 'scan-match': 'auto' }, { rules, unmatched: 'keep' }),
        })) as RedisSourceInput;
      const r = await importWithOutcome(args(s.url) as never, {
        input: await open(),
        reopenInput: async () => {
          await w.set(victim.key, 'changed after the copy', 'KEEPTTL');
          changed = true;
          return open();
        },
      });
      const rep = r.report as { validation: { performed: boolean; mismatched: number; mismatches: Array<{ kind: string }> } };
      expect(changed).toBe(true);
      expect(rep.validation.performed).toBe(true);
      expect(rep.validation.mismatched).toBe(1);
      expect(rep.validation.mismatches[0]!.kind).toBe('value');
      expect(r.exitCode).toBe(1);
    } finally {
      await s.stop();
    }
  });
});
