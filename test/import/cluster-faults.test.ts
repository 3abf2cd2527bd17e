/**
 * Faults of a Redis Cluster target during an import (3 masters, no replicas, AOF with appendfsync always
 * so a killed master keeps what it acknowledged): a master SIGKILLed mid-import stops the run with a clear
 * reason and a resumable ledger; once it is back `--resume` finishes, the target holds exactly the input,
 * and no key is written twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type ClusterHandle } from '../helpers/redis-server.js';
import { importWithOutcome } from '../../src/commands/import.js';
import type { TargetWriter } from '../../src/import/restore-writer.js';
import { args, fillMixed, gatedInput, ledgerLines, makeRdb, until, totalKeys, clusterOk, finalStates } from './helpers.js';

const N = 30_000;

describe('Redis Cluster target faults', () => {
  let dir: string;
  let rdb: string;
  let cl: ClusterHandle;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-cluster-faults-'));
    rdb = join(dir, 'data.rdb');
    await makeRdb(rdb, (c) => fillMixed(c, N));
    cl = await startCluster(3, { args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  });
  afterAll(async () => {
    await cl?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a master SIGKILLed mid-import (no replicas): clear stop, resumable ledger; after its restart --resume ends exact, nothing written twice', async () => {
    const g = await gatedInput(rdb, [N / 2]);
    let writer: TargetWriter | null = null;
    const run1 = importWithOutcome(args(rdb, cl.nodes[0]!.url, join(dir, 'run1'), { pipeline: 200 }), { input: g.input, onStart: (w) => (writer = w) });
    await g.gates[0]!.reached;
    await until(() => writer !== null && writer.counters.created >= N / 2, 30_000, 'the first half acknowledged');
    // Release the rest and kill while its writes are in flight (a tight poll: the import runs fast).
    g.gates[0]!.release();
    const deadline = Date.now() + 30_000;
    while (writer!.counters.created < N / 2 + 2_000 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    const victim = cl.nodes[1]!;
    await victim.kill();
    const r1 = await run1;
    expect(r1.exitCode).toBe(1);
    const rep1 = r1.report as Record<string, any>;
    // The reason names the master that went away.
    expect(rep1.import.stopped).toMatch(new RegExp(`127\\.0\\.0\\.1:${victim.port}.*(closed|failed|refused)|(closed|failed|refused).*127\\.0\\.0\\.1:${victim.port}`, 'i'));
    const ledger = r1.ledgerPath!;
    const l1 = ledgerLines(ledger);
    expect(l1[l1.length - 1]).toMatchObject({ $: 'end', complete: false });
    const acked1 = l1.filter((l) => l.$ === undefined && l.created === true).length;
    // Report counts are what the target acknowledged (the ledger), not what was handed over.
    expect(rep1.import.created).toBe(acked1);
    expect(rep1.migration_stats.migrated_successfully).toBe(acked1);
    expect(acked1).toBeGreaterThan(N / 2);
    expect(rep1.import.unanswered_at_stop).toBeGreaterThan(0);
    expect(acked1).toBeLessThan(N);

    await victim.restart();
    await until(() => clusterOk(cl), 30_000, 'cluster_state:ok after the restart');
    // Every acknowledged key survived, on every master (appendfsync always).
    expect(await totalKeys(cl)).toBeGreaterThanOrEqual(acked1);

    const r2 = await importWithOutcome(args(rdb, cl.nodes[2]!.url, join(dir, 'run2'), { resume: ledger, validate: true, pipeline: 200 }));
    const rep2 = r2.report as Record<string, any>;
    expect(rep2.error_keys).toEqual([]);
    expect(rep2.validation.mismatched).toBe(0);
    expect(rep2.validation.not_imported).toBe(0);
    expect(r2.exitCode).toBe(0);
    expect(rep2.resume.already_done).toBe(l1.filter((l) => l.$ === undefined).length);
    // The target holds exactly the input: N keys, every one compared equal by the validation above.
    expect(await totalKeys(cl)).toBe(N);
    const states = finalStates(ledgerLines(ledger));
    expect(states.size).toBe(N);
    const count = (s: string): number => [...states.values()].filter((v) => v === s).length;
    // Keys of the killed master's last window are uncertain (they exist; the reply was lost), the rest created.
    expect(count('created') + count('uncertain') + count('skipped')).toBe(N);
    expect(count('skipped')).toBe(0);
    expect(rep2.import.uncertain_after_resume).toBe(count('uncertain'));
    expect(rep2.import.created).toBe(count('created') - acked1);
    expect(ledgerLines(ledger).pop()).toMatchObject({ $: 'end', complete: true });
  }, 120_000);
});
