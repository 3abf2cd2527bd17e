import { describe, expect, it } from 'vitest';
import { Analyzer, describeFunction, type AnalysisReport } from '../../src/analyze/aggregator.js';
import { estimateKeyMemory } from '../../src/analyze/memory.js';
import { compileRules } from '../../src/rules/index.js';
import { buildFilter } from '../../src/pipeline/filters.js';
import type { KeyRecord, RdbRecord } from '../../src/records/types.js';
import { b, hash, list, meta, range, rec, set, str, zset } from './helpers.js';

const NOW = 1_700_000_000_000;
const MIN = 60_000;
const DAY = 86_400_000;

function run(records: RdbRecord[], o: Partial<ConstructorParameters<typeof Analyzer>[0]> = {}): AnalysisReport {
  const a = new Analyzer({ now: NOW, ...o });
  a.addBatch(records);
  return a.report({ path: 'synthetic.rdb', format: 'rdb' });
}

function keyset(): KeyRecord[] {
  return [
    rec('user:1:name', str('Ada'), { db: 0 }),
    rec('user:2:name', str('Grace'), { db: 0, expireAtMs: NOW + 30 * MIN }),
    rec('user:3:name', str('x'.repeat(300)), { db: 0, expireAtMs: NOW - 1 }), // expired
    rec('session:abc', hash([['a', '1'], ['b', '2']]), { db: 1, expireAtMs: NOW + 2 * DAY }),
    rec('queue:jobs', list(range(50, (i) => `job-${i}`)), { db: 1 }),
    rec('tags', set(['a', 'b', 'c', 'd']), { db: 0, expireAtMs: NOW + 40 * DAY }),
    rec('board:scores', zset(range(10, (i) => `p${i}`).map((m, i) => [m, i])), { db: 2, expireAtMs: NOW + 30_000 }),
    rec('user:4:name', str('12'), { db: 0, expireAtMs: NOW + 5 * DAY }),
  ];
}

