import type { WriteStream } from 'node:fs';
import type { AtomicOutput } from '../io/atomic-file.js';

/**
 * Wait until a temp-file output has finished opening. AtomicOutput.abort() destroys the stream and removes the
 * temp file; if the open is still queued in libuv's thread pool it can land after the removal and leave an
 * empty temp file behind. Call this before abort().
 */
export async function settleOpen(out: AtomicOutput): Promise<void> {
  if (out.tempPath === null) return;
  const ws = out.stream as WriteStream;
  if (!ws.pending || ws.destroyed) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      ws.off('ready', done);
      ws.off('error', done);
      ws.off('close', done);
      resolve();
    };
    ws.once('ready', done);
    ws.once('error', done);
    ws.once('close', done);
  });
}
