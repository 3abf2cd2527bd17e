/**
 * A hash line in the object form repeating a field (`{"a":"1","a":"2"}`): JSON.parse keeps the last in
 * silence, so the reader scans the text and makes it a bad line, as the pairs form already is.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mergedRepeat, repeatedKey } from '../../src/jsonl/repeated-keys.js';
import { runCli } from '../helpers/cli.js';

const M = new Set(['value', 'field_expire_at_ms']);

describe('repeatedKey', () => {
  it('finds a repeat in the hash object, in field_expire_at_ms, and at the top level', () => {
    expect(repeatedKey('{"db":0,"type":"hash","value":{"a":"1","a":"2"}}', M)).toEqual({ where: 'value', key: 'a' });
    expect(repeatedKey('{"value":{"a":"1","b":"2"},"field_expire_at_ms":{"b":1,"b":2}}', M)).toEqual({ where: 'field_expire_at_ms', key: 'b' });
    expect(repeatedKey('{"db":0,"value":{"a":"1"},"db":1}', M)).toEqual({ where: '', key: 'db' });
  });

  it('compares keys by their decoded text (escapes), and reads strings with quotes and backslashes right', () => {
    expect(repeatedKey(String.raw`{"value":{"a\u0062":"1","ab":"2"}}`, M)).toEqual({ where: 'value', key: 'ab' });
    expect(repeatedKey(String.raw`{"value":{"x\"":"1","x\\":"2","x":"\"a\":"}}`, M)).toBeNull();
    expect(repeatedKey(String.raw`{"value":{"k\\":"1","k\\":"2"}}`, M)).toEqual({ where: 'value', key: 'k\\' });
    // Members not listed are skipped whole, whatever they hold.
    expect(repeatedKey('{"meta":{"a":1,"a":2},"value":[["a","1"],["a","2"]]}', M)).toBeNull();
    expect(repeatedKey(' { "value" : { "a" : "1" , "b" : { "c" : [ 1 , { "a" : 2 } ] } } } ', M)).toBeNull();
    expect(repeatedKey('{"value":{}}', M)).toBeNull();
  });

  it('never reports a repeat in what JSON.stringify writes, and always finds one added (random objects)', () => {
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    const alphabet = ['a', 'b', '"', '\\', ':', ',', '{', '}', '[', ']', 'é', '\u0001', ' '];
    const str = (): string => Array.from({ length: rnd(5) }, () => alphabet[rnd(alphabet.length)]!).join('');
    for (let n = 0; n < 2000; n++) {
      const fields: Record<string, string> = {};
      const count = 1 + rnd(8);
      for (let i = 0; i < count; i++) fields[`${str()}${i}`] = str();
      const line = JSON.stringify({ db: 0, key: str(), type: 'hash', value: fields, meta: { x: [str(), { y: str() }] } });
      expect(repeatedKey(line, M), line).toBeNull();
      const keys = Object.keys(fields);
      const dup = keys[rnd(keys.length)]!;
      const withDup = line.replace('"value":{', `"value":{${JSON.stringify(dup)}:"z",`);
      expect(repeatedKey(withDup, M), withDup).toEqual({ where: 'value', key: dup });
    }
  });
});

describe('mergedRepeat (the reader\'s cheap check: key counts of the text against the parsed object)', () => {
  it('names a repeat JSON.parse merged, and passes lines without one', () => {
    const t = (line: string) => mergedRepeat(line, JSON.parse(line) as Record<string, unknown>, M);
    expect(t('{"db":0,"value":{"a":"1","b":"2"},"field_expire_at_ms":{"a":1}}')).toBeNull();
    expect(t('{"db":0,"value":{"a":"1","b":"2","a":"3"}}')).toEqual({ where: 'value', key: 'a' });
    expect(t('{"value":{"a":"1"},"field_expire_at_ms":{"a":1,"a":2}}')).toEqual({ where: 'field_expire_at_ms', key: 'a' });
    expect(t(String.raw`{"value":{"a":"1"},"val\u0075e":{"b":"2"}}`)).toEqual({ where: '', key: 'value' });
    // A repeat inside a member that is not checked does not count.
    expect(t('{"value":{"a":"1"},"meta":{"x":1,"x":2}}')).toBeNull();
  });
});

describe('the JSONL reader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rekey-jsonl-repeat-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const lines = [
    '{"db":0,"key":"ok","type":"hash","value":{"a":"1","b":"2"}}',
    '{"db":0,"key":"h","type":"hash","value":{"a":"1","a":"2"}}',
    '{"db":0,"key":"t","type":"hash","value":{"a":"1","b":"2"},"field_expire_at_ms":{"a":1767225600000,"a":1767225600001}}',
  ];

  it('refuses a repeated field with exit 2 naming file, offset and line; nothing written', async () => {
    const f = join(dir, 'rep.jsonl');
    writeFileSync(f, lines.join('\n') + '\n');
    const res = await runCli(['transform', f, '-o', join(dir, 'rep.rdb'), '--out-dir', dir]);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toContain(`${f}: at byte ${lines[0]!.length + 1}: line 2: "value": a hash listing each field once, found "a" twice`);
    expect(existsSync(join(dir, 'rep.rdb'))).toBe(false);
  });

  it('--skip-bad-lines skips and counts both lines, and keeps the sound one', async () => {
    const f = join(dir, 'rep2.jsonl');
    writeFileSync(f, lines.join('\n') + '\n');
    const res = await runCli(['transform', f, '-o', join(dir, 'rep2.jsonl.out'), '--format', 'jsonl', '--skip-bad-lines', '--out-dir', dir]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/bad lines skipped.*: 2/);
  });
});
