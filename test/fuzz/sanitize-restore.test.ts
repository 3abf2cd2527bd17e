/**
 * Structure-aware fuzz of codec/verify against Redis' own deep sanitisation: valid values of every encoding
 * (our writer, RDB 9 for ziplists and RDB 10 for listpacks) are mutated structurally — header counts and total
 * sizes, back-lengths/prevlens, truncation with the header fixed up, flipped tag bytes, duplicate members —
 * and every mutant rekey lets through goes into a real redis-server with `sanitize-dump-payload yes` by
 * RESTORE (DUMP checksum recomputed). Redis must accept all of them and must still be the same process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { KeyRecord, Value } from '../../src/records/types.js';
import { encodeValue } from '../../src/encode/value-encoder.js';
import { dumpPayload } from '../../src/encode/dump-payload.js';
import { verifyPayload } from '../../src/codec/verify/index.js';
import { seededRandom } from '../../src/analyze/stats.js';
import { SAMPLES } from '../encode/sample-values.js';
import { redisAvailable, startRedis, type RedisHandle } from '../helpers/redis-server.js';

const B = (s: string) => Buffer.from(s);

function record(rdbType: number, payload: Buffer): KeyRecord {
  return { kind: 'key', db: 0, key: B('k'), type: 'string', rdbType, encoding: '', flavor: 'redis', rdbVersion: 10, expireAtMs: null, payload, offset: 0, decode: () => { throw new Error('not used'); } };
}

/** RDB length prefix (rdbSaveLen). */
function rdbLen(n: number): Buffer {
  if (n < 64) return Buffer.from([n]);
  if (n < 16384) return Buffer.from([0x40 | (n >> 8), n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = 0x80;
  b.writeUInt32BE(n, 1);
  return b;
}

/** The single blob of a one-string payload (ziplist/listpack/intset types), or null. */
function blobOf(payload: Buffer): { at: number; len: number } | null {
  const c = payload[0]!;
  const kind = c >> 6;
  if (kind === 3) return null;
  const at = kind === 0 ? 1 : kind === 1 ? 2 : c === 0x80 ? 5 : 9;
  const len = kind === 0 ? c & 0x3f : kind === 1 ? ((c & 0x3f) << 8) | payload[1]! : payload.readUInt32BE(1);
  return at + len === payload.length ? { at, len } : null;
}

function withDuplicate(v: Value): Value | null {
  if (v.type === 'set' && v.members.length > 1) return { ...v, members: [...v.members, v.members[0]!] };
  if (v.type === 'zset' && v.entries.length > 1) return { ...v, entries: [...v.entries, [v.entries[0]![0], 42]] };
  if (v.type === 'hash' && v.entries.length > 1 && !v.expires) return { ...v, entries: [...v.entries, [v.entries[0]![0], B('dup')]] };
  return null;
}

type Seed = { name: string; rdbType: number; payload: Buffer };

function seeds(): Seed[] {
  const out: Seed[] = [];
  for (const s of SAMPLES) {
    if (s.value.type === 'module' || s.min > 10) continue;
    for (const v of [9, 10]) {
      if (v < s.min) continue;
      try {
        const e = encodeValue(s.value, { rdbVersion: v });
        out.push({ name: `${s.name}@${v}`, ...e });
      } catch { /* not representable at this version */ }
    }
  }
  return out;
}

function flip(p: Buffer, i: number, bit: number): void {
  p[i] = p[i]! ^ (1 << bit);
}

function mutate(seed: Seed, r: () => number): Buffer {
  const p = Buffer.from(seed.payload);
  const blob = blobOf(p);
  const pick = (n: number) => Math.floor(r() * n);
  if (blob && blob.len > 11) {
    const s = blob.at;
    switch (pick(6)) {
      case 0: // element count in the header (listpack u16 at 4, ziplist u16 at 8, intset u32 at 4)
        p.writeUInt16LE((p.readUInt16LE(s + 4) + (r() < 0.5 ? 1 : 0xffff)) & 0xffff, s + 4);
        p.writeUInt16LE((p.readUInt16LE(s + 8) + (r() < 0.5 ? 1 : 0xffff)) & 0xffff, s + 8);
        return p;
      case 1: // total size / tail offset
        p.writeUInt32LE((p.readUInt32LE(s + pick(2) * 4) + pick(5) - 2) >>> 0, s + pick(2) * 4);
        return p;
      case 2: { // truncate the blob, fix the total size, keep a terminator
        const keep = 10 + pick(blob.len - 10);
        const body = Buffer.from(p.subarray(s, s + keep));
        body[keep - 1] = 0xff;
        body.writeUInt32LE(keep, 0);
        return Buffer.concat([rdbLen(keep), body]);
      }
      case 3: // a flipped tag / back-length / prevlen byte
        flip(p, s + 6 + pick(blob.len - 6), pick(8));
        return p;
      case 4: { // a byte replaced by an encoding tag
        p[s + 6 + pick(blob.len - 7)] = [0xf0, 0xf4, 0xfe, 0xff, 0xc0, 0x7f, 0x80, 0xe0][pick(8)]!;
        return p;
      }
      default: { // swap two bytes
        const i = s + 6 + pick(blob.len - 7);
        const j = s + 6 + pick(blob.len - 7);
        const t = p[i]!;
        p[i] = p[j]!;
        p[j] = t;
        return p;
      }
    }
  }
  // Multi-part payloads (quicklists, streams, hashtable encodings): flips, truncation, tags.
  switch (pick(3)) {
    case 0:
      flip(p, pick(p.length), pick(8));
      return p;
    case 1:
      return p.subarray(0, pick(p.length));
    default:
      p[pick(p.length)] = [0x00, 0x01, 0x02, 0xff, 0x80, 0xc3][pick(6)]!;
      return p;
  }
}

describe.skipIf(!redisAvailable())('fuzz: what codec/verify accepts, Redis deep sanitisation accepts', () => {
  let srv: RedisHandle;
  let cli: Redis;
  beforeAll(async () => {
    srv = await startRedis({ args: ['--sanitize-dump-payload', 'yes'] });
    cli = srv.client();
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('zero crashes, zero refusals by Redis of accepted mutants', async () => {
    const runId0 = /run_id:(\w+)/.exec(await cli.info('server'))![1];
    const pid0 = srv.pid;
    const all = seeds();
    expect(all.length).toBeGreaterThan(20);
    // Every seed must pass both sides unmutated (the check has no false alarms on our writer's output).
    for (const s of all) {
      expect(verifyPayload(record(s.rdbType, s.payload)), s.name).toBeNull();
      expect(await cli.restore('seed', 0, dumpPayload(s.rdbType, s.payload, 10), 'REPLACE'), s.name).toBe('OK');
    }
    const r = seededRandom(Number(process.env.REKEY_FUZZ_SEED ?? 0x5a171e));
    const deadline = Date.now() + Number(process.env.REKEY_FUZZ_MS ?? 20_000);
    let tried = 0;
    let refused = 0;
    let passed = 0;
    const redisRefused: string[] = [];
    const dups: Seed[] = [];
    for (const s of SAMPLES) {
      const d = withDuplicate(s.value);
      if (!d) continue;
      for (const v of [9, 10]) {
        try {
          dups.push({ name: `${s.name}+dup@${v}`, ...encodeValue(d, { rdbVersion: v }) });
        } catch { /* the intset writer refuses duplicates itself */ }
      }
    }
    const check = async (name: string, rdbType: number, payload: Buffer): Promise<void> => {
      tried++;
      if (verifyPayload(record(rdbType, payload)) !== null) {
        refused++;
        return;
      }
      passed++;
      try {
        await cli.restore(`m${tried % 64}`, 0, dumpPayload(rdbType, payload, 10), 'REPLACE');
      } catch (e) {
        redisRefused.push(`${name}: ${(e as Error).message} (payload ${payload.toString('hex').slice(0, 400)})`);
      }
    };
    for (const d of dups) await check(d.name, d.rdbType, d.payload);
    while (Date.now() < deadline && tried < 20_000) {
      const s = all[tried % all.length]!;
      await check(s.name, s.rdbType, mutate(s, r));
    }
    const runId1 = /run_id:(\w+)/.exec(await cli.info('server'))![1];
    console.log(`sanitize fuzz: ${tried} mutants tried, ${refused} refused by rekey, ${passed} passed through, ${redisRefused.length} refused by Redis`);
    expect(redisRefused.slice(0, 5)).toEqual([]);
    expect(refused).toBeGreaterThan(tried / 4);
    expect(srv.pid).toBe(pid0);
    expect(runId1).toBe(runId0);
  }, 60_000);
});
