/**
 * Commands that talk to a Redis Cluster end with their exit code: every connection to every node is
 * closed once the result is printed (issue 12, item 1). A real 3-master cluster, the built CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type ClusterHandle } from '../helpers/redis-server.js';
import { CLI } from '../helpers/cli.js';

const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'dump.rdb');

/** Run the CLI; resolve with its code, or 'hung' if it is still running after `ms`. */
function runWithin(args: string[], ms: number): Promise<{ code: number | 'hung'; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: 'hung', stderr });
    }, ms);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stderr });
    });
    child.stdin.end();
  });
}

describe('cluster commands exit', () => {
  let cl: ClusterHandle;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-trust-cluster-'));
    cl = await startCluster(3);
  }, 60_000);
  afterAll(async () => {
    await cl?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('import --live --validate into a cluster ends with exit 0', async () => {
    const r = await runWithin(['import', FIXTURE, '--db', '0', '--target', cl.nodes[0]!.url, '--live', '--yes', '--validate', '--no-progress', '--out-dir', dir], 25_000);
    expect(r.code, r.stderr).toBe(0);
  }, 40_000);

  it('validate --target <cluster node> ends with exit 0', async () => {
    const r = await runWithin(['validate', FIXTURE, '--db', '0', '--target', cl.nodes[1]!.url, '--out-dir', dir], 25_000);
    expect(r.code, r.stderr).toBe(0);
  }, 40_000);
});
