import { AtomicOutput } from '../io/atomic-file.js';
import { keyToJsonLine, metaToJsonLine } from '../jsonl/value-json.js';
import { keyToJsonPieces } from '../jsonl/blob-json.js';
import type { RdbRecord } from '../records/types.js';
import type { Sink } from './sink.js';

export interface JsonlSinkOptions {
  /** Output file, or `-` for stdout (not atomic). */
  path: string | '-';
}

/** Lines are joined and written in chunks of about this many UTF-16 code units. */
const CHUNK_CHARS = 1 << 20;

/**
 * Writes the JSONL dump format (README, "JSONL dump format"): one line per key and per non-key record that has a
 * line (header, aux, function, module aux; see jsonl/value-json.ts). Output goes through an
 * AtomicOutput (temp file renamed on close), in large chunks, honouring backpressure.
 */
export class JsonlSink implements Sink {
  private readonly out: AtomicOutput;
  private keys = 0;
  private metas = 0;

  constructor(readonly opts: JsonlSinkOptions) {
    this.out = AtomicOutput.open(opts.path);
  }

  /** Key lines written so far. */
  get keysWritten(): number {
    return this.keys;
  }

  /** Non-key (`"$"`) lines written so far. */
  get metaLinesWritten(): number {
    return this.metas;
  }

  writeBatch(records: readonly RdbRecord[]): void | Promise<void> {
    return this.writeFrom(records, 0);
  }

  private writeFrom(records: readonly RdbRecord[], from: number): void | Promise<void> {
    const parts: string[] = [];
    let size = 0;
    for (let i = from; i < records.length; i++) {
      const r = records[i]!;
      let line: string | null;
      if (r.kind === 'key') {
        const pieces = keyToJsonPieces(r);
        if (pieces !== null) {
          // A big collection: write what is pending, then the value piece by piece.
          this.keys++;
          parts.push('');
          return this.writePieces(parts.length > 1 ? parts.join('\n') : null, pieces).then(() => this.writeFrom(records, i + 1));
        }
        line = keyToJsonLine(r);
        this.keys++;
      } else {
        line = metaToJsonLine(r);
        if (line === null) continue;
        this.metas++;
      }
      parts.push(line);
      size += line.length + 1;
      if (size >= CHUNK_CHARS && i < records.length - 1) {
        // A big batch: write this chunk, go on once the stream has room.
        parts.push('');
        const w = this.out.write(parts.join('\n'));
        if (w) return w.then(() => this.writeFrom(records, i + 1));
        parts.length = 0;
        size = 0;
      }
    }
    if (parts.length === 0) return;
    parts.push('');
    return this.out.write(parts.join('\n'));
  }

  private async writePieces(pending: string | null, pieces: Iterable<string>): Promise<void> {
    if (pending !== null) await this.out.write(pending);
    for (const piece of pieces) await this.out.write(piece);
  }

  async close(): Promise<void> {
    await this.out.commit();
  }

  async abort(_err: unknown): Promise<void> {
    await this.out.abort();
  }
}
