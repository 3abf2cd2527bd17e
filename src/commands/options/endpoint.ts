/**
 * redis-cli's connection flags as an option group: for the target of a command that has one
 * (withTarget adds them), else for its live source (withSourceEndpoint). The flags are folded into the
 * URL before the handler runs (redis/cli-endpoint.ts), so a handler only ever sees `--target URL` or a
 * `redis://` input.
 */
import type { Argv, Options } from 'yargs';
import { RekeyUsageError } from '../../errors.js';
import { cliFlagsGiven, endpointUrl, type CliEndpointFlags } from '../../redis/cli-endpoint.js';

export type EndpointFlagArgs = CliEndpointFlags;

function endpointOptions(of: string): Record<string, Options> {
  return {
    host: { alias: 'h', type: 'string', describe: `${of} host (as redis-cli -h)` },
    port: { alias: 'p', type: 'number', describe: `${of} port (as redis-cli -p)` },
    pass: { alias: 'a', type: 'string', describe: `${of} password (as redis-cli -a; safer: REDISCLI_AUTH)` },
    n: { type: 'number', describe: `${of} db number (as redis-cli -n)` },
    user: { type: 'string', describe: `${of} ACL user (as redis-cli --user)` },
    tls: { type: 'boolean', describe: `${of}: connect with TLS (rediss://)` },
    cacert: { type: 'string', describe: `${of}: CA certificate file to verify the server (TLS)` },
    cert: { type: 'string', describe: `${of}: client certificate file (mutual TLS, with --key)` },
    key: { type: 'string', describe: `${of}: client private key file (mutual TLS, with --cert)` },
  };
}

function flagsOf(argv: Record<string, unknown>): CliEndpointFlags {
  const f: CliEndpointFlags = {};
  for (const k of ['host', 'pass', 'user', 'cacert', 'cert', 'key'] as const) if (argv[k] !== undefined) f[k] = String(argv[k]);
  for (const k of ['port', 'n'] as const) if (argv[k] !== undefined) f[k] = Number(argv[k]);
  if (argv.tls !== undefined) f.tls = argv.tls === true;
  return f;
}

/** REDISCLI_AUTH alone (no flag) still fills in a password the URL and REKEY_<ROLE>_PASSWORD lack. */
function cliAuthApplies(role: 'target' | 'source'): boolean {
  return !!process.env.REDISCLI_AUTH && !process.env[role === 'target' ? 'REKEY_TARGET_PASSWORD' : 'REKEY_SOURCE_PASSWORD'];
}

/** The target's flags; `--target` may then be left out when -h or -p names the server. */
export function withTargetEndpoint<T>(y: Argv<T>): Argv<T & EndpointFlagArgs> {
  return y.options(endpointOptions('target')).middleware((parsed) => {
    const argv = parsed as Record<string, unknown>;
    const f = flagsOf(argv);
    const target = argv.target as string | undefined;
    if (target === undefined && f.host === undefined && f.port === undefined) {
      throw new RekeyUsageError('give the target: --target redis://host:port (or -h HOST -p PORT)');
    }
    if (cliFlagsGiven(f) || cliAuthApplies('target')) argv.target = endpointUrl(target, f, { role: 'target', what: '--target' });
  }, true) as unknown as Argv<T & EndpointFlagArgs>;
}

/** A command without a target: the flags describe its live source, a `redis://` (or `rediss://`) input. */
export function withSourceEndpoint<T>(y: Argv<T>): Argv<T & EndpointFlagArgs> {
  return y.options(endpointOptions('redis:// input')).middleware((parsed) => {
    const argv = parsed as Record<string, unknown>;
    const f = flagsOf(argv);
    const given = cliFlagsGiven(f);
    if (!given && !cliAuthApplies('source')) return;
    const input = argv.input as string | string[] | undefined;
    const inputs = Array.isArray(input) ? input : input === undefined ? [] : [input];
    const live = (s: string): boolean => /^rediss?:\/\//i.test(s);
    if (given && !inputs.some(live)) throw new RekeyUsageError('-h/-p/-a/-n/--user/--tls describe a live source: give redis:// (or rediss://) as the input');
    const merged = inputs.map((s) => (live(s) ? endpointUrl(s, f, { role: 'source' }) : s));
    argv.input = Array.isArray(input) ? merged : merged[0];
  }, true) as unknown as Argv<T & EndpointFlagArgs>;
}
