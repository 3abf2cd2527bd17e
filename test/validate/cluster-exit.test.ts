/**
 * Issue 12 item 1: `validate --target <cluster node>` and `import --live --validate` into a cluster printed
 * their result and then never exited (a connection to one node stayed open). Through the built CLI against
 * a real 3-master cluster: each process must end by itself, with its code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type ClusterHandle } from '../helpers/redis-server.js';
import { CLI } from '../helpers/cli.js';

/** Run the CLI; a process still alive after `limitMs` is killed and reported as hung (code null). */
function runBounded(args: string[], limitMs: number): Promise<{ code: number | null; hung: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let hung = false;
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: hung ? null : code, hung, stderr });
    });
  });
}

describe('validate / import --validate against a cluster end with their exit code', () => {
  let cl: ClusterHandle;
  let dir: string;
  let input: string;
  beforeAll(async () => {
    cl = await startCluster(3);
    dir = mkdtempSync(join(tmpdir(), 'rekey-vcl-'));
    input = join(dir, 'keys.jsonl');
    const lines: string[] = [];
    // Keys spread over every master's slots.
    for (let i = 0; i < 300; i++) lines.push(JSON.stringify({ db: 0, key: `k:${i}`, type: 'string', value: `v${i}` }));
    writeFileSync(input, lines.join('\n') + '\n');
  }, 60_000);
  afterAll(async () => {
    await cl?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('import --live --validate exits 0, then validate exits 0; a changed key makes validate exit 1', async () => {
    const node = `redis://127.0.0.1:${cl.nodes[1]!.port}`;
    const imp = await runBounded(['import', input, '--target', node, '--live', '--yes', '--validate', '--out-dir', dir, '--no-progress'], 60_000);
    expect(imp.hung, `import --validate did not exit:\n${imp.stderr}`).toBe(false);
    expect(imp.code, imp.stderr).toBe(0);

    const ok = await runBounded(['validate', input, '--target', node, '--out-dir', dir], 60_000);
    expect(ok.hung, `validate did not exit:\n${ok.stderr}`).toBe(false);
    expect(ok.code, ok.stderr).toBe(0);

    const c = cl.client();
    await c.set('k:7', 'changed');
    c.disconnect();
    const bad = await runBounded(['validate', input, '--target', node, '--out-dir', dir], 60_000);
    expect(bad.hung, `validate did not exit:\n${bad.stderr}`).toBe(false);
    expect(bad.code, bad.stderr).toBe(1);
    expect(bad.stderr).toMatch(/k:7/);
  }, 200_000);
});
