/**
 * A live source whose DUMP payloads are newer than rekey reads (Redis 8.8 stamps RDB 14 on every DUMP,
 * 8.10 RDB 15): the message names the server version, the RDB version and what to do. No 8.8 server can
 * be built here (the cache and the git mirror stop at 8.0/8.6: see the skip), so the message is checked
 * as the live source builds it, and the live path against the newest cached server proves it is not hit
 * for versions rekey reads.
 */
import { describe, expect, it } from 'vitest';
import { futureDumpMessage, futureTypeHint } from '../../src/redis/server-versions.js';
import { runCli } from '../helpers/cli.js';
import { startRedis } from '../helpers/redis-server.js';
import { findServer, listServers, whyMissing } from '../helpers/servers.js';

describe('DUMP payloads newer than rekey', () => {
  it('Redis 8.8 / 8.10: names the server, the format and --allow-future-version', () => {
    const m14 = futureDumpMessage('redis', '8.8.0', 14, 13);
    expect(m14).toMatch(/^expected a DUMP RDB version up to 13, found 14: Redis 8\.8\.0 stamps every DUMP with RDB 14 \(RDB 14 is Redis 8\.8's format; its new types \(stream v5, Array\)/);
    expect(m14).toMatch(/--allow-future-version/);
    expect(m14).toMatch(/--type or --exclude-regex/);
    expect(futureDumpMessage('redis', '8.10.1', 15, 13)).toMatch(/Redis 8\.10\.1 .*RDB 15 is Redis 8\.10's format.*hash templates/);
    expect(futureDumpMessage('valkey', '10.0.0', 82, 81)).toMatch(/Valkey 10\.0\.0 stamps every DUMP with RDB 82 \(newer than rekey knows\)/);
  });

  it('a new type byte under --allow-future-version names the writer; none for versions rekey reads', () => {
    expect(futureTypeHint('redis', '8.8.0', 14, 13)).toMatch(/a type of RDB 14, written by Redis 8\.8\.0, that rekey does not read/);
    expect(futureTypeHint('redis', '8.6.3', 13, 13)).toBeNull();
  });

  const newest = listServers().filter((s) => s.product === 'redis').pop() ?? null;
  it.skipIf(newest === null)(`a live source on the newest cached Redis (${newest?.name ?? 'none'}) reads without the option`, async () => {
    const s = await startRedis({ binary: newest!.server, debugCommand: newest!.debugCommand });
    try {
      const c = s.client();
      await c.set('k', 'v');
      await c.xadd('st', '1-1', 'f', 'v');
      const r = await runCli(['analyze', s.url, '--json', '--out-dir', s.dir]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.toString()).toMatch(/"keys":\s*2/);
    } finally {
      await s.stop();
    }
  });

  const r88 = findServer('redis-8.8');
  // rekey reads RDB 15 headers (hash templates): an 8.8 DUMP of an older type now reads as it is.
  it.skipIf(r88 === null)(`a live Redis 8.8 source of older types reads${r88 ? '' : ` (skipped: ${whyMissing('redis-8.8')})`}`, async () => {
    const s = await startRedis({ binary: r88!.server });
    try {
      await s.client().set('k', 'v');
      const r = await runCli(['analyze', s.url, '--json', '--out-dir', s.dir]);
      expect(r.code, r.stderr).toBe(0);
    } finally {
      await s.stop();
    }
  });
});
