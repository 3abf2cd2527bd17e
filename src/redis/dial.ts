/**
 * Open a TCP (or TLS) connection to a Redis endpoint with a connect timeout; the one place both the
 * import's RESP socket and sync's replica link open theirs. Errors are named by the caller (`failed`),
 * so each keeps its own error class and wording.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

export interface DialOptions {
  host: string;
  port: number;
  tls?: ConnectionOptions | null | undefined;
  timeoutMs: number;
}

/** `failed(kind, detail)`: 'timeout' (detail: the ms waited) or 'error' (detail: the socket's message). */
export function dial(o: DialOptions, failed: (kind: 'timeout' | 'error', detail: string) => Error): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const s: Socket = o.tls ? tlsConnect({ host: o.host, port: o.port, ...o.tls }) : netConnect({ host: o.host, port: o.port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(failed('timeout', String(o.timeoutMs)));
    }, o.timeoutMs);
    s.once(o.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(failed('error', e.message));
    });
  });
}
