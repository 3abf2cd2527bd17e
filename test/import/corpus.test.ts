/**
 * Every corpus file a Redis 7.0 server can load (decided by asking one: start redis-server on it) is
 * imported into a fresh 7.0 target and validated: 0 errors, 0 mismatches. Files written by newer servers
 * (RDB 11) go through the automatic down-conversion / command path and must validate too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, openSync, readSync, closeSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { importWithOutcome } from '../../src/commands/import.js';
import { CORPUS_DIR, corpusMissing } from '../helpers/corpus.js';

const CORPUS = CORPUS_DIR;
const have = corpusMissing('corpus import + validate') === null;

function rdbVersion(path: string): number | null {
  const fd = openSync(path, 'r');
  const b = Buffer.alloc(9);
  try {
    readSync(fd, b, 0, 9, 0);
  } finally {
    closeSync(fd);
  }
  const s = b.toString('latin1');
  if (!s.startsWith('REDIS')) return null;
  const v = Number(s.slice(5));
  return Number.isInteger(v) ? v : null;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.name.endsWith('.rdb') && statSync(p).size > 0) out.push(p);
  }
  return out.sort();
}

const candidates = have ? walk(CORPUS).filter((f) => (rdbVersion(f) ?? 99) <= 10) : [];
/** Newer files the auto mode must carry over by conversion or commands. */
const newer = have
  ? ['generated/redis-7.2.6/dump.rdb', 'generated/redis-7.2.6/small-encodings.rdb', 'generated/valkey-8.0.1/dump.rdb'].map((f) => join(CORPUS, f)).filter(existsSync)
  : [];

async function loadableBy70(path: string): Promise<boolean> {
  try {
    const r = await startRedis({ rdbFile: path, startTimeoutMs: 15_000 });
    await r.stop();
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!have)('import + validate over the rdb corpus (Redis 7.0 target)', () => {
  let target: RedisHandle;
  let dir: string;
  const imported: string[] = [];
  const skipped: string[] = [];
  beforeAll(async () => {
    target = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'rekey-corpus-import-'));
  });
  afterAll(async () => {
    await target?.stop();
    rmSync(dir, { recursive: true, force: true });
    // eslint-disable-next-line no-console
    console.log(`corpus import: ${imported.length} files imported and validated, ${skipped.length} not loadable by Redis 7.0`);
  });

  async function importAndValidate(file: string, n: number, extra: Record<string, unknown> = {}): Promise<Record<string, any>> {
    const c = target.client();
    await c.flushall();
    c.disconnect();
    const r = await importWithOutcome({
      input: file,
      target: target.url,
      live: true,
      yes: true,
      validate: true,
      'out-dir': join(dir, String(n)),
      json: false,
      'ignore-checksum': false,
      'allow-future-version': false,
      progress: false,
      ...extra,
    });
    const rep = r.report as Record<string, any>;
    const problems = [
      ...(rep.error_keys ?? []).slice(0, 5).map((e: unknown) => `error ${JSON.stringify(e)}`),
      ...(rep.validation?.mismatches ?? []).slice(0, 5).map((m: unknown) => `mismatch ${JSON.stringify(m)}`),
    ];
    expect(problems).toEqual([]);
    expect(rep.validation.performed).toBe(true);
    expect(rep.validation.mismatched).toBe(0);
    expect(rep.migration_stats.migration_errors).toBe(0);
    expect(r.exitCode).toBe(0);
    return rep;
  }

  it.each(candidates.map((f, i) => [relative(CORPUS, f), f, i] as const))('%s', async (_name, file, i) => {
    if (!(await loadableBy70(file))) {
      skipped.push(file);
      return;
    }
    await importAndValidate(file, i);
    imported.push(file);
  });

  it.each(newer.map((f, i) => [relative(CORPUS, f), f, 1000 + i] as const))('%s (newer than the target: converted or as commands)', async (_name, file, i) => {
    await importAndValidate(file, i);
  });

  it.skipIf(!existsSync(join(CORPUS, 'generated/redis-7.4.1/dump.rdb')))('redis-7.4.1 hash field TTLs: refused on 7.0, dropped and counted with --lossy', async () => {
    const file = join(CORPUS, 'generated/redis-7.4.1/dump.rdb');
    const c = target.client();
    await c.flushall();
    c.disconnect();
    const strict = await importWithOutcome({ input: file, target: target.url, live: true, yes: true, 'out-dir': join(dir, 'hfe1'), json: false, 'ignore-checksum': false, 'allow-future-version': false, progress: false });
    expect(strict.exitCode).toBe(1);
    expect((strict.report as any).error_keys.every((e: { error: string }) => /hash field TTLs/.test(e.error))).toBe(true);
    const rep = await importAndValidate(file, 2000, { lossy: true });
    expect(rep.import.hash_field_ttls_dropped).toBeGreaterThan(0);
  });

  it('imported a substantial part of the corpus', () => {
    expect(imported.length).toBeGreaterThan(40);
  });
});
