/**
 * A Redis 8.6 stream (type 26, v3 layout + IDMP tail) written for a target without type 26 is re-encoded
 * as v3: its IDMP producers/IIDs are a counted loss (refused without --lossy), never dropped in silence.
 * The RDB 13 input is made with the project's writer; the RDB 10 output is loaded into Redis 7.0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RdbSink } from '../../src/sinks/rdb-sink.js';
import { runCli } from '../helpers/cli.js';
import { startRedis } from '../helpers/redis-server.js';
import { writeAll } from '../sinks/sink-helpers.js';
import { idmpTail, v4Stream } from '../helpers/records.js';
import { sample } from '../encode/sample-values.js';

let dir: string;
let input: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-idmp-'));
  input = join(dir, 'in13.rdb');
  await writeAll(new RdbSink({ path: input, rdbVersion: 13 }), [
    v4Stream('s:idmp', sample('stream-meta'), idmpTail([{ id: 'p1', iids: ['a', 'b'] }], 2)),
    v4Stream('s:plain', sample('stream-simple'), idmpTail([], 0)),
  ]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(target: string, lossy: boolean) {
  const out = join(dir, `${target}${lossy ? '-lossy' : ''}.rdb`);
  const rep = mkdtempSync(join(dir, 'rep-'));
  const r = await runCli(['transform', input, '-o', out, '--rdb-version', target, '--out-dir', rep, ...(lossy ? ['--lossy'] : [])]);
  const f = readdirSync(rep).find((x) => x.startsWith('migration_report'))!;
  return { ...r, out, report: JSON.parse(readFileSync(join(rep, f), 'utf8')) };
}

describe('stream v4 IDMP state on targets without it', () => {
  it('RDB 13 keeps it verbatim', async () => {
    const r = await run('redis-8.6', false);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.output.rdb.convertedKeys).toBe(0);
  });

  for (const target of ['redis-8.0', 'valkey-9.0']) {
    it(`${target}: refused without --lossy, named; counted with it`, async () => {
      const strict = await run(target, false);
      expect(strict.code).toBe(1);
      expect(JSON.stringify(strict.report.error_keys)).toMatch(/s:idmp.*stream IDMP state \(1 producers, 2 IIDs/);
      expect(JSON.stringify(strict.report.error_keys)).not.toMatch(/s:plain/);
      const lossy = await run(target, true);
      expect(lossy.code, lossy.stderr).toBe(0);
      expect(lossy.report.output.rdb.lost.by_kind).toEqual({ stream_idmp: 1 });
      expect(lossy.report.output.rdb.keys).toBe(2);
    });
  }

  it('the RDB 10 output loads into Redis 7.0 with both streams', async () => {
    const r = await run('redis-7.0', true);
    expect(r.code, r.stderr).toBe(0);
    const redis = await startRedis({ rdbFile: r.out });
    try {
      const c = redis.client();
      expect(await c.xlen('s:idmp')).toBe((sample('stream-meta') as { length: number }).length);
      expect(await c.xlen('s:plain')).toBe((sample('stream-simple') as { length: number }).length);
    } finally {
      await redis.stop();
    }
  });
});
