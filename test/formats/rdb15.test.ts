/**
 * RDB 15 (Redis 8.10) hash templates: opcode 242 registry, types 29–32. No server here writes RDB 15, so
 * the files are built by rdb15-build.ts from the Redis source's definitions (docs/rdb-format.md §5.5);
 * their down-converted output is then loaded by real servers and read back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { KeyRecord, Value } from '../../src/records/types.js';
import { T } from '../../src/rdb/constants.js';
import { Cursor } from '../../src/rdb/cursor.js';
import { skipValue } from '../../src/rdb/value-skip.js';
import { decodeValue } from '../../src/rdb/value-decode.js';
import { resolveTemplateRef } from '../../src/rdb/hash-templates.js';
import { dumpPayload } from '../../src/encode/dump-payload.js';
import { listpackEncode } from '../../src/codec/listpack.js';
import { startRedis } from '../helpers/redis-server.js';
import { findServer, whyMissing } from '../helpers/servers.js';
import { runCli } from '../helpers/cli.js';
import { expectServerHas, parseFile } from '../sinks/sink-helpers.js';
import { buildRdb15, type Offsets, type Rdb15Entry } from './rdb15-build.js';

const FUTURE = 4102444800000; // 2100-01-01
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-rdb15-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Template field names strictly ascending by sdscmplen: length first, then bytes.
const USER = ['age', 'name', 'email'];
const SMALL = ['x', 'y', 'zz'];
const LONG = 'b'.repeat(100);
const WIDE = ['w', 'f'.repeat(65)]; // a name over hash-max-listpack-value: fields as counted strings

const ENTRIES: Rdb15Entry[] = [
  { kind: 'template', id: 0, fields: USER },
  { kind: 'template', id: 7, fields: SMALL },
  { kind: 'template', id: 2, fields: WIDE },
  { kind: 'select', db: 0 },
  { kind: 'key', key: 'u:1', type: 'lp-ref', id: 0, values: ['42', 'Ada', 'ada@x.io'], expireAtMs: FUTURE },
  { kind: 'key', key: 'u:2', type: 'array-ref', id: 0, values: ['7', 'Bob', LONG] },
  // The registry is the file's, not the db's: db 3 refers to templates defined before db 0.
  { kind: 'select', db: 3 },
  { kind: 'key', key: 'u:3', type: 'lp-ref', id: 7, values: ['1', '2', '3'] },
  { kind: 'key', key: 's:lp', type: 'lp', fields: ['1000', '2000'], values: ['a', 'b'], form: 0 },
  { kind: 'key', key: 's:arr', type: 'array', fields: ['f', 'gg'], values: ['v1', LONG], form: 1 },
  { kind: 'key', key: 's:lp1', type: 'lp', fields: ['k'], values: ['-5'], form: 1 },
  { kind: 'key', key: 'w:1', type: 'array-ref', id: 2, values: ['1', LONG] },
];

function pairs(fields: string[], values: string[]): Value {
  return { type: 'hash', entries: fields.map((f, i) => [Buffer.from(f), Buffer.from(values[i]!)] as [Buffer, Buffer]) };
}

const EXPECTED: Array<{ db: number; key: Buffer; value: Value; expireAtMs: number | null; rdbType: number }> = [
  { db: 0, key: Buffer.from('u:1'), value: pairs(USER, ['42', 'Ada', 'ada@x.io']), expireAtMs: FUTURE, rdbType: T.HASH_TMPL_LP },
  { db: 0, key: Buffer.from('u:2'), value: pairs(USER, ['7', 'Bob', LONG]), expireAtMs: null, rdbType: T.HASH_TMPL_ARRAY },
  { db: 3, key: Buffer.from('u:3'), value: pairs(SMALL, ['1', '2', '3']), expireAtMs: null, rdbType: T.HASH_TMPL_LP },
  { db: 3, key: Buffer.from('s:lp'), value: pairs(['1000', '2000'], ['a', 'b']), expireAtMs: null, rdbType: T.HASH_TMPL_LP },
  { db: 3, key: Buffer.from('s:arr'), value: pairs(['f', 'gg'], ['v1', LONG]), expireAtMs: null, rdbType: T.HASH_TMPL_ARRAY },
  { db: 3, key: Buffer.from('s:lp1'), value: pairs(['k'], ['-5']), expireAtMs: null, rdbType: T.HASH_TMPL_LP },
  { db: 3, key: Buffer.from('w:1'), value: pairs(WIDE, ['1', LONG]), expireAtMs: null, rdbType: T.HASH_TMPL_ARRAY },
];

const plain = (v: Value): unknown => (v.type === 'hash' ? v.entries.map(([f, x]) => [f.toString(), x.toString()]) : v);
const keysOf = async (path: string): Promise<KeyRecord[]> => (await parseFile(path)).filter((r): r is KeyRecord => r.kind === 'key');

function write(name: string, entries: Rdb15Entry[], offsets?: Offsets): string {
  const path = join(dir, name);
  writeFileSync(path, buildRdb15(entries, offsets));
  return path;
}

/** Sorted [db, key, fields/values, expiry] of a file, comparable whatever the encoding. */
async function content(path: string): Promise<unknown[]> {
  return (await keysOf(path))
    .map((k) => [k.db, k.key.toString(), plain(k.decode()), k.expireAtMs])
    .sort((a, b) => String(a[1]).localeCompare(String(b[1])));
}
const expectedContent = (): unknown[] =>
  EXPECTED.map((e) => [e.db, e.key.toString(), plain(e.value), e.expireAtMs]).sort((a, b) => String(a[1]).localeCompare(String(b[1])));

