/**
 * `--status-port N`: GET /status answers the sync's JSON status. Bound to 127.0.0.1 only: the status
 * names endpoints and keys, it is for the operator's own machine (or an ssh tunnel), never the network.
 */
import { createServer, type Server } from 'node:http';
import { RekeyUsageError } from '../errors.js';

export interface StatusServer {
  port: number;
  close(): Promise<void>;
}

export async function serveStatus(port: number, status: () => Record<string, unknown>): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/status') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /status is served here\n');
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('GET /status\n');
    } else {
      const body = JSON.stringify(status(), null, 2) + '\n';
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new RekeyUsageError(`--status-port ${port}: cannot listen on 127.0.0.1:${port} (${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message})`)),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
