/**
 * Redis 7's multi-part AOF: the base file (`appendonlydir/<name>.<seq>.base.rdb`) is a complete RDB, and the
 * manifest lists incremental files with the commands written after it. Reading the base alone would lose
 * those writes in silence, so it is refused (exit 2) naming them; a base with no command after it reads.
 * The directory is made by a real redis-server 7.0 (appendonly yes, BGREWRITEAOF, then more writes).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startRedis } from '../helpers/redis-server.js';
import { aofIncrementsAfter } from '../../src/rdb/aof-manifest.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function waitRewrite(c: { info(s: string): Promise<string> }): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const info = await c.info('persistence');
    if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('BGREWRITEAOF did not finish');
}

/** A copy of a real appendonlydir: keys in the base, and `after` more writes in the incr file. */
async function makeAofDir(after: number): Promise<string> {
  const s = await startRedis({ args: ['--appendonly', 'yes', '--aof-use-rdb-preamble', 'yes'] });
  try {
    const c = s.client();
    await c.set('in-base', '1');
    await c.bgrewriteaof();
    await waitRewrite(c);
    for (let i = 0; i < after; i++) await c.set(`after-${i}`, 'x');
    await c.call('CONFIG', 'SET', 'appendfsync', 'always');
    const copy = mkdtempSync(join(tmpdir(), 'rekey-aof-'));
    dirs.push(copy);
    cpSync(join(s.dir, 'appendonlydir'), copy, { recursive: true });
    return copy;
  } finally {
    await s.stop();
  }
}

describe('a multi-part AOF base file', () => {
  it('with commands after it: refused, naming the incr file (exit 2)', async () => {
    const d = await makeAofDir(3);
    const base = readdirSync(d).find((f) => f.endsWith('.base.rdb'))!;
    expect(aofIncrementsAfter(join(d, base))).toEqual([expect.stringMatching(/\.incr\.aof$/)]);
    const r = await runCli(['transform', join(d, base), '-o', join(d, 'out.jsonl'), '--out-dir', d]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/at byte 0: expected a snapshot, found the base file of a multi-part AOF whose manifest lists commands written after it \(appendonly\.aof\.\d+\.incr\.aof\)/);
    expect(readdirSync(d)).not.toContain('out.jsonl');
  });

  it('with nothing after it: read like any RDB', async () => {
    const d = await makeAofDir(0);
    const base = readdirSync(d).find((f) => f.endsWith('.base.rdb'))!;
    expect(aofIncrementsAfter(join(d, base))).toEqual([]);
    const r = await runCli(['analyze', join(d, base), '--json', '--out-dir', d]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toMatch(/"keys":\s*1\b/);
  });
});
