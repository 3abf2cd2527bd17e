import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { once } from 'node:events';
import type { Writable } from 'node:stream';

/**
 * An output that only appears under its final name once complete: bytes go to a temp file beside
 * it and are renamed on commit, so a crash never leaves a file that looks finished.
 * `-` means stdout, which cannot be atomic (documented in the README).
 */
export class AtomicOutput {
  readonly stream: Writable;
  readonly tempPath: string | null;
  private finished = false;

  private constructor(
    readonly path: string,
    stream: Writable,
    tempPath: string | null,
  ) {
    this.stream = stream;
    this.tempPath = tempPath;
  }

  static open(path: string): AtomicOutput {
    if (path === '-') return new AtomicOutput(path, process.stdout, null);
    const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
    return new AtomicOutput(path, createWriteStream(temp), temp);
  }

  /** Write honouring backpressure: resolves at once unless the stream's buffer is full. */
  write(chunk: Buffer | string): Promise<void> | void {
    if (!this.stream.write(chunk)) return once(this.stream, 'drain').then(() => undefined);
  }

  async commit(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    if (this.tempPath === null) {
      await new Promise<void>((resolve) => (this.stream.writableNeedDrain ? this.stream.once('drain', resolve) : resolve()));
      return;
    }
    const ws = this.stream as WriteStream;
    await new Promise<void>((resolve, reject) => ws.end((err?: Error | null) => (err ? reject(err) : resolve())));
    await rename(this.tempPath, this.path);
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    if (this.tempPath === null) return;
    // Wait for 'close': a destroy while the open is still queued would otherwise recreate the
    // temp file after we removed it.
    const ws = this.stream as WriteStream;
    if (!ws.closed) {
      const closed = once(ws, 'close').catch(() => undefined);
      ws.destroy();
      await closed;
    }
    await rm(this.tempPath, { force: true });
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
