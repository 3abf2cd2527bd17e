/** Node TLS options for a rediss:// endpoint (CA bundle, SNI by host name). */
import type { ConnectionOptions } from 'node:tls';
import type { TargetSpec } from './endpoint.js';

/** Node TLS options for a spec (null for plain TCP). */
export function tlsOptions(spec: TargetSpec, host = spec.host): ConnectionOptions | null {
  if (!spec.tls) return null;
  const o: ConnectionOptions = {};
  if (spec.tlsCa) o.ca = spec.tlsCa;
  // SNI takes host names only, never an IP literal
  if (!/^[\d.]+$|:/.test(host)) o.servername = host;
  return o;
}
