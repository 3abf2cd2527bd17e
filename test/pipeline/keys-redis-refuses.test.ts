/**
 * Keys Redis will not load as they stand. A corrupt RDB holding one key twice in a db (Redis panics
 * loading it): transform and import keep the
 * first copy, say so, and `--on-collision fail` fails (the file is made by the project's own writer).
 * Empty collections, which Redis skips on load, are skipped and counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RdbSink } from '../../src/sinks/rdb-sink.js';
import { keyRecord, parseFile, writeAll, checkRdb } from '../sinks/sink-helpers.js';
import { runCli } from '../helpers/cli.js';
import { startRedis } from '../helpers/redis-server.js';
import { utf8 as b } from '../helpers/bytes.js';

let dir: string;
let dup: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-dup-'));
  dup = join(dir, 'dup.rdb');
  const sink = new RdbSink({ path: dup, rdbVersion: 10 });
  await writeAll(sink, [
    keyRecord('a', { type: 'string', value: b('first') }),
    keyRecord('dup', { type: 'string', value: b('one') }),
    keyRecord('dup', { type: 'string', value: b('two') }),
    keyRecord('dup', { type: 'string', value: b('other db') }, { db: 1 }),
  ]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('duplicate keys in one db', () => {
  it('transform writes one copy (the first), names the duplicate, and the output loads', async () => {
    const out = join(dir, 'out.rdb');
    const r = await runCli(['transform', dup, '-o', out, '--out-dir', dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/collisions \(later keys dropped\): 1/);
    const keys = (await parseFile(out)).filter((x) => x.kind === 'key');
    expect(keys.map((k) => `${k.db}:${k.key}`)).toEqual(['0:a', '0:dup', '1:dup']);
    expect(keys[1]!.kind === 'key' && keys[1]!.decode()).toEqual({ type: 'string', value: b('one') });
    checkRdb(out);
  });

  it('--on-collision fail stops with exit 1 and no output', async () => {
    const out = join(dir, 'fail.rdb');
    const r = await runCli(['transform', dup, '-o', out, '--on-collision', 'fail', '--out-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the input holds this key more than once \(duplicate key\)/);
  });

  it('import writes the first copy and counts the duplicate', async () => {
    const t = await startRedis();
    try {
      const r = await runCli(['import', dup, '--target', t.url, '--live', '--yes', '--json', '--out-dir', dir]);
      const report = JSON.parse(r.stdout.toString());
      expect(report.migration_stats.collisions).toBe(1);
      const c = t.client();
      expect(await c.get('dup')).toBe('one');
      c.disconnect();
    } finally {
      await t.stop();
    }
  });
});

const EMPTY_KEYS = join(import.meta.dirname, '..', '..', '..', 'shared', 'rdb-corpus', 'peers', 'valkey-tests-assets', 'corrupt_empty_keys.rdb');
const haveEmpty = existsSync(EMPTY_KEYS);

describe('empty collections (Redis skips them on load)', () => {
  it.skipIf(!haveEmpty)(`are skipped and counted by transform${haveEmpty ? '' : ` — skipped: ${EMPTY_KEYS} is absent (the shared corpus is not beside the project)`}`, async () => {
    const out = join(dir, 'empty.rdb');
    const r = await runCli(['transform', EMPTY_KEYS, '-o', out, '--json', '--out-dir', dir]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout.toString());
    expect(report.migration_stats.empty_collections_dropped).toBe(9);
    expect((await parseFile(out)).filter((x) => x.kind === 'key')).toEqual([]);
    checkRdb(out);
  });
});

const AOF = join(import.meta.dirname, '..', '..', '..', 'shared', 'rdb-corpus', 'peers', 'valkey-tests-assets', 'rdb-preamble.aof');
const haveAof = existsSync(AOF);

describe('an AOF with an RDB preamble', () => {
  it.skipIf(!haveAof)(`is refused with the offset where its commands start (exit 2), not read in part${haveAof ? '' : ` — skipped: ${AOF} is absent`}`, async () => {
    const out = join(dir, 'aof.jsonl');
    const r = await runCli(['transform', AOF, '-o', out, '--out-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/at byte 117: expected the end of the file after the RDB EOF record, found RESP commands: this is an AOF with an RDB preamble/);
    expect(existsSync(out)).toBe(false);
  });
});
