import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUtf8 } from 'node:buffer';
import { afterAll, describe, expect, it } from 'vitest';
import { bytesToJson, keyToJsonLine } from '../../src/jsonl/value-json.js';
import type { RdbRecord } from '../../src/records/types.js';
import { JsonlSink } from '../../src/sinks/jsonl-sink.js';
import { b, keyRec } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'rekey-jsonl-sink-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('JsonlSink', () => {
  it('writes one line per key and per meta line, atomically, and counts keys', async () => {
    const path = join(dir, 'out.jsonl');
    const sink = new JsonlSink({ path });
    const recs: RdbRecord[] = [
      { kind: 'header', rdbVersion: 11, flavor: 'redis', magic: 'REDIS0011' },
      { kind: 'aux', key: b('redis-ver'), value: b('7.2.0'), offset: 9 },
      { kind: 'selectdb', db: 0, offset: 30 },
      { kind: 'resizedb', db: 0, dbSize: 2, expiresSize: 0, offset: 32 },
      keyRec('a', { type: 'string', value: b('1') }),
      keyRec('b', { type: 'list', items: [b('x')] }, { db: 2, expireAtMs: 5 }),
      { kind: 'eof', checksum: null, checksumOk: null, offset: 99 },
    ];
    await sink.writeBatch(recs.slice(0, 3));
    await sink.writeBatch(recs.slice(3));
    expect(existsSync(path)).toBe(false); // only a temp file until close
    await sink.close();
    expect(readFileSync(path, 'utf8')).toBe([
      '{"$":"header","rdb_version":11,"flavor":"redis"}',
      '{"$":"aux","key":"redis-ver","value":"7.2.0"}',
      '{"db":0,"key":"a","type":"string","expire_at_ms":null,"value":"1"}',
      '{"db":2,"key":"b","type":"list","expire_at_ms":5,"value":["x"]}',
      '',
    ].join('\n'));
    expect(sink.keysWritten).toBe(2);
    expect(sink.metaLinesWritten).toBe(2);
  });

  it('splits a big batch into chunks and keeps every line in order', async () => {
    const path = join(dir, 'big.jsonl');
    const sink = new JsonlSink({ path });
    const recs = Array.from({ length: 30_000 }, (_, i) => keyRec(`key:${i}`, { type: 'string', value: Buffer.alloc(100, 97 + (i % 26)) }));
    await sink.writeBatch(recs);
    await sink.writeBatch([]);
    await sink.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines.length).toBe(30_001);
    expect(lines[30_000]).toBe('');
    for (let i = 0; i < recs.length; i += 997) expect(lines[i]).toBe(keyToJsonLine(recs[i]!));
    expect(sink.keysWritten).toBe(30_000);
  });

  it('leaves nothing behind on abort', async () => {
    const sub = mkdtempSync(join(dir, 'abort-'));
    const path = join(sub, 'x.jsonl');
    const sink = new JsonlSink({ path });
    await sink.writeBatch([keyRec('a', { type: 'string', value: b('1') })]);
    await sink.abort(new Error('boom'));
    expect(readdirSync(sub)).toEqual([]);
  });
});

describe('bytesToJson', () => {
  it('matches the reference (JSON string when UTF-8, else base64) on random and edge-case bytes', () => {
    const ref = (x: Buffer) => (isUtf8(x) ? JSON.stringify(x.toString('utf8')) : `{"base64":"${x.toString('base64')}"}`);
    const cases: Buffer[] = [
      Buffer.alloc(0), b('"'), b('\\'), b('\u0000\u001f\u007f'), b('\u2028\u2029'), b('é😀'), Buffer.from([0xc3]),
      Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.alloc(300, 0x61), Buffer.concat([Buffer.alloc(300, 0x61), b('"')]),
    ];
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 5000; i++) {
      const n = Math.floor(rnd() * 40);
      const pool = i % 3 === 0 ? [0x22, 0x5c, 0x0a, 0x41, 0x7f] : i % 3 === 1 ? [0xc3, 0xa9, 0x41, 0xe2, 0x82, 0xac] : null;
      cases.push(Buffer.from(Array.from({ length: n }, () => (pool ? pool[Math.floor(rnd() * pool.length)]! : Math.floor(rnd() * 256)))));
    }
    for (const c of cases) {
      const got = bytesToJson(c);
      expect(got).toBe(ref(c));
      const parsed = JSON.parse(got);
      expect(typeof parsed === 'string' ? Buffer.from(parsed, 'utf8') : Buffer.from(parsed.base64, 'base64')).toEqual(c);
    }
  });
});
