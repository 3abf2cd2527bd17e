/**
 * Everything `rekey sync` takes from the importer (src/import, commands/import) and the URL parser
 * (src/redis/endpoint): the one place to change when those move. Sync code imports them from here only.
 */
import { importWithOutcome, type ImportArgs, type ImportOutcome } from '../commands/import.js';
import type { OpenedInput } from '../sources/open.js';
import { parseRedisUrl, type TargetSpec } from '../redis/endpoint.js';
import { tlsOptions } from '../redis/tls.js';
import { ReplyError, RespSocket, type PendingOp, type Reply } from '../redis/resp-socket.js';

export { ReplyError, type Reply, type TargetSpec, type ImportOutcome };

export function parseSourceUrl(url: string, tlsCa?: string): TargetSpec {
  return parseRedisUrl(url, { role: 'source', ...(tlsCa !== undefined ? { tlsCa } : {}) });
}

export function parseTargetUrl(url: string, tlsCa?: string): TargetSpec {
  return parseRedisUrl(url, { role: 'target', ...(tlsCa !== undefined ? { tlsCa } : {}) });
}

export { tlsOptions };

/** A plain request/reply connection (the source's COMMAND/INFO reads, the target's writes). */
export interface Link {
  /** Send these commands pipelined; resolves with their replies in order. */
  send(cmds: ReadonlyArray<readonly Buffer[] | readonly string[]>): Promise<Reply[]>;
  call(args: readonly string[]): Promise<Reply>;
  close(): Promise<void>;
  destroy(): void;
  readonly display: string;
  /** Set once the connection failed (then every send rejects). */
  readonly error: Error | null;
}

export async function openLink(spec: TargetSpec, name: string): Promise<Link> {
  let s: RespSocket;
  try {
    s = await RespSocket.connect({
      host: spec.host,
      port: spec.port,
      tls: tlsOptions(spec),
      username: spec.username,
      password: spec.password,
      name,
    });
  } catch (e) {
    throw new Error(spec.redactor.message(e));
  }
  const link: Link = {
    display: spec.display,
    get error() {
      return s.error;
    },
    send(cmds) {
      if (s.error) return Promise.reject(new Error(spec.redactor.message(s.error)));
      if (cmds.length === 0) return Promise.resolve([]);
      return new Promise<Reply[]>((resolve, reject) => {
        for (const c of cmds) s.command(c);
        const replies: Reply[] = new Array<Reply>(cmds.length);
        const op: PendingOp & { reject: (e: Error) => void } = {
          replies: cmds.length,
          onReply: (r, i) => {
            replies[i] = r;
            if (i === cmds.length - 1) resolve(replies);
          },
          reject: (e) => reject(new Error(spec.redactor.message(e))),
        };
        s.enqueue(op);
        s.flush();
      });
    },
    async call(args) {
      return (await link.send([args]))[0]!;
    },
    close: () => s.close(),
    destroy: () => s.destroy(),
  };
  return link;
}

/** The full-sync snapshot through the importer, exactly as `rekey import --live --yes` would load a file. */
export async function importSnapshot(args: ImportArgs, input: OpenedInput): Promise<ImportOutcome> {
  return importWithOutcome({ ...args, live: true, yes: true }, { input });
}

export type { ImportArgs };
