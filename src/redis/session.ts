/**
 * Shared start of every command that talks to a target: parse the URL, connect, PING, read INFO and the
 * settings that matter (RDB version, memory, cluster mode, proto-max-bulk-len), with secrets scrubbed
 * from every error.
 */
import { RekeyUsageError } from '../errors.js';
import { connectClient, parseTargetUrl, standaloneClient, TargetConnectionError } from './connect.js';
import type { TargetSpec } from './endpoint.js';
import { readTargetInfo, targetInfoFromInfo, type TargetInfo } from './server-info.js';
import { callEveryNode, Transport, type WindowOptions } from './transport.js';
import { ReplyError } from './resp-socket.js';

export interface TargetSession {
  spec: TargetSpec;
  info: TargetInfo;
  cluster: boolean;
  /** Keys in the target (all dbs / all masters) when the session started. */
  keysBefore: number;
  /** Sum over masters (cluster) of used_memory / maxmemory. */
  usedMemory: number;
  maxmemory: number;
  masters: string[];
}

export interface ProbeOptions {
  tlsCa?: string;
  /** --cluster given: require a cluster. */
  cluster?: boolean;
}

export async function probeTarget(url: string, o: ProbeOptions = {}): Promise<TargetSession> {
  const spec = parseTargetUrl(url, o.tlsCa !== undefined ? { tlsCa: o.tlsCa } : {});
  const c = standaloneClient(spec, 0);
  let info: TargetInfo;
  try {
    await connectClient(c, spec);
    await c.ping();
    info = await readTargetInfo(c);
  } catch (e) {
    if (e instanceof TargetConnectionError) throw e;
    throw new TargetConnectionError(`${spec.display}: ${spec.redactor.message(e)}`);
  } finally {
    c.disconnect();
  }
  if (o.cluster && !info.clusterEnabled) throw new RekeyUsageError(`--cluster: ${spec.display} is not a cluster node (cluster_enabled:0)`);
  const cluster = info.clusterEnabled;
  if (cluster && spec.db !== null && spec.db !== 0) throw new RekeyUsageError(`${spec.display}: a cluster has only db 0`);
  let keysBefore = [...info.keyspace.values()].reduce((a, b) => a + b, 0);
  let usedMemory = info.usedMemory;
  let maxmemory = info.maxmemory;
  let masters = [`${spec.host}:${spec.port}`];
  if (cluster) {
    const t = await openTransport(spec, true, { count: 1, bytes: 1 << 20 });
    try {
      const infos = await callEveryNode(t, ['INFO']);
      keysBefore = 0;
      usedMemory = 0;
      maxmemory = 0;
      masters = infos.map((i) => i.addr);
      for (const { reply } of infos) {
        if (reply instanceof ReplyError || !Buffer.isBuffer(reply)) continue;
        const ni = targetInfoFromInfo(reply.toString('utf8'));
        keysBefore += [...ni.keyspace.values()].reduce((a, b) => a + b, 0);
        usedMemory += ni.usedMemory;
        maxmemory = ni.maxmemory > 0 && maxmemory >= 0 ? maxmemory + ni.maxmemory : -1;
      }
      if (maxmemory < 0) maxmemory = 0;
    } finally {
      await t.close();
    }
  }
  return { spec, info, cluster, keysBefore, usedMemory, maxmemory, masters };
}

/** The raw pipelined connection(s) of the write path. */
export async function openTransport(spec: TargetSpec, cluster: boolean, window: WindowOptions): Promise<Transport> {
  try {
    return await Transport.open(spec, { cluster, window, name: 'rekey' });
  } catch (e) {
    throw new TargetConnectionError(`${spec.display}: ${spec.redactor.message(e)}`);
  }
}

/** Keys in the target now (DBSIZE summed over dbs / masters). */
export async function countTargetKeys(t: Transport): Promise<number> {
  const infos = await callEveryNode(t, ['INFO', 'keyspace']);
  let n = 0;
  for (const { reply } of infos) {
    if (!Buffer.isBuffer(reply)) continue;
    for (const m of reply.toString('latin1').matchAll(/keys=(\d+)/g)) n += Number(m[1]);
  }
  return n;
}
