/**
 * `validate a b c --target`: the shards of a backup are checked against one server as one dataset
 * (a real redis-server that loaded the whole fixture at start).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runValidate } from '../../src/commands/validate.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { bySlot, FIXTURE, splitDump } from './helpers.js';

let dir = '';
let redis: RedisHandle;
let shards: string[] = [];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-vmulti-'));
  redis = await startRedis({ rdbFile: FIXTURE });
  shards = await splitDump(FIXTURE, mkdtempSync(join(dir, 'shards-')), 3, bySlot(3), 'shard');
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
}, 60_000);
afterAll(async () => {
  vi.restoreAllMocks();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function validate(input: string[], extra: { partial?: boolean } = {}): Promise<{ code: number; report: Record<string, unknown> & { validation: { checked: number; mismatched: number } } }> {
  const out = mkdtempSync(join(dir, 'out-'));
  const code = await runValidate({ input, target: redis.url, 'out-dir': out, json: false, 'ignore-checksum': false, 'allow-future-version': false, now: 1_800_000_000_000, ...extra });
  const name = readdirSync(out).find((f) => f.startsWith('validation_report_') && f.endsWith('.json'))!;
  return { code, report: JSON.parse(readFileSync(join(out, name), 'utf8')) };
}

describe('validate with several inputs', () => {
  it('checks every shard against the server as one dataset, with a row per file', async () => {
    const { code, report } = await validate(shards);
    expect(report.validation).toMatchObject({ mismatched: 0 });
    expect(report.validation.checked).toBe(446);
    expect((report.files as Array<{ keys: number }>).map((f) => f.keys).reduce((a, b) => a + b, 0)).toBe(446);
    expect(report.slot_coverage).toMatchObject({ checked: true, missing: { slots: 0 } });
    expect(code).toBe(0);
  });

  it('two shards of three: the keys match, but the missing shard is exit 1 unless --partial', async () => {
    const two = await validate([shards[0]!, shards[2]!]);
    expect(two.report.validation.mismatched).toBe(0);
    expect(two.code).toBe(1);
    expect((await validate([shards[0]!, shards[2]!], { partial: true })).code).toBe(0);
  });
});
