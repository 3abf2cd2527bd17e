/**
 * Issue 12 item 8: after --resume the progress starts where the run stands — at the ledger's high-water
 * mark in the input and with the keys already done — not at 0 (nor at 100%); a run that stops early
 * leaves its bar where it stood.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../helpers/redis-server.js';
import { importWithOutcome } from '../../src/commands/import.js';
import { Progress } from '../../src/report/progress.js';
import { args, fillMixed, gatedInput, ledgerLines, makeRdb, withStderr } from './helpers.js';

const N = 20_000;
const NG = 150_000;

/** A stream cli-progress takes for a terminal; what was drawn, escape codes stripped. */
function fakeTty(): { stream: NodeJS.WritableStream; text: () => string } {
  const s = new PassThrough() as PassThrough & { isTTY: boolean; columns: number; cursorTo: () => boolean; clearLine: () => boolean; moveCursor: () => boolean };
  let out = '';
  s.on('data', (d: Buffer) => (out += d.toString()));
  s.isTTY = true;
  s.columns = 200;
  s.cursorTo = () => true;
  s.clearLine = () => true;
  s.moveCursor = () => true;
  // eslint-disable-next-line no-control-regex
  return { stream: s, text: () => out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '') };
}

describe('progress after --resume', () => {
  let dir: string;
  let rdb: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rekey-resprog-'));
    rdb = join(dir, 'data.rdb');
    await makeRdb(rdb, (c) => fillMixed(c, N));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the resumed run reports its start at the high-water mark with the keys already done', async () => {
    const t = await startRedis();
    try {
      // A first run that crashes after a quarter of the keys.
      const g = await gatedInput(rdb, [], { throwAt: N / 4 });
      await importWithOutcome(args(rdb, t.url, join(dir, 'first')), { input: g.input }).catch(() => undefined);
      const c = t.client();
      const done = await c.dbsize();
      c.disconnect();
      expect(done).toBeGreaterThan(0);
      const ledger = join(dir, 'first', readdirSync(join(dir, 'first')).find((f) => f.startsWith('migration_ledger_'))!);

      const { r, err } = await withStderr(() => importWithOutcome(args(rdb, t.url, join(dir, 'again'), { resume: ledger, progress: true }), { tty: false }));
      expect(r.exitCode).toBe(0);
      const first = err.split('\n').find((l) => l.startsWith('import: '))!;
      const m = /^import: (\d+) keys, .* \((\d+)% of the input\)/.exec(first)!;
      expect(m).not.toBeNull();
      expect(Number(m[1])).toBe(done);
      const pct = Number(m[2]);
      const hwm = (r.report as any).resume.hwm as number;
      expect(pct).toBe(Math.round((100 * hwm) / statSync(rdb).size));
      expect(pct).toBeGreaterThan(5);
      expect(pct).toBeLessThan(50);
    } finally {
      await t.stop();
    }
  }, 90_000);

  it('a .gz input: the resumed run starts at the compressed bytes read at the high-water mark, not at 0', async () => {
    // Big enough that the reader's first chunks (64 KB, read while opening) are a few % of the file.
    const big = join(dir, 'big.rdb');
    await makeRdb(big, (c) => fillMixed(c, NG));
    const gz = join(dir, 'data.rdb.gz');
    writeFileSync(gz, gzipSync(readFileSync(big), { level: 1 }));
    const t = await startRedis();
    try {
      const g = await gatedInput(gz, [], { throwAt: NG / 4 });
      await importWithOutcome(args(gz, t.url, join(dir, 'gz1')), { input: g.input }).catch(() => undefined);
      const ledger = join(dir, 'gz1', readdirSync(join(dir, 'gz1')).find((f) => f.startsWith('migration_ledger_'))!);
      const marks = ledgerLines(ledger).filter((l) => l.$ === 'hwm');
      const last = marks[marks.length - 1]!;
      // The mark's offset is in the decompressed stream; beside it the compressed bytes read by then (the
      // reader's read-ahead included: 64 KB chunks, a few batches).
      expect(last.in as number).toBeGreaterThan(0);
      expect(last.in as number).toBeLessThan(statSync(gz).size);

      const { r, err } = await withStderr(() => importWithOutcome(args(gz, t.url, join(dir, 'gz2'), { resume: ledger, progress: true }), { tty: false }));
      expect(r.exitCode).toBe(0);
      const first = err.split('\n').find((l) => l.startsWith('import: '))!;
      const m = /^import: (\d+) keys, .* \((\d+)% of the input\)/.exec(first)!;
      expect(m).not.toBeNull();
      const pct = Number(m[2]);
      // The decompressed mark scaled by the file's compression ratio, never past the bytes read by then.
      const gzSize = statSync(gz).size;
      const at = Math.min(Math.floor(((last.offset as number) * gzSize) / statSync(big).size), last.in as number);
      // (the first line may come once reading of the skipped part has passed that point)
      expect(pct).toBeGreaterThanOrEqual(Math.round((100 * at) / gzSize));
      // A quarter of the keys were done: near a quarter of the file, not 0 (nor the read-ahead's 90%).
      expect(pct).toBeGreaterThan(15);
      expect(pct).toBeLessThan(40);
    } finally {
      await t.stop();
    }
  }, 90_000);

  it('the bar starts at the resume point, and stays where it stood when the run stops early', () => {
    const tty = fakeTty();
    let read = 0;
    const p = new Progress({ label: 'import', tty: true, totalBytes: 1000, inputBytesRead: () => read, snapshot: () => ({ keys: 3, bytes: 0, errors: 0 }), stream: tty.stream, resumeAt: { bytes: 400, keys: 100 } });
    p.start();
    expect(tty.text()).toMatch(/ 40% \| 103 keys/);
    read = 600;
    p.stop(false);
    expect(tty.text()).toMatch(/ 60% \| 103 keys/);
    expect(tty.text()).not.toMatch(/100%/);
  });
});
