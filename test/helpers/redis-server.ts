/**
 * Real redis-server processes for tests: ephemeral loopback ports, temp dirs, no persistence
 * unless a test saves explicitly. Every child is tracked and killed when the test process exits,
 * and a small reaper process kills them too if this process dies without running exit handlers
 * (SIGKILL of a vitest worker, a crash in native code).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, accessSync, constants as fsConstants } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Redis, Cluster, type RedisOptions, type ClusterOptions } from 'ioredis';

export interface RedisHandle {
  port: number;
  host: '127.0.0.1';
  /** `redis://127.0.0.1:<port>` */
  url: string;
  dir: string;
  /** The server's pid while it runs (null after stop/kill). */
  readonly pid: number | null;
  /** A new ioredis client for this server, tracked and disconnected by stop()/kill(). */
  client(opts?: RedisOptions): Redis;
  /** Graceful stop (SIGTERM, SIGKILL after 5 s). Removes the temp dir unless `dir` was given. Idempotent. */
  stop(): Promise<void>;
  /** Stop (SIGTERM, nothing saved by the shutdown) and start again on the same port and dir. */
  restart(): Promise<void>;
  /** SIGKILL the server (dir kept, so restart() can follow). */
  kill(): Promise<void>;
  /** The last lines the server logged. */
  logTail(lines?: number): string;
}

export interface StartRedisOptions {
  /** Extra command-line arguments appended after the defaults (later ones override), e.g. ['--maxmemory', '10mb']. */
  args?: string[];
  /** Use this directory instead of a fresh temp dir (then it is not removed on stop). */
  dir?: string;
  /** Default `dump.rdb`. */
  dbfilename?: string;
  /** Copy this file into the dir as `dbfilename` so the server loads it at start. */
  rdbFile?: string;
  /** Fixed port (no free-port search, no retry). */
  port?: number;
  /** How long to wait for PING to answer (loading a big RDB takes a while). Default 30 s. */
  startTimeoutMs?: number;
  /**
   * Another server binary (test/helpers/servers.ts lists the cached ones). Servers before 7.0 do not
   * know `--enable-debug-command`, so it is only passed when `debugCommand` is not false.
   */
  binary?: string;
  /** Default true: pass `--enable-debug-command local` (7.0+ only). */
  debugCommand?: boolean;
}

