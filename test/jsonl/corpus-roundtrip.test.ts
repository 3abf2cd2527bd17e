/**
 * RDB → JSONL → records over the shared corpus: every key, value, TTL, LRU/LFU hint and stream group
 * comes back exactly, and the JSONL agrees with the corpus truth (after the truth's normalisations:
 * {"b64"} instead of {"base64"}, sets/hashes/zsets sorted, groups/consumers sorted by name).
 */
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRdb } from '../../src/rdb/parser.js';
import type { KeyRecord, RdbRecord } from '../../src/records/types.js';
import { JsonlSink } from '../../src/sinks/jsonl-sink.js';
import { parseJsonl } from '../../src/sources/jsonl-source.js';

import { CORPUS_GENERATED as CORPUS, corpusMissing } from '../helpers/corpus.js';
corpusMissing('RDB → JSONL corpus round-trips');
const files: Array<[string, string]> = [];
if (existsSync(CORPUS)) {
  for (const dir of readdirSync(CORPUS).sort()) {
    for (const f of readdirSync(join(CORPUS, dir)).sort()) if (f.endsWith('.rdb')) files.push([`${dir}/${f}`, join(CORPUS, dir, f)]);
  }
}
const tmp = mkdtempSync(join(tmpdir(), 'rekey-jsonl-corpus-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function raw(v: unknown): Buffer {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  const o = v as { b64?: string; base64?: string };
  return Buffer.from((o.b64 ?? o.base64)!, 'base64');
}
const byRaw = (a: unknown, b: unknown) => Buffer.compare(raw(a), raw(b));

/** Our JSON → the truth's conventions. */
function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Object.keys(o).length === 1 && typeof o.base64 === 'string') return { b64: o.base64 };
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}

/** Every field the truth has must be in ours with the same value (ours may carry more). */
function expectSubset(ours: unknown, truth: unknown, path: string): void {
  if (Array.isArray(truth)) {
    expect(Array.isArray(ours), path).toBe(true);
    expect((ours as unknown[]).length, `${path}.length`).toBe(truth.length);
    truth.forEach((t, i) => expectSubset((ours as unknown[])[i], t, `${path}[${i}]`));
  } else if (truth !== null && typeof truth === 'object') {
    expect(ours !== null && typeof ours === 'object', path).toBe(true);
    for (const [k, t] of Object.entries(truth)) expectSubset((ours as Record<string, unknown>)[k], t, `${path}.${k}`);
  } else {
    expect(ours, path).toEqual(truth);
  }
}

function compareWithTruth(line: Record<string, unknown>, truth: Record<string, unknown>, where: string): void {
  expect(normalize(line.key), `${where} key`).toEqual(truth.key);
  expect(line.expire_at_ms ?? null, `${where} expire_at_ms`).toBe(truth.expire_at_ms);
  const type = line.type as string;
  if (type === 'module') return; // truth has the module's own read-back, not the payload
  expect(type, `${where} type`).toBe(truth.type);
  const val = normalize(line.value);
  const tv = truth.value;
  switch (type) {
    case 'string':
    case 'list':
      expect(val, where).toEqual(tv);
      break;
    case 'set':
      expect((val as unknown[]).slice().sort(byRaw), where).toEqual(tv);
      break;
    case 'zset': {
      const ours = (val as Array<[unknown, unknown]>).slice().sort((a, b) => byRaw(a[0], b[0]));
      const t = tv as Array<[unknown, string | number]>;
      expect(ours.map((e) => e[0]), where).toEqual(t.map((e) => e[0]));
      const num = (s: unknown) => (s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s));
      expect(ours.map((e) => num(e[1])), where).toEqual(t.map((e) => num(e[1])));
      break;
    }
    case 'hash': {
      const pairs = Array.isArray(val) ? (val as Array<[unknown, unknown]>) : Object.entries(val as object);
      expect(pairs.slice().sort((a, b) => byRaw(a[0], b[0])), where).toEqual(tv);
      const fe = normalize(line.field_expire_at_ms);
      if (truth.field_expire_at_ms !== undefined || fe !== undefined) {
        const fp = fe === undefined ? [] : Array.isArray(fe) ? (fe as Array<[unknown, unknown]>) : Object.entries(fe as object);
        expect(fp.slice().sort((a, b) => byRaw(a[0], b[0])), `${where} field_expire_at_ms`).toEqual(
          (truth.field_expire_at_ms as Array<[unknown, unknown]>).slice().sort((a, b) => byRaw(a[0], b[0])),
        );
      }
      break;
    }
    case 'stream': {
      const s = val as { groups: Array<{ name: unknown; consumers: Array<{ name: unknown }> }> };
      s.groups.sort((a, b) => byRaw(a.name, b.name));
      for (const g of s.groups) g.consumers.sort((a, b) => byRaw(a.name, b.name));
      expectSubset(s, tv, where);
      break;
    }
  }
}

