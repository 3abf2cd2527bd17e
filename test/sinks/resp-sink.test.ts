import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RespSink } from '../../src/sinks/resp-sink.js';
import { valueToCommands } from '../../src/encode/value-commands.js';
import { UnrepresentableValueError, encodeValue } from '../../src/encode/value-encoder.js';
import { dumpPayload } from '../../src/encode/dump-payload.js';
import { readValue } from '../../src/validate/read-value.js';
import type { KeyRecord, RdbRecord, StreamValue, Value } from '../../src/records/types.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { FUTURE, SAMPLES, sample, withoutFieldTtls } from '../encode/sample-values.js';
import { expectServerHas, keyRecord, parseFile, writeAll, type Expected } from './sink-helpers.js';

import { CORPUS_GENERATED as CORPUS, corpusMissing } from '../helpers/corpus.js';
const noCorpus = corpusMissing('resp-sink corpus test') !== null;
const s = (args: Buffer[]) => args.map((a) => a.toString('latin1')).join(' ');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-resp-sink-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** `redis-cli -p PORT --pipe < file`; returns its summary line. */
function pipe(redis: RedisHandle, file: string): string {
  const fd = openSync(file, 'r');
  try {
    const r = spawnSync('redis-cli', ['-p', String(redis.port), '--pipe'], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
    expect(r.status, `redis-cli --pipe:\n${r.stdout}\n${r.stderr}`).toBe(0);
    return r.stdout;
  } finally {
    closeSync(fd);
  }
}

function sampleKeys(filter: (name: string) => boolean): KeyRecord[] {
  const out: KeyRecord[] = [];
  SAMPLES.forEach((x, i) => {
    if (!filter(x.name)) return;
    out.push(
      keyRecord(`k:${x.name}`, x.value, {
        db: [0, 2, 0, 5][i % 4]!,
        version: x.min <= 10 ? 10 : 12,
        expireAtMs: i % 3 === 0 ? FUTURE + i : null,
        ...(i % 5 === 1 ? { idle: 1000 } : i % 5 === 2 ? { freq: 9 } : {}),
      }),
    );
  });
  return out;
}

describe('valueToCommands', () => {
  const k = Buffer.from('k');
  it('chunks variadic commands and adds DEL / PEXPIREAT', () => {
    const cmds = valueToCommands(k, { type: 'list', items: Array.from({ length: 5 }, (_, i) => Buffer.from(String(i))) }, 1234, { replace: true, chunk: 2 });
    expect(cmds.map(s)).toEqual(['DEL k', 'RPUSH k 0 1', 'RPUSH k 2 3', 'RPUSH k 4', 'PEXPIREAT k 1234']);
    expect(valueToCommands(k, sample('zset-small'), null).map(s)).toEqual(['ZADD k 1 a 1.5 b -0 c +inf d -inf e 100000000000000000000 f 0.1 g 1152921504606847000 h -3 i 1 j']);
  });
  it('groups hash field TTLs by expiry', () => {
    const cmds = valueToCommands(k, sample('hash-ttl-small'), null).map(s);
    expect(cmds).toEqual(['HSET k a 1 b 2 c 3 d 4', `HPEXPIREAT k ${FUTURE + 5000} FIELDS 2 a d`, `HPEXPIREAT k ${FUTURE} FIELDS 1 c`]);
  });
  it('restores stream metadata, groups, consumers and PEL', () => {
    const cmds = valueToCommands(k, sample('stream-empty-group'), null).map(s);
    expect(cmds).toEqual([
      'XGROUP CREATE k rekey-tmp-group 0 MKSTREAM',
      'XGROUP DESTROY k rekey-tmp-group',
      'XSETID k 0-0 ENTRIESADDED 0 MAXDELETEDID 0-0',
      'XGROUP CREATE k g 0-0 ENTRIESREAD 0',
      'XGROUP CREATECONSUMER k g c',
    ]);
    const meta = valueToCommands(k, sample('stream-meta'), null).map(s);
    expect(meta.filter((c) => c.startsWith('XCLAIM'))).toEqual([`XCLAIM k g3 carol 0 1710000000001-1 TIME 1710000005000 RETRYCOUNT 4 FORCE JUSTID`]);
  });
  it('refuses module values', () => {
    expect(() => valueToCommands(k, { type: 'module', moduleId: 1n, moduleName: 'm', encver: 0, raw: Buffer.alloc(2) }, null)).toThrow(UnrepresentableValueError);
  });
});

describe('RespSink with redis-cli --pipe into redis 7.0', () => {
  it('restore mode: RESTORE payloads re-encoded to payloadVersion 10, SELECT per db, ABSTTL, IDLETIME/FREQ', async () => {
    const keys = sampleKeys(() => true);
    const path = join(dir, 'restore.resp');
    const sink = new RespSink({ path, mode: 'restore', payloadVersion: 10, lossy: true });
    await writeAll(sink, keys);
    expect(sink.stats.keys).toBe(keys.length);
    expect(sink.stats.convertedKeys).toBe(keys.filter((x) => x.rdbType > 19).length);
    expect(sink.stats.droppedFieldTtls).toBe(103);
    const redis = await startRedis({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    try {
      expect(pipe(redis, path)).toMatch(/errors: 0, replies: \d+/);
      // Before anything reads the keys (a read resets the LRU clock).
      const c = redis.client({ db: 2 });
      const idleKey = keys.find((x) => x.idle !== undefined && x.db === 2)!;
      expect(Number(await c.object('IDLETIME', idleKey.key))).toBeGreaterThanOrEqual(1000);
      const expected: Expected[] = keys.map((x) => ({ db: x.db, key: x.key, value: withoutFieldTtls(x.decode()), expireAtMs: x.expireAtMs }));
      await expectServerHas(redis, expected);
    } finally {
      await redis.stop();
    }
  });

  it.skipIf(noCorpus)('restore mode: the redis 7.0 corpus dump verbatim, with its functions', async () => {
    const src = `${CORPUS}/redis-7.0.15/dump.rdb`;
    const input = await parseFile(src);
    const path = join(dir, 'corpus.resp');
    const sink = new RespSink({ path, mode: 'restore', replace: true });
    await writeAll(sink, input, 30);
    expect(sink.stats.convertedKeys).toBe(0);
    const keys = input.filter((r): r is KeyRecord => r.kind === 'key');
    const redis = await startRedis();
    try {
      pipe(redis, path);
      await expectServerHas(redis, keys.map((x) => ({ db: x.db, key: x.key, value: x.decode(), expireAtMs: x.expireAtMs })));
      expect(((await redis.client().call('FUNCTION', 'LIST')) as unknown[]).length).toBe(input.filter((r) => r.kind === 'function').length);
    } finally {
      await redis.stop();
    }
  });

  it('commands mode: every type incl. streams with groups, PEL and consumers', async () => {
    // HPEXPIREAT needs 7.4, so field-TTL hashes are left to the unit test above.
    const keys = sampleKeys((n) => !n.startsWith('hash-ttl'));
    const path = join(dir, 'commands.resp');
    const sink = new RespSink({ path, mode: 'commands', replace: true, chunk: 50 });
    await writeAll(sink, keys);
    const redis = await startRedis();
    try {
      expect(pipe(redis, path)).toMatch(/errors: 0/);
      const expected: Expected[] = keys.map((x) => ({ db: x.db, key: x.key, value: x.decode(), expireAtMs: x.expireAtMs }));
      // Consumer seen times become the import time; delivery times and counts are restored exactly.
      await expectServerHas(redis, expected, { streamTimes: false });
      for (const x of keys.filter((y) => y.type === 'stream')) {
        const got = (await readValue(redis.client({ db: x.db }), x.key)).value as StreamValue;
        const want = x.decode() as StreamValue;
        const pel = (v: StreamValue) => v.groups.map((g) => g.pending.map((p) => `${p.id.ms}-${p.id.seq}:${p.consumer}:${p.deliveryTimeMs}:${p.deliveryCount}`).sort());
        expect(pel(got)).toEqual(pel(want));
      }
    } finally {
      await redis.stop();
    }
  });

  it('commands mode gives the same XINFO STREAM FULL as RESTORE (but seen-time)', async () => {
    const redis = await startRedis();
    try {
      const c = redis.client();
      for (const name of ['stream-simple', 'stream-meta', 'stream-empty', 'stream-empty-group']) {
        const v = sample(name);
        const enc = encodeValue(v, { rdbVersion: 10 });
        await c.callBuffer('RESTORE', `${name}:restored`, '0', dumpPayload(enc.rdbType, enc.payload, 10));
        for (const cmd of valueToCommands(Buffer.from(`${name}:commands`), v, null)) await c.callBuffer(cmd[0]!.toString(), ...cmd.slice(1));
        const info = async (key: string) => strip(await c.call('XINFO', 'STREAM', key, 'FULL', 'COUNT', '0'));
        expect(await info(`${name}:commands`), name).toEqual(await info(`${name}:restored`));
      }
    } finally {
      await redis.stop();
    }
  });

  it('skips module values in commands mode, told as refused', async () => {
    const mod: Value = { type: 'module', moduleId: 1n, moduleName: 'm', encver: 0, raw: Buffer.alloc(2) };
    const rec: KeyRecord = { ...keyRecord('x', { type: 'string', value: Buffer.from('1') }), type: 'module', decode: () => mod };
    const good = keyRecord('y', { type: 'string', value: Buffer.from('2') });
    const errs: string[] = [];
    const sink = new RespSink({ path: join(dir, 'mod.resp'), mode: 'commands' });
    await writeAll(sink, [rec, good] as RdbRecord[], 7, { refused: (r, e) => errs.push(`${r.key}:${e.name}`) });
    expect(errs).toEqual(['x:UnrepresentableValueError']);
    expect(sink.stats).toMatchObject({ keys: 1, skippedKeys: 1 });
    expect(readFileSync(join(dir, 'mod.resp'), 'latin1')).toBe('*3\r\n$3\r\nSET\r\n$1\r\ny\r\n$1\r\n2\r\n');
  });
});

/** XINFO STREAM FULL without the consumer times commands cannot reproduce. */
function strip(reply: unknown): unknown {
  if (!Array.isArray(reply)) return reply;
  const out: unknown[] = [];
  for (let i = 0; i < reply.length; i++) {
    if ((reply[i] === 'seen-time' || reply[i] === 'active-time') && i % 2 === 0) {
      i++;
      continue;
    }
    out.push(strip(reply[i]));
  }
  return out;
}
