/**
 * The transport's error paths, driven by a scripted RESP server: redirect loops end, retries are
 * bounded and succeed once the node answers, ASK sends ASKING for that unit only, a dropped connection
 * is fatal for the run (never a silent loss), and replies split into single bytes parse.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Transport, Unit } from '../../src/redis/transport.js';
import { ConnectionLostError, ReplyError, RespSocket, type Reply } from '../../src/redis/resp-socket.js';
import { parseRedisUrl } from '../../src/redis/endpoint.js';
import { appendAsking, appendCommand } from '../../src/encode/resp.js';
import type { ByteWriter } from '../../src/encode/rdb-primitives.js';
import { keySlot } from '../../src/redis/slot.js';
import { clusterSlots, ScriptedServer } from '../helpers/scripted-resp-server.js';

/** One SET per unit; records how it ended. */
class SetUnit extends Unit {
  outcome: { ok: Reply[] } | { failed: string } | null = null;
  constructor(key: string) {
    super(0, Buffer.from(key), keySlot(Buffer.from(key)));
    this.bytes = 32;
  }
  write(out: ByteWriter, asking: boolean): number {
    if (asking) appendAsking(out);
    appendCommand(out, ['SET', this.key, 'v']);
    return asking ? 2 : 1;
  }
  settle(replies: Reply[]): 'done' | 'again' {
    this.outcome = { ok: replies.slice() };
    return 'done';
  }
  fail(message: string): void {
    this.outcome = { failed: message };
  }
}

const servers: ScriptedServer[] = [];
const transports: Transport[] = [];
afterEach(async () => {
  for (const t of transports.splice(0)) t.destroy();
  for (const s of servers.splice(0)) await s.stop();
});

async function server(opts: Parameters<typeof ScriptedServer.start>[0]): Promise<ScriptedServer> {
  const s = await ScriptedServer.start(opts);
  servers.push(s);
  return s;
}

async function open(s: ScriptedServer, cluster: boolean): Promise<Transport> {
  const t = await Transport.open(parseRedisUrl(s.url), { cluster, window: { count: 8, bytes: 1 << 20 } });
  transports.push(t);
  return t;
}

async function run(t: Transport, u: Unit): Promise<void> {
  const p = t.submit(u);
  if (p) await p;
  await t.whenIdle();
}

