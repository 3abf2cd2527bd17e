/**
 * Module values for a target that does not load their module are refused one key at a time, named, on
 * every path that writes to a server: `import` (its dry run says so too) and RESP output for a named
 * target; never a stream or RESTORE the target refuses halfway. Real servers: /usr/bin/redis-server (7.0,
 * no module types) always; the cached Redis 8.0 (ships vector sets) when built.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RdbSink } from '../../src/sinks/rdb-sink.js';
import { moduleRefusal } from '../../src/encode/down-convert.js';
import type { KeyRecord, RdbRecord, Value } from '../../src/records/types.js';
import { runCli } from '../helpers/cli.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { findServer, whyMissing } from '../helpers/servers.js';
import { moduleValue } from '../helpers/records.js';
import { keyRecord, parseFile, writeAll } from '../sinks/sink-helpers.js';

let dir: string;
let input: string;
const started: RedisHandle[] = [];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-modules-'));
  input = join(dir, 'in.rdb');
  const records: RdbRecord[] = [
    keyRecord('plain', { type: 'string', value: Buffer.from('v') }, { version: 12 }),
    keyRecord('vs', moduleValue('vectorset', 'vectors'), { version: 12 }),
    keyRecord('json', moduleValue('ReJSON-RL', '{}'), { version: 12 }),
  ];
  await writeAll(new RdbSink({ path: input, rdbVersion: 12 }), records);
});
afterAll(async () => {
  for (const s of started) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(argv: string[]) {
  const rep = mkdtempSync(join(dir, 'rep-'));
  const r = await runCli([...argv, '--out-dir', rep]);
  const f = readdirSync(rep).find((x) => x.startsWith('migration_report'));
  return { ...r, report: f ? JSON.parse(readFileSync(join(rep, f), 'utf8')) : null };
}

describe('moduleRefusal (the one check import uses)', () => {
  it('names the type and what the target loads; null for other keys or unknown modules', async () => {
    const recs = (await parseFile(input)).filter((r): r is KeyRecord => r.kind === 'key');
    const by = new Map(recs.map((r) => [r.key.toString(), r]));
    expect(moduleRefusal(by.get('vs')!, { maxRdbVersion: 10, modules: [] })).toMatch(/module value of type vectorset.*loads no module types/);
    expect(moduleRefusal(by.get('json')!, { maxRdbVersion: 12, modules: ['vectorset'] })).toMatch(/ReJSON-RL.*loads only vectorset/);
    expect(moduleRefusal(by.get('vs')!, { maxRdbVersion: 12, modules: ['vectorset'] })).toBeNull();
    expect(moduleRefusal(by.get('plain')!, { maxRdbVersion: 10, modules: [] })).toBeNull();
    expect(moduleRefusal(by.get('vs')!, { maxRdbVersion: 10 })).toBeNull();
  });
});

describe('import into Redis 7.0 (no module types)', () => {
  it('the dry run counts both module keys as refused (exit 1)', async () => {
    const s = await startRedis();
    started.push(s);
    const r = await cli(['import', input, '--target', s.url, '--json']);
    expect(r.code, r.stderr).toBe(1); // a dry run that finds keys it cannot write reports a problem
    expect(r.stdout.toString()).toMatch(/"refused":\s*2/);
    expect(r.stdout.toString()).toMatch(/vectorset/);
  });

  it('--live: the string arrives, each module key is an error naming its type; exit 1', async () => {
    const s = await startRedis();
    started.push(s);
    const r = await cli(['import', input, '--target', s.url, '--live', '--yes']);
    expect(r.code).toBe(1);
    const errors = JSON.stringify(r.report.error_keys);
    expect(errors).toMatch(/vs.*module value of type vectorset/);
    expect(errors).toMatch(/json.*module value of type ReJSON-RL/);
    const c = s.client();
    expect(await c.get('plain')).toBe('v');
    expect(await c.exists('vs', 'json')).toBe(0);
  });
});

const r80 = findServer('redis-8.0');
describe.skipIf(r80 === null)(`import into Redis 8.0 (ships vector sets)${r80 ? '' : ` (skipped: ${whyMissing('redis-8.0')})`}`, () => {
  it('the dry run refuses only the JSON value', async () => {
    const s = await startRedis({ binary: r80!.server });
    started.push(s);
    const r = await cli(['import', input, '--target', s.url, '--json']);
    expect(r.code, r.stderr).toBe(1); // a dry run that finds keys it cannot write reports a problem
    expect(r.stdout.toString()).toMatch(/"refused":\s*1/);
    expect(r.stdout.toString()).toMatch(/ReJSON-RL/);
  });
});

describe('RESP output for a named target', () => {
  it('redis-7.0: module keys refused by name (exit 1); --lossy skips and counts them', async () => {
    const out = join(dir, 'o.resp');
    const strict = await cli(['transform', input, '-o', out, '--format', 'resp', '--rdb-version', 'redis-7.0']);
    expect(strict.code).toBe(1);
    expect(JSON.stringify(strict.report.error_keys)).toMatch(/vs.*vectorset.*redis-7\.0 ships no such module/);
    const lossy = await cli(['transform', input, '-o', join(dir, 'ol.resp'), '--format', 'resp', '--rdb-version', 'redis-7.0', '--lossy']);
    expect(lossy.code, lossy.stderr).toBe(0);
    expect(lossy.report.output.lost.by_kind).toEqual({ module: 2 });
    // What is written loads: replay it into a real 7.0.
    const s = await startRedis();
    started.push(s);
    const c = s.client();
    const text = readFileSync(join(dir, 'ol.resp'));
    expect(text.includes(Buffer.from('vectorset'))).toBe(false);
    const pipe = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(s.port), '--pipe'], { input: text, encoding: 'utf8' });
    expect(pipe.status, pipe.stdout + pipe.stderr).toBe(0);
    expect(pipe.stdout).toMatch(/errors: 0, replies: 1/);
    expect(await c.get('plain')).toBe('v');
    expect(await c.dbsize()).toBe(1);
  });

  it('redis-8.0: the vector set goes, the JSON value is refused', async () => {
    const r = await cli(['transform', input, '-o', join(dir, 'o8.resp'), '--format', 'resp', '--rdb-version', 'redis-8.0']);
    expect(r.code).toBe(1);
    const errors = JSON.stringify(r.report.error_keys);
    expect(errors).toMatch(/json.*ReJSON-RL/);
    expect(errors).not.toMatch(/"vs"/);
  });
});
