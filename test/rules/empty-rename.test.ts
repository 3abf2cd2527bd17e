/**
 * A rename that comes out empty (a regex group that matched nothing, or did not take part) is an
 * error for that key — counted, named in the report, exit 1 — never a key "" in the output.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decideKey } from '../../src/pipeline/key-decision.js';
import { b, rulesFrom } from './helpers.js';
import { runCli } from '../helpers/cli.js';

const RULES = `
rules:
  - name: strip
    regex: "^old:(?<id>.*)$"
    rename: "{id}"
  - name: opt
    regex: "^opt(?::(?<id>.+))?$"
    rename: "{id}"
`;

describe('empty new names', () => {
  it('decideKey refuses them with the rule named', () => {
    const rules = rulesFrom(RULES);
    const ctx = { rules, unmatched: 'keep' as const, dropExpired: false, now: 0 };
    const d = decideKey({ db: 0, key: b('old:'), expireAtMs: null }, ctx);
    expect(d.kind).toBe('rename-error');
    if (d.kind === 'rename-error') expect(d.message).toMatch(/rule "strip" renames this key to an empty name/);
    // An optional group that does not take part gives the same empty name.
    expect(decideKey({ db: 0, key: b('opt'), expireAtMs: null }, ctx).kind).toBe('rename-error');
    const ok = decideKey({ db: 0, key: b('old:x'), expireAtMs: null }, ctx);
    expect(ok.kind === 'keep' && ok.key.toString()).toBe('x');
  });

  const dir = mkdtempSync(join(tmpdir(), 'rekey-empty-rename-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('transform counts and names each such key, writes the others, exits 1', async () => {
    const input = join(dir, 'in.jsonl');
    const lines = ['old:a', 'old:', 'opt', 'opt:b', 'other'].map((k, i) => JSON.stringify({ db: 0, key: k, type: 'string', value: `v${i}` }));
    writeFileSync(input, lines.join('\n') + '\n');
    writeFileSync(join(dir, 'r.yaml'), RULES);
    const out = join(dir, 'out.jsonl');
    const res = await runCli(['transform', input, '-o', out, '--format', 'jsonl', '--rules', join(dir, 'r.yaml'), '--out-dir', dir]);
    expect(res.code, res.stderr).toBe(1);
    const written = readFileSync(out, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { key: string }).key);
    expect(written.sort()).toEqual(['a', 'b', 'other']);
    const report = readdirSync(dir).find((f) => f.startsWith('migration_report_'))!;
    const r = JSON.parse(readFileSync(join(dir, report), 'utf8')) as {
      migration_stats: { migration_errors: number; migrated_successfully: number };
      error_keys: Array<{ key: unknown; error: string }>;
    };
    expect(r.migration_stats.migration_errors).toBe(2);
    expect(r.migration_stats.migrated_successfully).toBe(3);
    expect(r.error_keys.map((e) => e.key)).toEqual(['old:', 'opt']);
    expect(r.error_keys[0]!.error).toMatch(/empty name/);
  });

  it('rules test names each such key as transform does, and counts no collision between them', async () => {
    writeFileSync(join(dir, 'r.yaml'), RULES);
    const keys = join(dir, 'keys.txt');
    writeFileSync(keys, ['old:a', 'old:', 'opt', 'opt:b'].join('\n') + '\n');
    const res = await runCli(['rules', 'test', join(dir, 'r.yaml'), '--keys', keys, '--json']);
    expect(res.code, res.stderr).toBe(1);
    const r = JSON.parse(res.stdout.toString()) as { errors: Array<{ source: string; message: string }>; collisions: { keys: { total: number } } };
    expect(r.errors.map((e) => e.source)).toEqual(['db 0 old:', 'db 0 opt']);
    expect(r.errors[0]!.message).toMatch(/rule "strip" renames this key to an empty name/);
    expect(r.collisions.keys.total).toBe(0);
  });
});
