/**
 * A target that dies mid-sync (SIGKILL; it keeps an appendfsync-always AOF, so what it acknowledged
 * survives): `rekey sync` says which endpoint failed, keeps the checkpoint and exits 3; started while
 * the target is still down it exits 3 again and changes nothing; once the target is back it continues
 * with PSYNC and the target ends exactly equal to the renamed source.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caughtUp, stopClean, expectRenamedKeys, Load, spawnSync, stats, streamPast, syncPair } from './helpers.js';

describe('rekey sync: the target is killed mid-stream', () => {
  const pair = syncPair('target', { source: ['--repl-backlog-size', '64mb'], target: ['--appendonly', 'yes', '--appendfsync', 'always'] });

  it('exit 3 naming the target, checkpoint kept; after the target is back the sync continues exactly', async () => {
    const { source, target } = pair;
    const src = source.client();
    await src.set('old:before', 'snapshot');
    const out = join(pair.dir, 'out');
    const cpPath = join(out, 'rekey-sync.checkpoint.json');
    const args = pair.args(out, '--status-interval', '0', '--batch', '200');
    const load = new Load(source.client());
    let tgt = target.client({ maxRetriesPerRequest: 0 });

    let sync = spawnSync(args);
    await sync.waitFor(/snapshot loaded/);
    load.start();
    try {
      await streamPast(tgt, 1000);
      tgt.disconnect();
      await target.kill();
      const end = await sync.exited;
      expect(end.code, sync.stderr).toBe(3);
      expect(sync.stderr).toMatch(new RegExp(`the target redis://127\\.0\\.0\\.1:${target.port} failed: .*stopped at offset \\d+ \\(checkpoint .*\\): run the same command again to continue`));
      const cp = readFileSync(cpPath, 'utf8');
      expect(JSON.parse(cp).offset).toBeGreaterThan(0);

      // still down: refused at once, the checkpoint untouched
      const down = spawnSync(args);
      expect((await down.exited).code, down.stderr).toBe(3);
      expect(down.stderr).toMatch(new RegExp(`cannot connect to the target redis://127\\.0\\.0\\.1:${target.port}`));
      expect(readFileSync(cpPath, 'utf8')).toBe(cp);

      await target.restart();
      tgt = target.client();
      sync = spawnSync(args);
      await sync.waitFor(/PSYNC continue/);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await load.stop();
    }
    await caughtUp(src, tgt, load);
    await stopClean(sync, 'SIGINT');

    expect(await stats(src, 'sync_full', 'sync_partial_ok')).toEqual({ sync_full: 1, sync_partial_ok: 1 });
    expect(await tgt.get('new:counter')).toBe(String(load.steps));
    expect(await tgt.lrange('new:seq', 0, -1)).toEqual(load.expected());
    await expectRenamedKeys(src, tgt);
  });
});
