import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RdbSink } from '../../src/sinks/rdb-sink.js';
import { RekeyUsageError } from '../../src/errors.js';
import { UnrepresentableValueError } from '../../src/encode/value-encoder.js';
import { rewriteKey } from '../../src/records/rewrite.js';
import type { KeyRecord, MetaRecord, RdbRecord, Value } from '../../src/records/types.js';
import { startRedis } from '../helpers/redis-server.js';
import { SAMPLES, FUTURE, asLoadedBy70, withoutFieldTtls } from '../encode/sample-values.js';
import { checkRdb, expectServerHas, keyRecord, parseFile, writeAll, type Expected } from './sink-helpers.js';

import { CORPUS_GENERATED as CORPUS, corpusMissing } from '../helpers/corpus.js';
const noCorpus = corpusMissing('rdb-sink corpus round-trips') !== null;
const LIB = '#!lua name=rekeylib\nredis.register_function("rk_echo", function(keys, args) return args[1] end)\n';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-rdb-sink-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const meta = (m: MetaRecord) => m;
const header = (v: number): MetaRecord => ({ kind: 'header', rdbVersion: v, flavor: 'redis', magic: `REDIS${String(v).padStart(4, '0')}` });

/** Every sample as a v12 source record, spread over dbs 0, 1 and 3 (db 0 revisited), some with TTL / IDLE / FREQ. */
function sampleRecords(opts: { skipStreams?: boolean; expireBase?: number } = {}): { records: RdbRecord[]; keys: KeyRecord[] } {
  const keys: KeyRecord[] = [];
  SAMPLES.forEach((s, i) => {
    if (opts.skipStreams && s.value.type === 'stream') return;
    const db = [0, 1, 3, 0][i % 4]!;
    keys.push(
      keyRecord(`k:${s.name}`, s.value, {
        db,
        version: 12,
        expireAtMs: i % 3 === 0 ? (opts.expireBase ?? FUTURE) + i * 1001 : null,
        ...(i % 4 === 1 ? { idle: 100 + i } : i % 4 === 2 ? { freq: i } : {}),
      }),
    );
  });
  const records: RdbRecord[] = [
    header(12),
    meta({ kind: 'aux', key: Buffer.from('redis-ver'), value: Buffer.from('7.4.1'), offset: 0 }),
    meta({ kind: 'aux', key: Buffer.from('redis-bits'), value: Buffer.from('64'), offset: 0 }),
    meta({ kind: 'function', code: Buffer.from(LIB), offset: 0 }),
    meta({ kind: 'slot-info', slot: 5, slotSize: 1, expiresSlotSize: 0, offset: 0 }),
    ...keys,
    meta({ kind: 'eof', checksum: null, checksumOk: null, offset: 0 }),
  ];
  return { records, keys };
}

function expectedFor(keys: KeyRecord[], version: number, expire: (ms: number) => number = (x) => x): Expected[] {
  return keys.map((k) => ({
    db: k.db,
    key: k.key,
    value: asLoadedBy70(version < 12 ? withoutFieldTtls(k.decode()) : k.decode(), version),
    expireAtMs: k.expireAtMs === null ? null : expire(k.expireAtMs),
  }));
}

async function loadAndCompare(path: string, expected: Expected[], functions: number): Promise<void> {
  const redis = await startRedis({ rdbFile: path });
  try {
    await expectServerHas(redis, expected);
    const c = redis.client();
    const libs = (await c.call('FUNCTION', 'LIST')) as unknown[];
    expect(libs.length).toBe(functions);
  } finally {
    await redis.stop();
  }
}

function resizeCounts(records: RdbRecord[]): Record<number, [number, number]> {
  const out: Record<number, [number, number]> = {};
  for (const r of records) if (r.kind === 'resizedb') out[r.db] = [r.dbSize, r.expiresSize];
  return out;
}