describe('Analyzer', () => {
  it('counts totals, types, dbs and encodings', () => {
    const keys = keyset();
    const r = run([...meta(), ...keys]);
    expect(r.totals.keys).toBe(8);
    expect(r.totals.with_ttl).toBe(6);
    expect(r.totals.expired).toBe(1);
    const bytes = keys.reduce((a, k) => a + k.key.length + k.payload.length, 0);
    expect(r.totals.bytes).toBe(bytes);
    expect(r.totals.key_bytes + r.totals.value_bytes).toBe(bytes);
    expect(r.by_type.string).toMatchObject({ keys: 4, with_ttl: 3, expired: 1 });
    expect(r.by_type.hash!.keys).toBe(1);
    expect(r.by_type.list!.elements).toMatchObject({ count: 1, max: 50, p50: 50 });
    expect(r.by_type.string!.elements.max).toBe(300);
    expect(Object.keys(r.by_type)).toEqual(['string', 'list', 'set', 'zset', 'hash']);
    expect(r.by_db['0']).toMatchObject({ keys: 5, with_ttl: 4, expired: 1, by_type: { string: 4, set: 1 } });
    expect(r.by_db['1']!.keys).toBe(2);
    expect(r.by_db['2']!.keys).toBe(1);
    expect(r.by_encoding['string:string']!.keys).toBe(4);
    expect(r.by_encoding['set:listpack'] ?? r.by_encoding['set:intset'] ?? r.by_encoding['set:hashtable']).toBeDefined();
    const typeSum = Object.values(r.by_type).reduce((a, t) => a + t.keys, 0);
    expect(typeSum).toBe(8);
    expect(r.sizes.count).toBe(8);
    expect(r.totals.elements).toBe(3 + 5 + 300 + 2 + 50 + 4 + 10 + 2);
  });

  it('buckets TTLs at --now and finds the earliest and latest expiry', () => {
    const r = run(keyset());
    expect(r.ttl).toMatchObject({
      no_ttl: 2,
      with_ttl: 6,
      expired: 1,
      buckets: { '<1m': 1, '<1h': 1, '<1d': 0, '<7d': 2, '<30d': 0, '>=30d': 1 },
      earliest_ms: NOW - 1,
      latest_ms: NOW + 40 * DAY,
    });
    expect(r.ttl.earliest).toBe(new Date(NOW - 1).toISOString());
    // the same keys judged a year later: everything with a TTL is expired
    const later = run(keyset(), { now: NOW + 365 * DAY });
    expect(later.ttl.expired).toBe(6);
    expect(later.totals.expired).toBe(6);
  });

  it('counts hash field TTLs separately', () => {
    const h = rec('h', hash([['a', '1'], ['b', '2'], ['c', '3']], [NOW + 10_000, null, NOW - 5]), { rdbVersion: 12 });
    const big = rec('h2', hash(range(200, (i) => `f${i}`).map((f) => [f, 'v']), range(200, (i) => String(i)).map((_, i) => (i < 3 ? NOW + 2 * DAY : null))), { rdbVersion: 12 });
    const r = run([h, big]);
    expect(r.ttl.hash_fields).toMatchObject({ hashes: 2, fields: 5, expired: 1, earliest_ms: NOW - 5, latest_ms: NOW + 2 * DAY });
    expect(r.ttl.hash_fields.buckets['<1m']).toBe(1);
    expect(r.ttl.hash_fields.buckets['<7d']).toBe(3);
    expect(r.ttl.no_ttl).toBe(2); // key TTLs are a separate matter
  });

  it('keeps the biggest keys by bytes, elements and memory', () => {
    const keys = range(100, (i) => `k:${i}`).map((k, i) => rec(k, list(range(i + 1, (j) => `e${j}`)), { db: i % 3 }));
    const r = run(keys, { top: 5 });
    expect(r.biggest_keys).toHaveLength(5);
    expect(r.biggest_keys_by_elements.map((k) => k.elements)).toEqual([100, 99, 98, 97, 96]);
    expect(r.biggest_keys_by_elements[0]).toMatchObject({ key: 'k:99', db: 0, type: 'list', key_length: 4 });
    const bytes = r.biggest_keys.map((k) => k.bytes);
    expect([...bytes].sort((x, y) => y - x)).toEqual(bytes);
    expect(r.biggest_keys[0]!.bytes).toBe(Math.max(...keys.map((k) => k.key.length + k.payload.length)));
    expect(r.biggest_keys_by_memory[0]!.memory).toBe(Math.max(...keys.map((k) => Math.round(estimateKeyMemory(k).total))));
  });

  it('builds the prefix tree and samples keys per type', () => {
    const r = run(keyset(), { samples: 2, top: 3 });
    expect(r.prefixes[0]).toMatchObject({ prefix: 'user:', depth: 1, keys: 4 });
    expect(r.prefix_tree.unprefixed.keys).toBe(1); // "tags"
    expect(r.prefixes).toHaveLength(3);
    expect(r.by_type.string!.samples).toHaveLength(2);
    for (const s of r.by_type.string!.samples) expect(String(s.key)).toMatch(/^user:/);
    expect(r.by_type.hash!.samples).toEqual([{ db: 1, key: 'session:abc', key_length: 11 }]);
  });

  it('applies filters and counts what they drop', () => {
    const r = run(keyset(), { filter: buildFilter({ db: [0], type: ['string'] }) });
    expect(r.totals.keys).toBe(4);
    expect(r.totals.filtered_out).toBe(4);
    expect(r.totals.records_read).toBe(8);
  });

  it('reads metadata records', () => {
    const r = run([
      ...meta(),
      rec('a', str('1')),
      { kind: 'slot-info', slot: 1, slotSize: 1, expiresSlotSize: 0, offset: 90 },
      { kind: 'eof', checksum: Buffer.alloc(8, 1), checksumOk: true, offset: 99 },
    ]);
    expect(r.input).toMatchObject({ path: 'synthetic.rdb', format: 'rdb', rdb_version: 11, flavor: 'redis' });
    expect(r.metadata).toMatchObject({
      rdb_version: 11,
      magic: 'REDIS0011',
      redis_ver: '7.2.4',
      redis_bits: 64,
      ctime: 1700000000,
      ctime_iso: '2023-11-14T22:13:20.000Z',
      used_mem: 1048576,
      functions: [{ library: 'mylib', engine: 'lua', functions: ['f1', 'f2'] }],
      modules: [{ name: 'ReJSON-RL', aux_records: 1, keys: 0 }],
      dbs: [{ db: 0, keys: 1, keys_hint: 10, expires_hint: 2 }],
      slot_info: 1,
      checksum: 'ok',
    });
    expect(r.metadata.aux['redis-ver']).toBe('7.2.4');
    expect(describeFunction(b('#!lua\nreturn 1'))).toEqual({ library: '?', engine: 'lua', functions: [] });
  });

  it('adds the memory breakdown and the per-db tables', () => {
    const keys = keyset();
    const r = run(keys);
    const perKey = keys.reduce((a, k) => a + estimateKeyMemory(k).total, 0);
    expect(r.memory.keys + r.memory.values + r.memory.expires).toBeCloseTo(perKey, -1);
    expect(r.memory.db_tables).toBe(8 * 8 + 8 * 4 + (8 * 4 + 8 * 4) + (8 * 4 + 8 * 4)); // db0: 5 keys → 8 buckets, 4 TTLs → 4
    expect(r.totals.memory).toBe(r.memory.total);
    expect(r.memory.per_key.count).toBe(8);
  });

  it('reports rules: categories, rules, unmatched, collisions and the migration', () => {
    const rules = compileRules({
      version: 1,
      unmatched: 'keep',
      rules: [
        { name: 'names', category: 'user', match: 'user:{id}:name', rename: 'u:{id}' },
        { name: 'sessions', category: 'session', match: 'session:{sid}', rename: 'tags', ttl: 'drop' }, // lands on an unmatched key's name
        { name: 'never', category: 'unused', match: 'nothing:{x}' },
      ],
    });
    const keys = [...keyset(), rec('user:1:name', str('dup in db 1'), { db: 1 })];
    const r = run(keys, { rules, rulesPath: 'r.yaml', samples: 3 });
    expect(r.rules).toMatchObject({ path: 'r.yaml', rules: 3, unmatched_mode: 'keep' });
    expect(r.rules!.warnings.join('\n')).toMatch(/drops \{sid\}/);
    expect(Object.keys(r.by_category!)).toEqual(['user', 'session', 'unused']);
    expect(r.by_category!.user).toMatchObject({ keys: 5, rules: ['names'] });
    expect(r.by_category!.unused).toMatchObject({ keys: 0, bytes: 0, samples: [] });
    expect(r.by_category!.user!.samples[0]!.new_key).toMatch(/^u:\d$/);
    expect(r.by_rule!.names).toMatchObject({ index: 0, category: 'user', keys: 5 });
    expect(r.unmatched).toMatchObject({ keys: 3, mode: 'keep' });
    expect(r.unmatched!.samples.map((s) => s.key).sort()).toEqual(['board:scores', 'queue:jobs', 'tags']);
    // "session:abc" (db 1) → "tags" in db 1: no clash (the unmatched "tags" is in db 0);
    // the second "user:1:name" lives in db 1: "u:1" in db 1 is new too. So: no collisions yet.
    expect(r.collisions).toEqual({ keys: 0, samples: [] });
    const clash = run([rec('tags', str('x'), { db: 1 }), ...keys], { rules });
    expect(clash.collisions!.keys).toBe(1);
    expect(clash.collisions!.samples[0]).toEqual({ db: 1, new_key: 'tags', source_key: 'session:abc' });
    expect(clash.migration!.collisions_dropped).toBe(1);
    // migration: every key but the expired one is written; the session's TTL is dropped by its rule
    expect(r.migration).toMatchObject({ keys_to_write: 8, expired_dropped: 1, unmatched_dropped: 0, collisions_dropped: 0, ttl_changed: 1 });
    const written = keys.filter((k) => k.key.toString() !== 'user:3:name');
    const newName = (k: KeyRecord): string => {
      const c = rules.classify(k.key, k.type, k.db);
      return c ? c.newKey.toString() : k.key.toString();
    };
    expect(r.migration!.bytes_to_write).toBe(written.reduce((a, k) => a + newName(k).length + k.payload.length, 0));
    expect(r.migration!.estimated_memory).toBeGreaterThan(0);
    const sum = Object.values(r.by_category!).reduce((a, c) => a + c.keys, 0) + r.unmatched!.keys;
    expect(sum).toBe(r.totals.keys);
  });

  it('drops or errors unmatched keys as the rules file says', () => {
    const drop = compileRules({ version: 1, unmatched: 'drop', rules: [{ name: 'n', category: 'c', match: 'user:{id}:name' }] });
    const r = run(keyset(), { rules: drop });
    expect(r.migration).toMatchObject({ keys_to_write: 3, unmatched_dropped: 4, expired_dropped: 1 });
    const err = compileRules({ version: 1, unmatched: 'error', rules: [{ name: 'n', category: 'c', match: 'user:{id}:name' }] });
    expect(run(keyset(), { rules: err }).migration!.unmatched_errors).toBe(4);
  });

  it('holds a bounded state for many distinct keys', () => {
    const a = new Analyzer({ now: NOW, top: 3, samples: 2, prefixMaxNodes: 100 });
    const payloadRec = rec('x', str('value'));
    for (let i = 0; i < 100_000; i += 1000) {
      const batch: KeyRecord[] = [];
      for (let j = i; j < i + 1000; j++) batch.push({ ...payloadRec, key: b(`tenant:${j}:item:${j}`) });
      a.addBatch(batch);
    }
    const r = a.report({ path: 'x', format: 'rdb' });
    expect(r.totals.keys).toBe(100_000);
    expect(r.prefix_tree.nodes).toBeLessThanOrEqual(100);
    expect(r.prefix_tree.approximate).toBe(true);
    expect(r.prefixes[0]).toMatchObject({ prefix: 'tenant:', keys: 100_000 });
    expect(r.biggest_keys).toHaveLength(3);
    expect(r.by_type.string!.samples).toHaveLength(2);
    expect(JSON.stringify(a.report({ path: 'x', format: 'rdb' }, { state: false })).length).toBeLessThan(60_000);
    // The merge state adds at most one [slot, keys] pair per cluster slot and the capped prefix tree.
    expect(JSON.stringify(r.merge_state).length).toBeLessThan(16384 * 2 * 8 + 100 * 60 + 20_000);
  });

  it('shows binary keys as base64 and cuts very long keys', () => {
    const bin = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
    const long = b('L'.repeat(5000));
    const r = run([rec(bin, str('v')), rec(long, str('w'.repeat(10)))], { maxKeyBytes: 100 });
    const keys = r.biggest_keys.map((k) => k.key);
    expect(keys).toContainEqual({ base64: bin.toString('base64') });
    const l = r.biggest_keys.find((k) => k.key_length === 5000)!;
    expect((l.key as string).length).toBe(100);
  });
});
