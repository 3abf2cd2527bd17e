/**
 * A live Redis (standalone or Cluster) as a read-only source: SCAN each db (or every master of a
 * cluster), pipeline `DUMP key` + `PEXPIRETIME key` (PTTL before 7.0) per batch of keys, and emit the
 * same records an RDB file gives: a header, `selectdb` between dbs, one `RdbKeyRecord` per key (the
 * DUMP payload is the value's RDB serialization, so nothing downstream can tell the difference) and
 * an `eof`.
 *
 * It never writes. The only commands it sends are SCAN, DUMP, PEXPIRETIME/PTTL, INFO, CLUSTER NODES,
 * PING, CLIENT SETNAME / CLIENT NO-TOUCH (7.2+: reading does not disturb LRU/LFU) and SELECT on its own
 * connections (plus, only when a cluster slot moves during the run, the CLUSTER SLOTS an ioredis
 * Cluster client sends to follow a MOVED/ASK). Commands are rate limited by a token bucket
 * (`maxOpsPerSec`), so production is not hurt.
 *
 * Consistency: each key is read at its own moment (there is no snapshot). A key deleted between SCAN
 * and DUMP is `vanished` (counted, reported through `onVanished`), not an error; a key changed during
 * the run is read as it was when DUMPed (validation afterwards reports keys changed since).
 */
import type { Redis, Cluster, RedisOptions, ClusterOptions } from 'ioredis';
import { ioredis } from '../redis/connect.js';
import { RekeyInputError, RekeyUsageError } from '../errors.js';
import type { Flavor, RdbRecord } from '../records/types.js';
import { RdbKeyRecord } from '../rdb/parser.js';
import { describeType, MAX_REDIS_VERSION, MAX_VALKEY_VERSION } from '../rdb/constants.js';
import { crc64 } from '../codec/crc64.js';
import { displayKey } from '../records/printable.js';
import { DigestKeyGuard } from '../pipeline/key-guard.js';
import { tlsOptions } from '../redis/tls.js';
import { parseRedisUrl, type TargetSpec } from '../redis/endpoint.js';
import { parseInfo, redisRdbVersion, valkeyRdbVersion } from '../redis/server-info.js';
import { futureDumpMessage, futureTypeHint } from '../redis/server-versions.js';
import type { OpenedInput } from './open.js';

export interface RedisSourceOptions {
  /** Only these dbs (default: every non-empty db per INFO keyspace; a cluster has only db 0). */
  db?: number[];
  /** SCAN MATCH glob pushed down to the server (latin1: one character per byte). See scan-match.ts. */
  match?: string;
  /** SCAN COUNT hint. Default 1000. */
  scanCount?: number;
  /** Commands per second, all connections together (SCAN, DUMP and PEXPIRETIME each count). Default: unlimited. */
  maxOpsPerSec?: number;
  /** Keys per DUMP pipeline (default 500; smaller when rate limited so commands are spread evenly). */
  pipelineKeys?: number;
  /** CA file for rediss://. */
  tlsCa?: string;
  /** A key SCAN returned was gone (or expired) by the time it was DUMPed. */
  onVanished?: (db: number, key: Buffer) => void;
  /** A key whose DUMP failed with a server error (e.g. NOPERM): report and go on. Without it the run stops. */
  onKeyError?: (db: number, key: Buffer, message: string) => void;
  /** Observation hook, called with each SCAN reply before its keys are read (progress, tests). */
  onScanBatch?: (db: number, keys: Buffer[]) => void | Promise<void>;
  /** true: require a cluster; false: read only the node given, even if it is a cluster node; default: detect. */
  cluster?: boolean;
  /** Do not verify the CRC64 of DUMP payloads. */
  ignoreChecksum?: boolean;
  /** Accept DUMP payload versions newer than rekey knows. */
  allowFutureVersion?: boolean;
  /**
   * Drop keys SCAN returns a second time (it may, while the server resizes a hash table). Costs ~32
   * bytes per key. Default true.
   */
  dedupe?: boolean;
  /** Environment for REKEY_SOURCE_PASSWORD / REKEY_SOURCE_USER (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** CLIENT SETNAME of the source connections. Default `rekey-source`. */
  clientName?: string;
}

