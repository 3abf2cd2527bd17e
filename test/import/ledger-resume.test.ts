/**
 * What `--resume` reads from a ledger that ends mid-window (a crashed or stopped first run): a key
 * acknowledged anywhere in the ledger is never sent again nor re-judged, whatever order its `sent`,
 * `inflight` and acknowledgement lines came in; only unacknowledged keys at or below a `sent` mark (or in
 * flight) are re-checked. The state is read from real ledger files written by LedgerWriter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerWriter, mayHaveBeenSent, readResumeState, type LedgerHeader } from '../../src/import/ledger.js';

const header: LedgerHeader = { $: 'ledger', version: 1, started: '2026-01-01T00:00:00.000Z', input: 'x.rdb', target: 'redis://127.0.0.1:1', mode: 'auto', on_conflict: 'skip', rules: null, to_db: null };
const key = (o: number): Buffer => Buffer.from(`k${o}`);

describe('resume state of a ledger that ends mid-window', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'rekey-ledger-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every key has one fate: skipped as done, re-checked as possibly sent, or sent fresh', async () => {
    const path = join(dir, 'a.jsonl');
    const w = await LedgerWriter.create(path, header);
    // Keys at offsets 10, 20, …, 200. The first five are acknowledged in order (high-water mark 50).
    for (let o = 10; o <= 50; o += 10) w.ack(o, 0, key(o), true);
    w.hwm(50);
    w.sent(150); // 60..150 handed to the socket
    w.ack(70, 0, key(70), true); // acknowledged out of order: above the mark
    w.ack(90, 0, key(90), false); // BUSYKEY: skipped
    for (const o of [60, 80, 100, 110]) w.inflight(o, 0, key(o)); // the stop: unanswered
    w.ack(100, 0, key(100), true); // a late reply after the in-flight lines were written
    await w.close({ complete: false });
    appendFileSync(path, '{"offset":120,"db":0,"ke'); // torn tail of a crashed writer

    const s = await readResumeState(path);
    expect(s.hwm).toBe(50);
    expect([...s.done].sort((a, b) => a - b)).toEqual([70, 90, 100]);
    expect([...s.inflight].sort((a, b) => a - b)).toEqual([60, 80, 110]);
    expect(s.sentUpTo).toBe(150);
    const acked = new Set([10, 20, 30, 40, 50, 70, 90, 100]);
    const fate = (o: number): string => (o <= s.hwm || s.done.has(o) ? 'done' : mayHaveBeenSent(s, o) ? 'recheck' : 'fresh');
    for (let o = 10; o <= 200; o += 10) {
      const f = fate(o);
      if (acked.has(o)) expect(f, `offset ${o}`).toBe('done');
      else if (o <= 150) expect(f, `offset ${o}`).toBe('recheck');
      else expect(f, `offset ${o}`).toBe('fresh');
    }
  });

  it('the end line is the last line: a high-water mark still pending at close goes before it', async () => {
    const path = join(dir, 'c.jsonl');
    const w = await LedgerWriter.create(path, header, { flushIntervalMs: 60_000 });
    w.ack(10, 0, key(10), true);
    w.hwm(10);
    await w.close({ complete: false });
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.$ ?? 'ack')).toEqual(['ledger', 'ack', 'hwm', 'end']);
    expect((await readResumeState(path)).hwm).toBe(10);
  });

  it('a resumed run continuing the same ledger: the second stop reads the union of both runs', async () => {
    const path = join(dir, 'b.jsonl');
    const w1 = await LedgerWriter.create(path, header);
    w1.ack(10, 0, key(10), true);
    w1.hwm(10);
    w1.sent(40);
    for (const o of [20, 30, 40]) w1.inflight(o, 0, key(o));
    await w1.close({ complete: false });
    const w2 = await LedgerWriter.append(path, { started: 'later' });
    w2.sent(60);
    w2.ack(30, 0, key(30), false, 1); // re-checked: it existed (uncertain)
    w2.ack(20, 0, key(20), true);
    w2.hwm(30);
    w2.inflight(40, 0, key(40));
    w2.inflight(50, 0, key(50));
    await w2.close({ complete: false });
    const s = await readResumeState(path);
    expect(s.runs).toBe(2);
    expect(s.hwm).toBe(30);
    expect([...s.inflight].sort((a, b) => a - b)).toEqual([40, 50]);
    expect(mayHaveBeenSent(s, 60)).toBe(true);
    expect(mayHaveBeenSent(s, 70)).toBe(false);
    expect(s.acks).toBe(3);
    expect(s.created).toBe(2);
  });
});