export interface ClusterHandle {
  nodes: RedisHandle[];
  startupNodes: Array<{ host: string; port: number }>;
  /** A new ioredis Cluster client, tracked and disconnected by stop(). */
  client(opts?: ClusterOptions): Cluster;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1' as const;

// ---------------------------------------------------------------------------------------------
// availability

let availableCache: boolean | undefined;

/** True when `redis-server` is on PATH and runs. */
export function redisAvailable(): boolean {
  if (availableCache === undefined) {
    const r = spawnSync('redis-server', ['--version'], { stdio: 'ignore', timeout: 10_000 });
    availableCache = r.status === 0;
  }
  return availableCache;
}

function onPath(cmd: string): boolean {
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (!d) continue;
    try {
      accessSync(join(d, cmd), fsConstants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// child tracking and cleanup

const children = new Set<ChildProcess>();
/** Temp dirs we created and have not removed yet. */
const ownedDirs = new Set<string>();
let reaper: ChildProcess | null = null;
let exitHookInstalled = false;

/** Kills whatever pids it was told about once our stdin closes (i.e. once this process is gone). */
/**
 * Kills whatever pids it was told about, and removes their temp dirs, once our stdin closes (i.e.
 * once this process is gone). Protocol: `+<pid>`, `-<pid>`, `d<dir>` (remove), `k<dir>` (keep).
 */
const REAPER_SRC = `
const fs = require('node:fs');
const pids = new Set();
const dirs = new Set();
let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    const op = line[0], arg = line.slice(1);
    if (op === '+') pids.add(Number(arg)); else if (op === '-') pids.delete(Number(arg));
    else if (op === 'd') dirs.add(arg); else if (op === 'k') dirs.delete(arg);
  }
});
const reap = () => {
  for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch {} }
  for (const d of dirs) { try { fs.rmSync(d, { recursive: true, force: true }); } catch {} }
  process.exit(0);
};
process.stdin.on('end', reap);
process.stdin.on('error', reap);
process.on('SIGTERM', () => {});
process.on('SIGINT', () => {});
`;

function reaperSend(line: string): void {
  try {
    if (!reaper) {
      reaper = spawn(process.execPath, ['-e', REAPER_SRC], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
      reaper.on('error', () => {
        reaper = null;
      });
      reaper.unref();
      const stdin = reaper.stdin as unknown as { unref?: () => void } | null;
      stdin?.unref?.();
    }
    reaper.stdin?.write(line + '\n');
  } catch {
    /* the exit hook still covers normal exits */
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of children) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
    for (const d of ownedDirs) {
      try {
        rmSync(d, { recursive: true, force: true });
      } catch {
        /* best effort */
      }
    }
  });
}

function track(c: ChildProcess): void {
  installExitHook();
  children.add(c);
  if (c.pid) reaperSend('+' + c.pid);
  c.once('exit', () => {
    children.delete(c);
    if (c.pid) reaperSend('-' + c.pid);
  });
}

function ownDir(dir: string): void {
  installExitHook();
  ownedDirs.add(dir);
  reaperSend('d' + dir);
}

function releaseDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  ownedDirs.delete(dir);
  reaperSend('k' + dir);
}

/** Number of redis-server children of this process still running (for leak checks in tests). */
export function runningServers(): number {
  return children.size;
}

// ---------------------------------------------------------------------------------------------
// ports

/** A port that was free a moment ago (bind port 0 on loopback, read it, close). */
export function freePort(maxPort = 65535): Promise<number> {
  return new Promise((resolve, reject) => {
    const tryOnce = (attempt: number): void => {
      const srv = createServer();
      srv.unref();
      srv.once('error', reject);
      srv.listen(0, HOST, () => {
        const addr = srv.address();
        const port = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => {
          if (port > 0 && port <= maxPort) resolve(port);
          else if (attempt < 200) tryOnce(attempt + 1);
          else reject(new Error(`no free port <= ${maxPort}`));
        });
      });
    };
    tryOnce(0);
  });
}

// ---------------------------------------------------------------------------------------------
// one server

function ping(port: number, timeoutMs = 1000): Promise<'ok' | 'loading' | 'down'> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: HOST, port });
    let data = '';
    let done = false;
    const finish = (r: 'ok' | 'loading' | 'down'): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish('down'), timeoutMs);
    sock.on('connect', () => sock.write('*1\r\n$4\r\nPING\r\n'));
    sock.on('data', (d) => {
      data += d.toString('latin1');
      if (data.includes('\r\n')) finish(data.startsWith('+PONG') ? 'ok' : data.startsWith('-LOADING') ? 'loading' : 'down');
    });
    sock.on('error', () => finish('down'));
    sock.on('close', () => finish('down'));
  });
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class LogBuffer {
  private chunks: string[] = [];
  private size = 0;
  constructor(private readonly limit = 64 * 1024) {}
  push(s: string): void {
    this.chunks.push(s);
    this.size += s.length;
    while (this.size > this.limit && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
  }
  tail(lines: number): string {
    const all = this.chunks.join('').split('\n');
    if (all.length && all[all.length - 1] === '') all.pop();
    return all.slice(-lines).join('\n');
  }
}

class StartError extends Error {
  constructor(
    message: string,
    readonly addrInUse: boolean,
  ) {
    super(message);
  }
}

class Server implements RedisHandle {
  readonly host = HOST;
  private proc: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private clients = new Set<Redis>();
  private readonly log = new LogBuffer();
  private removed = false;

  constructor(
    public port: number,
    readonly dir: string,
    private readonly ownsDir: boolean,
    private readonly dbfilename: string,
    private readonly extraArgs: string[],
    private readonly startTimeoutMs: number,
    private readonly binary = 'redis-server',
    private readonly debugCommand = true,
  ) {}

  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  /** Spawn and wait for PING. Rejects (with the log) if the server exits or does not answer in time. */
  async launch(): Promise<void> {
    const args = [
      '--port', String(this.port),
      '--bind', HOST,
      '--save', '',
      '--appendonly', 'no',
      '--dir', this.dir,
      '--dbfilename', this.dbfilename,
      '--daemonize', 'no',
      '--logfile', '',
      ...(this.debugCommand ? ['--enable-debug-command', 'local'] : []),
      ...this.extraArgs,
    ];
    this.log.push(`### redis-server ${args.join(' ')}\n`);
    const proc = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    let exitInfo: string | null = null;
    let spawnError: Error | null = null;
    this.exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, signal) => {
        exitInfo = signal ? `signal ${signal}` : `code ${code}`;
        if (this.proc === proc) this.proc = null;
        resolve();
      });
      proc.once('error', (e) => {
        spawnError = e;
        if (this.proc === proc) this.proc = null;
        resolve();
      });
    });
    proc.stdout?.setEncoding('utf8');
    proc.stderr?.setEncoding('utf8');
    proc.stdout?.on('data', (d: string) => this.log.push(d));
    proc.stderr?.on('data', (d: string) => this.log.push(d));
    if (proc.pid) track(proc);

    const deadline = Date.now() + this.startTimeoutMs;
    let wait = 10;
    for (;;) {
      if (spawnError) {
        const hint = onPath('redis-server') ? '' : ' (redis-server is not on PATH: apt-get install redis-server)';
        throw new StartError(`cannot run redis-server${hint}: ${(spawnError as Error).message}`, false);
      }
      if (exitInfo !== null) {
        const tail = this.log.tail(40);
        throw new StartError(
          `redis-server on port ${this.port} exited (${exitInfo}) before answering PING:\n${tail}`,
          /Address already in use|bind: /i.test(tail),
        );
      }
      // Only trust a PONG from our own process (another server could own the port).
      const r = await ping(this.port);
      if (r === 'ok' && exitInfo === null && this.proc === proc) return;
      if (Date.now() > deadline) {
        await this.terminate('SIGKILL');
        throw new StartError(`redis-server on port ${this.port} did not answer PING within ${this.startTimeoutMs} ms:\n${this.log.tail(40)}`, false);
      }
      await delay(wait);
      wait = Math.min(wait * 2, 200);
    }
  }

  client(opts: RedisOptions = {}): Redis {
    const c = new Redis({ host: HOST, port: this.port, maxRetriesPerRequest: 3, ...opts });
    c.on('error', () => {
      /* reconnects are expected around restart()/kill(); commands still reject */
    });
    this.clients.add(c);
    c.once('end', () => this.clients.delete(c));
    return c;
  }

  private closeClients(): void {
    for (const c of this.clients) c.disconnect();
    this.clients.clear();
  }

  private async terminate(signal: NodeJS.Signals): Promise<void> {
    const p = this.proc;
    if (!p) return;
    p.kill(signal);
    const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    this.closeClients();
    await this.terminate('SIGTERM');
    if (this.ownsDir && !this.removed) {
      this.removed = true;
      releaseDir(this.dir);
    }
  }

  async kill(): Promise<void> {
    await this.terminate('SIGKILL');
  }

  async restart(): Promise<void> {
    if (this.removed) throw new Error('restart() after stop(): the temp dir is gone');
    await this.terminate('SIGTERM');
    // Same port: it was ours a moment ago, but the kernel may take a moment to free it.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.launch();
        return;
      } catch (e) {
        if (!(e instanceof StartError && e.addrInUse) || attempt >= 20) throw e;
        await delay(100);
      }
    }
  }

  logTail(lines = 50): string {
    return this.log.tail(lines);
  }
}

