/**
 * `import a b c --target <cluster>`: a 3-file cluster backup imported into a real 3-master cluster as one
 * dataset (one run, one ledger), validated afterwards by a second read of all three files.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importWithOutcome, type ImportArgs } from '../../src/commands/import.js';
import { startCluster, type ClusterHandle } from '../helpers/redis-server.js';
import { bySlot, FIXTURE, splitDump } from './helpers.js';

let dir = '';
let cl: ClusterHandle;
let shards: string[] = [];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-imulti-'));
  cl = await startCluster(3);
  // db 0 of the fixture (a cluster has only db 0), one file per master's slots
  const all = await splitDump(FIXTURE, mkdtempSync(join(dir, 'all-')), 4, (k) => (k.db === 0 ? bySlot(3)(k) : 3), 'shard');
  shards = all.slice(0, 3);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
}, 60_000);
afterAll(async () => {
  vi.restoreAllMocks();
  await cl?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function args(input: string[], extra: Partial<ImportArgs> = {}): ImportArgs {
  return { input, target: cl.nodes[0]!.url, 'out-dir': mkdtempSync(join(dir, 'out-')), json: false, 'ignore-checksum': false, 'allow-future-version': false, progress: false, live: true, yes: true, ...extra };
}

async function dbsizes(): Promise<number[]> {
  return Promise.all(
    cl.nodes.map(async (n) => {
      const c = n.client();
      try {
        return await c.dbsize();
      } finally {
        c.disconnect();
      }
    }),
  );
}

describe('import of several files', () => {
  it('three shard files into a 3-master cluster: every key on its master, validated', async () => {
    const r = await importWithOutcome(args(shards, { validate: true }));
    expect(r.exitCode).toBe(0);
    const stats = r.report.migration_stats as Record<string, number>;
    expect(stats.total_keys_found).toBe(325);
    expect(stats.migrated_successfully).toBe(325);
    expect(r.report.validation).toMatchObject({ performed: true, mismatched: 0, checked: 325 });
    const sizes = await dbsizes();
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(325);
    expect(sizes.every((n) => n > 50)).toBe(true);
  }, 60_000);

  it('a key in two files is a collision across them (exit 1), and --resume of several inputs reads its one ledger (multi-input-resume.test.ts)', async () => {
    const copy = join(dir, 'copy.rdb');
    copyFileSync(shards[0]!, copy);
    const r = await importWithOutcome(args([shards[0]!, copy], { live: false }));
    expect(r.exitCode).toBe(1);
    expect((r.report.migration_stats as Record<string, number>).collisions).toBeGreaterThan(50);
    await expect(importWithOutcome(args(shards, { resume: join(dir, 'x.jsonl') }))).rejects.toThrow(/ledger .*x\.jsonl: cannot read/);
  }, 60_000);
});
