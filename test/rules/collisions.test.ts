import { describe, expect, it } from 'vitest';
import { CollisionDetector, DigestTable, digest64, type CollisionInput } from '../../src/rules/collisions.js';
import { b } from './helpers.js';

function feed(det: CollisionDetector, rows: CollisionInput[]): void {
  for (const r of rows) det.add(r.key, r.db, r.newKey, r.toDb);
}

const row = (key: string, newKey: string | null, db = 0, toDb = db): CollisionInput => ({
  key: b(key),
  db,
  newKey: newKey === null ? null : b(newKey),
  toDb,
});

describe('CollisionDetector', () => {
  it('finds nothing when every new key is distinct', async () => {
    const rows = [row('a:1', 'n:1'), row('a:2', 'n:2'), row('k', 'k')];
    const det = new CollisionDetector();
    feed(det, rows);
    expect(det.candidateCount).toBe(0);
    const r = await det.confirm(rows);
    expect(r).toMatchObject({ total: 0, candidates: 0, falsePositives: 0, confirmed: true });
  });

  it('two source keys → one new key', async () => {
    const rows = [row('a:1', 'n:1'), row('b:1', 'n:1'), row('c:1', 'n:2')];
    const det = new CollisionDetector();
    feed(det, rows);
    const r = await det.confirm(rows);
    expect(r.total).toBe(1);
    const f = r.findings[0]!;
    expect(f.kind).toBe('duplicate_target');
    expect(f.newKey.toString()).toBe('n:1');
    expect(f.sources.map((s) => s.key.toString())).toEqual(['a:1', 'b:1']);
  });

  it('a renamed key equal to a kept key is a duplicate target (either order)', async () => {
    for (const rows of [
      [row('old:1', 'new:1'), row('new:1', 'new:1')],
      [row('new:1', 'new:1'), row('old:1', 'new:1')],
    ]) {
      const det = new CollisionDetector();
      feed(det, rows);
      const r = await det.confirm(rows);
      expect(r.findings.map((f) => f.kind)).toEqual(['duplicate_target']);
    }
  });

  it('a new key equal to another source key that is renamed away or dropped (either order)', async () => {
    for (const rows of [
      [row('a', 'b'), row('b', 'c')],
      [row('b', 'c'), row('a', 'b')],
      [row('a', 'b'), row('b', null)],
    ]) {
      const det = new CollisionDetector();
      feed(det, rows);
      const r = await det.confirm(rows);
      expect(r.total).toBe(1);
      const f = r.findings[0]!;
      expect(f.kind).toBe('new_key_is_source_key');
      expect(f.newKey.toString()).toBe('b');
      expect(f.sources.map((s) => s.key.toString())).toEqual(['a']);
      expect(f.existingSource!.key.toString()).toBe('b');
    }
  });

  it('dbs are separate keyspaces; to_db moves the new key', async () => {
    const rows = [row('a', 'n', 0), row('b', 'n', 1), row('c', 'n', 2, 3), row('d', 'n', 4, 3)];
    const det = new CollisionDetector();
    feed(det, rows);
    const r = await det.confirm(rows);
    expect(r.total).toBe(1);
    expect(r.findings[0]!.db).toBe(3);
    expect(r.findings[0]!.sources.map((s) => [s.key.toString(), s.db])).toEqual([
      ['c', 2],
      ['d', 4],
    ]);
  });

  it('a key moved to another db under the same name is not a collision', async () => {
    const rows = [row('a', 'a', 0, 1), row('a', 'a', 1, 1)];
    const det = new CollisionDetector();
    feed(det, rows);
    const r = await det.confirm(rows);
    expect(r.findings.map((f) => [f.kind, f.db])).toEqual([['duplicate_target', 1]]);
    const rows2 = [row('a', 'a', 0, 1), row('b', 'b', 1, 1)];
    const det2 = new CollisionDetector();
    feed(det2, rows2);
    expect((await det2.confirm(rows2)).total).toBe(0);
  });

  it('duplicate source records (a key listed twice) are one key', async () => {
    const rows = [row('a:1', 'n:1'), row('a:1', 'n:1'), row('k', 'k'), row('k', 'k')];
    const det = new CollisionDetector();
    feed(det, rows);
    const r = await det.confirm(rows);
    expect(r.total).toBe(0);
    expect(r.duplicateSources).toBe(2);
  });

  it('forced digest collisions are confirmed away on the second pass', async () => {
    // 4 digest bits: almost every key shares a digest with another; none is a real collision.
    const rows: CollisionInput[] = [];
    for (let i = 0; i < 500; i++) rows.push(row(`k:${i}`, `n:${i}`));
    const det = new CollisionDetector({ digestBits: 4 });
    feed(det, rows);
    expect(det.candidateCount).toBeGreaterThan(0);
    const r = await det.confirm(rows);
    expect(r.total).toBe(0);
    expect(r.falsePositives).toBe(r.candidates);
    // ... while real collisions among them are still found
    const withReal = [...rows, row('x', 'n:7'), row('n:9', 'y')];
    const det2 = new CollisionDetector({ digestBits: 4 });
    feed(det2, withReal);
    const r2 = await det2.confirm(withReal);
    expect(r2.findings.map((f) => [f.kind, f.newKey.toString()]).sort()).toEqual([
      ['duplicate_target', 'n:7'],
      ['new_key_is_source_key', 'n:9'],
    ]);
  });

  it('without a second pass, candidates are listed unconfirmed', () => {
    const det = new CollisionDetector();
    feed(det, [row('a', 'n'), row('b', 'n')]);
    const r = det.report();
    expect(r.confirmed).toBe(false);
    expect(r.total).toBe(1);
    expect(r.findings[0]).toMatchObject({ kind: 'duplicate_target', confirmed: false });
    expect(r.findings[0]!.sources[0]!.key.toString()).toBe('b');
  });

  it('without a second pass, a repeated kept key is counted as a duplicate, not a collision', () => {
    const det = new CollisionDetector();
    feed(det, [row('k', 'k'), row('k', 'k'), row('a', 'n'), row('n', 'n')]);
    const r = det.report();
    expect(r.duplicateSources).toBe(1);
    expect(r.findings.map((f) => [f.kind, f.newKey.toString()])).toEqual([['duplicate_target', 'n']]);
  });

  it('accepts an async second pass', async () => {
    const rows = [row('a', 'n'), row('b', 'n')];
    const det = new CollisionDetector();
    feed(det, rows);
    const r = await det.confirm(
      (async function* () {
        yield* rows;
      })(),
    );
    expect(r.total).toBe(1);
  });

  it('binary keys', async () => {
    const k1 = Buffer.from([0xff, 0x00, 0x01]);
    const k2 = Buffer.from([0xff, 0x00, 0x02]);
    const n = Buffer.from([0x80]);
    const rows: CollisionInput[] = [
      { key: k1, db: 0, newKey: n, toDb: 0 },
      { key: k2, db: 0, newKey: n, toDb: 0 },
    ];
    const det = new CollisionDetector();
    feed(det, rows);
    const r = await det.confirm(rows);
    expect(r.findings[0]!.newKey).toEqual(n);
  });
});

