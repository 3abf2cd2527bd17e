/**
 * Faults on outputs: a disk that fills up part way (ENOSPC injected at the atomic-file layer, where
 * every output opens its file) gives an exit-2 error naming the path, and leaves neither the final
 * name nor the temp file behind, for every kind of output. Temp files a killed run left are cleaned
 * when provably stale, and listed in a warning when not.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanStaleTempFiles, OutputError, setOutputOpener, writeFileAtomic } from '../../src/io/atomic-file.js';
import { RdbSink } from '../../src/sinks/rdb-sink.js';
import { JsonlSink } from '../../src/sinks/jsonl-sink.js';
import { RespSink } from '../../src/sinks/resp-sink.js';
import type { Sink } from '../../src/sinks/sink.js';
import { writeReport } from '../../src/report/files.js';
import { EXIT_BAD_INPUT } from '../../src/errors.js';
import { keyRecord } from '../helpers/records.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rekey-output-faults-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => setOutputOpener(null));

/** A real file that takes `limit` bytes, then fails every write with ENOSPC, as a full disk does. */
function fullAfter(limit: number): (path: string, flags: 'w' | 'wx') => Writable {
  return (path, flags) => {
    const real = createWriteStream(path, { flags });
    let taken = 0;
    return new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (taken + chunk.length > limit) {
          cb(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' }));
          return;
        }
        taken += chunk.length;
        real.write(chunk, cb);
      },
      final(cb) {
        real.end(cb);
      },
      destroy(err, cb) {
        if (real.closed) cb(err);
        else {
          real.once('close', () => cb(err));
          real.destroy();
        }
      },
    });
  };
}

const records = Array.from({ length: 400 }, (_, i) => keyRecord(`key:${i}`, { type: 'string', value: Buffer.alloc(300, 0x61 + (i % 26)) }));

async function feed(sink: Sink): Promise<void> {
  try {
    for (let i = 0; i < records.length; i += 50) await sink.writeBatch(records.slice(i, i + 50));
    await sink.close();
  } catch (e) {
    await sink.abort(e);
    throw e;
  }
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the write to fail');
}

describe('ENOSPC part way through an output', () => {
  const outputs: Array<[string, (path: string) => Promise<unknown>]> = [
    ['RDB file', (path) => feed(new RdbSink({ path, rdbVersion: 10, lossy: true }))],
    ['JSONL file', (path) => feed(new JsonlSink({ path }))],
    ['RESP file', (path) => feed(new RespSink({ path, mode: 'restore' }))],
    ['small file (log, checkpoint)', (path) => writeFileAtomic(path, 'x'.repeat(100_000))],
  ];
  it.each(outputs)('%s: exit-2 error naming the path, temp file removed, nothing under the name', async (name, write) => {
    const sub = join(dir, name.replace(/\W+/g, '-'));
    mkdirSync(sub);
    const path = join(sub, 'out.bin');
    setOutputOpener(fullAfter(20_000));
    const e = await failure(write(path));
    expect(e).toBeInstanceOf(OutputError);
    expect((e as OutputError & { exitCode: number }).exitCode).toBe(EXIT_BAD_INPUT);
    expect(e.message).toContain(path);
    expect(e.message).toMatch(/ENOSPC: no space left on the device/);
    expect(e.message).toMatch(/temp file was removed/);
    expect(readdirSync(sub)).toEqual([]);
  });

  it('report files: the same, and no report under any name', async () => {
    const sub = join(dir, 'reports');
    setOutputOpener(fullAfter(1000));
    const e = await failure(writeReport(sub, 'migration_report', '20260101_000000', { migrated_keys: Array.from({ length: 500 }, (_, i) => `k${i}`) }));
    expect(e).toBeInstanceOf(OutputError);
    expect(e.message).toContain(join(sub, 'migration_report_20260101_000000.json'));
    expect(readdirSync(sub)).toEqual([]);
  });

  it('nothing is refused when the disk has room (the injection is the only cause)', async () => {
    const sub = join(dir, 'room');
    mkdirSync(sub);
    setOutputOpener(fullAfter(1 << 30));
    await feed(new JsonlSink({ path: join(sub, 'ok.jsonl') }));
    expect(readdirSync(sub)).toEqual(['ok.jsonl']);
  });
});

describe('temp files of killed runs', () => {
  const HOST = hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40) || 'host';

  it('stale ones (our host, dead pid) are removed; the others are listed in a warning and kept', async () => {
    const sub = join(dir, 'temps');
    mkdirSync(sub);
    // A pid that is certainly dead: a child that has exited.
    const dead = await new Promise<number>((resolve) => {
      const c = spawn(process.execPath, ['-e', '0']);
      c.on('close', () => resolve(c.pid!));
    });
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const t = Date.now() - 3_600_000;
      const stale = `.a.rdb.${HOST}.${dead}.${t}.tmp`;
      const running = `.b.rdb.${HOST}.${sleeper.pid}.${t}.tmp`;
      const foreign = `.c.rdb.otherhost-1.${dead}.${t}.tmp`;
      for (const n of [stale, running, foreign, '.notes.txt']) writeFileSync(join(sub, n), 'x');
      const said: string[] = [];
      const removed = cleanStaleTempFiles(sub, (m) => said.push(m));
      expect(removed).toEqual([join(sub, stale)]);
      expect(readdirSync(sub).sort()).toEqual(['.notes.txt', foreign, running].sort());
      const warnings = said.filter((m) => m.includes('warning'));
      expect(warnings).toHaveLength(2);
      expect(warnings.find((m) => m.includes(running))).toMatch(new RegExp(`pid ${sleeper.pid} is running`));
      expect(warnings.find((m) => m.includes(foreign))).toMatch(/host otherhost-1.*cannot tell/);
      // Through the CLI: the next run into that folder names what it leaves.
      const r = await runCli(['transform', join(import.meta.dirname, '..', '..', 'fixtures', 'dump.rdb'), '-o', join(sub, 'y.jsonl'), '--out-dir', sub]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`warning: ${join(sub, foreign)}`);
      expect(r.stderr).toContain(`warning: ${join(sub, running)}`);
    } finally {
      sleeper.kill();
    }
  });
});
