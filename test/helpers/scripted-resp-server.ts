/**
 * A small RESP server on 127.0.0.1 that answers as a test script says: replies, errors (MOVED, ASK,
 * TRYAGAIN, LOADING, …), delays, replies split across packets, dropped connections. It is for the error
 * paths a real redis-server cannot produce on demand; everything else is tested against real servers.
 */
import { createServer, type Server, type Socket } from 'node:net';

export type ScriptReply =
  | { ok: string }
  | { err: string }
  | { int: number }
  | { bulk: Buffer | string | null }
  | { array: ScriptReply[] | null }
  /** Close the connection instead of answering (after writing `partial` bytes of nothing/this). */
  | { drop: true; partial?: Buffer }
  /** Never answer. */
  | { silent: true };

/** What the script sees of one command. */
export interface Seen {
  args: string[];
  /** Which connection (0, 1, … in accept order). */
  conn: number;
}

export interface ScriptOptions {
  /** Answer one command; undefined → +OK. */
  answer?: (cmd: Seen, server: ScriptedServer) => ScriptReply | undefined | Promise<ScriptReply | undefined>;
  /** Write each reply in pieces of this many bytes, one per event-loop turn (0: whole). */
  splitEvery?: number;
}

export function encodeReply(r: ScriptReply): Buffer {
  if ('ok' in r) return Buffer.from(`+${r.ok}\r\n`);
  if ('err' in r) return Buffer.from(`-${r.err}\r\n`);
  if ('int' in r) return Buffer.from(`:${r.int}\r\n`);
  if ('bulk' in r) {
    if (r.bulk === null) return Buffer.from('$-1\r\n');
    const b = Buffer.isBuffer(r.bulk) ? r.bulk : Buffer.from(r.bulk);
    return Buffer.concat([Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n')]);
  }
  if ('array' in r) {
    if (r.array === null) return Buffer.from('*-1\r\n');
    return Buffer.concat([Buffer.from(`*${r.array.length}\r\n`), ...r.array.map(encodeReply)]);
  }
  throw new Error('drop/silent are not encodable');
}

/** Parse complete RESP arrays of bulk strings from `buf`; returns the commands and the bytes used. */
function parseCommands(buf: Buffer): { cmds: string[][]; used: number } {
  const cmds: string[][] = [];
  let pos = 0;
  outer: while (pos < buf.length) {
    if (buf[pos] !== 0x2a) throw new Error(`scripted server: expected '*' at ${pos}`);
    let eol = buf.indexOf('\r\n', pos);
    if (eol < 0) break;
    const n = Number(buf.toString('latin1', pos + 1, eol));
    let p = eol + 2;
    const args: string[] = [];
    for (let i = 0; i < n; i++) {
      eol = buf.indexOf('\r\n', p);
      if (eol < 0) break outer;
      const len = Number(buf.toString('latin1', p + 1, eol));
      if (eol + 2 + len + 2 > buf.length) break outer;
      args.push(buf.toString('latin1', eol + 2, eol + 2 + len));
      p = eol + 2 + len + 2;
    }
    cmds.push(args);
    pos = p;
  }
  return { cmds, used: pos };
}

export class ScriptedServer {
  readonly seen: Seen[] = [];
  private readonly sockets = new Set<Socket>();
  private conns = 0;
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(opts: ScriptOptions = {}): Promise<ScriptedServer> {
    let self: ScriptedServer | null = null;
    const server = createServer((sock) => {
      const s = self!;
      const conn = s.conns++;
      s.sockets.add(sock);
      sock.on('close', () => s.sockets.delete(sock));
      sock.on('error', () => undefined);
      let pending = Buffer.alloc(0);
      // Replies go out in command order even when the script answers asynchronously.
      let chain: Promise<void> = Promise.resolve();
      sock.on('data', (d: Buffer) => {
        pending = Buffer.concat([pending, d]);
        const { cmds, used } = parseCommands(pending);
        pending = pending.subarray(used);
        for (const args of cmds) {
          const seen = { args, conn };
          s.seen.push(seen);
          chain = chain.then(async () => {
            if (sock.destroyed) return;
            const r = (await opts.answer?.(seen, s)) ?? { ok: 'OK' };
            if ('silent' in r) return;
            if ('drop' in r) {
              if (r.partial) sock.write(r.partial);
              sock.destroy();
              return;
            }
            const bytes = encodeReply(r);
            const step = opts.splitEvery ?? 0;
            if (step <= 0) sock.write(bytes);
            else
              for (let i = 0; i < bytes.length; i += step) {
                sock.write(bytes.subarray(i, i + step));
                await new Promise((res) => setImmediate(res));
              }
          });
        }
      });
    });
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(0, '127.0.0.1', () => res());
    });
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('scripted server: no port');
    self = new ScriptedServer(server, addr.port);
    return self;
  }

  /** Commands seen with this name (case-insensitive). */
  commands(name: string): Seen[] {
    return this.seen.filter((c) => c.args[0]?.toUpperCase() === name.toUpperCase());
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Cut every open connection. */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>((res) => this.server.close(() => res()));
  }
}

/** A CLUSTER SLOTS reply: ranges [start, end, port] served by 127.0.0.1. */
export function clusterSlots(ranges: Array<[number, number, number]>): ScriptReply {
  return {
    array: ranges.map(([a, b, port]) => ({ array: [{ int: a }, { int: b }, { array: [{ bulk: '127.0.0.1' }, { int: port }, { bulk: `node${port}` }] }] })),
  };
}