/** Start a redis-server on a free loopback port (see StartRedisOptions). */
export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisHandle> {
  if (!opts.binary && !redisAvailable()) throw new Error('rekey tests need redis-server on PATH: apt-get install redis-server');
  const dbfilename = opts.dbfilename ?? 'dump.rdb';
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'rekey-redis-'));
  if (ownsDir) ownDir(dir);
  try {
    if (opts.rdbFile) copyFileSync(opts.rdbFile, join(dir, dbfilename));
    for (let attempt = 0; ; attempt++) {
      const port = opts.port ?? (await freePort());
      const s = new Server(port, dir, ownsDir, dbfilename, opts.args ?? [], opts.startTimeoutMs ?? 30_000, opts.binary, opts.debugCommand);
      try {
        await s.launch();
        return s;
      } catch (e) {
        if (opts.port === undefined && e instanceof StartError && e.addrInUse && attempt < 10) continue;
        throw e;
      }
    }
  } catch (e) {
    if (ownsDir) releaseDir(dir);
    throw e;
  }
}

/** A redis-server and a work dir of a test file (its beforeAll); `stop` (its afterAll) ends both. */
export interface RedisWithDir {
  redis: RedisHandle;
  dir: string;
  stop: () => Promise<void>;
}

/** Start a redis-server (see StartRedisOptions) and make a temp dir named with `prefix` for the test's files. */
export async function startRedisWithDir(prefix: string, opts: StartRedisOptions = {}): Promise<RedisWithDir> {
  const redis = await startRedis(opts);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    redis,
    dir,
    stop: async () => {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// cluster

/**
 * N masters (no replicas) on loopback, slots split evenly, joined with CLUSTER MEET, ready when every
 * node reports cluster_state:ok and knows all the others. The cluster bus uses its own free port
 * (`--cluster-port`), so node ports need not be below 55536.
 */
export async function startCluster(nMasters = 3, opts: { args?: string[] } = {}): Promise<ClusterHandle> {
  if (nMasters < 1) throw new Error('startCluster: nMasters must be >= 1');
  const nodes: RedisHandle[] = [];
  const clusterClients = new Set<Cluster>();
  const stop = async (): Promise<void> => {
    for (const c of clusterClients) c.disconnect();
    clusterClients.clear();
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    const settled = await Promise.allSettled(
      Array.from({ length: nMasters }, async () => {
        for (let attempt = 0; ; attempt++) {
          const busPort = await freePort();
          try {
            const node = await startRedis({
              args: [
                '--cluster-enabled', 'yes',
                '--cluster-config-file', 'nodes.conf',
                '--cluster-node-timeout', '2000',
                '--cluster-port', String(busPort),
                ...(opts.args ?? []),
              ],
            });
            return { node, busPort };
          } catch (e) {
            if (attempt < 5 && /Address already in use/i.test(String(e))) continue;
            throw e;
          }
        }
      }),
    );
    for (const s of settled) if (s.status === 'fulfilled') nodes.push(s.value.node);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const started = settled.map((s) => (s as PromiseFulfilledResult<{ node: RedisHandle; busPort: number }>).value);
    const handles = started.map((s) => s.node);
    const buses = started.map((s) => s.busPort);

    const admin = handles.map((n) => n.client({ maxRetriesPerRequest: 1 }));
    // Distinct epochs up front (what redis-cli --cluster create does), so no epoch collision dance.
    await Promise.all(admin.map((c, i) => c.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1))));
    await Promise.all(
      admin.map((c, i) => {
        const start = Math.floor((i * 16384) / nMasters);
        const end = Math.floor(((i + 1) * 16384) / nMasters) - 1;
        return c.call('CLUSTER', 'ADDSLOTSRANGE', String(start), String(end));
      }),
    );
    for (let i = 1; i < nMasters; i++) {
      await admin[0]!.call('CLUSTER', 'MEET', HOST, String(handles[i]!.port), String(buses[i]!));
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      const states = await Promise.all(
        admin.map(async (c) => {
          const info = String(await c.call('CLUSTER', 'INFO'));
          const nodesTxt = String(await c.call('CLUSTER', 'NODES'));
          const known = nodesTxt
            .split('\n')
            .filter((l) => l.trim())
            .filter((l) => !(l.split(' ')[2] ?? '').split(',').some((f) => ['handshake', 'noaddr', 'fail', 'fail?'].includes(f))).length;
          return /cluster_state:ok/.test(info) && known === nMasters;
        }),
      );
      if (states.every(Boolean)) break;
      if (Date.now() > deadline) {
        throw new Error(`cluster did not reach cluster_state:ok within 30 s:\n${handles.map((n) => n.logTail(10)).join('\n---\n')}`);
      }
      await delay(100);
    }
    for (const c of admin) c.disconnect();

    const startupNodes = handles.map((n) => ({ host: n.host as string, port: n.port }));
    return {
      nodes: handles,
      startupNodes,
      client(copts: ClusterOptions = {}): Cluster {
        const c = new Cluster(startupNodes, { ...copts });
        c.on('error', () => {
          /* surfaced through command rejections */
        });
        clusterClients.add(c);
        c.once('end', () => clusterClients.delete(c));
        return c;
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
