/** Shared pieces of the import tests: data sets made by a real redis-server, and an input that pauses. */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { startRedis, type ClusterHandle } from '../helpers/redis-server.js';
import { openInput, type OpenedInput } from '../../src/sources/open.js';
import type { RdbRecord } from '../../src/records/types.js';
import type { ImportArgs } from '../../src/commands/import.js';

/** A live, confirmed, quiet import of `input` into `target` (the tests' defaults), plus `extra`. */
export function args(input: string, target: string, outDir: string, extra: Partial<ImportArgs> = {}): ImportArgs {
  return { input, target, 'out-dir': outDir, json: false, 'ignore-checksum': false, 'allow-future-version': false, progress: false, live: true, yes: true, ...extra };
}

/** Every line of a ledger file, parsed. */
export function ledgerLines(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Fill a throwaway server with `fill`, SAVE, and copy its RDB to `path`. */
export async function makeRdb(path: string, fill: (c: Redis) => Promise<void>): Promise<void> {
  const src = await startRedis();
  try {
    const c = src.client();
    await fill(c);
    await c.save();
    copyFileSync(join(src.dir, 'dump.rdb'), path);
  } finally {
    await src.stop();
  }
}

/** Mixed keys: strings (some with TTLs), hashes, lists, sets, zsets; `prefix` keys, `n` in total. */
export async function fillMixed(c: Redis, n: number, prefix = 'k', tag?: (i: number) => string | null): Promise<void> {
  let p = c.pipeline();
  for (let i = 0; i < n; i++) {
    const t = tag?.(i);
    const key = t ? `${prefix}:{${t}}:${i}` : `${prefix}:${i}`;
    switch (i % 5) {
      case 0:
      case 1:
        p.set(key, `value-${i}-${'x'.repeat(i % 50)}`);
        if (i % 7 === 0) p.pexpireat(key, 4102444800000 + i);
        break;
      case 2:
        p.hset(key, 'a', String(i), 'b', `b${i}`);
        break;
      case 3:
        p.rpush(key, 'x', String(i), 'z');
        break;
      case 4:
        p.zadd(key, i, `m${i}`, -i, 'n');
        break;
    }
    if (i % 1000 === 999) {
      await p.exec();
      p = c.pipeline();
    }
  }
  await p.exec();
}

export interface Gate {
  /** Resolves when the input has yielded `keys` key records and is waiting to continue. */
  reached: Promise<number>;
  release(): void;
}

/**
 * An input that stops after each threshold of key records until released (or throws there, to simulate
 * a crash of the importer). Thresholds are key counts; batches are split so a threshold falls exactly.
 */
export async function gatedInput(path: string, thresholds: number[], o: { throwAt?: number } = {}): Promise<{ input: OpenedInput; gates: Gate[]; yielded: () => number }> {
  const real = await openInput(path);
  const gates: Array<Gate & { resolveReached: (n: number) => void; released: Promise<void> }> = thresholds.map(() => {
    let resolveReached!: (n: number) => void;
    let release!: () => void;
    const reached = new Promise<number>((r) => (resolveReached = r));
    const released = new Promise<void>((r) => (release = r));
    return { reached, release, resolveReached, released };
  });
  let count = 0;
  async function* batches(): AsyncGenerator<RdbRecord[]> {
    let gi = 0;
    for await (const batch of real.batches) {
      let out: RdbRecord[] = [];
      for (const r of batch) {
        out.push(r);
        if (r.kind !== 'key') continue;
        count++;
        if (o.throwAt !== undefined && count === o.throwAt) {
          if (out.length) yield out;
          throw new Error('simulated crash of the importer');
        }
        if (gi < thresholds.length && count === thresholds[gi]) {
          yield out;
          out = [];
          const g = gates[gi++]!;
          g.resolveReached(count);
          await g.released;
        }
      }
      if (out.length) yield out;
    }
  }
  return {
    input: { ...real, batches: batches() },
    gates,
    yielded: () => count,
  };
}

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Run `fn` and capture what it writes to stderr (still shown). */
export async function withStderr<T>(fn: () => Promise<T>): Promise<{ r: T; err: string }> {
  const orig = process.stderr.write.bind(process.stderr);
  let err = '';
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    err += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return orig(chunk as string, ...(rest as []));
  }) as typeof process.stderr.write;
  try {
    return { r: await fn(), err };
  } finally {
    process.stderr.write = orig;
  }
}

export async function totalKeys(cl: ClusterHandle): Promise<number> {
  let n = 0;
  for (const node of cl.nodes) {
    const c = node.client();
    n += await c.dbsize();
    c.disconnect();
  }
  return n;
}

export async function clusterOk(cl: ClusterHandle): Promise<boolean> {
  for (const node of cl.nodes) {
    const c = node.client({ maxRetriesPerRequest: 1 });
    try {
      if (!/cluster_state:ok/.test(String(await c.call('CLUSTER', 'INFO')))) return false;
    } catch {
      return false;
    } finally {
      c.disconnect();
    }
  }
  return true;
}

/** Per key ("db/key") its one final state over every run of the ledger; two acknowledgement lines throw. */
export function finalStates(lines: Array<Record<string, unknown>>): Map<string, 'created' | 'uncertain' | 'skipped'> {
  const out = new Map<string, 'created' | 'uncertain' | 'skipped'>();
  for (const l of lines) {
    if (l.$ !== undefined) continue;
    const k = `${l.db}/${Buffer.from(String(l.key), 'base64').toString()}`;
    if (out.has(k)) throw new Error(`${k}: two acknowledgement lines (${out.get(k)} and ${JSON.stringify(l)})`);
    out.set(k, l.created === true ? 'created' : l.uncertain === true ? 'uncertain' : 'skipped');
  }
  return out;
}
