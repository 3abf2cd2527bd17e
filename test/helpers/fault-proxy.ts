/**
 * A TCP proxy on 127.0.0.1 in front of a real server, for injecting network faults into a client under
 * test: delay every packet, stall forever (bytes are swallowed, nothing is answered, nothing is closed),
 * or cut the connection with a reset after N more bytes from the client. Faults can be switched at any
 * time and apply to every connection through the proxy.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface FaultProxy {
  port: number;
  /** `redis://127.0.0.1:<port>` */
  url: string;
  /** Bytes forwarded client → server so far (all connections). */
  readonly bytesUp: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Delay each packet (both directions) by this many ms (0: none). */
  delay(ms: number): void;
  /** From now on forward nothing in either direction and never close: an endless stall. */
  stall(): void;
  /** Forward normally again (new data only; what was swallowed while stalled is gone). */
  resume(): void;
  /** Reset every open connection after `n` more client → server bytes (0: now). */
  cutAfter(n: number): void;
  close(): Promise<void>;
}

export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  let delayMs = 0;
  let stalled = false;
  let cutBudget: number | null = null;
  let bytesUp = 0;
  let connections = 0;
  const pairs = new Set<{ client: Socket; server: Socket }>();

  const reset = (): void => {
    for (const p of pairs) {
      p.client.resetAndDestroy();
      p.server.destroy();
    }
    pairs.clear();
  };

  /** Forward `chunk` from `from` to `to`, honouring the current faults; keeps order under delays. */
  const forwarder = (to: Socket, up: boolean): ((chunk: Buffer) => void) => {
    let chain = Promise.resolve();
    return (chunk: Buffer) => {
      if (stalled) return;
      let data = chunk;
      if (up && cutBudget !== null) {
        if (data.length >= cutBudget) {
          data = data.subarray(0, cutBudget);
          cutBudget = 0;
        } else cutBudget -= data.length;
      }
      if (up) bytesUp += data.length;
      const send = (): void => {
        if (!stalled && !to.destroyed && data.length > 0) to.write(data);
        if (up && cutBudget === 0) {
          cutBudget = null;
          reset();
        }
      };
      if (delayMs > 0) {
        const ms = delayMs;
        chain = chain.then(() => new Promise<void>((r) => setTimeout(r, ms))).then(send);
      } else chain = chain.then(send);
    };
  };

  const server: Server = createServer((client) => {
    connections++;
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    const pair = { client, server: upstream };
    pairs.add(pair);
    client.on('data', forwarder(upstream, true));
    upstream.on('data', forwarder(client, false));
    const end = (): void => {
      pairs.delete(pair);
      if (stalled) return; // a stall never closes anything
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get bytesUp() {
      return bytesUp;
    },
    get connections() {
      return connections;
    },
    delay(ms) {
      delayMs = ms;
    },
    stall() {
      stalled = true;
    },
    resume() {
      stalled = false;
    },
    cutAfter(n) {
      cutBudget = n;
      if (n === 0) {
        cutBudget = null;
        reset();
      }
    },
    async close() {
      stalled = false;
      for (const p of pairs) {
        p.client.destroy();
        p.server.destroy();
      }
      pairs.clear();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
