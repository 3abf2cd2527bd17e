import { createWriteStream, readdirSync, statSync, unlinkSync, type Stats, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { RekeyUsageError } from '../errors.js';
import { registerTempFile } from './interrupt.js';

/**
 * An output that cannot be written: a missing folder, no space left, a closed pipe, or a path that
 * would overwrite the input. Exit 2 like other bad usage; the message names the file, how many
 * bytes had been written and what went wrong.
 */
export class OutputError extends RekeyUsageError {
  constructor(
    readonly path: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The reader of our stdout went away (`rekey … -o - | head`): not an error, the CLI exits 0. */
export class BrokenPipeError extends Error {
  override readonly name = 'BrokenPipeError';
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EISDIR: 'is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  EEXIST: 'already exists',
  EFBIG: 'file too large for this file system',
  EIO: 'input/output error',
};

function describeErrno(e: unknown): { code: string | undefined; text: string } {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const text = code ? `${code}: ${REASONS[code] ?? (e as Error).message}` : (e as Error)?.message ?? String(e);
  return { code, text };
}

function outputError(path: string, e: unknown, written: number, atomic: boolean): Error {
  if (e instanceof OutputError || e instanceof BrokenPipeError) return e;
  const { code, text } = describeErrno(e);
  if (path === '-' && code === 'EPIPE') return new BrokenPipeError('stdout closed by its reader');
  const name = path === '-' ? 'stdout' : path;
  return new OutputError(path, code, `${name}: cannot write (${text}) after ${written} bytes${atomic ? '; the unfinished temp file was removed, nothing was left under that name' : ''}`);
}

/** Opens the file behind an output. Tests swap it to inject write faults (ENOSPC after N bytes). */
export type OutputOpener = (path: string, flags: 'w' | 'wx') => Writable;
const openFile: OutputOpener = (path, flags) => createWriteStream(path, { flags });
let opener: OutputOpener = openFile;

/** Replace how outputs open their files (null: the real file system). For fault-injection tests. */
export function setOutputOpener(o: OutputOpener | null): void {
  opener = o ?? openFile;
}

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}

/** A host name safe inside a file name (no dots, so the temp name parses back). */
const HOST = hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40) || 'host';
/** `.<name>.<host>.<pid>.<ms>.tmp`: our temp files, so a later run knows which ones it may clean. */
const TEMP_RE = /^\.(.+)\.([A-Za-z0-9-]+)\.(\d+)\.(\d+)\.tmp$/;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temp files already named in a warning by this process (one warning per file, however many outputs). */
const warned = new Set<string>();

/**
 * Remove temp files of our own naming in `dir` whose writer (same host, pid) is no longer running:
 * a killed transform (SIGKILL, power loss) cannot clean its own. Says what it removed, and lists the
 * ones it leaves: unremovable, written on another host (its pid cannot be checked from here), or
 * whose pid is running (another rekey still writing, or the pid was reused since). Returns the paths
 * removed.
 */
export function cleanStaleTempFiles(dir: string, say: (msg: string) => void = (m) => process.stderr.write(m + '\n')): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = TEMP_RE.exec(n);
    if (m === null) continue;
    const pid = Number(m[3]);
    const p = join(dir, n);
    if (m[2] !== HOST || pid === process.pid || pidAlive(pid)) {
      if (pid === process.pid && m[2] === HOST) continue;
      if (warned.has(p)) continue;
      warned.add(p);
      const since = new Date(Number(m[4])).toISOString();
      const why = m[2] !== HOST ? `host ${m[2]}, pid ${pid}: cannot tell from here whether it still runs` : `pid ${pid} is running: another rekey still writing, or the pid was reused`;
      say(`rekey: warning: ${p} looks like an unfinished rekey output (started ${since}; ${why}); left in place, remove it by hand if no run is writing it`);
      continue;
    }
    try {
      unlinkSync(p);
      removed.push(p);
      say(`rekey: removed ${p}, an unfinished output left by process ${pid} (no longer running)`);
    } catch (e) {
      say(`rekey: an unfinished output left by process ${pid} is still at ${p} (${describeErrno(e).text}); remove it by hand`);
    }
  }
  return removed;
}

/**
 * Refuse an output path before any work starts: its folder must exist, it must not be a folder, and
 * it must not be any of the inputs (same path, or the same file through a link: same device and inode).
 */
