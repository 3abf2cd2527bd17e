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
import { ByteWriter } from '../../src/encode/rdb-primitives.js';
import { encodeValue } from '../../src/encode/value-encoder.js';
import { decodeValue } from '../../src/rdb/value-decode.js';
import { T } from '../../src/rdb/constants.js';
import type { KeyRecord, Value } from '../../src/records/types.js';
import { runCli } from '../helpers/cli.js';
import { startRedis } from '../helpers/redis-server.js';
import { keyRecord, writeAll } from '../sinks/sink-helpers.js';
import { sample } from '../encode/sample-values.js';

/** The IDMP tail as librdb PR #93 reads it: duration, max, producers (id, IIDs with stream ids), stats. */
function idmpTail(producers: Array<{ id: string; iids: string[] }>, added: number): Buffer {
  const w = new ByteWriter().len(100).len(1000).len(producers.length);
  for (const p of producers) {
    w.string(Buffer.from(p.id)).len(p.iids.length);
    p.iids.forEach((iid, i) => w.string(Buffer.from(iid)).len(1).len(i));
  }
  return w.len(added).len(0).finish();
}

function v4Stream(key: string, value: Value, tail: Buffer): KeyRecord {
  const v3 = encodeValue(value, { rdbVersion: 11, flavor: 'redis' });
  expect(v3.rdbType).toBe(T.STREAM_LISTPACKS_3);
  const payload = Buffer.concat([v3.payload, tail]);
  const rec = keyRecord(key, value, { version: 13 });
  return { ...rec, rdbType: T.STREAM_LISTPACKS_4, payload, decode: () => decodeValue(payload, T.STREAM_LISTPACKS_4, 'redis', 'test', 0) };
}

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
