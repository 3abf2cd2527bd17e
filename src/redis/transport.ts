/**
 * Where units of work (one key's commands) go: one raw RESP connection for a standalone target, or one
 * per master for a cluster, each with its own bounded in-flight window (by units and by bytes).
 *
 * Cluster routing: the slot of the unit's key picks the master from a slot table (CLUSTER SLOTS).
 * `-MOVED slot host:port` updates the table at once, schedules a full refresh and re-sends the unit to
 * the new owner; `-ASK slot host:port` re-sends it to that node behind ASKING (for this unit only);
 * `-TRYAGAIN` / `-CLUSTERDOWN` / `-LOADING` re-send after a short delay. Every unit is one key, so
 * re-sending it alone is always correct, and a unit is only ever re-sent when Redis did not run it.
 */
import type { ByteWriter } from '../encode/rdb-primitives.js';
import { ConnectionLostError, ReplyError, RespSocket, type PendingOp, type Reply } from './resp-socket.js';
import type { TargetSpec } from './endpoint.js';
import { tlsOptions } from './tls.js';
import { SLOT_COUNT } from './slot.js';

export interface WindowOptions {
  /** Units in flight per connection. */
  count: number;
  /** Bytes in flight per connection (a single larger unit is still allowed alone). */
  bytes: number;
  /** Give a connection up when its requests get no reply byte for this long (ms; 0/undefined: never). */
  requestTimeoutMs?: number;
}

/** Socket buffer size that triggers an immediate write (also written when the window fills or a batch ends). */
const FLUSH_AT = 64 * 1024;
const MAX_REDIRECTS = 16;
const MAX_RETRIES = 100;
const RETRY_DELAY_MS = 100;

/** Scratch array for the (common) one-reply case: settle() must not keep it. */
const SINGLE: Reply[] = [null];

/**
 * One key's worth of commands. Subclasses write their commands (returning how many replies to expect) and
 * interpret the replies; the transport handles routing, redirects, retries and the window.
 */
export abstract class Unit implements PendingOp {
  replies = 0;
  /** Estimated bytes, charged against the window. */
  bytes = 0;
  /** Node it was last written to. */
  node: Node | null = null;
  /** Node whose window it occupies. */
  charged: Node | null = null;
  askNode: Node | null = null;
  redirects = 0;
  retries = 0;
  transport: Transport | null = null;
  private got: Reply[] | null = null;

  constructor(
    readonly db: number,
    readonly key: Buffer,
    readonly slot: number,
  ) {}

  /** Append this unit's commands (ASKING before each key command when `asking`); return the reply count. */
  abstract write(out: ByteWriter, asking: boolean): number;
  /** All replies of one send. 'again': write again to the same node (next phase); 'done': finished. */
  abstract settle(replies: Reply[]): 'done' | 'again';
  /** The unit cannot be delivered (redirect loop, retries exhausted, no node serves the slot). */
  abstract fail(message: string): void;

  onReply(r: Reply, i: number): void {
    if (this.replies === 1) {
      SINGLE[0] = r;
      this.transport!.completed(this, SINGLE);
      SINGLE[0] = null;
      return;
    }
    (this.got ??= []).push(r);
    if (i + 1 === this.replies) {
      const replies = this.got;
      this.got = null;
      this.transport!.completed(this, replies);
    }
  }
}

/**
 * Many keys' replies as one pending operation (the import's fast path: one RESTORE per key, no per-key
 * objects). Keys are added while the batch is open; the transport closes it before anything else is
 * queued on the connection and whenever the connection's buffer is flushed, so replies only ever arrive
 * for a closed batch.
 */
export interface OpenBatch extends PendingOp {
  replies: number;
}

