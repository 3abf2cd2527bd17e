/**
 * Connect to a source as a replica, the way a Redis replica does (replication.c syncWithMaster):
 * PING, AUTH, REPLCONF listening-port, REPLCONF capa eof capa psync2, then PSYNC. The source answers
 * +FULLRESYNC <replid> <offset> followed by the RDB (`$<len>\r\n` or diskless `$EOF:<mark>\r\n…<mark>`,
 * readSyncBulkPayload; newlines before it are keep-alives), or +CONTINUE [<new replid>] and the stream.
 *
 * Nothing else is ever sent on this connection but REPLCONF ACK: a replica link does not write.
 */
import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { dial } from '../redis/dial.js';
import { encodeCommand } from '../encode/resp.js';
import { ReplicationProtocolError, StreamReader } from './stream-reader.js';

export interface ReplicaLinkOptions {
  host: string;
  port: number;
  tls: ConnectionOptions | null;
  username: string | null;
  password: string | null;
  /** Where to continue from: PSYNC <replid> <offset + 1>. */
  resume: { replid: string; offset: number } | null;
  /** Shown in errors (the source URL, password redacted). */
  display: string;
  connectTimeoutMs?: number;
}

/** The source refused to act as our master (PSYNC unsupported, managed service, ACL). */
export class PsyncRefusedError extends Error {
  override readonly name = 'PsyncRefusedError';
}

export type SyncStart =
  | { kind: 'full'; replid: string; offset: number; payload: AsyncIterable<Buffer>; payloadSize: number | null }
  | { kind: 'continue'; replid: string; offset: number };

export class ReplicaLink {
  private constructor(
    readonly socket: Socket,
    readonly reader: StreamReader,
    readonly display: string,
  ) {}

  static async open(o: ReplicaLinkOptions): Promise<ReplicaLink> {
    const socket = await dial({ host: o.host, port: o.port, tls: o.tls, timeoutMs: o.connectTimeoutMs ?? 10_000 }, (kind, detail) =>
      kind === 'timeout'
        ? new ReplicationProtocolError(`${o.display}: connection timed out after ${detail} ms`)
        : new ReplicationProtocolError(`${o.display}: cannot connect: ${detail}`),
    );
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    return new ReplicaLink(socket, new StreamReader(socket, o.display), o.display);
  }

  private send(args: string[]): void {
    this.socket.write(encodeCommand(args));
  }

  private async ask(args: string[]): Promise<string> {
    this.send(args);
    return this.reader.readLine();
  }

  /** The handshake up to the start of the payload or stream. */
  async handshake(o: ReplicaLinkOptions): Promise<SyncStart> {
    const pong = await this.ask(['PING']);
    // -NOAUTH is fine here: the PING only proves the link works (syncWithMaster accepts it too).
    if (!pong.startsWith('+') && !/^-(NOAUTH|NOPERM)/.test(pong)) throw new PsyncRefusedError(`${this.display}: PING: ${pong}`);
    if (o.password !== null) {
      const r = await this.ask(o.username !== null ? ['AUTH', o.username, o.password] : ['AUTH', o.password]);
      if (!r.startsWith('+')) throw new PsyncRefusedError(`${this.display}: authentication failed: ${r}`);
    }
    const lp = await this.ask(['REPLCONF', 'listening-port', String(this.socket.localPort ?? 0)]);
    if (!lp.startsWith('+')) throw new PsyncRefusedError(`${this.display}: REPLCONF refused (${lp}): the source does not accept replicas here`);
    // capa eof: we can read a diskless payload; capa psync2: we understand +CONTINUE <new replid>.
    await this.ask(['REPLCONF', 'capa', 'eof', 'capa', 'psync2']);
    const psync = o.resume ? ['PSYNC', o.resume.replid, String(o.resume.offset + 1)] : ['PSYNC', '?', '-1'];
    let line = await this.ask(psync);
    // The master may send newlines while it prepares (replication.c: keep-alive before the reply).
    while (line === '') line = await this.reader.readLine();
    if (line.startsWith('+FULLRESYNC')) {
      const [, replid, off] = line.split(' ');
      if (!replid || !/^[0-9a-f]{40}$/i.test(replid) || !off || !/^\d+$/.test(off)) {
        throw new ReplicationProtocolError(`${this.display}: expected "+FULLRESYNC <40 hex replid> <offset>", got "${line}"`);
      }
      const offset = Number(off);
      const { payload, size } = await this.payload();
      return { kind: 'full', replid, offset, payload, payloadSize: size };
    }
    if (line.startsWith('+CONTINUE')) {
      if (!o.resume) throw new ReplicationProtocolError(`${this.display}: +CONTINUE to a PSYNC that asked for a full sync`);
      const newId = line.split(' ')[1];
      // psync2: a failed-over master continues under a new id; our offset stays valid.
      return { kind: 'continue', replid: newId && /^[0-9a-f]{40}$/i.test(newId) ? newId : o.resume.replid, offset: o.resume.offset };
    }
    throw new PsyncRefusedError(`${this.display}: PSYNC refused: ${line}`);
  }

  /** The `$<len>` or `$EOF:<mark>` wrapper, and the RDB bytes inside it as a stream. */
  private async payload(): Promise<{ payload: AsyncIterable<Buffer>; size: number | null }> {
    let line = await this.reader.readLine();
    while (line === '') line = await this.reader.readLine();
    if (line.startsWith('-')) throw new PsyncRefusedError(`${this.display}: full sync failed: ${line}`);
    const eof = /^\$EOF:(.{40})$/.exec(line);
    if (eof) return { payload: this.reader.untilMark(Buffer.from(eof[1]!, 'latin1')), size: null };
    const len = /^\$(\d+)$/.exec(line);
    if (!len) throw new ReplicationProtocolError(`${this.display}: expected the full-sync payload header "$<length>" or "$EOF:<40 chars>", got "${line.slice(0, 80)}"`);
    const n = Number(len[1]);
    return { payload: this.reader.bytes(n), size: n };
  }

  /** REPLCONF ACK <offset>: how far the target has applied (the master reports it as this replica's lag). */
  ack(offset: number): void {
    if (!this.socket.destroyed) this.send(['REPLCONF', 'ACK', String(offset)]);
  }

  close(): void {
    this.socket.destroy();
  }
}
