import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/pipeline/run.js';
import { MigrationStats } from '../../src/pipeline/stats.js';
import { RespSink } from '../../src/sinks/resp-sink.js';
import type { KeyRecord, RdbRecord, Value } from '../../src/records/types.js';
import { compileRules } from '../../src/rules/index.js';
import { keyRecord } from '../helpers/records.js';

const dir = mkdtempSync(join(tmpdir(), 'rekey-outcomes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function* batches(recs: RdbRecord[]): AsyncIterable<RdbRecord[]> {
  yield recs;
}

describe('the pipeline counts what the sinks tell of each key', () => {
  it('a key a sink refuses is an error, not migrated, and not listed as migrated', async () => {
    const mod: Value = { type: 'module', moduleId: 1n, moduleName: 'm', encver: 0, raw: Buffer.alloc(2) };
    const refused: KeyRecord = { ...keyRecord('old:x', { type: 'string', value: Buffer.from('1') }), type: 'module', decode: () => mod };
    const recs = [refused, keyRecord('old:y', { type: 'string', value: Buffer.from('2') }), keyRecord('old:z', { type: 'string', value: Buffer.from('3') })];
    const stats = new MigrationStats();
    const rules = compileRules({ version: 1, rules: [{ name: 'r', category: 'c', match: 'old:{id}', rename: 'new:{id}' }] });
    const sink = new RespSink({ path: join(dir, 'o.resp'), mode: 'commands' });
    await runPipeline(batches(recs), { filter: null, rules, unmatched: 'keep', expired: 'keep', now: 0, onCollision: 'keep-first', guard: null, sinks: [sink], stats });
    expect(stats.toJSON()).toMatchObject({ total_keys_found: 3, migrated_successfully: 2, migration_errors: 1, c_keys: 3 });
    expect(stats.migratedKeys.map((m) => m.new_key)).toEqual(['new:y', 'new:z']);
    expect(stats.errorKeys).toEqual([{ db: 0, key: 'new:x', error: expect.stringMatching(/module/) }]);
    expect(sink.stats).toMatchObject({ keys: 2, skippedKeys: 1 });
  });
});