export function checkOutputPath(path: string, inputs: readonly string[] = []): void {
  if (path === '-') return;
  const dir = dirname(resolve(path));
  const ds = statOrNull(dir);
  if (ds === null) throw new OutputError(path, 'ENOENT', `${path}: cannot write: the folder ${dir} does not exist`);
  if (!ds.isDirectory()) throw new OutputError(path, 'ENOTDIR', `${path}: cannot write: ${dir} is not a folder`);
  const os = statOrNull(path);
  if (os?.isDirectory()) throw new OutputError(path, 'EISDIR', `${path}: cannot write: it is a folder; give a file name`);
  for (const input of inputs) {
    if (input === '-' || /^rediss?:\/\//i.test(input)) continue;
    const is = statOrNull(input);
    const same = resolve(input) === resolve(path) || (is !== null && os !== null && is.isFile() && is.dev === os.dev && is.ino === os.ino);
    if (same) throw new OutputError(path, 'EEXIST', `${path}: refusing to overwrite the input ${input}; write to another file`);
  }
}

/**
 * An output that only appears under its final name once complete: bytes go to a temp file beside
 * it and are renamed on commit, so a crash never leaves a file that looks finished. The temp file is
 * registered with the interrupt handler (removed on Ctrl-C / exit) and stale ones of ours are cleaned.
 * `-` means stdout, and an existing device or pipe (`/dev/null`, a FIFO) is written in place: neither
 * can be atomic (documented in the README). Write errors (ENOSPC, EPIPE, a missing folder) reject
 * write()/commit() with an OutputError naming the file; never an unhandled 'error' event.
 */
export class AtomicOutput {
  readonly stream: Writable;
  readonly tempPath: string | null;
  private finished = false;
  private failure: Error | null = null;
  private written = 0;
  private readonly unregister: () => void;

  private constructor(
    readonly path: string,
    stream: Writable,
    tempPath: string | null,
  ) {
    this.stream = stream;
    this.tempPath = tempPath;
    this.unregister = tempPath !== null ? registerTempFile(tempPath) : () => undefined;
    // Without a listener, an open or write error is an unhandled 'error' event that kills the process.
    stream.on('error', (e) => {
      this.failure ??= outputError(this.path, e, this.written, this.tempPath !== null);
    });
  }

  static open(path: string): AtomicOutput {
    if (path === '-') return new AtomicOutput(path, process.stdout, null);
    const st = statOrNull(path);
    if (st !== null && !st.isFile() && !st.isDirectory()) {
      // A device or FIFO: renaming a temp file over it would replace the device node itself.
      return new AtomicOutput(path, opener(path, 'w'), null);
    }
    checkOutputPath(path);
    const dir = dirname(path);
    cleanStaleTempFiles(dir);
    const temp = join(dir, `.${basename(path)}.${HOST}.${process.pid}.${Date.now()}.tmp`);
    // 'wx': never truncate a file someone else owns under that name.
    return new AtomicOutput(path, opener(temp, 'wx'), temp);
  }

  /** Bytes accepted so far. */
  get bytesWritten(): number {
    return this.written;
  }

  /** Write honouring backpressure: resolves at once unless the stream's buffer is full; rejects on a write error. */
  write(chunk: Buffer | string): Promise<void> | void {
    if (this.failure) throw this.failure;
    this.written += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (!this.stream.write(chunk)) return this.drained();
  }

  private drained(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        this.stream.off('drain', done);
        this.stream.off('error', done);
        this.stream.off('close', done);
        if (this.failure) reject(this.failure);
        else resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('error', done);
      this.stream.on('close', done);
    });
  }

  async commit(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    if (this.failure) {
      await this.discard();
      throw this.failure;
    }
    if (this.stream === process.stdout) {
      if (this.stream.writableNeedDrain) await this.drained();
      if (this.failure) throw this.failure;
      return;
    }
    const ws = this.stream as WriteStream;
    try {
      await new Promise<void>((resolve, reject) => ws.end((err?: Error | null) => (err ? reject(err) : resolve())));
      if (this.failure) throw this.failure;
      if (this.tempPath !== null) await rename(this.tempPath, this.path);
    } catch (e) {
      await this.discard();
      throw outputError(this.path, e, this.written, this.tempPath !== null);
    }
    this.unregister();
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.discard();
  }

  private async discard(): Promise<void> {
    if (this.stream === process.stdout) return;
    // Wait for 'close': a destroy while the open is still queued would otherwise recreate the
    // temp file after we removed it.
    const ws = this.stream as WriteStream;
    if (!ws.closed) {
      const closed = new Promise<void>((r) => ws.once('close', () => r()));
      ws.destroy();
      await closed;
    }
    if (this.tempPath !== null) await rm(this.tempPath, { force: true });
    this.unregister();
  }
}

/** Write a whole small file (reports, logs) atomically. */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const out = AtomicOutput.open(path);
  try {
    await out.write(data);
    await out.commit();
  } catch (e) {
    await out.abort();
    throw e;
  }
}
