import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { KeyRecord, RdbRecord } from '../../src/records/types.js';
import { keyToJsonLine } from '../../src/jsonl/value-json.js';
import { parseJsonl } from '../../src/sources/jsonl-source.js';
import { RdbSink } from '../../src/sinks/rdb-sink.js';
import { RespSink } from '../../src/sinks/resp-sink.js';
import { keyRecord, parseFile, writeAll } from '../sinks/sink-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'rekey-key-meta-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Two classes: spec 01020304 with UINT 5; spec aabbccdd with STRING "hi".
const META = Buffer.from('f302' + '01020304' + '0205' + '00' + 'aabbccdd' + '05026869' + '00', 'hex');

async function* once(s: string): AsyncGenerator<Buffer> {
  yield Buffer.from(s);
}

async function readJsonl(text: string): Promise<RdbRecord[]> {
  const out: RdbRecord[] = [];
  for await (const batch of parseJsonl(once(text), { file: 'm.jsonl' })) out.push(...batch);
  return out;
}

function withMeta(key: string): KeyRecord {
  return Object.assign(keyRecord(key, { type: 'string', value: Buffer.from('v') }, { version: 13, expireAtMs: 4102444800000 }), { keyMeta: META });
}

describe('key metadata (RDB 13 KEY_META) in JSONL', () => {
  it('writes "meta" as base64 of the entry after its opcode and reads it back byte for byte', async () => {
    const line = keyToJsonLine(withMeta('k'));
    expect(JSON.parse(line).meta).toBe(META.subarray(1).toString('base64'));
    const [rec] = (await readJsonl(line + '\n')) as KeyRecord[];
    expect(rec!.keyMeta?.equals(META)).toBe(true);

    // JSONL → RDB 13 puts the same bytes before the type byte.
    const path = join(dir, 'back.rdb');
    await writeAll(new RdbSink({ path, rdbVersion: 13 }), [rec!]);
    expect(readFileSync(path).includes(Buffer.concat([META, Buffer.from('00016b', 'hex')]))).toBe(true);
    const [again] = (await parseFile(path)).filter((r): r is KeyRecord => r.kind === 'key');
    expect(again!.keyMeta?.equals(META)).toBe(true);
  });

  it('refuses malformed "meta" naming the line and what is wrong', async () => {
    const base = JSON.parse(keyToJsonLine(withMeta('k'))) as Record<string, unknown>;
    const bad = (meta: unknown) => readJsonl(JSON.stringify({ ...base, meta }) + '\n');
    await expect(bad('not base64!')).rejects.toThrow(/m\.jsonl: at byte 0: line 1: meta: key metadata as base64 text/);
    await expect(bad(Buffer.from('08', 'hex').toString('base64'))).rejects.toThrow(/meta: well-formed key metadata \(.*at most 7 key metadata classes, found 8/);
    await expect(bad(Buffer.concat([META.subarray(1), Buffer.of(0)]).toString('base64'))).rejects.toThrow(/1 bytes after the last class/);
  });

  it('RESP output cannot carry it: refused per key, or written and counted with lossy', async () => {
    const errors: string[] = [];
    const plain = keyRecord('p', { type: 'string', value: Buffer.from('v') });
    const s = new RespSink({ path: join(dir, 'a.resp'), mode: 'restore' });
    await writeAll(s, [withMeta('k'), plain], 7, { refused: (_r, e) => errors.push(e.message) });
    expect(errors).toEqual(['key k: RESP output cannot carry its key metadata (KEY_META, 18 bytes); the key was not written (--lossy writes it without them)']);
    expect(s.stats.keys).toBe(1);
    const l = new RespSink({ path: join(dir, 'b.resp'), mode: 'commands', lossy: true });
    await writeAll(l, [withMeta('k'), plain]);
    expect(l.stats.keys).toBe(2);
    expect(l.stats.lost.byKind).toEqual({ key_meta: 1 });
  });
});
