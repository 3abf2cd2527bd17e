/**
 * A stream v4's IDMP state (RDB 13, Redis 8.6: IDMP-DURATION, IDMP-MAXSIZE, producers and their IIDs, the
 * lifetime counters) is carried, not dropped: decoded into the value, written as `"idmp"` in JSONL, written
 * back as type 26 with the same bytes, and as commands XCFGSET (8.6+) and XIDMPRECORD (8.8+) where the
 * target has them; everything a target cannot hold is a counted loss (refused without --lossy).
 * The RDB 13 input is made with the project's writer (no 8.6 server is cached here: see the skip below).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RdbSink } from '../../src/sinks/rdb-sink.js';
import { encodeValue } from '../../src/encode/value-encoder.js';
import { encodeValueCommands } from '../../src/encode/value-commands.js';
import { decodeValue } from '../../src/rdb/value-decode.js';
import { T } from '../../src/rdb/constants.js';
import { jsonToValue } from '../../src/jsonl/value-json.js';
import type { KeyRecord, StreamIdmp, StreamValue } from '../../src/records/types.js';
import { runCli } from '../helpers/cli.js';
import { startRedis } from '../helpers/redis-server.js';
import { findServer, whyMissing } from '../helpers/servers.js';
import { keyRecord, parseFile, writeAll } from '../sinks/sink-helpers.js';
import { sample } from '../encode/sample-values.js';

const base = sample('stream-meta') as StreamValue;
const e = (i: number) => base.entries[i]!.id;
const B = (s: string) => Buffer.from(s);
/** Two producers; one IID points at an entry that is no longer in the stream (id 1-0). */
const IDMP: StreamIdmp = {
  durationS: 300,
  maxSize: 50,
  producers: [
    { pid: B('producer-a'), iids: [{ iid: B('order-1'), id: e(0) }, { iid: B('order-2'), id: e(3) }] },
    { pid: B('p\u00ffb'), iids: [{ iid: B('x'), id: e(7) }, { iid: B('gone'), id: { ms: 1n, seq: 0n } }] },
  ],
  iidsAdded: 9n,
  iidsDuplicates: 2n,
};
const withIdmp: StreamValue = { ...base, version: 4, idmp: IDMP };