export interface LiveServerInfo {
  server: 'redis' | 'valkey';
  version: string;
  /** The server's own RDB version (what its SAVE writes). */
  rdbVersion: number;
  flavor: Flavor;
  cluster: boolean;
  /** `host:port` of every node read (the masters of a cluster). */
  nodes: string[];
  /** The dbs read (standalone). */
  dbs: number[];
  /** Keys in the dbs read per INFO keyspace when opened (standalone; null for a cluster). */
  expectedKeys: number | null;
  /** PEXPIRETIME (absolute expiry) is used; else PTTL + local clock. */
  absoluteExpiry: boolean;
}

export interface LiveSourceStats {
  /** Key records emitted. */
  keys: number;
  vanished: number;
  /** Keys whose DUMP failed (reported to onKeyError). */
  keyErrors: number;
  /** Keys SCAN returned more than once (dropped). */
  duplicates: number;
  /** Keys read through a MOVED/ASK redirect (a cluster slot moved during the run). */
  redirected: number;
  scans: number;
  /** Every command sent (what the rate limit counts). */
  commands: number;
  dumpBytes: number;
}

export interface RedisSourceInput extends OpenedInput {
  readonly live: true;
  readonly server: LiveServerInfo;
  /** The SCAN MATCH glob in use, or null. */
  readonly match: string | null;
  vanished(): number;
  stats(): LiveSourceStats;
}

/** True for an input opened from a redis:// / rediss:// URL. */
export function isLiveInput(input: OpenedInput): input is RedisSourceInput {
  return (input as Partial<RedisSourceInput>).live === true;
}

// ---------------------------------------------------------------------------------------------
// URL

/** Parse a source URL (see parseRedisUrl); the password may come from REKEY_SOURCE_PASSWORD. */
export function parseSourceUrl(url: string, opts: { tlsCa?: string; env?: NodeJS.ProcessEnv } = {}): TargetSpec {
  return parseRedisUrl(url, { ...opts, role: 'source' });
}

// ---------------------------------------------------------------------------------------------
// rate limit

/** Token bucket over commands sent. Tokens may go negative: the taker then waits off the debt. */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  constructor(
    readonly ratePerSec: number,
    readonly burst: number,
  ) {
    this.tokens = burst;
  }

  async take(n: number): Promise<void> {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSec) / 1000);
    this.last = now;
    this.tokens -= n;
    if (this.tokens < 0) await sleep((-this.tokens * 1000) / this.ratePerSec);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// connections

interface Node {
  host: string;
  port: number;
}

function clientOptions(spec: TargetSpec, node: Node, db: number, name: string): RedisOptions {
  const o: RedisOptions = {
    host: node.host,
    port: node.port,
    db,
    lazyConnect: true,
    connectionName: name,
    disableClientInfo: true,
    connectTimeout: 10_000,
    // how long ioredis waits for a socket that is already gone before the process may exit
    disconnectTimeout: 100,
    maxRetriesPerRequest: 3,
    enableReadyCheck: true,
    enableAutoPipelining: false,
    retryStrategy: (times) => (times > 10 ? null : Math.min(100 * times, 2000)),
  };
  if (spec.username !== null) o.username = spec.username;
  if (spec.password !== null) o.password = spec.password;
  const t = tlsOptions(spec, node.host);
  if (t) o.tls = t;
  return o;
}

async function connect(spec: TargetSpec, node: Node, db: number, name: string): Promise<Redis> {
  const o = clientOptions(spec, node, db, name);
  const retry = o.retryStrategy;
  // The first connection fails fast (and with the socket's own error); reconnects later retry.
  const c = new (ioredis().Redis)({ ...o, retryStrategy: () => null });
  let lastError: unknown = null;
  c.on('error', (e) => {
    lastError = e; // also surfaced through command rejections
  });
  try {
    await c.connect();
  } catch (e) {
    c.disconnect();
    const cause = lastError !== null && /Connection is closed/.test(String((e as Error)?.message)) ? lastError : e;
    throw new RekeyUsageError(`${spec.display}: cannot read from ${node.host}:${node.port}${db ? ` db ${db}` : ''}: ${spec.redactor.message(cause)}`);
  }
  if (retry) c.options.retryStrategy = retry;
  return c;
}

function isReplyError(e: unknown): e is Error {
  return e instanceof Error && e.name === 'ReplyError';
}

