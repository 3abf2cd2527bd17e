/**
 * Issue 15: a commands-mode import restored a stream's pending entry with the wrong ID (…953-0 for …953-1).
 * Real corpus dumps with streams (consumer groups, several consumers, same-millisecond IDs, deleted
 * entries, small-encodings with 3 entries per node) are loaded by a server that can read them, imported
 * with `--mode commands` into Redis 7.0 and the cached 8.0 / 8.6, and every group's XPENDING (summary and
 * `- + 100` rows, idle times left out) must equal the loaded source's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { findServer, whyMissing, type CachedServer } from '../helpers/servers.js';
import { CORPUS_GENERATED, corpusMissing } from '../helpers/corpus.js';
import { args } from './helpers.js';
import { importWithOutcome } from '../../src/commands/import.js';

/** Corpus file and the server that loads it (null: /usr/bin/redis-server, 7.0). */
const SOURCES: Array<{ file: string; loader: string | null }> = [
  { file: 'redis-5.0.14/dump.rdb', loader: null },
  { file: 'redis-7.0.15/dump.rdb', loader: null },
  { file: 'redis-7.0.15/small-encodings.rdb', loader: null },
  { file: 'redis-7.4.1/dump.rdb', loader: 'redis-7.4' },
  { file: 'redis-7.9.224/small-encodings.rdb', loader: 'redis-8.0' },
];
const TARGETS: Array<{ name: string; server: string | null }> = [
  { name: 'redis 7.0', server: null },
  { name: 'redis 8.0', server: 'redis-8.0' },
  { name: 'redis 8.6', server: 'redis-8.6' },
];

function launch(prefix: string | null, o: { rdbFile?: string } = {}): Promise<RedisHandle> {
  if (prefix === null) return startRedis(o);
  const s = findServer(prefix) as CachedServer;
  return startRedis({ ...o, binary: s.server, debugCommand: s.debugCommand });
}

/** Every stream of every db: db/key/group → XPENDING summary and rows (idle left out: it ticks). */
async function pendingOf(h: RedisHandle): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  const admin = h.client();
  const keyspace = String(await admin.info('keyspace'));
  admin.disconnect();
  const dbs = [...keyspace.matchAll(/^db(\d+):/gm)].map((m) => Number(m[1]));
  for (const db of dbs) {
    const c: Redis = h.client({ db });
    let cursor = '0';
    do {
      const [next, keys] = (await c.call('SCAN', cursor, 'COUNT', '1000', 'TYPE', 'stream')) as [string, string[]];
      cursor = next;
      for (const key of keys) {
        const groups = (await c.call('XINFO', 'GROUPS', key)) as unknown[][];
        for (const g of groups) {
          const name = String(g[g.indexOf('name') + 1]);
          const rows = (await c.call('XPENDING', key, name, '-', '+', '100')) as Array<[string, string, number, number]>;
          out.set(`${db}/${key}/${name}`, { summary: await c.call('XPENDING', key, name), rows: rows.map(([id, consumer, , count]) => [id, consumer, count]) });
        }
      }
    } while (cursor !== '0');
    c.disconnect();
  }
  return out;
}

const missing = corpusMissing('stream pending corpus tests');

describe.skipIf(missing !== null)('stream pending entries of corpus dumps through --mode commands', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'rekey-xpend-corpus-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const src of SOURCES) {
    const why = src.loader ? whyMissing(src.loader) : null;
    it.skipIf(why !== null)(`${src.file}${why ? ` — skipped: ${why}` : ''}`, async () => {
      const path = join(CORPUS_GENERATED, src.file);
      expect(existsSync(path), path).toBe(true);
      const loaded = await launch(src.loader, { rdbFile: path });
      let want: Map<string, unknown>;
      try {
        want = await pendingOf(loaded);
      } finally {
        await loaded.stop();
      }
      // The file really has what the item is about: groups with pending entries, several consumers, and
      // two pending IDs in one millisecond.
      const rows = [...want.values()].flatMap((v) => (v as { rows: string[][] }).rows);
      expect(rows.length).toBeGreaterThan(0);
      expect(new Set(rows.map((r) => r[1])).size).toBeGreaterThan(1);
      const ms = rows.map((r) => r[0]!.split('-')[0]);
      expect(ms.length - new Set(ms).size).toBeGreaterThan(0);
      for (const t of TARGETS) {
        const tw = t.server ? whyMissing(t.server) : null;
        if (tw) {
          console.warn(`${src.file} → ${t.name}: skipped: ${tw}`);
          continue;
        }
        const target = await launch(t.server);
        try {
          const r = await importWithOutcome(args(path, target.url, join(dir, `${src.file.replace(/\W/g, '_')}-${t.name.replace(/\W/g, '_')}`), { mode: 'commands', lossy: true }));
          const streamErrors = ((r.report as any).error_keys as Array<{ key: string; error: string }>).filter((e) => /stream|XADD|XGROUP|XCLAIM|XSETID/i.test(e.error));
          expect(streamErrors, t.name).toEqual([]);
          const got = await pendingOf(target);
          expect(Object.fromEntries(got), `${src.file} → ${t.name}`).toEqual(Object.fromEntries(want));
        } finally {
          await target.stop();
        }
      }
    }, 120_000);
  }
});