/** A master (or the standalone server) and its window. */
export class Node {
  sock: RespSocket | null = null;
  /** The batch keys are being appended to (null: start a new one). */
  openBatch: OpenBatch | null = null;
  inflight = 0;
  inflightBytes = 0;
  waiter: (() => void) | null = null;
  /** Units waiting for the connection to open. */
  parked: Unit[] = [];
  connecting: Promise<void> | null = null;
  constructor(
    readonly host: string,
    readonly port: number,
  ) {}
  get addr(): string {
    return `${this.host}:${this.port}`;
  }
}

class SelectOp implements PendingOp {
  readonly replies = 1;
  constructor(
    private readonly t: Transport,
    private readonly db: number,
  ) {}
  onReply(r: Reply): void {
    if (r instanceof ReplyError) this.t.setFatal(new ConnectionLostError(`SELECT ${this.db} failed: ${r.message}`));
  }
}

export interface TransportOptions {
  window: WindowOptions;
  cluster: boolean;
  /** Connection name (CLIENT SETNAME). */
  name?: string;
}

export class Transport {
  readonly cluster: boolean;
  readonly window: WindowOptions;
  private readonly nodes = new Map<string, Node>();
  private readonly slots: Array<Node | undefined> = new Array<Node | undefined>(SLOT_COUNT);
  private single: Node | null = null;
  private refreshing: Promise<void> | null = null;
  private refreshQueued = false;
  private outstanding = 0;
  private idleWaiters: Array<() => void> = [];
  private timers = new Set<NodeJS.Timeout>();
  fatal: Error | null = null;
  onFatal: ((e: Error) => void) | null = null;
  /** Called before any bytes go to a socket; false: send nothing (the ledger cannot record the intent). */
  beforeSend: (() => boolean) | null = null;
  redirectsSeen = { moved: 0, ask: 0, retries: 0 };
  private readonly lowCount: number;
  private readonly lowBytes: number;

  private constructor(
    private readonly spec: TargetSpec,
    private readonly opts: TransportOptions,
  ) {
    this.cluster = opts.cluster;
    this.window = opts.window;
    // Hysteresis: a full window waits until half of it is answered, then refills in one go (fewer
    // wake-ups and bigger writes; the server still has the other half queued meanwhile).
    this.lowCount = Math.max(0, Math.floor(opts.window.count / 2));
    this.lowBytes = Math.floor(opts.window.bytes / 2);
  }

  /** Connect (standalone: the server, selecting nothing yet; cluster: every master from CLUSTER SLOTS). */
  static async open(spec: TargetSpec, opts: TransportOptions): Promise<Transport> {
    const t = new Transport(spec, opts);
    if (!opts.cluster) {
      const n = new Node(spec.host, spec.port);
      t.nodes.set(n.addr, n);
      t.single = n;
      await t.connectNode(n);
    } else {
      const seed = new Node(spec.host, spec.port);
      t.nodes.set(seed.addr, seed);
      await t.connectNode(seed);
      await t.refreshSlots();
      for (let s = 0; s < SLOT_COUNT; s++) {
        if (!t.slots[s]) throw new ConnectionLostError(`cluster slot ${s} is not served by any master (CLUSTER SLOTS)`);
      }
    }
    return t;
  }

  /** Masters (or the single server) currently known. */
  get masters(): Node[] {
    if (this.single) return [this.single];
    return [...new Set(this.slots.filter((n): n is Node => n !== undefined))];
  }

  get inflight(): number {
    return this.outstanding;
  }