describe('Transport against a scripted server', () => {
  it('a MOVED loop (a node that always redirects to itself) ends with a failed unit, not a hang', async () => {
    let port = 0;
    const s = await server({
      answer: ({ args }) => {
        if (args[0] === 'CLUSTER') return clusterSlots([[0, 16383, port]]);
        if (args[0] === 'SET') return { err: `MOVED ${keySlot(Buffer.from(args[1]!))} 127.0.0.1:${port}` };
        return undefined;
      },
    });
    port = s.port;
    const t = await open(s, true);
    const u = new SetUnit('k1');
    await run(t, u);
    expect(u.outcome).toEqual({ failed: expect.stringMatching(/too many cluster redirections \(last: MOVED \d+ 127\.0\.0\.1:\d+\)/) });
    expect(s.commands('SET').length).toBe(17); // the first send and 16 redirects
    expect(t.redirectsSeen.moved).toBe(16);
  });

  it('TRYAGAIN, LOADING and CLUSTERDOWN are retried after a delay until the node accepts the write', async () => {
    let port = 0;
    const errors = ['TRYAGAIN Multiple keys request during rehashing of slot', 'LOADING Redis is loading the dataset in memory', 'CLUSTERDOWN The cluster is down'];
    const s = await server({
      answer: ({ args }) => {
        if (args[0] === 'CLUSTER') return clusterSlots([[0, 16383, port]]);
        if (args[0] === 'SET') {
          const e = errors.shift();
          return e ? { err: e } : { ok: 'OK' };
        }
        return undefined;
      },
    });
    port = s.port;
    const t = await open(s, true);
    const u = new SetUnit('k2');
    const started = Date.now();
    await run(t, u);
    expect(u.outcome).toEqual({ ok: ['OK'] });
    expect(s.commands('SET').length).toBe(4);
    expect(t.redirectsSeen.retries).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250); // three delayed re-sends, not a busy loop
  });

  it('ASK re-sends to the named node behind ASKING, for that unit only; the slot table is unchanged', async () => {
    const b = await server({});
    let aPort = 0;
    const a = await server({
      answer: ({ args }) => {
        if (args[0] === 'CLUSTER') return clusterSlots([[0, 16383, aPort]]);
        if (args[0] === 'SET' && args[1] === 'asked') return { err: `ASK ${keySlot(Buffer.from('asked'))} 127.0.0.1:${b.port}` };
        return undefined;
      },
    });
    aPort = a.port;
    const t = await open(a, true);
    const u1 = new SetUnit('asked');
    await run(t, u1);
    expect(u1.outcome).toEqual({ ok: ['OK', 'OK'] }); // ASKING's reply, then SET's
    expect(b.seen.map((c) => c.args[0])).toEqual(['ASKING', 'SET']);
    const u2 = new SetUnit('plain');
    await run(t, u2);
    expect(a.commands('SET').map((c) => c.args[1])).toEqual(['asked', 'plain']);
    expect(t.redirectsSeen.ask).toBe(1);
  });

  it('a connection dropped with writes in flight is fatal: whenIdle rejects naming the node', async () => {
    const s = await server({ answer: ({ args }) => (args[0] === 'SET' ? { drop: true, partial: Buffer.from('+O') } : undefined) });
    const t = await open(s, false);
    const u = new SetUnit('k3');
    t.submit(u);
    await expect(t.whenIdle()).rejects.toThrow(ConnectionLostError);
    expect(String(t.fatal?.message)).toMatch(new RegExp(`127\\.0\\.0\\.1:${s.port}`));
    expect(u.outcome).toBeNull(); // neither done nor failed: its fate is unknown, the ledger marks it uncertain
  });

  it('a cluster whose slot table leaves slots unserved is refused at open', async () => {
    let port = 0;
    const s = await server({ answer: ({ args }) => (args[0] === 'CLUSTER' ? clusterSlots([[0, 8000, port]]) : undefined) });
    port = s.port;
    await expect(Transport.open(parseRedisUrl(s.url), { cluster: true, window: { count: 8, bytes: 1 << 20 } })).rejects.toThrow(
      /cluster slot 8001 is not served by any master/,
    );
  });
});

describe('RespSocket against a scripted server', () => {
  it('parses replies that arrive one byte per packet (nested arrays, bulk, nil, integers, errors)', async () => {
    const s = await server({
      splitEvery: 1,
      answer: ({ args }) =>
        args[0] === 'X'
          ? { array: [{ bulk: 'a\r\nb' }, { bulk: null }, { int: -42 }, { array: [{ ok: 'PONG' }, { err: 'ERR nope' }] }, { array: [] }] }
          : undefined,
    });
    const sock = await RespSocket.connect({ host: '127.0.0.1', port: s.port });
    try {
      const r = (await sock.call(['X'])) as Reply[];
      expect(Buffer.isBuffer(r[0]) && r[0].toString()).toBe('a\r\nb');
      expect(r[1]).toBeNull();
      expect(r[2]).toBe(-42);
      const inner = r[3] as Reply[];
      expect(inner[0]).toBe('PONG');
      expect(inner[1]).toBeInstanceOf(ReplyError);
      expect((inner[1] as ReplyError).message).toBe('ERR nope');
      expect(r[4]).toEqual([]);
    } finally {
      sock.destroy();
    }
  });

  it('a request that gets no reply byte within --request-timeout fails the connection', async () => {
    const s = await server({ answer: ({ args }) => (args[0] === 'SLOW' ? { silent: true } : undefined) });
    const sock = await RespSocket.connect({ host: '127.0.0.1', port: s.port, requestTimeoutMs: 300 });
    try {
      const started = Date.now();
      await expect(sock.call(['SLOW'])).rejects.toThrow(/no reply .*300 ms/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      sock.destroy();
    }
  });
});
