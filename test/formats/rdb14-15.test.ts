/**
 * RDB 14 (Redis 8.8) and 15 (Redis 8.10): RDB 15's hash templates (opcode 242, types 29–32) are read
 * (test/formats/rdb15.test.ts); the other new types (27 stream v5, 28 Array, 33 GCRA) are not defined by
 * the sources rekey is built from. These tests pin what it does with them: refuse them by name with the
 * byte offset (exit 2, nothing written), and read a 14/15 header over older types as its RDB 13 twin.
 * The files are made by the project's own writer, then given the newer header.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RdbSink } from '../../src/sinks/rdb-sink.js';
import { crc64Into } from '../../src/codec/crc64.js';
import { ByteWriter } from '../../src/encode/rdb-primitives.js';
import { OP } from '../../src/rdb/constants.js';
import type { KeyRecord } from '../../src/records/types.js';
import { runCli } from '../helpers/cli.js';
import { keyRecord, parseFile, writeAll } from '../sinks/sink-helpers.js';
import { sample } from '../encode/sample-values.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-rdb1415-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `file` with its header version replaced and the trailing CRC64 recomputed. */
function withHeader(file: string, magic: string, out: string): string {
  const buf = Buffer.from(readFileSync(file));
  buf.write(magic, 0, 'latin1');
  crc64Into(buf, 0, buf.length - 8, buf.length - 8);
  writeFileSync(out, buf);
  return out;
}

/** Magic, SELECTDB 0, then a key of type byte `type` with a plausible body: what a new server writes. */
function withType(magic: string, type: number, out: string): { path: string; offset: number } {
  const w = new ByteWriter();
  w.buf.write(magic, 0, 'latin1');
  w.pos = 9;
  w.u8(OP.SELECTDB).len(0);
  const offset = w.pos;
  w.u8(type).string(Buffer.from('k')).len(1).string(Buffer.from('v'));
  w.u8(OP.EOF);
  const buf = Buffer.concat([w.finish(), Buffer.alloc(8)]);
  writeFileSync(out, buf);
  return { path: out, offset };
}

describe('RDB 14 and 15', () => {
  it('an RDB 14/15 header over older types reads exactly as its RDB 13 twin', async () => {
    const base = join(dir, 'v13.rdb');
    await writeAll(new RdbSink({ path: base, rdbVersion: 13 }), [keyRecord('h', sample('hash-ttl-small'), { version: 13 }), keyRecord('s', sample('stream-meta'), { version: 13 })]);
    const a = (await parseFile(base)).filter((x): x is KeyRecord => x.kind === 'key');
    for (const v of [14, 15]) {
      const file = withHeader(base, `REDIS00${v}`, join(dir, `v${v}.rdb`));
      const ok = await runCli(['transform', file, '-o', join(dir, `v${v}-to-13.rdb`), '--rdb-version', '13', '--out-dir', dir]);
      expect(ok.code, ok.stderr).toBe(0);
      const b = (await parseFile(join(dir, `v${v}-to-13.rdb`))).filter((x): x is KeyRecord => x.kind === 'key');
      expect(b.map((k) => [k.key.toString(), k.rdbType, k.payload.toString('hex')])).toEqual(a.map((k) => [k.key.toString(), k.rdbType, k.payload.toString('hex')]));
    }
  });

  it('their new type bytes are named with the offset, never misread', async () => {
    // RDB 15's hash templates (29–32, opcode 242) are read: test/formats/rdb15.test.ts.
    for (const type of [27, 28]) {
      const { path, offset } = withType('REDIS0015', type, join(dir, `t${type}.rdb`));
      const out = join(dir, `t${type}.jsonl`);
      const r = await runCli(['transform', path, '-o', out, '--allow-future-version', '--out-dir', dir]);
      expect(r.code, `type ${type}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`at byte ${offset}.*0x${type.toString(16)} \\(an RDB 14/15 type or opcode`));
      expect(existsSync(out)).toBe(false);
    }
  });

  it('RDB 15 GCRA (type 33), whose layout no source rekey reads defines, is refused by name', async () => {
    const { path, offset } = withType('REDIS0015', 33, join(dir, 't33.rdb'));
    const r = await runCli(['transform', path, '-o', join(dir, 't33.jsonl'), '--out-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`at byte ${offset}.*0x21 \\(RDB 15 RDB_TYPE_GCRA`));
  });

  it('Valkey 81 PATH_HASH (type 23) is refused by name, not read as Redis HASH_LISTPACK_EX', async () => {
    const { path, offset } = withType('VALKEY081', 23, join(dir, 'path-hash.rdb'));
    const r = await runCli(['transform', path, '-o', join(dir, 'ph.jsonl'), '--out-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`at byte ${offset}.*0x17 \\(Valkey RDB 81 PATH_HASH`));
  });
});
