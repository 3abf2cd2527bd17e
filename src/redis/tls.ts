/** Node TLS options for a rediss:// endpoint (CA bundle, client certificate, SNI by host name). */
import type { ConnectionOptions } from 'node:tls';
import { createConnection } from 'node:net';
import type { TargetSpec } from './endpoint.js';

/** Node TLS options for a spec (null for plain TCP). */
export function tlsOptions(spec: TargetSpec, host = spec.host): ConnectionOptions | null {
  if (!spec.tls) return null;
  const o: ConnectionOptions = {};
  if (spec.tlsCa) o.ca = spec.tlsCa;
  if (spec.tlsCert && spec.tlsKey) {
    o.cert = spec.tlsCert;
    o.key = spec.tlsKey;
  }
  // SNI takes host names only, never an IP literal
  if (!/^[\d.]+$|:/.test(host)) o.servername = host;
  return o;
}

/**
 * Before a TLS handshake: does host:port answer plain RESP? A Redis without TLS reads a ClientHello as an
 * inline command and waits for a newline that never comes, so the handshake would hang until a timeout.
 * Sends `PING\r\n` in clear text: a RESP reply (`+PONG`, `-NOAUTH …`) means plain TCP, and the reason is
 * returned; a TLS server drops or alerts on it, and anything else is left to the real connection (null).
 */
export function checkSpeaksTls(host: string, port: number, timeoutMs = 2000): Promise<string | null> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port });
    let got = '';
    const done = (v: string | null): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    s.once('connect', () => s.write('PING\r\n'));
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) done(/^[+\-:$*]/.test(got) ? `${host}:${port} answers plain RESP (${JSON.stringify(got.split('\r\n')[0]!.slice(0, 40))}), not TLS` : null);
    });
    // refused, reset, closed: the real connection reports it
    s.on('error', () => done(null));
    s.on('close', () => done(null));
  });
}
