/**
 * Issue 12 item 8: after --resume the progress starts where the run stands — at the ledger's high-water
 * mark in the input and with the keys already done — not at 0 (nor at 100%); a run that stops early
 * leaves its bar where it stood.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../helpers/redis-server.js';
import { importWithOutcome } from '../../src/commands/import.js';
import { Progress } from '../../src/report/progress.js';
import { args, fillMixed, gatedInput, makeRdb, withStderr } from './helpers.js';

const N = 20_000;

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