let dir: string;
let in13: string;
let payload13: Buffer;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-idmp-state-'));
  in13 = join(dir, 'in13.rdb');
  const enc = encodeValue(withIdmp, { rdbVersion: 13, flavor: 'redis' });
  payload13 = enc.payload;
  expect(enc.rdbType).toBe(T.STREAM_LISTPACKS_4);
  await writeAll(new RdbSink({ path: in13, rdbVersion: 13 }), [keyRecord('s:idmp', withIdmp, { version: 13 }), keyRecord('s:plain', sample('stream-simple'), { version: 13 })]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const byKey = async (path: string) => new Map((await parseFile(path)).filter((r): r is KeyRecord => r.kind === 'key').map((r) => [r.key.toString(), r]));

async function cli(argv: string[]) {
  const rep = mkdtempSync(join(dir, 'rep-'));
  const r = await runCli([...argv, '--out-dir', rep]);
  const f = readdirSync(rep).find((x) => x.startsWith('migration_report'));
  return { ...r, report: f ? JSON.parse(readFileSync(join(rep, f), 'utf8')) : null };
}

describe('IDMP state in the value model', () => {
  it('type 26 decodes with its IDMP tail; the v3 part and the tail encode back to the same bytes', () => {
    const v = decodeValue(payload13, T.STREAM_LISTPACKS_4, 'redis', 'test', 0) as StreamValue;
    expect(v.version).toBe(4);
    expect(v.idmp).toEqual(IDMP);
    expect(encodeValue(v, { rdbVersion: 13, flavor: 'redis' }).payload.equals(payload13)).toBe(true);
    // Below RDB 13 the encoder writes v3 (callers count the loss); Valkey never gets type 26.
    expect(encodeValue(v, { rdbVersion: 12, flavor: 'redis' }).rdbType).toBe(T.STREAM_LISTPACKS_3);
    expect(encodeValue(v, { rdbVersion: 80, flavor: 'valkey' }).rdbType).toBe(T.STREAM_LISTPACKS_3);
  });
});

describe('JSONL carries it', () => {
  it('RDB 13 → JSONL → RDB 13: "idmp" on the line, type 26 with equal payload bytes', async () => {
    const jsonl = join(dir, 'out.jsonl');
    const t1 = await cli(['transform', in13, '-o', jsonl]);
    expect(t1.code, t1.stderr).toBe(0);
    const line = readFileSync(jsonl, 'utf8').split('\n').find((l) => l.includes('"s:idmp"'))!;
    const json = JSON.parse(line);
    expect(json.stream_version).toBe(4);
    expect(json.value.idmp).toEqual({
      idmp_duration: 300,
      idmp_maxsize: 50,
      producers: [
        { pid: 'producer-a', iids: [['order-1', `${e(0).ms}-${e(0).seq}`], ['order-2', `${e(3).ms}-${e(3).seq}`]] },
        { pid: 'p\u00ffb', iids: [['x', `${e(7).ms}-${e(7).seq}`], ['gone', '1-0']] },
      ],
      iids_added: 9,
      iids_duplicates: 2,
    });
    const back = join(dir, 'back13.rdb');
    const t2 = await cli(['transform', jsonl, '-o', back, '--rdb-version', '13']);
    expect(t2.code, t2.stderr).toBe(0);
    const rec = (await byKey(back)).get('s:idmp')!;
    expect(rec.rdbType).toBe(T.STREAM_LISTPACKS_4);
    expect(rec.payload.equals(payload13)).toBe(true);
  });

  it('a malformed "idmp" is a bad line naming the field', () => {
    const value = { entries: [], idmp: { idmp_duration: 'x', idmp_maxsize: 1 } };
    expect(() => jsonToValue('stream', value, {}, () => 'f.jsonl line 1')).toThrow(/value\.idmp\.idmp_duration/);
  });

  it('JSONL → RDB 12 (redis-8.0): refused without --lossy, a counted loss with it', async () => {
    const jsonl = join(dir, 'for12.jsonl');
    expect((await cli(['transform', in13, '-o', jsonl])).code).toBe(0);
    const strict = await cli(['transform', jsonl, '-o', join(dir, 'o12.rdb'), '--rdb-version', 'redis-8.0']);
    expect(strict.code).toBe(1);
    expect(JSON.stringify(strict.report.error_keys)).toMatch(/s:idmp.*stream IDMP state \(2 producers, 4 IIDs, duration 300 s, max 50\)/);
    const lossy = await cli(['transform', jsonl, '-o', join(dir, 'o12l.rdb'), '--rdb-version', 'redis-8.0', '--lossy']);
    expect(lossy.code, lossy.stderr).toBe(0);
    expect(lossy.report.output.rdb.lost.by_kind).toEqual({ stream_idmp: 1 });
  });
});

describe('commands restore it where the target can', () => {
  const cmds = (version: string, product: 'redis' | 'valkey' = 'redis') => encodeValueCommands(B('s'), withIdmp, null, { target: { product, version } });
  const names = (c: Buffer[][]) => c.map((a) => a[0]!.toString());

  it('Redis 8.8: XCFGSET before every XIDMPRECORD, one per IID whose entry exists; the counters are a loss', () => {
    const r = cmds('8.8.0');
    const n = names(r.commands);
    const cfg = n.indexOf('XCFGSET');
    expect(r.commands[cfg]!.map(String)).toEqual(['XCFGSET', 's', 'IDMP-DURATION', '300', 'IDMP-MAXSIZE', '50']);
    const recs = r.commands.filter((a) => a[0]!.toString() === 'XIDMPRECORD');
    expect(recs.map((a) => a.slice(2).map(String))).toEqual([
      ['producer-a', 'order-1', `${e(0).ms}-${e(0).seq}`],
      ['producer-a', 'order-2', `${e(3).ms}-${e(3).seq}`],
      ['p\u00ffb', 'x', `${e(7).ms}-${e(7).seq}`],
    ]);
    expect(r.commands.findIndex((a) => a[0]!.toString() === 'XIDMPRECORD')).toBeGreaterThan(cfg);
    expect(cfg).toBeGreaterThan(n.lastIndexOf('XADD'));
    const kinds = r.losses.map((l) => `${l.kind}:${l.count}`);
    expect(kinds).toContain('stream-idmp-iid:1');
    expect(kinds).toContain('stream-idmp-counters:1');
  });

  it('Redis 8.6: XCFGSET, and the IIDs counted (no XIDMPRECORD before 8.8)', () => {
    const r = cmds('8.6.3');
    expect(names(r.commands)).toContain('XCFGSET');
    expect(names(r.commands)).not.toContain('XIDMPRECORD');
    expect(r.losses.filter((l) => l.kind === 'stream-idmp-iid').reduce((a, l) => a + l.count, 0)).toBe(4);
  });

  it('Redis 8.0 and Valkey 9: the whole state is one named loss, no IDMP command', () => {
    for (const [v, p] of [['8.0.6', 'redis'], ['9.1.2', 'valkey']] as const) {
      const r = cmds(v, p);
      expect(names(r.commands).filter((x) => x.startsWith('XCFG') || x.startsWith('XIDMP'))).toEqual([]);
      expect(r.losses.find((l) => l.kind === 'stream-idmp')?.detail).toMatch(/2 producers, 4 IIDs.*no XCFGSET/);
    }
  });

  it('RESP --commands for redis-8.0: refused without --lossy, counted with it', async () => {
    const strict = await cli(['transform', in13, '-o', join(dir, 'o.resp'), '--format', 'resp', '--commands', '--rdb-version', 'redis-8.0']);
    expect(strict.code).toBe(1);
    expect(JSON.stringify(strict.report.error_keys)).toMatch(/s:idmp.*no XCFGSET/);
    const lossy = await cli(['transform', in13, '-o', join(dir, 'ol.resp'), '--format', 'resp', '--commands', '--rdb-version', 'redis-8.0', '--lossy']);
    expect(lossy.code, lossy.stderr).toBe(0);
    expect(lossy.report.output.lost.by_kind).toEqual({ stream_idmp: 1 });
  });

  const r80 = findServer('redis-8.0');
  it.skipIf(r80 === null)(`import --mode commands into a real Redis 8.0 names the loss; --lossy imports the stream${r80 ? '' : ` (skipped: ${whyMissing('redis-8.0')})`}`, async () => {
    const s = await startRedis({ binary: r80!.server });
    try {
      const strict = await cli(['import', in13, '--target', s.url, '--live', '--yes', '--mode', 'commands']);
      expect(strict.code).toBe(1);
      expect(strict.stdout + strict.stderr + JSON.stringify(strict.report)).toMatch(/IDMP/);
      const c = s.client();
      expect(await c.exists('s:idmp')).toBe(0);
      const lossy = await cli(['import', in13, '--target', s.url, '--live', '--yes', '--mode', 'commands', '--lossy']);
      expect(lossy.code, lossy.stderr).toBe(0);
      expect(await c.xlen('s:idmp')).toBe(base.entries.length);
    } finally {
      await s.stop();
    }
  });

  it.skipIf(r80 === null)(`import (auto and restore) into a real Redis 8.0: RESTORE of a converted payload never drops it in silence${r80 ? '' : ` (skipped: ${whyMissing('redis-8.0')})`}`, async () => {
    const s = await startRedis({ binary: r80!.server });
    try {
      const c = s.client();
      for (const mode of ['auto', 'restore']) {
        const strict = await cli(['import', in13, '--target', s.url, '--live', '--yes', '--mode', mode]);
        expect(strict.code, mode).toBe(1);
        expect(JSON.stringify(strict.report.error_keys), mode).toMatch(/s:idmp.*IDMP/);
        expect(await c.exists('s:idmp'), mode).toBe(0);
        expect(await c.exists('s:plain'), mode).toBe(1);
      }
      const lossy = await cli(['import', in13, '--target', s.url, '--live', '--yes', '--lossy']);
      expect(lossy.code, lossy.stderr).toBe(0);
      expect(await c.xlen('s:idmp')).toBe(base.entries.length);
    } finally {
      await s.stop();
    }
  });

  const r86 = findServer('redis-8.6');
  it.skipIf(r86 === null)(`import into a real Redis 8.6 keeps the IDMP settings${r86 ? '' : ` (skipped: ${whyMissing('redis-8.6')})`}`, async () => {
    const s = await startRedis({ binary: r86!.server });
    try {
      const r = await cli(['import', in13, '--target', s.url, '--live', '--yes', '--lossy']);
      expect(r.code, r.stderr).toBe(0);
      const info = (await s.client().call('XINFO', 'STREAM', 's:idmp')) as unknown[];
      const at = (k: string) => info[info.indexOf(k) + 1];
      expect([at('idmp-duration'), at('idmp-maxsize')]).toEqual([300, 50]);
    } finally {
      await s.stop();
    }
  });
});



