/** A `rekey sync` process of the built CLI, its stderr watched, its exit awaited; and source load. */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Redis } from 'ioredis';
import { CLI } from '../helpers/cli.js';

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
