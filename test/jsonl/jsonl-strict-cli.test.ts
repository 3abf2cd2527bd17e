import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

// Issue 15: the reader enforces the README schema's required "db" and the uniqueness Redis
// demands of set members, zset members and hash fields (rdbLoadObject refuses duplicates).
const dir = mkdtempSync(join(tmpdir(), 'rekey-jsonl-strict-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const good = '{"db":0,"key":"ok","type":"string","expire_at_ms":null,"value":"v"}';

async function transform(name: string, lines: string[], extra: string[] = []) {
  const input = join(dir, `${name}.jsonl`);
  const output = join(dir, `${name}.out.jsonl`);
  writeFileSync(input, lines.join('\n') + '\n');
  const r = await runCli(['transform', input, '-o', output, '--format', 'jsonl', '--out-dir', dir, ...extra]);
  return { r, input, output };
}

describe('JSONL reader: strict key lines (CLI)', () => {
  it('a key line without "db" is a bad line: exit 2 naming file, line and the missing "db"', async () => {
    const { r, output } = await transform('nodb', [good, '{"key":"k","type":"string","value":"v"}']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`nodb.jsonl: at byte ${good.length + 1}: `);
    expect(r.stderr).toMatch(/line 2: "db": a database number.*no "db"/);
    expect(existsSync(output)).toBe(false);
  });

  const dups: Array<[string, string, RegExp]> = [
    ['set', '{"db":0,"key":"s","type":"set","value":["a","b","a"]}', /line 2: value\[2\]: a member not listed before, found duplicate string "a"/],
    ['zset', '{"db":0,"key":"z","type":"zset","value":[["m",1],["n",2],["m",3]]}', /line 2: value\[2\]: a member not listed before, found duplicate string "m"/],
    ['hash', '{"db":0,"key":"h","type":"hash","value":[["f","1"],["f","2"]]}', /line 2: value\[1\]: a field not listed before, found duplicate string "f"/],
    ['hash-b64', '{"db":0,"key":"h","type":"hash","value":[[{"base64":"/w=="},"1"],[{"base64":"/w=="},"2"]]}', /line 2: value\[1\]: a field not listed before, found duplicate object \{"base64":"\/w=="\}/],
  ];
  for (const [name, line, re] of dups) {
    it(`a duplicate in a ${name} value is a bad line naming it: exit 2`, async () => {
      const { r, output } = await transform(`dup-${name}`, [good, line]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`dup-${name}\\.jsonl: at byte ${good.length + 1}: `));
      expect(r.stderr).toMatch(re);
      expect(existsSync(output)).toBe(false);
    });
  }

  it('--skip-bad-lines skips and counts them, keeping the good lines', async () => {
    const lines = [good, '{"key":"k","type":"string","value":"v"}', dups[0]![1], dups[2]![1], '{"db":1,"key":"h2","type":"hash","value":[["a","1"],["b","2"]]}'];
    const { r, output } = await transform('skip', lines, ['--skip-bad-lines']);
    expect(r.stderr).toMatch(/bad lines skipped[^\n]*: 3/);
    expect(r.code, r.stderr).toBe(0);
    const keys = readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { key?: string; db?: number }).filter((o) => o.key !== undefined);
    expect(keys.map((o) => [o.db, o.key])).toEqual([[0, 'ok'], [1, 'h2']]);
  });
});
