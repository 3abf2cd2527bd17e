/**
 * What an operator sees of a running `rekey sync` (the built CLI, real servers): the periodic status
 * line on stderr (lag in bytes and seconds, commands/s, errors by reason), the JSON status on SIGUSR1
 * and on GET /status (127.0.0.1, --status-port), and the clean stop: Ctrl-C under load finishes the
 * batch in flight, records its offset and exits 0, and the next run continues from exactly there.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caughtUp, stopClean, Load, spawnSync, stats, streamPast, syncPair, waitUntil } from './helpers.js';

function http(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('rekey sync: status and clean stop', () => {
  const pair = syncPair('status', { source: ['--repl-backlog-size', '64mb'] });

  it('status line every second, JSON on SIGUSR1 and on GET /status (errors by reason)', async () => {
    const src = pair.source.client();
    const tgt = pair.target.client();
    await Promise.all([src.flushall(), tgt.flushall()]);
    await src.set('old:a', '1');
    const sync = spawnSync(pair.args(join(pair.dir, 'status'), '--status-interval', '1', '--status-port', '0'));
    await sync.waitFor(/status on http:\/\/127\.0\.0\.1:\d+\/status/);
    const port = Number(/status on http:\/\/127\.0\.0\.1:(\d+)\/status/.exec(sync.stderr)![1]);
    await sync.waitFor(/snapshot loaded/);
    // a key the target already holds as a list: the source's INCR of its old name fails there (WRONGTYPE)
    await tgt.rpush('new:wrong', 'x');
    await src.incr('old:wrong');
    const load = new Load(pair.source.client());
    for (let i = 0; i < 10; i++) await load.round();
    await waitUntil('the load on the target', async () => (await tgt.get('new:counter')) === String(load.steps));

    await sync.waitFor(/sync streaming \(full resync\): offset \d+, lag \d+ bytes \/ \d+\.\d s, \d+ cmd\/s, \d+ applied, errors WRONGTYPE 1\b/);
    const line = sync.stderr.split('\n').filter((l) => l.includes('sync streaming')).pop()!;
    expect(Number(/, (\d+) applied/.exec(line)![1])).toBeGreaterThan(1000);

    const before = sync.stderr.length;
    sync.child.kill('SIGUSR1');
    await waitUntil('the SIGUSR1 status', async () => sync.stderr.slice(before).includes('}\n'));
    const usr1 = JSON.parse(sync.stderr.slice(before).split('\n').find((l) => l.startsWith('{'))!) as Record<string, unknown>;
    expect(usr1.phase).toBe('streaming');
    expect(usr1.errors).toEqual({ WRONGTYPE: 1 });
    expect(usr1.commands_applied as number).toBeGreaterThan(1000);
    expect(usr1.lag_bytes).toBe(0);
    expect(usr1.lag_seconds).toBe(0);
    expect((usr1.samples as string[]).join('\n')).toMatch(/INCR "new:wrong": WRONGTYPE/);

    const res = await http(port, '/status');
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/json');
    const web = JSON.parse(res.body) as Record<string, unknown>;
    expect(web.phase).toBe('streaming');
    expect(web.errors).toEqual({ WRONGTYPE: 1 });
    expect(web.applied_offset).toBe(web.source_offset);
    expect((await http(port, '/other')).status).toBe(404);
    expect((await http(port, '/status', 'POST')).status).toBe(405);

    sync.child.kill('SIGTERM');
    const end = await sync.exited;
    expect(end.code, sync.stderr).toBe(1); // the WRONGTYPE error
    expect(sync.stderr).toMatch(/terminated \(SIGTERM\): stopped at offset \d+/);
    await expect(http(port, '/status')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('Ctrl-C under load: the batch in flight finishes, its offset is recorded, exit 0; the next run continues exactly', async () => {
    const src = pair.source.client();
    const tgt = pair.target.client();
    await Promise.all([src.flushall(), tgt.flushall()]);
    const out = join(pair.dir, 'stop');
    const args = pair.args(out, '--status-interval', '0', '--batch', '200');
    const load = new Load(pair.source.client());
    let sync = spawnSync(args);
    await sync.waitFor(/snapshot loaded/);
    const partial = (await stats(src, 'sync_partial_ok')).sync_partial_ok!;
    load.start();
    try {
      await streamPast(tgt, 1000);
      sync.child.kill('SIGINT');
      const end = await sync.exited;
      expect(end.code, sync.stderr).toBe(0);
      const at = Number(/interrupted \(SIGINT\): stopped at offset (\d+)/.exec(sync.stderr)?.[1]);
      const cp = JSON.parse(readFileSync(join(out, 'rekey-sync.checkpoint.json'), 'utf8')) as { offset: number };
      expect(cp.offset).toBe(at);
      // nothing but the file says where the target stands now: the clean stop removed the marker
      expect(await tgt.get('rekey-sync:checkpoint'), sync.stderr).toBe(null);
      sync = spawnSync(args);
      await sync.waitFor(new RegExp(`PSYNC continue from .* at offset ${at + 1} `));
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await load.stop();
    }
    await caughtUp(src, tgt, load);
    await stopClean(sync, 'SIGINT');
    expect((await stats(src, 'sync_partial_ok')).sync_partial_ok).toBe(partial + 1);
    expect(await tgt.get('new:counter')).toBe(String(load.steps));
    expect(await tgt.lrange('new:seq', 0, -1)).toEqual(load.expected());
  });
});