describe('RdbSink', () => {
  for (const version of [10, 9]) {
    it(`writes RDB ${version} from RDB 12 records (converting 20/21/25/24) that redis 7.0 loads`, async () => {
      const { records, keys } = sampleRecords();
      const path = join(dir, `v${version}.rdb`);
      const sink = new RdbSink({ path, rdbVersion: version, lossy: true });
      await writeAll(sink, records);
      checkRdb(path);

      const s = sink.stats;
      expect(s.keys).toBe(keys.length);
      expect(s.droppedFieldTtls).toBe(3 + 100);
      const needConversion = keys.filter((k) => k.rdbType > (version === 10 ? 19 : 15) || (version === 9 && [16, 17, 18, 19].includes(k.rdbType))).length;
      expect(s.convertedKeys).toBe(needConversion);
      expect(s.droppedMeta).toBe(1); // slot-info
      expect(s.functionsDropped).toBe(version === 10 ? 0 : 1); // a loss the command reports
      expect(s.perDb[0]).toEqual({ keys: keys.filter((k) => k.db === 0).length, expires: keys.filter((k) => k.db === 0 && k.expireAtMs !== null).length });

      const back = await parseFile(path);
      expect(back[0]).toMatchObject({ kind: 'header', rdbVersion: version });
      expect(back.at(-1)).toMatchObject({ kind: 'eof', checksumOk: true });
      for (const [db, counts] of Object.entries(resizeCounts(back))) expect(counts).toEqual([s.perDb[+db]!.keys, s.perDb[+db]!.expires]);
      // db 0 is revisited after db 3: its second SELECTDB gets the same (whole-db) counts.
      const runs = keys.map((k) => k.db).filter((db, i, a) => i === 0 || a[i - 1] !== db);
      expect(back.filter((r) => r.kind === 'selectdb').map((r) => (r as { db: number }).db)).toEqual(runs);
      const idle = back.filter((r): r is KeyRecord => r.kind === 'key' && r.idle !== undefined).length;
      expect(idle).toBe(keys.filter((k) => k.idle !== undefined).length);

      await loadAndCompare(path, expectedFor(keys, version), version >= 10 ? 1 : 0);
    });
  }

  it('patches RESIZEDB in the file and corrects the CRC when the counts were already flushed', async () => {
    const { records, keys } = sampleRecords();
    const path = join(dir, 'small-chunks.rdb');
    const sink = new RdbSink({ path, rdbVersion: 10, lossy: true, chunkSize: 200 });
    await writeAll(sink, records, 3);
    checkRdb(path);
    const back = await parseFile(path);
    expect(back.at(-1)).toMatchObject({ kind: 'eof', checksumOk: true });
    expect(resizeCounts(back)).toEqual({ 0: [sink.stats.perDb[0]!.keys, sink.stats.perDb[0]!.expires], 1: [sink.stats.perDb[1]!.keys, sink.stats.perDb[1]!.expires], 3: [sink.stats.perDb[3]!.keys, sink.stats.perDb[3]!.expires] });
    // Same bytes as one big chunk.
    const one = join(dir, 'one-chunk.rdb');
    await writeAll(new RdbSink({ path: one, rdbVersion: 10, lossy: true }), sampleRecords().records);
    expect(readFileSync(path).equals(readFileSync(one))).toBe(true);
    await loadAndCompare(path, expectedFor(keys, 10), 1);
  });

  it('hands big values to the stream directly (and still patches and checksums)', async () => {
    const big = Buffer.alloc(600_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    const keys = [
      keyRecord('a', { type: 'string', value: Buffer.from('1') }, { version: 10 }),
      keyRecord('big', { type: 'string', value: big }, { version: 10, expireAtMs: FUTURE }),
      keyRecord('c', { type: 'list', items: [big.subarray(0, 300_000), Buffer.from('x')] }, { version: 10, db: 2 }),
      keyRecord('d', { type: 'string', value: Buffer.from('2') }, { version: 10 }),
    ];
    const path = join(dir, 'big.rdb');
    const sink = new RdbSink({ path, compress: true });
    await writeAll(sink, [header(10), ...keys]);
    checkRdb(path);
    expect(resizeCounts(await parseFile(path))).toEqual({ 0: [3, 1], 2: [1, 0] });
    await loadAndCompare(path, expectedFor(keys, 10), 0);
  });

  it('writes RDB 2 (ziplists without RDB 6 ints, EXPIRETIME in seconds, no AUX) that redis 7.0 loads', async () => {
    const { records, keys } = sampleRecords({ skipStreams: true, expireBase: 2_000_000_000_000 }); // RDB 2 seconds end in 2038
    const path = join(dir, 'v2.rdb');
    const sink = new RdbSink({ path, rdbVersion: 2, lossy: true, compress: true });
    await writeAll(sink, records);
    checkRdb(path);
    expect(readFileSync(path).subarray(0, 9).toString()).toBe('REDIS0002');
    expect(sink.stats.functionsDropped).toBe(1);
    expect(sink.stats.droppedMeta).toBe(3 + keys.filter((k) => k.idle !== undefined || k.freq !== undefined).length);
    const back = await parseFile(path);
    expect(back.filter((r) => r.kind === 'resizedb' || r.kind === 'aux')).toEqual([]);
    await loadAndCompare(path, expectedFor(keys, 2, (ms) => Math.ceil(ms / 1000) * 1000), 0);
    await expect(writeAll(new RdbSink({ path, rdbVersion: 2 }), sampleRecords({ skipStreams: true }).records)).rejects.toThrow(/after 2038/);
  });

  it.skipIf(noCorpus)('round-trips the redis 7.4 and 7.2 corpus dumps into files redis 7.0 loads', async () => {
    for (const [server, version] of [['redis-7.4.1', 10], ['redis-7.2.6', 9], ['redis-7.0.15', 10]] as const) {
      const src = `${CORPUS}/${server}/dump.rdb`;
      if (!existsSync(src)) continue;
      const input = await parseFile(src);
      const path = join(dir, `${server}.v${version}.rdb`);
      const sink = new RdbSink({ path, rdbVersion: version, lossy: true, compress: true });
      await writeAll(sink, input, 50);
      checkRdb(path);
      const keys = input.filter((r): r is KeyRecord => r.kind === 'key');
      expect(sink.stats.keys).toBe(keys.length);
      const fns = input.filter((r) => r.kind === 'function').length;
      await loadAndCompare(path, expectedFor(keys, version), version >= 10 ? fns : 0);
    }
  });

  it.skipIf(noCorpus)('keeps renamed keys verbatim and the header version by default', async () => {
    const src = `${CORPUS}/redis-7.0.15/dump.rdb`;
    const input = await parseFile(src);
    const renamed = input.map((r) => (r.kind === 'key' ? rewriteKey(r, { key: Buffer.concat([Buffer.from('new:'), r.key]) }) : r));
    const path = join(dir, 'renamed.rdb');
    const sink = new RdbSink({ path });
    await writeAll(sink, renamed, 40);
    expect(sink.stats.convertedKeys).toBe(0);
    const back = await parseFile(path);
    expect(back[0]).toMatchObject({ kind: 'header', rdbVersion: 10 });
    const a = input.filter((r): r is KeyRecord => r.kind === 'key');
    const b = back.filter((r): r is KeyRecord => r.kind === 'key');
    expect(b.map((k) => k.key.toString('latin1'))).toEqual(a.map((k) => 'new:' + k.key.toString('latin1')));
    b.forEach((k, i) => {
      expect(k.payload.equals(a[i]!.payload)).toBe(true);
      expect(k.expireAtMs).toBe(a[i]!.expireAtMs);
    });
    checkRdb(path);
  });

  it('refuses field TTLs below RDB 12 without lossy and leaves no output', async () => {
    const { records } = sampleRecords();
    const path = join(dir, 'refused.rdb');
    const sink = new RdbSink({ path, rdbVersion: 11 });
    await expect(writeAll(sink, records)).rejects.toThrow(RekeyUsageError);
    await expect(writeAll(new RdbSink({ path, rdbVersion: 11 }), records)).rejects.toThrow(/hash field TTLs cannot be represented below RDB 12; use --lossy/);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('refused'))).toEqual([]);
  });

  it('reports keys it cannot convert as refused and skips them', async () => {
    const bad: KeyRecord = { ...keyRecord('bad', { type: 'set', members: [Buffer.from('x')] }, { version: 11 }), decode: (): Value => ({ type: 'set', members: [] }) };
    const good = keyRecord('good', { type: 'string', value: Buffer.from('v') });
    const errors: string[] = [];
    const path = join(dir, 'skip.rdb');
    const sink = new RdbSink({ path, rdbVersion: 10 });
    await writeAll(sink, [bad, good], 7, { refused: (rec, e) => errors.push(`${rec.key}: ${e.name}`) });
    expect(errors).toEqual([`bad: ${UnrepresentableValueError.name}`]);
    expect(sink.stats).toMatchObject({ keys: 1, skippedKeys: 1 });
    const back = (await parseFile(path)).filter((r) => r.kind === 'key');
    expect(back.map((r) => (r as KeyRecord).key.toString())).toEqual(['good']);
    await expect(writeAll(new RdbSink({ path, rdbVersion: 10 }), [bad])).rejects.toThrow(UnrepresentableValueError);
  });

  it('writes Valkey 80 (HASH_2) and Redis 13 (KEY_META kept) files the parser reads back', async () => {
    const { keys } = sampleRecords();
    const vk = join(dir, 'valkey.rdb');
    const s1 = new RdbSink({ path: vk, rdbVersion: 80 });
    await writeAll(s1, keys);
    expect(readFileSync(vk).subarray(0, 9).toString()).toBe('VALKEY080');
    const back = (await parseFile(vk)).filter((r): r is KeyRecord => r.kind === 'key');
    expect(back.find((k) => k.key.toString() === 'k:hash-ttl-small')!.rdbType).toBe(22);
    back.forEach((k, i) => expect(k.decode().type).toBe(keys[i]!.type));
    expect(s1.stats.convertedKeys).toBe(2); // the two Redis field-TTL hashes

    const meta13 = Buffer.from('f301' + '00000000' + '00', 'hex');
    const withMeta = Object.assign(keyRecord('m', { type: 'string', value: Buffer.from('v') }, { version: 13 }), { keyMeta: meta13 });
    const r13 = join(dir, 'r13.rdb');
    await writeAll(new RdbSink({ path: r13, rdbVersion: 13 }), [header(13), withMeta]);
    const k13 = (await parseFile(r13)).find((r): r is KeyRecord => r.kind === 'key')!;
    expect(k13.keyMeta?.equals(meta13)).toBe(true);
  });

  it('writes KEY_META right before the type byte, after the expiry, IDLE and FREQ opcodes (rdb.c rdbLoadRioWithLoadingCtx)', async () => {
    const meta13 = Buffer.from('f301' + '01020304' + '0205' + '00', 'hex'); // one class: spec, UINT 5, EOF
    const ttl = Object.assign(keyRecord('t', { type: 'string', value: Buffer.from('v') }, { version: 13, expireAtMs: FUTURE, idle: 7 }), { keyMeta: meta13 });
    const lfu = Object.assign(keyRecord('f', { type: 'string', value: Buffer.from('w') }, { version: 13, freq: 9 }), { keyMeta: meta13 });
    const path = join(dir, 'order13.rdb');
    await writeAll(new RdbSink({ path, rdbVersion: 13 }), [header(13), ttl, lfu]);
    const file = readFileSync(path);
    const expireOp = Buffer.alloc(9);
    expireOp[0] = 0xfc;
    expireOp.writeBigInt64LE(BigInt(FUTURE), 1);
    const first = Buffer.concat([expireOp, Buffer.from('f807', 'hex'), meta13, Buffer.from('000174', 'hex')]);
    const second = Buffer.concat([Buffer.from('f909', 'hex'), meta13, Buffer.from('000166', 'hex')]);
    expect(file.indexOf(first)).toBeGreaterThan(0);
    expect(file.indexOf(second)).toBeGreaterThan(file.indexOf(first));
    const back = (await parseFile(path)).filter((r): r is KeyRecord => r.kind === 'key');
    expect(back.map((k) => [k.key.toString(), k.expireAtMs, k.idle, k.freq, k.keyMeta?.toString('hex')])).toEqual([
      ['t', FUTURE, 7, undefined, meta13.toString('hex')],
      ['f', null, undefined, 9, meta13.toString('hex')],
    ]);
  });

  it('key metadata a target cannot carry: the key is refused without lossy, counted and named with it', async () => {
    const meta13 = Buffer.from('f301' + '00000000' + '00', 'hex');
    const withMeta = Object.assign(keyRecord('m', { type: 'string', value: Buffer.from('v') }, { version: 13 }), { keyMeta: meta13 });
    const plain = keyRecord('p', { type: 'string', value: Buffer.from('v') }, { version: 13 });
    for (const [version, target] of [[12, 'RDB 12'], [80, 'Valkey RDB 80']] as const) {
      const path = join(dir, `meta-${version}.rdb`);
      const errors: string[] = [];
      const s = new RdbSink({ path, rdbVersion: version });
      await writeAll(s, [withMeta, plain], 7, { refused: (r, e) => errors.push(`${r.key}: ${e.message}`) });
      expect(errors).toEqual([`m: key m: ${target} cannot carry its key metadata (KEY_META, 7 bytes); the key was not written (--lossy writes it without them)`]);
      expect((await parseFile(path)).filter((r) => r.kind === 'key').map((r) => (r as KeyRecord).key.toString())).toEqual(['p']);

      const lossyPath = join(dir, `meta-${version}-lossy.rdb`);
      const notes: string[] = [];
      const l = new RdbSink({ path: lossyPath, rdbVersion: version, lossy: true, onLoss: (_r, m) => notes.push(m) });
      await writeAll(l, [withMeta, plain]);
      expect(notes).toEqual([`key m: key metadata (KEY_META, 7 bytes) dropped (${target} cannot carry it; --lossy)`]);
      expect(l.stats.lost.toJSON()).toEqual({ total_keys: 1, by_kind: { key_meta: 1 }, keys: [{ db: 0, key: 'm', lost: ['key metadata (KEY_META, 7 bytes)'] }] });
      const back = (await parseFile(lossyPath)).filter((r): r is KeyRecord => r.kind === 'key');
      expect(back.map((k) => [k.key.toString(), k.keyMeta])).toEqual([['m', undefined], ['p', undefined]]);
    }
  });

  it('writes to stdout without RESIZEDB, with a valid CRC', async () => {
    const { records, keys } = sampleRecords();
    const chunks: Buffer[] = [];
    const fake = new PassThrough();
    fake.on('data', (c: Buffer) => chunks.push(c));
    const real = Object.getOwnPropertyDescriptor(process, 'stdout')!;
    Object.defineProperty(process, 'stdout', { value: fake, configurable: true });
    let sink: RdbSink;
    try {
      sink = new RdbSink({ path: '-', rdbVersion: 10, lossy: true, chunkSize: 1000 });
    } finally {
      Object.defineProperty(process, 'stdout', real);
    }
    await writeAll(sink, records);
    const path = join(dir, 'stdout.rdb');
    writeFileSync(path, Buffer.concat(chunks));
    checkRdb(path);
    const back = await parseFile(path);
    expect(back.filter((r) => r.kind === 'resizedb')).toEqual([]);
    expect(back.at(-1)).toMatchObject({ kind: 'eof', checksumOk: true });
    expect(back.filter((r) => r.kind === 'key').length).toBe(keys.length);
  });

  it('rejects versions it cannot write', () => {
    expect(() => new RdbSink({ path: join(dir, 'x.rdb'), rdbVersion: 16 })).toThrow(RekeyUsageError);
    expect(() => new RdbSink({ path: join(dir, 'x.rdb'), rdbVersion: 0 })).toThrow(RekeyUsageError);
  });
});
