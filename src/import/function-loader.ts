/**
 * Function libraries (RDB FUNCTION2 records) into the target: `FUNCTION LOAD [REPLACE] <code>` on every
 * master (functions live per node; a cluster needs each master to hold them), with the import's
 * `--on-conflict`: skip keeps a library the target already has, replace sends REPLACE, fail counts an
 * error. A target without functions (before Redis 7.0) cannot hold them: each library is a counted loss
 * (refused unless --lossy), never dropped in silence. Function records come before keys in an RDB file,
 * so loading them one at a time costs nothing measurable.
 */
import type { Transport } from '../redis/transport.js';
import { ReplyError } from '../redis/resp-socket.js';
import type { MetaRecord } from '../records/types.js';
import { preGaFunctionCode } from '../jsonl/value-json.js';

export type FunctionRecord = Extract<MetaRecord, { kind: 'function' | 'function-pre-ga' }>;
export type ConflictPolicy = 'skip' | 'replace' | 'fail';

export interface FunctionCounters {
  /** Loaded on every master (with REPLACE under --on-conflict replace). */
  loaded: number;
  skippedExisting: number;
  errors: number;
  /** Libraries the target cannot hold (no FUNCTION command); counted losses. */
  lost: number;
  /** Per library: name and what happened (bounded by the number of libraries, which is small). */
  libraries: Array<{ name: string; outcome: 'loaded' | 'skipped_existing' | 'error' | 'lost'; message?: string }>;
}

export function newFunctionCounters(): FunctionCounters {
  return { loaded: 0, skippedExisting: 0, errors: 0, lost: 0, libraries: [] };
}

export function functionCode(r: FunctionRecord): Buffer {
  return r.kind === 'function' ? r.code : preGaFunctionCode(r.name, r.engine, r.code);
}

/** The library name from its shebang line (`#!lua name=mylib …`), for reports. */
export function libraryName(code: Buffer): string {
  const nl = code.indexOf(0x0a);
  const first = code.toString('utf8', 0, nl < 0 ? Math.min(code.length, 200) : Math.min(nl, 200));
  const m = /\bname=(\S+)/.exec(first);
  return m ? m[1]! : '(unnamed library)';
}

/** `ERR Library 'x' already exists` (functionsCreateWithLibraryCtx in functions.c). */
const EXISTS_RE = /already exists/i;

export interface FunctionLoadOptions {
  transport: Transport;
  onConflict: ConflictPolicy;
  /** The target has FUNCTION (Redis ≥ 7.0 / Valkey ≥ 7.2). */
  targetHasFunctions: boolean;
  lossy: boolean;
  counters: FunctionCounters;
  log: (level: 'INFO' | 'WARN' | 'ERROR', msg: string) => void;
}

/** Load one library on every master. Returns an error message when it counts as an error, else null. */
export async function loadFunction(r: FunctionRecord, o: FunctionLoadOptions): Promise<string | null> {
  const code = functionCode(r);
  const name = libraryName(code);
  const c = o.counters;
  if (!o.targetHasFunctions) {
    const msg = `function library ${name}: the target has no functions (Redis 7.0+ needed)`;
    c.lost++;
    c.libraries.push({ name, outcome: 'lost', message: msg });
    o.log(o.lossy ? 'WARN' : 'ERROR', `${msg}${o.lossy ? '; not imported (--lossy)' : ''}`);
    return o.lossy ? null : `${msg}; not imported (accept with --lossy)`;
  }
  const args: Array<string | Buffer> = ['FUNCTION', 'LOAD'];
  if (o.onConflict === 'replace') args.push('REPLACE');
  args.push(code);
  let existed = false;
  for (const n of o.transport.masters) {
    if (!n.sock) continue;
    n.openBatch = null; // replies of this call must not be taken for a batch's
    const reply = await n.sock.call(args);
    if (reply instanceof ReplyError) {
      if (EXISTS_RE.test(reply.message) && o.onConflict !== 'replace') {
        existed = true;
        continue;
      }
      const msg = `function library ${name} on ${n.addr}: ${reply.message}`;
      c.errors++;
      c.libraries.push({ name, outcome: 'error', message: msg });
      o.log('ERROR', msg);
      return msg;
    }
  }
  if (existed && o.onConflict === 'fail') {
    const msg = `function library ${name} exists in the target (--on-conflict fail)`;
    c.errors++;
    c.libraries.push({ name, outcome: 'error', message: msg });
    o.log('ERROR', msg);
    return msg;
  }
  if (existed) {
    c.skippedExisting++;
    c.libraries.push({ name, outcome: 'skipped_existing' });
    o.log('INFO', `function library ${name}: already in the target (skipped)`);
  } else {
    c.loaded++;
    c.libraries.push({ name, outcome: 'loaded' });
  }
  return null;
}