function isRedirect(e: unknown): boolean {
  return isReplyError(e) && /^(MOVED|ASK) /.test(e.message);
}

/** `CLUSTER NODES` → the masters that serve slots (not failed, with an address). */
export function mastersFromClusterNodes(text: string, seed: Node): Node[] {
  const out: Node[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(' ');
    if (f.length < 8) continue;
    const flags = (f[2] ?? '').split(',');
    if (!flags.includes('master') || flags.some((x) => x === 'fail' || x === 'noaddr' || x === 'handshake')) continue;
    if (f.length < 9) continue; // no slots: holds no keys
    const addr = (f[1] ?? '').split('@')[0]!.split(',')[0]!;
    const colon = addr.lastIndexOf(':');
    if (colon < 0) continue;
    let host = addr.slice(0, colon);
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    const port = Number(addr.slice(colon + 1));
    if (!Number.isInteger(port) || port <= 0) continue;
    out.push({ host: host === '' ? seed.host : host, port });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// read-ahead

/** Pull one batch ahead of the consumer so network reads overlap downstream work. */
async function* readAhead<T>(src: AsyncGenerator<T>): AsyncGenerator<T> {
  let p = src.next();
  p.catch(() => undefined);
  try {
    for (;;) {
      const r = await p;
      if (r.done) return;
      p = src.next();
      p.catch(() => undefined);
      yield r.value;
    }
  } finally {
    await p.catch(() => undefined);
    await src.return(undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// the source

function versionAtLeast(v: string, major: number, minor: number): boolean {
  const [a, b] = v.split('.').map((x) => Number.parseInt(x, 10));
  return (a ?? 0) > major || ((a ?? 0) === major && (b ?? 0) >= minor);
}

/**
 * Connect to a live Redis, read what it is (version, RDB version, cluster mode, non-empty dbs) and
 * return an input whose batches SCAN + DUMP it. The connections used for reading are opened when the
 * batches are iterated and closed when the iteration ends (or is abandoned).
 */
export async function openRedisSource(url: string, opts: RedisSourceOptions = {}): Promise<RedisSourceInput> {
  const spec = parseSourceUrl(url, { ...(opts.tlsCa !== undefined ? { tlsCa: opts.tlsCa } : {}), ...(opts.env ? { env: opts.env } : {}) });
  const name = opts.clientName ?? 'rekey-source';
  const scanCount = opts.scanCount ?? 1000;
  if (!(Number.isInteger(scanCount) && scanCount >= 1)) throw new RekeyUsageError(`--scan-count ${opts.scanCount}: expected a whole number ≥ 1`);
  const rate = opts.maxOpsPerSec;
  if (rate !== undefined && !(rate > 0)) throw new RekeyUsageError(`--max-ops-per-sec ${rate}: expected a number > 0`);
  if (opts.db) for (const d of opts.db) if (!(Number.isInteger(d) && d >= 0)) throw new RekeyUsageError(`--db ${d}: expected a db number`);
  const matchBytes = opts.match !== undefined && opts.match !== null && opts.match !== '' && opts.match !== '*' ? Buffer.from(opts.match, 'latin1') : null;
  const seed: Node = { host: spec.host, port: spec.port };

  // What the server is.
  const probe = await connect(spec, seed, 0, name);
  let fields: Map<string, string>;
  let clusterNodes: string | null = null;
  try {
    fields = parseInfo(String(await probe.call('INFO')));
    const enabled = fields.get('cluster_enabled') === '1';
    if (opts.cluster === true && !enabled) throw new RekeyUsageError(`${spec.display}: not a cluster node (cluster_enabled:0)`);
    if (enabled && opts.cluster !== false) clusterNodes = String(await probe.call('CLUSTER', 'NODES'));
  } catch (e) {
    if (e instanceof RekeyUsageError) throw e;
    throw new RekeyUsageError(`${spec.display}: ${spec.redactor.message(e)}`);
  } finally {
    probe.disconnect();
  }
  const valkeyVersion = fields.get('valkey_version') ?? null;
  const server: 'redis' | 'valkey' = valkeyVersion !== null || fields.get('server_name') === 'valkey' ? 'valkey' : 'redis';
  const redisVersion = fields.get('redis_version') ?? '0.0.0';
  const version = server === 'valkey' ? (valkeyVersion ?? redisVersion) : redisVersion;
  const valkey9 = server === 'valkey' && versionAtLeast(version, 9, 0);
  const headerFlavor: Flavor = valkey9 ? 'valkey' : 'redis';
  const serverRdb = server === 'valkey' ? valkeyRdbVersion(version) : redisRdbVersion(redisVersion);
  if (serverRdb === 0) throw new RekeyUsageError(`${spec.display}: Redis ${redisVersion} has no DUMP (2.6 or newer is needed)`);
  const magic = headerFlavor === 'valkey' ? `VALKEY${String(serverRdb).padStart(3, '0')}` : `REDIS${String(serverRdb).padStart(4, '0')}`;
  let absoluteExpiry = versionAtLeast(redisVersion, 7, 0);
  const noTouch = server === 'valkey' || versionAtLeast(redisVersion, 7, 2);

  const cluster = clusterNodes !== null;
  let nodes: Node[];
  let dbs: number[];
  let expectedKeys: number | null = null;
  if (cluster) {
    if (spec.db !== null && spec.db !== 0) throw new RekeyUsageError(`${spec.display}: a cluster has only db 0`);
    if (opts.db && opts.db.length > 0 && !opts.db.includes(0)) throw new RekeyUsageError(`--db ${opts.db.join(' ')}: a cluster has only db 0`);
    nodes = mastersFromClusterNodes(clusterNodes!, seed);
    if (nodes.length === 0) throw new RekeyUsageError(`${spec.display}: CLUSTER NODES lists no master serving slots`);
    dbs = [0];
  } else {
    nodes = [seed];
    const keyspace = new Map<number, number>();
    for (const [k, v] of fields) {
      const m = /^db(\d+)$/.exec(k);
      if (m) keyspace.set(Number(m[1]), Number(/keys=(\d+)/.exec(v)?.[1] ?? 0));
    }
    if (spec.db !== null) {
      if (opts.db && opts.db.length > 0 && !opts.db.includes(spec.db)) {
        throw new RekeyUsageError(`${spec.display}: the URL selects db ${spec.db} but --db gives ${opts.db.join(' ')}`);
      }
      dbs = [spec.db];
    } else if (opts.db && opts.db.length > 0) {
      dbs = [...new Set(opts.db)].sort((a, b) => a - b);
    } else {
      dbs = [...keyspace.entries()].filter(([, n]) => n > 0).map(([d]) => d).sort((a, b) => a - b);
    }
    expectedKeys = dbs.reduce((s, d) => s + (keyspace.get(d) ?? 0), 0);
  }

  const info: LiveServerInfo = {
    server,
    version,
    rdbVersion: serverRdb,
    flavor: headerFlavor,
    cluster,
    nodes: nodes.map((n) => `${n.host}:${n.port}`),
    dbs,
    expectedKeys,
    absoluteExpiry,
  };

  const stats: LiveSourceStats = { keys: 0, vanished: 0, keyErrors: 0, duplicates: 0, redirected: 0, scans: 0, commands: 0, dumpBytes: 0 };
  const bucket = rate !== undefined ? new TokenBucket(rate, Math.max(1, rate / 10)) : null;
  const pipelineKeys = Math.max(1, Math.min(opts.pipelineKeys ?? 500, rate !== undefined ? Math.max(1, Math.floor(rate / 20)) : Infinity));
  const guard = opts.dedupe === false ? null : new DigestKeyGuard(1 << 12);
  const spend = async (n: number): Promise<void> => {
    stats.commands += n;
    if (bucket) await bucket.take(n);
  };

  /** A DUMP reply → a record (or an input error when the payload is not a valid DUMP). */
  const toRecord = (db: number, key: Buffer, dump: Buffer, expireAtMs: number | null): RdbKeyRecord => {
    const where = `${spec.display}${cluster ? '' : ` db ${db}`} DUMP ${displayKey(key)}`;
    if (dump.length < 11) throw new RekeyInputError(where, 0, `expected a DUMP payload of at least 11 bytes (type, value, RDB version, CRC64), got ${dump.length}`);
    const end = dump.length - 10;
    const rdbVersion = dump.readUInt16LE(end);
    const crc = dump.subarray(end + 2);
    if (!opts.ignoreChecksum && crc.some((b) => b !== 0)) {
      const computed = crc64(dump, 0, end + 2);
      if (!computed.equals(crc)) {
        throw new RekeyInputError(where, end + 2, `expected CRC64 ${computed.toString('hex')} (computed over the DUMP payload), found ${crc.toString('hex')}: the payload is corrupt (--ignore-checksum reads it anyway)`);
      }
    }
    const flavor: Flavor = valkey9 && rdbVersion >= 80 ? 'valkey' : 'redis';
    const max = flavor === 'valkey' ? MAX_VALKEY_VERSION : MAX_REDIS_VERSION;
    if (rdbVersion > max && !opts.allowFutureVersion) {
      throw new RekeyInputError(where, end, futureDumpMessage(server, version, rdbVersion, max));
    }
    const rdbType = dump[0]!;
    const d = describeType(rdbType, flavor);
    if (d === null) throw new RekeyInputError(where, 0, `expected a value type byte, found 0x${rdbType.toString(16).padStart(2, '0')}${futureTypeHint(server, version, rdbVersion, max) ?? ''}`);
    return new RdbKeyRecord(db, key, d.type, rdbType, d.encoding, flavor, rdbVersion, expireAtMs, dump.subarray(1, end), stats.keys++, 1, where);
  };

  const vanish = (db: number, key: Buffer): void => {
    stats.vanished++;
    opts.onVanished?.(db, key);
  };
  const keyError = (db: number, key: Buffer, e: Error): void => {
    stats.keyErrors++;
    const msg = spec.redactor.message(e);
    if (!opts.onKeyError) throw new RekeyInputError(`${spec.display}${cluster ? '' : ` db ${db}`} DUMP ${displayKey(key)}`, 0, `expected a DUMP reply, got the error "${msg}"`);
    opts.onKeyError(db, key, msg);
  };

  /** TTL reply → absolute expiry; undefined when the key is gone. */
  const expiry = (ttl: number, sentAt: number): number | null | undefined => {
    if (ttl === -2) return undefined;
    if (ttl < 0) return null;
    return absoluteExpiry ? ttl : sentAt + ttl;
  };

  let redirectClient: Cluster | null = null;
  /** A key whose slot moved during the run: read it wherever the cluster says it is now. */
  const readRedirected = async (key: Buffer): Promise<{ dump: Buffer | null; ttl: number; sentAt: number }> => {
    if (redirectClient === null) {
      const ro = clientOptions(spec, seed, 0, name);
      delete ro.host;
      delete ro.port;
      delete ro.db;
      const co: ClusterOptions = { redisOptions: ro, scaleReads: 'master', lazyConnect: true, maxRedirections: 16, enableReadyCheck: true };
      if (spec.tls) co.dnsLookup = (address, cb) => cb(null, address);
      redirectClient = new (ioredis().Cluster)(nodes.map((n) => ({ host: n.host, port: n.port })), co);
      redirectClient.on('error', () => undefined);
    }
    await spend(2);
    const sentAt = Date.now();
    const dump = (await redirectClient.callBuffer('DUMP', key)) as Buffer | null;
    const ttl = Number(await redirectClient.call(absoluteExpiry ? 'PEXPIRETIME' : 'PTTL', key));
    stats.redirected++;
    return { dump, ttl, sentAt };
  };

  /** DUMP + TTL for a group of keys, in one pipeline. Retries connection-level failures. */
  const fetchGroup = async (client: Redis, db: number, keys: Buffer[]): Promise<RdbKeyRecord[]> => {
    for (let attempt = 0; ; attempt++) {
      await spend(keys.length * 2);
      const p = client.pipeline();
      for (const k of keys) {
        p.dumpBuffer(k);
        if (absoluteExpiry) p.pexpiretime(k);
        else p.pttl(k);
      }
      const sentAt = Date.now();
      let res: Array<[Error | null, unknown]> | null;
      try {
        res = await p.exec();
      } catch (e) {
        res = null;
        if (attempt >= 2) throw new RekeyUsageError(`${spec.display}: reading db ${db} failed: ${spec.redactor.message(e)}`);
      }
      if (res === null) {
        await sleep(200 * (attempt + 1));
        continue;
      }
      // A reply failed without a server error (connection lost, retries exhausted): read the group again.
      const lost = res.find(([err]) => err !== null && !isReplyError(err));
      if (lost) {
        if (attempt >= 2) throw new RekeyUsageError(`${spec.display}: reading db ${db} failed: ${spec.redactor.message(lost[0])}`);
        await sleep(200 * (attempt + 1));
        continue;
      }
      // PEXPIRETIME renamed or disabled: fall back to PTTL for the rest of the run.
      if (absoluteExpiry && res.some(([err], i) => i % 2 === 1 && err !== null && /unknown command|NOPERM/i.test(err.message))) {
        absoluteExpiry = false;
        info.absoluteExpiry = false;
        attempt--;
        continue;
      }
      const out: RdbKeyRecord[] = [];
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        let [dErr, dump] = res[2 * i]! as [Error | null, Buffer | null];
        let [tErr, ttl] = res[2 * i + 1]! as [Error | null, number];
        let at = sentAt;
        if (isRedirect(dErr) || isRedirect(tErr)) {
          try {
            ({ dump, ttl, sentAt: at } = await readRedirected(key));
            dErr = tErr = null;
          } catch (e) {
            dErr = e as Error;
          }
        }
        if (dErr) {
          keyError(db, key, dErr);
          continue;
        }
        if (dump === null) {
          vanish(db, key);
          continue;
        }
        if (tErr) {
          keyError(db, key, tErr);
          continue;
        }
        stats.dumpBytes += dump.length;
        const exp = expiry(Number(ttl), at);
        if (exp === undefined) {
          vanish(db, key);
          continue;
        }
        out.push(toRecord(db, key, dump, exp));
      }
      return out;
    }
  };

  const scanOne = async function* (node: Node, db: number): AsyncGenerator<RdbRecord[]> {
    const client = await connect(spec, node, db, name);
    try {
      if (noTouch) await client.call('CLIENT', 'NO-TOUCH', 'ON').catch(() => undefined);
      let cursor = '0';
      do {
        await spend(1);
        stats.scans++;
        const args: Array<string | Buffer | number> = [cursor];
        if (matchBytes) args.push('MATCH', matchBytes);
        args.push('COUNT', scanCount);
        let reply: [Buffer, Buffer[]] | null = null;
        for (let attempt = 0; reply === null; attempt++) {
          try {
            reply = (await client.callBuffer('SCAN', ...args)) as [Buffer, Buffer[]];
          } catch (e) {
            if (isReplyError(e) || attempt >= 2) throw new RekeyUsageError(`${spec.display}: SCAN of db ${db} on ${node.host}:${node.port} failed: ${spec.redactor.message(e)}`);
            await sleep(200 * (attempt + 1));
          }
        }
        cursor = reply[0].toString('latin1');
        let keys = reply[1];
        if (guard) {
          const before = keys.length;
          keys = keys.filter((k) => !guard.add(db, k));
          stats.duplicates += before - keys.length;
        }
        if (opts.onScanBatch) await opts.onScanBatch(db, keys);
        for (let i = 0; i < keys.length; i += pipelineKeys) {
          const recs = await fetchGroup(client, db, keys.slice(i, i + pipelineKeys));
          if (recs.length > 0) yield recs;
        }
      } while (cursor !== '0');
    } finally {
      client.disconnect();
    }
  };

  const all = async function* (): AsyncGenerator<RdbRecord[]> {
    try {
      yield [{ kind: 'header', rdbVersion: serverRdb, flavor: headerFlavor, magic }];
      for (const db of dbs) {
        yield [{ kind: 'selectdb', db, offset: stats.keys }];
        for (const node of nodes) yield* scanOne(node, db);
      }
      yield [{ kind: 'eof', checksum: null, checksumOk: null, offset: stats.keys }];
    } finally {
      const rc = redirectClient as Cluster | null;
      rc?.disconnect();
      redirectClient = null;
    }
  };

  let started = false;
  const batches: AsyncIterable<RdbRecord[]> = {
    [Symbol.asyncIterator]() {
      if (started) throw new RekeyUsageError(`${spec.display}: a live source can be read once; open it again`);
      started = true;
      return readAhead(all());
    },
  };

  return {
    name: spec.display,
    format: 'rdb',
    gzip: false,
    bytesRead: () => stats.dumpBytes,
    batches,
    live: true,
    server: info,
    match: matchBytes ? matchBytes.toString('latin1') : null,
    vanished: () => stats.vanished,
    stats: () => ({ ...stats }),
  };
}
