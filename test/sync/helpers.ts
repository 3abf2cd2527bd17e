/** A `rekey sync` process of the built CLI, its stderr watched, its exit awaited; and source load. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';

export interface SyncProcess {
  child: ChildProcess;
  readonly stderr: string;
  readonly stdout: string;
  /** Resolves once stderr matches (rejects on timeout or exit, with the stderr so far). */
  waitFor(re: RegExp, ms?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/** SIGKILL every sync process still running (afterEach: a failed test must not leave one streaming). */
export function killSyncs(): void {
  for (const c of running) c.kill('SIGKILL');
  running.clear();
}

export function spawnSync(args: string[]): SyncProcess {
  const child = spawn(process.execPath, [CLI, 'sync', ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let err = '';
  let out = '';
  const waiters = new Set<() => void>();
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of [...waiters]) w();
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => {
      done = true;
      running.delete(child);
      for (const w of [...waiters]) w();
      r({ code, signal });
    }),
  );
  const p: SyncProcess = {
    child,
    get stderr() {
      return err;
    },
    get stdout() {
      return out;
    },
    exited,
    waitFor(re, ms = 30_000) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (re.test(err)) finish(resolve);
          else if (done) finish(() => reject(new Error(`rekey sync exited before ${re}:\n${err}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for ${re}:\n${err}`))), ms);
        const finish = (f: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      });
    },
  };
  return p;
}

export async function waitUntil(what: string, ok: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The rules the sync suites run: every `old:` key lands as `new:`, the rest as it is. */
export const OLD_TO_NEW = `version: 1
unmatched: keep
rules:
  - name: old
    match: "old:{id:*}"
    rename: "new:{id}"
`;

export const renamed = (k: string): string => k.replace(/^old:/, 'new:');

export interface SyncPair {
  readonly source: RedisHandle;
  readonly target: RedisHandle;
  readonly dir: string;
  /** dir/rules.yaml, holding OLD_TO_NEW. */
  readonly rules: string;
  /** `rekey sync` arguments from this source to this target with the rules, writing to `out`. */
  args(out: string, ...more: string[]): string[];
}

/**
 * Registers a suite's hooks: a source and a target server (with these extra arguments), a temp dir with
 * the rules file; every sync process killed after each test; servers stopped and dir removed at the end.
 * Read the fields inside tests (they are set by beforeAll).
 */
export function syncPair(name: string, servers: { source?: string[]; target?: string[] } = {}): SyncPair {
  const pair = {} as { -readonly [K in keyof SyncPair]: SyncPair[K] };
  pair.args = (out, ...more) => [pair.source.url, '--target', pair.target.url, '--rules', pair.rules, '--out-dir', out, ...more];
  beforeAll(async () => {
    [pair.source, pair.target] = await Promise.all([startRedis({ args: servers.source ?? [] }), startRedis({ args: servers.target ?? [] })]);
    pair.dir = mkdtempSync(join(tmpdir(), `rekey-sync-${name}-`));
    pair.rules = join(pair.dir, 'rules.yaml');
    writeFileSync(pair.rules, OLD_TO_NEW);
  });
  afterEach(killSyncs);
  afterAll(async () => {
    await Promise.all([pair.source?.stop(), pair.target?.stop()]);
    if (pair.dir) rmSync(pair.dir, { recursive: true, force: true });
  });
  return pair;
}

/** Waits until the target's renamed counter has passed `n` (the stream is visibly arriving). */
export function streamPast(tgt: Redis, n: number): Promise<void> {
  return waitUntil('the stream on the target', async () => Number((await tgt.get('new:counter')) ?? 0) > n);
}

/** Writes a sentinel after the load and waits until the target holds it: everything before it arrived. */
export async function caughtUp(src: Redis, tgt: Redis, load: Load): Promise<void> {
  await src.set('old:sentinel', String(load.steps));
  await waitUntil('the sentinel on the target', async () => (await tgt.get('new:sentinel')) === String(load.steps));
}

/** Stops a sync with a signal it must take as a clean stop (exit 0). */
export async function stopClean(sync: SyncProcess, signal: NodeJS.Signals): Promise<void> {
  sync.child.kill(signal);
  expect((await sync.exited).code, sync.stderr).toBe(0);
}

/** The target holds exactly the source's keys, renamed. */
export async function expectRenamedKeys(src: Redis, tgt: Redis): Promise<void> {
  const [sk, tk] = await Promise.all([src.keys('*'), tgt.keys('*')]);
  expect(tk.sort()).toEqual(sk.map(renamed).sort());
}

/** INFO stats fields of a server, as numbers. */
export async function stats(c: Redis, ...names: string[]): Promise<Record<string, number>> {
  const info = await c.info('stats');
  const out: Record<string, number> = {};
  for (const n of names) {
    const m = new RegExp(`^${n}:(\\d+)`, 'm').exec(info);
    if (!m) throw new Error(`INFO stats has no ${n}`);
    out[n] = Number(m[1]);
  }
  return out;
}

/**
 * Writes that detect a lost or doubled command on the target: step i INCRs a counter and RPUSHes i onto
 * a sequence (every 7th step in a Lua script), pipelined in rounds of 100 so a kill lands with batches
 * in flight; every third round is one MULTI/EXEC.
 */
export class Load {
  private n = 0;
  private rounds = 0;
  private running = false;
  private loop: Promise<void> | null = null;
  constructor(
    private readonly c: Redis,
    readonly prefix = 'old:',
  ) {}

  get steps(): number {
    return this.n;
  }

  async round(size = 100): Promise<void> {
    const p = this.rounds++ % 3 === 0 ? this.c.multi() : this.c.pipeline();
    const k = this.prefix;
    for (let j = 0; j < size; j++) {
      const i = this.n++;
      if (i % 7 === 0) p.eval("redis.call('INCR', KEYS[1]); return redis.call('RPUSH', KEYS[2], ARGV[1])", 2, `${k}counter`, `${k}seq`, String(i));
      else p.incr(`${k}counter`).rpush(`${k}seq`, String(i));
      if (i % 50 === 0) p.hset(`${k}h:${i % 1000}`, 'i', String(i));
    }
    const r = await p.exec();
    if (!r) throw new Error('the load round was aborted');
    for (const [e] of r) if (e) throw e;
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.round();
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** The sequence every target must hold. */
  expected(): string[] {
    return Array.from({ length: this.n }, (_, i) => String(i));
  }
}