  setFatal(e: Error): void {
    if (this.fatal) return;
    this.fatal = e;
    this.onFatal?.(e);
    for (const n of this.nodes.values()) {
      const w = n.waiter;
      n.waiter = null;
      w?.();
    }
    const iw = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of iw) w();
  }

  private async connectNode(n: Node): Promise<void> {
    if (n.sock) return;
    if (!n.connecting) {
      n.connecting = (async () => {
        const sock = await RespSocket.connect({
          host: n.host,
          port: n.port,
          tls: tlsOptions(this.spec, n.host),
          username: this.spec.username,
          password: this.spec.password,
          ...(this.opts.name ? { name: this.opts.name } : {}),
          ...(this.window.requestTimeoutMs ? { requestTimeoutMs: this.window.requestTimeoutMs } : {}),
        });
        sock.onFatal = (e) => this.setFatal(new ConnectionLostError(this.spec.redactor.scrub(e.message)));
        sock.beforeFlush = () => {
          n.openBatch = null;
          return this.beforeSend === null || this.beforeSend();
        };
        n.sock = sock;
        const parked = n.parked;
        n.parked = [];
        for (const u of parked) this.write(u, n);
        sock.flush();
      })();
      n.connecting.catch(() => undefined);
    }
    try {
      await n.connecting;
    } catch (e) {
      n.connecting = null;
      throw new ConnectionLostError(this.spec.redactor.message(e));
    }
  }

  private nodeAt(host: string, port: number): Node {
    const addr = `${host}:${port}`;
    let n = this.nodes.get(addr);
    if (!n) {
      n = new Node(host, port);
      this.nodes.set(addr, n);
    }
    return n;
  }

  /** CLUSTER SLOTS from any connected node; updates the slot table and opens connections to new masters. */
  refreshSlots(): Promise<void> {
    if (this.refreshing) {
      this.refreshQueued = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.refreshQueued = false;
          await this.refreshOnce();
        } while (this.refreshQueued);
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  private async refreshOnce(): Promise<void> {
    let lastErr: unknown = null;
    const candidates = [...this.nodes.values()].filter((n) => n.sock && !n.sock.error);
    for (const n of candidates) {
      let r: Reply;
      try {
        r = await n.sock!.call(['CLUSTER', 'SLOTS']);
      } catch (e) {
        lastErr = e;
        continue;
      }
      if (r instanceof ReplyError || !Array.isArray(r)) {
        lastErr = new Error(`CLUSTER SLOTS on ${n.addr}: ${String(r)}`);
        continue;
      }
      const connects: Array<Promise<void>> = [];
      for (const range of r) {
        if (!Array.isArray(range) || range.length < 3) continue;
        const start = Number(range[0]);
        const end = Number(range[1]);
        const master = range[2];
        if (!Array.isArray(master)) continue;
        let host = Buffer.isBuffer(master[0]) ? master[0].toString('latin1') : String(master[0] ?? '');
        if (host === '' || host === '?') host = n.host;
        const port = Number(master[1]);
        const node = this.nodeAt(host, port);
        for (let s = start; s <= end; s++) this.slots[s] = node;
        if (!node.sock) connects.push(this.connectNode(node));
      }
      await Promise.all(connects);
      return;
    }
    throw new ConnectionLostError(`cannot read the cluster slot table: ${this.spec.redactor.message(lastErr)}`);
  }

  private route(u: Unit): Node | null {
    if (this.single) return this.single;
    if (u.askNode) return u.askNode;
    return this.slots[u.slot] ?? null;
  }

  /** True when `u` can be admitted to its node's window now. */
  private hasRoom(n: Node, bytes: number): boolean {
    return n.inflight < this.window.count && (n.inflight === 0 || n.inflightBytes + bytes <= this.window.bytes);
  }

  /**
   * Admit `u` to its node's window and write it. Returns a promise only when it had to wait for room
   * (callers: `const p = t.submit(u); if (p) await p;`). Throws/rejects with the fatal error if any.
   */
  submit(u: Unit): Promise<void> | undefined {
    if (this.fatal) throw this.fatal;
    u.transport = this;
    const n = this.route(u);
    if (n === null) return this.submitAfterRefresh(u);
    if (this.hasRoom(n, u.bytes)) {
      this.charge(u, n);
      this.write(u, n);
      return undefined;
    }
    return this.waitRoom(n, u.bytes).then(() => {
      if (this.fatal) throw this.fatal;
      return this.submit(u);
    });
  }

  private async submitAfterRefresh(u: Unit): Promise<void> {
    await this.refreshSlots();
    if (!this.route(u)) {
      u.fail(`no master serves slot ${u.slot}`);
      return;
    }
    const p = this.submit(u);
    if (p) await p;
  }

  private waitRoom(n: Node, bytes: number): Promise<void> {
    this.flushAll();
    return new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.fatal || n.inflight === 0 || (n.inflight <= this.lowCount && n.inflightBytes + bytes <= Math.max(this.lowBytes, 1) )) {
          n.waiter = null;
          resolve();
        } else n.waiter = check;
      };
      check();
    });
  }

  // ------------------------------------------------------------------------------------------
  // the batched fast path (keys without per-key objects; see OpenBatch)

  /** The connected node a key goes to now, or null (slot unknown, node still connecting: use a Unit). */
  nodeForKey(slot: number): Node | null {
    const n = this.single ?? this.slots[slot] ?? null;
    return n !== null && n.sock !== null ? n : null;
  }

  /** Charge one key of `bytes` to `n`'s window if there is room. */
  tryCharge(n: Node, bytes: number): boolean {
    if (this.fatal) throw this.fatal;
    if (!this.hasRoom(n, bytes)) return false;
    n.inflight++;
    n.inflightBytes += bytes;
    this.outstanding++;
    return true;
  }

  /** Resolves when `n` has room again (rejects with the fatal error). */
  async waitForRoom(n: Node, bytes: number): Promise<void> {
    await this.waitRoom(n, bytes);
    if (this.fatal) throw this.fatal;
  }

  /** Release one key charged with tryCharge. */
  releaseKey(n: Node, bytes: number): void {
    this.uncharge(n, bytes);
  }

  /** SELECT `db` on `n` unless selected (closes the open batch first). */
  selectDb(n: Node, db: number): void {
    const sock = n.sock!;
    if (this.cluster || sock.db === db) return;
    n.openBatch = null;
    sock.command(['SELECT', String(db)]);
    sock.enqueue(new SelectOp(this, db));
    sock.db = db;
  }

  /** Flush `n` when its buffer is large (call after appending). */
  maybeFlush(n: Node): void {
    const sock = n.sock!;
    if (sock.out.pos >= FLUSH_AT) sock.flush();
  }

  /**
   * Take over a key that was charged with tryCharge as a Unit (slow path: redirects, retries, fallbacks):
   * the key's charge moves to the unit. Then hand it its replies with `completed`.
   */
  adopt(u: Unit, n: Node, bytes: number): void {
    n.inflight--;
    n.inflightBytes -= bytes;
    this.outstanding--;
    u.transport = this;
    u.node = n;
    this.charge(u, n);
  }

  private charge(u: Unit, n: Node): void {
    u.charged = n;
    n.inflight++;
    n.inflightBytes += u.bytes;
    this.outstanding++;
  }

  private release(u: Unit): void {
    const n = u.charged;
    if (!n) return;
    u.charged = null;
    this.uncharge(n, u.bytes);
  }

  /** Give `bytes` of one key back to `n`'s window; wake its waiter, and the idle waiters when all is done. */
  private uncharge(n: Node, bytes: number): void {
    n.inflight--;
    n.inflightBytes -= bytes;
    this.outstanding--;
    if (n.waiter) n.waiter();
    if (this.outstanding === 0 && this.idleWaiters.length > 0) {
      const iw = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of iw) w();
    }
  }

  /** Write `u` on `n` (no window check: admission happened already). */
  private write(u: Unit, n: Node): void {
    if (this.fatal) return;
    const sock = n.sock;
    if (!sock) {
      n.parked.push(u);
      this.connectNode(n).catch((e: unknown) => this.setFatal(e as Error));
      return;
    }
    n.openBatch = null;
    if (!this.cluster && sock.db !== u.db) {
      sock.command(['SELECT', String(u.db)]);
      sock.enqueue(new SelectOp(this, u.db));
      sock.db = u.db;
    }
    u.node = n;
    u.replies = u.write(sock.out, u.askNode === n && this.cluster);
    sock.enqueue(u);
    if (sock.out.pos >= FLUSH_AT) sock.flush();
  }

  /** Called by a unit with all replies of one send. */
  completed(u: Unit, replies: Reply[]): void {
    for (const r of replies) {
      if (!(r instanceof ReplyError)) continue;
      const code = r.code;
      if (code === 'MOVED' || code === 'ASK') {
        this.redirect(u, r, code);
        return;
      }
      if (code === 'TRYAGAIN' || code === 'CLUSTERDOWN' || code === 'LOADING' || code === 'MASTERDOWN') {
        this.retryLater(u, r.message);
        return;
      }
    }
    let s: 'done' | 'again';
    try {
      s = u.settle(replies);
    } catch (e) {
      u.fail((e as Error).message);
      s = 'done';
    }
    if (s === 'again' && !this.fatal) {
      this.write(u, u.node!);
      u.node!.sock?.scheduleFlush();
      return;
    }
    this.release(u);
  }

  private redirect(u: Unit, r: ReplyError, code: 'MOVED' | 'ASK'): void {
    if (++u.redirects > MAX_REDIRECTS) {
      u.fail(`too many cluster redirections (last: ${r.message})`);
      this.release(u);
      return;
    }
    const parts = r.message.split(' ');
    const slot = Number(parts[1]);
    const addr = parts[2] ?? '';
    const colon = addr.lastIndexOf(':');
    let host = addr.slice(0, colon);
    const port = Number(addr.slice(colon + 1));
    if (host === '') host = u.node?.host ?? this.spec.host;
    const n = this.nodeAt(host, port);
    if (code === 'MOVED') {
      this.redirectsSeen.moved++;
      if (slot >= 0 && slot < SLOT_COUNT) this.slots[slot] = n;
      u.askNode = null;
      this.refreshSlots().catch((e: unknown) => this.setFatal(e as Error));
    } else {
      this.redirectsSeen.ask++;
      u.askNode = n;
    }
    this.write(u, n);
    n.sock?.scheduleFlush();
  }

  private retryLater(u: Unit, why: string): void {
    this.redirectsSeen.retries++;
    if (++u.retries > MAX_RETRIES) {
      u.fail(`gave up after ${MAX_RETRIES} retries (last: ${why})`);
      this.release(u);
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.fatal) return;
      if (why.startsWith('CLUSTERDOWN') || why.startsWith('TRYAGAIN')) {
        this.refreshSlots().catch(() => undefined);
      }
      u.askNode = why.startsWith('TRYAGAIN') ? u.askNode : null;
      const n = this.route(u);
      if (!n) {
        u.fail(`no master serves slot ${u.slot}`);
        this.release(u);
        return;
      }
      this.write(u, n);
      n.sock?.flush();
    }, RETRY_DELAY_MS);
    this.timers.add(t);
  }

  flushAll(): void {
    for (const n of this.nodes.values()) n.sock?.flush();
  }

  /** Resolves when every admitted unit finished (or rejects with the fatal error). */
  async whenIdle(): Promise<void> {
    this.flushAll();
    while (this.outstanding > 0 && !this.fatal) {
      await new Promise<void>((r) => this.idleWaiters.push(r));
    }
    if (this.fatal) throw this.fatal;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.nodes.values()].map((n) => n.sock?.close()));
  }

  destroy(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const n of this.nodes.values()) n.sock?.destroy();
  }
}

/** Send one command to every master (or the server) and collect the replies (INFO per node, etc.). */
export async function callEveryNode(t: Transport, args: string[]): Promise<Array<{ addr: string; reply: Reply }>> {
  return Promise.all(
    t.masters.map(async (n) => ({ addr: n.addr, reply: n.sock ? await n.sock.call(args) : new ReplyError('not connected') })),
  );
}
