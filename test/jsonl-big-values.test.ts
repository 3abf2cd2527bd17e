import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openInput } from '../src/sources/open.js';
import { STREAM_JSON_MIN_BYTES } from '../src/jsonl/blob-json.js';
import type { KeyRecord, Value } from '../src/records/types.js';
import { valuesEqual } from '../src/validate/read-value.js';
import { startRedis } from './helpers/redis-server.js';
import { runCli } from './helpers/cli.js';
import { seededRandom } from '../src/analyze/stats.js';

/** Big values: collections in Redis' plain layouts (hash, zset, set, quicklist, stream) and huge strings. */
function bigCommands(): Buffer {
  const parts: string[] = [];
  const cmd = (args: string[]) => {
    let s = `*${args.length}\r\n`;
    for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
    parts.push(s);
  };
  const r = seededRandom(7);
  // Random text, so LZF cannot shrink the quicklist nodes below the streaming threshold.
  const noise = () => Math.floor(r() * 2 ** 52).toString(36) + Math.floor(r() * 2 ** 52).toString(36);
  for (let i = 0; i < 160_000; i += 1000) {
    const h = ['HSET', 'big:hash'];
    const z = ['ZADD', 'big:zset'];
    const st = ['SADD', 'big:set'];
    const l = ['RPUSH', 'big:list'];
    for (let j = i; j < i + 1000; j++) {
      const pad = noise() + noise() + noise() + noise();
      h.push(`field:${j}:${pad}`, `value-${j}-${pad}`);
      z.push(String(j / 7), `member:${j}:${pad}`);
      st.push(`member:${j}:${pad}`);
      l.push(`item:${j}:${pad}`);
    }
    cmd(h);
    cmd(z);
    cmd(st);
    cmd(l);
  }
  // A big stream with a consumer group, pending entries and a deleted entry.
  for (let i = 1; i <= 190_000; i++) cmd(['XADD', 'big:stream', `${1700000000000 + i}-0`, 'v', noise() + noise() + noise() + noise()]);
  cmd(['XDEL', 'big:stream', '1700000000005-0']);
  cmd(['XGROUP', 'CREATE', 'big:stream', 'g', '0']);
  cmd(['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '50', 'STREAMS', 'big:stream', '>']);
  cmd(['RPUSH', 'big:list', 'y'.repeat(100_000)]); // a PLAIN node in 7.0 only past 1 GB; a big packed element otherwise
  // Huge strings: UTF-8 text with multi-byte characters, and bytes that are not UTF-8.
  let text = '';
  while (text.length < 10_000_000) text += `${noise()}${noise()}${noise()}é€😀"\\\n`;
  cmd(['SET', 'big:text', text]);
  const bin = Buffer.alloc(9_000_000);
  for (let i = 0; i < bin.length; i++) bin[i] = Math.floor(r() * 256);
  const setBin = Buffer.concat([Buffer.from(`*3\r\n$3\r\nSET\r\n$7\r\nbig:bin\r\n$${bin.length}\r\n`), bin, Buffer.from('\r\n')]);
  return Buffer.concat([Buffer.from(parts.join('')), setBin, Buffer.from('*1\r\n$4\r\nSAVE\r\n')]);
}

let dir: string;
let rdb: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-big-'));
  const srv = await startRedis();
  try {
    const r = spawnSync('redis-cli', ['-p', String(srv.port), '--pipe'], { input: bigCommands(), maxBuffer: 1 << 26 });
    expect(r.stdout.toString()).toMatch(/errors: 0/);
    rdb = join(dir, 'big.rdb');
    spawnSync('cp', [join(srv.dir, 'dump.rdb'), rdb]);
  } finally {
    await srv.stop();
  }
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function records(path: string): Promise<Map<string, { rec: KeyRecord; value: Value }>> {
  const out = new Map<string, { rec: KeyRecord; value: Value }>();
  const input = await openInput(path);
  for await (const batch of input.batches) for (const r of batch) if (r.kind === 'key') out.set(r.key.toString(), { rec: r, value: r.decode() });
  return out;
}

describe('JSONL of big collections, written element by element', () => {
  it('round-trips every big value exactly', async () => {
    const src = await records(rdb);
    for (const { rec } of src.values()) expect(rec.payload.length, rec.key.toString()).toBeGreaterThanOrEqual(STREAM_JSON_MIN_BYTES);
    const out = join(dir, 'big.jsonl');
    const r = await runCli(['transform', rdb, '-o', out, '--out-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(out).size).toBeGreaterThan(4 * STREAM_JSON_MIN_BYTES);
    // A big hash is written in the pairs form.
    expect(readFileSync(out, 'utf8')).toMatch(/"key":"big:hash","type":"hash","expire_at_ms":null,"value":\[\["field:/);
    const back = await records(out);
    expect([...back.keys()].sort()).toEqual([...src.keys()].sort());
    for (const [k, { value }] of src) {
      const eq = valuesEqual(value, back.get(k)!.value);
      expect(eq.diff, k).toBeUndefined();
    }
  }, 120_000);
});
