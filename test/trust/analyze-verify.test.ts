/**
 * analyze on corrupt values (the file's CRC is valid, the value's structure is not): exit 2 naming the
 * file, offset and what was expected when the decoder refuses a value; with --verify every value is
 * checked as Redis' sanitize-dump-payload does, and each bad key is counted and named (exit 1).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeValue } from '../../src/encode/value-encoder.js';
import { crc64 } from '../../src/codec/crc64.js';
import { runCli } from '../helpers/cli.js';

const B = (s: string) => Buffer.from(s);
const dir = mkdtempSync(join(tmpdir(), 'rekey-analyze-verify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An RDB 10 file of small hashes (listpacks) keyed h0, h1...; `mutate` edits payload i; CRC recomputed. */
function rdbFile(name: string, n: number, mutate: (i: number, payload: Buffer) => void): string {
  const parts: Buffer[] = [B('REDIS0010'), Buffer.from([0xfe, 0])];
  for (let i = 0; i < n; i++) {
    const e = encodeValue({ type: 'hash', entries: [[B('f1'), B(`v${i}`)], [B('f2'), B('w')]] }, { rdbVersion: 10 });
    const payload = Buffer.from(e.payload);
    mutate(i, payload);
    const key = B(`h${i}`);
    parts.push(Buffer.from([e.rdbType, key.length]), key, payload);
  }
  parts.push(Buffer.from([0xff]));
  const body = Buffer.concat(parts);
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([body, crc64(body)]));
  return path;
}

/** Listpack header: 4 bytes total size, 2 bytes element count, after the 1-byte RDB string length. */
const badCount = (p: Buffer): void => void (p[1 + 4] = 9);
/** Second field "f2" → "f1": a hash with a repeated field (Redis' deep sanitisation refuses it). */
const dupField = (p: Buffer): void => void (p[p.indexOf('f2') + 1] = 0x31);

describe('analyze and corrupt values', () => {
  it('exits 2 naming file, offset and expectation when the decoder refuses a value, and writes no report', async () => {
    const file = rdbFile('count.rdb', 3, (i, p) => i === 1 && badCount(p));
    const out = join(dir, 'o1');
    const res = await runCli(['analyze', file, '--out-dir', out]);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toMatch(/count\.rdb: at byte \d+: expected a valid listpack/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    let files: string[] = [];
    try {
      files = readdirSync(out);
    } catch {
      files = [];
    }
    expect(files.filter((f) => f.startsWith('redis_analysis_'))).toEqual([]);
  });

  it('--verify counts and names every bad key (exit 1), and the rest is analysed', async () => {
    const file = rdbFile('mixed.rdb', 6, (i, p) => (i === 1 ? badCount(p) : i === 4 ? dupField(p) : undefined));
    const out = join(dir, 'o2');
    const res = await runCli(['analyze', file, '--verify', '--out-dir', out]);
    expect(res.code, res.stderr).toBe(1);
    expect(res.stderr).toMatch(/verify: 6 values checked, 2 corrupt/);
    expect(res.stderr).toMatch(/"h1".*element count/);
    expect(res.stderr).toMatch(/"h4".*without duplicates/);
    const report = readdirSync(out).find((f) => f.startsWith('redis_analysis_'))!;
    const r = JSON.parse(readFileSync(join(out, report), 'utf8')) as {
      totals: { keys: number };
      verify: { checked: number; bad_keys: number; keys: Array<{ key: string; offset: number; error: string }> };
    };
    expect(r.totals.keys).toBe(6);
    expect(r.verify.checked).toBe(6);
    expect(r.verify.bad_keys).toBe(2);
    expect(r.verify.keys.map((k) => k.key)).toEqual(['h1', 'h4']);
    for (const k of r.verify.keys) expect(k.offset).toBeGreaterThan(0);
  });

  it('--merge keeps the parts\' verify sections: counts add, bad keys named, exit 1', async () => {
    const a = rdbFile('part-a.rdb', 3, (i, p) => i === 1 && badCount(p));
    const b = rdbFile('part-b.rdb', 4, (i, p) => i === 2 && dupField(p));
    const jsons: string[] = [];
    for (const [f, o] of [[a, 'pa'], [b, 'pb']] as const) {
      const r = await runCli(['analyze', f, '--verify', '--now', '1800000000000', '--out-dir', join(dir, o)]);
      expect(r.code, r.stderr).toBe(1);
      jsons.push(join(dir, o, readdirSync(join(dir, o)).find((n) => n.startsWith('redis_analysis_'))!));
    }
    const m = await runCli(['analyze', ...jsons, '--merge', '--json', '--out-dir', join(dir, 'pm')]);
    expect(m.code, m.stderr).toBe(1);
    const r = JSON.parse(m.stdout.toString()) as { verify: { checked: number; bad_keys: number; keys: Array<{ key: string }> } };
    expect(r.verify.checked).toBe(7);
    expect(r.verify.bad_keys).toBe(2);
    expect(r.verify.keys.map((k) => k.key)).toEqual(['h1', 'h2']);
  });

  it('--verify on a sound file checks every value and exits 0', async () => {
    const file = rdbFile('ok.rdb', 4, () => undefined);
    const res = await runCli(['analyze', file, '--verify', '--json', '--out-dir', join(dir, 'o3')]);
    expect(res.code, res.stderr).toBe(0);
    const r = JSON.parse(res.stdout.toString()) as { verify: { checked: number; bad_keys: number } };
    expect(r.verify).toMatchObject({ checked: 4, bad_keys: 0 });
  });
});
