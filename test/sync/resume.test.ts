/**
 * Kill and resume, with the built CLI and real servers: `rekey sync` is SIGKILLed three times while the
 * source takes a pipelined write load (INCR + RPUSH i, in MULTI/EXEC and Lua too); each restart must
 * continue with PSYNC from the recorded offset (the source's sync_partial_ok goes up, sync_full does
 * not) and the target must end with exactly the source's counter and sequence: a doubled command shows
 * as a counter too high or a repeated element, a lost one as a gap.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caughtUp, stopClean, expectRenamedKeys, Load, spawnSync, stats, streamPast, syncPair } from './helpers.js';

describe('rekey sync: SIGKILL mid-stream, restart continues exactly (PSYNC)', () => {
  const pair = syncPair('resume', { source: ['--repl-backlog-size', '64mb'] });

  it('three kills under load: no full resync after the first, no write lost or doubled', async () => {
    const src = pair.source.client();
    const tgt = pair.target.client();
    await src.set('old:before', 'snapshot');
    const out = join(pair.dir, 'out');
    const args = pair.args(out, '--status-interval', '0', '--batch', '200');
    const load = new Load(pair.source.client());

    let sync = spawnSync(args);
    await sync.waitFor(/snapshot loaded/);
    const first = await stats(src, 'sync_full', 'sync_partial_ok');
    expect(first.sync_full).toBe(1);
    load.start();
    try {
      for (let kill = 1; kill <= 3; kill++) {
        // kill while the target is visibly taking the stream
        const base = Number((await tgt.get('new:counter')) ?? 0);
        await streamPast(tgt, base + 500);
        sync.child.kill('SIGKILL');
        expect((await sync.exited).signal).toBe('SIGKILL');
        const cp = JSON.parse(readFileSync(join(out, 'rekey-sync.checkpoint.json'), 'utf8')) as { offset: number; replid: string };
        // the target's marker (set inside each batch's transaction) is never behind the file
        const held = JSON.parse((await tgt.get('rekey-sync:checkpoint')) ?? '{}') as { offset: number; replid: string };
        expect(held.replid).toBe(cp.replid);
        expect(held.offset).toBeGreaterThanOrEqual(cp.offset);
        expect(held.offset).toBeGreaterThan(0);
        await new Promise((r) => setTimeout(r, 300)); // the source takes writes while nobody replicates
        sync = spawnSync(args);
        await sync.waitFor(/PSYNC continue/);
        const now = await stats(src, 'sync_full', 'sync_partial_ok');
        expect(now, sync.stderr).toEqual({ sync_full: 1, sync_partial_ok: kill });
      }
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await load.stop();
    }
    await caughtUp(src, tgt, load);
    await stopClean(sync, 'SIGTERM');

    expect(load.steps).toBeGreaterThan(1500);
    expect(await src.get('old:counter')).toBe(String(load.steps));
    expect(await tgt.get('new:counter')).toBe(String(load.steps));
    const seq = await tgt.lrange('new:seq', 0, -1);
    expect(seq.length).toBe(load.steps);
    expect(seq).toEqual(load.expected());
    expect(await tgt.get('new:before')).toBe('snapshot');
    await expectRenamedKeys(src, tgt);
    // the clean stop removed the target's marker (it is not among the keys above)
    expect(await tgt.exists('rekey-sync:checkpoint')).toBe(0);
    expect(await stats(src, 'sync_full')).toEqual({ sync_full: 1 });
  });
});