describe('DigestTable and digest', () => {
  it('stores and finds digests with flags, and grows', () => {
    const t = new DigestTable(16);
    for (let i = 0; i < 100_000; i++) {
      const [hi, lo] = digest64(0, b(`key:${i}`));
      expect(t.touch(hi, lo, 1)).toBe(0);
    }
    expect(t.size).toBe(100_000);
    for (let i = 0; i < 100_000; i += 997) {
      const [hi, lo] = digest64(0, b(`key:${i}`));
      expect(t.get(hi, lo)).toBe(1);
      expect(t.touch(hi, lo, 2)).toBe(1);
      expect(t.get(hi, lo)).toBe(3);
    }
    expect(t.get(...digest64(0, b('absent')))).toBe(0);
    // ~8 bytes a slot, load <= 0.75
    expect(t.byteLength / t.size).toBeLessThanOrEqual(8 / 0.375);
  });

  it('digests differ by db and by every byte', () => {
    expect(digest64(0, b('abc'))).not.toEqual(digest64(1, b('abc')));
    expect(digest64(0, b('abc'))).not.toEqual(digest64(0, b('abd')));
    expect(digest64(0, b(''))).not.toEqual(digest64(0, Buffer.from([0])));
    const seen = new Set<string>();
    for (let i = 0; i < 50_000; i++) seen.add(digest64(0, b(`k${i}`)).join(':'));
    expect(seen.size).toBe(50_000);
  });

  it('memory stays ~8-11 bytes per digest at 1M keys', () => {
    const det = new CollisionDetector();
    const buf = Buffer.alloc(16);
    for (let i = 0; i < 1_000_000; i++) {
      buf.writeUInt32LE(i, 0);
      det.add(buf, 0, buf, 0); // kept keys: one digest each
    }
    expect(det.candidateCount).toBe(0);
    expect(det.memoryBytes / 1_000_000).toBeLessThan(22);
  });
});