describe('RDB 15 hash templates: reading', () => {
  it('decodes all four forms as plain hash records, _REF resolved through the file registry', async () => {
    const path = write('all.rdb', ENTRIES);
    const keys = await keysOf(path);
    expect(keys.map((k) => [k.db, k.key.toString(), k.type, k.rdbType, k.encoding, k.expireAtMs])).toEqual(
      EXPECTED.map((e) => [e.db, e.key.toString(), 'hash', e.rdbType, e.rdbType === T.HASH_TMPL_LP ? 'template-listpack' : 'template-array', e.expireAtMs]),
    );
    // Values come in template field order (sdscmplen), exactly as stored.
    for (const [i, k] of keys.entries()) expect(plain(k.decode()), k.key.toString()).toEqual(plain(EXPECTED[i]!.value));
    // A resolved _REF names its fields as a default server would DUMP them: a listpack (0) when they fit one.
    const form = (key: string): number | undefined => keys.find((k) => k.key.toString() === key)!.payload[0];
    expect([form('u:1'), form('u:2'), form('u:3'), form('w:1')]).toEqual([0, 0, 0, 1]);
  });

  it('JSONL and analyze see plain hashes', async () => {
    const path = write('jsonl.rdb', ENTRIES);
    const out = join(dir, 'all.jsonl');
    const r = await runCli(['transform', path, '-o', out, '--out-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { key?: string; type?: string; value?: unknown; expire_at_ms?: number });
    const u1 = lines.find((l) => l.key === 'u:1');
    expect(u1).toMatchObject({ type: 'hash', value: { age: '42', name: 'Ada', email: 'ada@x.io' }, expire_at_ms: FUTURE });
    expect(lines.filter((l) => l.type === 'hash')).toHaveLength(EXPECTED.length);
    const a = await runCli(['analyze', path, '--json', '--out-dir', dir]);
    expect(a.code, a.stderr).toBe(0);
    const rep = JSON.parse(a.stdout.toString()) as { input: { rdb_version: number }; totals: { keys: number; with_ttl: number }; by_type: Record<string, { keys: number }> };
    expect(rep.input.rdb_version).toBe(15);
    expect(rep.totals).toMatchObject({ keys: EXPECTED.length, with_ttl: 1 });
    expect(rep.by_type.hash?.keys).toBe(EXPECTED.length);
  });

  it('a registry and references spread over many input chunks read the same (streaming refills)', async () => {
    const entries: Rdb15Entry[] = [];
    const fieldsOf = (t: number): string[] => [`a${t}`, `bb${t}`, `ccc${t}`];
    for (let t = 0; t < 400; t++) entries.push({ kind: 'template', id: t, fields: fieldsOf(t) });
    entries.push({ kind: 'select', db: 0 });
    for (let i = 0; i < 3000; i++) {
      const t = (i * 7) % 400;
      entries.push({ kind: 'key', key: `k${i}`, type: i % 2 ? 'lp-ref' : 'array-ref', id: t, values: [`${i}`, `v${i}`.padEnd(20, '.'), 'x'.repeat(i % 90)] });
    }
    const path = write('many.rdb', entries);
    expect(readFileSync(path).length).toBeGreaterThan(200 * 1024); // several of the parser's 64 KiB reads
    const keys = await keysOf(path);
    expect(keys).toHaveLength(3000);
    for (const i of [0, 1, 1499, 2999]) {
      const t = (i * 7) % 400;
      expect(plain(keys[i]!.decode())).toEqual(plain(pairs(fieldsOf(t), [`${i}`, `v${i}`.padEnd(20, '.'), 'x'.repeat(i % 90)])));
    }
  });

  const bad: Array<[name: string, entries: Rdb15Entry[], key: string | null, why: RegExp]> = [
    ['unknown template id', [{ kind: 'template', id: 0, fields: USER }, { kind: 'select', db: 0 }, { kind: 'key', key: 'k', type: 'lp-ref', id: 5, values: ['1', '2', '3'] }], 'k', /found id 5, which no template has/],
    ['unknown array template id', [{ kind: 'select', db: 0 }, { kind: 'key', key: 'k', type: 'array-ref', id: 2, values: ['1'] }], 'k', /found id 2, which no template has/],
    ['too few values', [{ kind: 'template', id: 0, fields: USER }, { kind: 'select', db: 0 }, { kind: 'key', key: 'k', type: 'lp-ref', id: 0, values: ['1', '2'] }], 'k', /of 4 entries \(template id \+ 3 values\), found 3/],
    ['unsorted template', [{ kind: 'template', id: 0, fields: ['name', 'age'] }], null, /strictly ascending by length, then bytes \(sdscmplen\)/],
    ['zero fields', [{ kind: 'template', id: 0, fields: [] }], null, /at least one field/],
    ['duplicate id', [{ kind: 'template', id: 1, fields: ['a'] }, { kind: 'template', id: 1, fields: ['b'] }], null, /found 1 again/],
    ['unsorted self-contained', [{ kind: 'select', db: 0 }, { kind: 'key', key: 'k', type: 'array', fields: ['bb', 'a'], values: ['1', '2'], form: 1 }], 'k', /strictly ascending/],
    ['bad fields format', [{ kind: 'select', db: 0 }, { kind: 'key', key: 'k', type: 'array', fields: ['a'], values: ['1'], form: 2 as 0 }], 'k', /fields format of 0 \(listpack\) or 1 \(strings\), found 2/],
  ];
  for (const [name, entries, key, why] of bad) {
    it(`refuses a corrupt file (${name}) naming the byte offset, exit 2, nothing written`, async () => {
      const offsets: Offsets = new Map();
      const path = write(`bad-${name.replace(/ /g, '-')}.rdb`, entries, offsets);
      const out = join(dir, `bad-${name.replace(/ /g, '-')}.jsonl`);
      const r = await runCli(['transform', path, '-o', out, '--out-dir', dir]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(why);
      // Value errors point at the value (after type byte and key); registry errors inside opcode 242.
      if (key !== null) expect(r.stderr).toContain(`at byte ${offsets.get(key)! + 2 + key.length}`);
      else expect(r.stderr).toMatch(/at byte \d+/);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('a _REF value alone (a DUMP payload) is refused, and no DUMP payload is ever made of one', () => {
    const ref = Buffer.concat([Buffer.from([0x0d]), listpackEncode([0, Buffer.from('a')])]);
    expect(() => skipValue(new Cursor('dump', ref), T.HASH_TMPL_LP_REF, 'redis')).toThrow(/not valid in a DUMP payload/);
    expect(() => dumpPayload(T.HASH_TMPL_ARRAY_REF, Buffer.from([0, 1, 0x61]), 15)).toThrow(/only the self-contained forms/);
  });
});

/**
 * DUMP payloads from Redis' own hash-template test (tests/unit/type/hash-template.tcl), value bytes only
 * (type byte and the 10-byte footer cut off): what Redis' loader accepts must decode, what it refuses must
 * be refused for the same reason.
 */
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const FIELDS_LP = '17000000 0200 86 6669656c6431 07 86 6669656c6432 07 ff'; // listpack "field1", "field2"
describe("RDB 15 hash templates: Redis' own test payloads", () => {
  it('TMPL_ARRAY with counted field strings (\\x1f\\x01\\x02 field1 field2 1 2) decodes', () => {
    const v = decodeValue(hex('01 02 06 6669656c6431 06 6669656c6432 c001 c002'), T.HASH_TMPL_ARRAY, 'redis', 'tcl', 0);
    expect(plain(v)).toEqual([['field1', '1'], ['field2', '2']]);
  });
  it('TMPL_LP with a fields listpack and an (id, values) listpack decodes', () => {
    const v = decodeValue(hex(`00 17 ${FIELDS_LP} 0d 0d000000 0300 0001 0101 0201 ff`), T.HASH_TMPL_LP, 'redis', 'tcl', 0);
    expect(plain(v)).toEqual([['field1', '1'], ['field2', '2']]);
  });
  const refused: Array<[string, number, string, RegExp]> = [
    ['value count != field count', T.HASH_TMPL_LP, `00 17 ${FIELDS_LP} 0b 0b000000 0200 0001 0101 ff`, /of 3 entries \(template id \+ 2 values\), found 2/],
    ['empty values listpack', T.HASH_TMPL_LP, `00 17 ${FIELDS_LP} 07 07000000 0000 ff`, /found an empty listpack/],
    ['non-integer template id', T.HASH_TMPL_LP, `00 17 ${FIELDS_LP} 0e 0e000000 0300 8178 02 0101 0201 ff`, /first entry is the integer template id/],
    ['TMPL_LP zero fields', T.HASH_TMPL_LP, '00 07 07000000 0000 ff 0d 0d000000 0300 0001 0101 0201 ff', /at least one field/],
    ['TMPL_ARRAY zero fields', T.HASH_TMPL_ARRAY, '01 00 06 6669656c6431 06 6669656c6432 c001 c002', /at least one field/],
    ['out-of-order fields', T.HASH_TMPL_ARRAY, '01 02 06 6669656c6432 06 6669656c6431 c001 c002', /strictly ascending/],
    ['duplicate fields', T.HASH_TMPL_ARRAY, '01 02 06 6669656c6432 06 6669656c6432 c001 c002', /strictly ascending/],
  ];
  for (const [name, type, bytes, why] of refused) {
    it(`refuses what Redis refuses: ${name}`, () => {
      expect(() => decodeValue(hex(bytes), type, 'redis', 'tcl', 0)).toThrow(why);
    });
  }
  it('the REF payloads resolve through a registry and are refused alone', () => {
    const reg = new Map([[5, [Buffer.from('field1'), Buffer.from('field2')]]]);
    const lp = hex('0d 0d000000 0300 0501 0101 0201 ff');
    const arr = hex('05 c001 c002');
    for (const [type, payload] of [[T.HASH_TMPL_LP_REF, lp], [T.HASH_TMPL_ARRAY_REF, arr]] as const) {
      const c = new Cursor('tcl', payload);
      const r = resolveTemplateRef(c, type, reg);
      expect(c.pos).toBe(payload.length);
      expect(plain(decodeValue(r.payload, r.rdbType, 'redis', 'tcl', 0))).toEqual([['field1', '1'], ['field2', '2']]);
      expect(() => resolveTemplateRef(new Cursor('tcl', payload), type, new Map())).toThrow(/found id 5, which no template has/);
      expect(() => skipValue(new Cursor('tcl', payload), type, 'redis')).toThrow(/not valid in a DUMP payload/);
    }
  });
});

describe('RDB 15 hash templates: writing', () => {
  it('RDB15 → JSONL → RDB 15 → decode equal; RDB15 → RDB 15 copies the self-contained forms', async () => {
    const src = write('rt.rdb', ENTRIES);
    const jsonl = join(dir, 'rt.jsonl');
    const back = join(dir, 'rt-back.rdb');
    const direct = join(dir, 'rt-direct.rdb');
    for (const args of [['transform', src, '-o', jsonl], ['transform', jsonl, '-o', back, '--rdb-version', '15'], ['transform', src, '-o', direct, '--rdb-version', '15']]) {
      const r = await runCli([...args, '--out-dir', dir]);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(readFileSync(back).subarray(0, 9).toString('latin1')).toBe('REDIS0015');
    expect(await content(back)).toEqual(expectedContent());
    expect(await content(direct)).toEqual(expectedContent());
    // RDB 15 output holds the self-contained forms only (never a _REF without its registry).
    expect((await keysOf(direct)).map((k) => k.rdbType).sort()).toEqual(EXPECTED.map((e) => e.rdbType).sort());
  });

  it('RDB 15 → RDB ≤ 14 writes plain hashes with nothing lost (no --lossy needed)', async () => {
    const src = write('down.rdb', ENTRIES);
    for (const v of [14, 13, 11, 9]) {
      const out = join(dir, `down-${v}.rdb`);
      const r = await runCli(['transform', src, '-o', out, '--rdb-version', String(v), '--out-dir', dir]);
      expect(r.code, r.stderr).toBe(0);
      const keys = await keysOf(out);
      expect(keys.every((k) => k.rdbType < 29), `RDB ${v}`).toBe(true);
      expect(await content(out)).toEqual(expectedContent());
    }
  });

  // RDB 15 down-converted for real servers, loaded and read back.
  const servers: Array<[label: string, prefix: string | null, version: number]> = [
    ['redis-7.0 (/usr/bin), RDB 10', null, 10],
    ['redis-7.4, RDB 11', 'redis-7.4', 11],
    ['redis-7.4, RDB 12', 'redis-7.4', 12],
    ['redis-8.0, RDB 12', 'redis-8.0', 12],
    ['redis-8.6, RDB 13', 'redis-8.6', 13],
  ];
  for (const [label, prefix, version] of servers) {
    const cached = prefix ? findServer(prefix) : null;
    const missing = prefix && !cached ? whyMissing(prefix) ?? `no ${prefix} in the servers cache` : null;
    it.skipIf(missing !== null)(`loads into ${label}${missing ? ` (skipped: ${missing})` : ''} with equal content`, async () => {
      const src = write(`srv-${version}-${prefix ?? '70'}.rdb`, ENTRIES);
      const out = join(dir, `srv-${version}-${prefix ?? '70'}-out.rdb`);
      const r = await runCli(['transform', src, '-o', out, '--rdb-version', String(version), '--out-dir', dir]);
      expect(r.code, r.stderr).toBe(0);
      const redis = await startRedis({ rdbFile: out, ...(cached ? { binary: cached.server, debugCommand: cached.debugCommand } : {}) });
      try {
        await expectServerHas(redis, EXPECTED.map(({ db, key, value, expireAtMs }) => ({ db, key, value, expireAtMs })));
      } finally {
        await redis.stop();
      }
    });
  }

  it('RESP for Redis 7.0 (--rdb-version 10) RESTOREs plain hashes that redis-cli --pipe loads', async () => {
    const src = write('resp.rdb', ENTRIES);
    const out = join(dir, 'resp.resp');
    const r = await runCli(['transform', src, '-o', out, '--format', 'resp', '--rdb-version', '10', '--out-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const redis = await startRedis();
    try {
      const pipe = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(redis.port), '--pipe'], { input: readFileSync(out), encoding: 'utf8' });
      expect(pipe.stdout, pipe.stderr).toMatch(/errors: 0, replies: /);
      await expectServerHas(redis, EXPECTED.map(({ db, key, value, expireAtMs }) => ({ db, key, value, expireAtMs })));
    } finally {
      await redis.stop();
    }
  });

  it('import (RESTORE) into a server without templates sends plain hashes', async () => {
    const src = write('import.rdb', ENTRIES);
    const redis = await startRedis();
    try {
      const r = await runCli(['import', src, '--target', `redis://127.0.0.1:${redis.port}`, '--live', '--yes', '--out-dir', dir]);
      expect(r.code, r.stderr).toBe(0);
      await expectServerHas(redis, EXPECTED.map(({ db, key, value, expireAtMs }) => ({ db, key, value, expireAtMs })));
    } finally {
      await redis.stop();
    }
  });
});