describe.skipIf(files.length === 0)('RDB → JSONL → records over the corpus', () => {
  it.each(files)('%s', async (name, path) => {
    const records: RdbRecord[] = [];
    for await (const batch of parseRdb(createReadStream(path), { file: path })) records.push(...batch);
    const out = join(tmp, name.replace('/', '__') + '.jsonl');
    const sink = new JsonlSink({ path: out });
    for (let i = 0; i < records.length; i += 50) await sink.writeBatch(records.slice(i, i + 50));
    await sink.close();
    const keys = records.filter((r): r is KeyRecord => r.kind === 'key');
    expect(sink.keysWritten).toBe(keys.length);

    const back: RdbRecord[] = [];
    for await (const batch of parseJsonl(createReadStream(out, { highWaterMark: 4093 }), { file: out })) back.push(...batch);
    const backKeys = back.filter((r): r is KeyRecord => r.kind === 'key');
    expect(backKeys.length).toBe(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const a = keys[i]!;
      const b = backKeys[i]!;
      const where = `${name} key #${i} ${JSON.stringify(a.key.toString('latin1'))}`;
      expect(b.key, where).toEqual(a.key);
      expect(b.db, where).toBe(a.db);
      expect(b.type, where).toBe(a.type);
      expect(b.expireAtMs, where).toBe(a.expireAtMs);
      expect(b.idle, where).toBe(a.idle);
      expect(b.freq, where).toBe(a.freq);
      // isDeepStrictEqual is much faster than expect().toEqual on big values; toEqual only for the diff.
      if (!isDeepStrictEqual(b.decode(), a.decode())) expect(b.decode(), where).toEqual(a.decode());
    }
    // Meta lines: header, aux, functions (pre-GA converted), module aux.
    const metaKinds = (rs: RdbRecord[]) => rs.filter((r) => r.kind !== 'key').map((r) => (r.kind === 'function-pre-ga' ? 'function' : r.kind));
    expect(metaKinds(back)).toEqual(metaKinds(records).filter((k) => ['header', 'aux', 'function', 'module-aux'].includes(k)));

    // Against the truth.
    const truthPath = path.replace(/\.rdb$/, '.truth.jsonl').replace(/\/dump\.truth\.jsonl$/, '/truth.jsonl');
    if (!existsSync(truthPath)) return;
    const truth = new Map<string, Record<string, unknown>>();
    for (const l of readFileSync(truthPath, 'utf8').split('\n')) {
      if (!l) continue;
      const t = JSON.parse(l) as Record<string, unknown>;
      truth.set(`${t.db} ${JSON.stringify(t.key)}`, t);
    }
    let matched = 0;
    for (const l of readFileSync(out, 'utf8').split('\n')) {
      if (!l) continue;
      const line = JSON.parse(l) as Record<string, unknown>;
      if (line.$ !== undefined) continue;
      const t = truth.get(`${line.db} ${JSON.stringify(normalize(line.key))}`);
      if (!t) continue; // expired at save time
      compareWithTruth(line, t, `${name} ${JSON.stringify(line.key)}`);
      matched++;
    }
    expect(matched).toBe(truth.size);
  });
});
