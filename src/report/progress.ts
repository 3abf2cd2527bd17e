/**
 * Progress of a long run (import, transform, analyze): a bar on an interactive terminal (keys, MB, keys/s, ETA from the input bytes read,
 * errors), periodic log lines otherwise (stderr and the operation log).
 */
import cliProgress from 'cli-progress';
import type { OperationLog } from './files.js';

export interface ProgressSnapshot {
  keys: number;
  bytes: number;
  errors: number;
}

export interface ProgressOptions {
  label: string;
  /** Render a bar (interactive terminal); else print a line every `intervalMs`. */
  tty: boolean;
  /** Total input bytes when known (ETA). */
  totalBytes?: number;
  inputBytesRead: () => number;
  snapshot: () => ProgressSnapshot;
  log?: OperationLog;
  /** Non-TTY line interval (default 5 s). */
  intervalMs?: number;
  /** Where lines and the bar go (default stderr). */
  stream?: NodeJS.WritableStream;
  quiet?: boolean;
  /**
   * Where an earlier run left off (--resume): input bytes and keys already done. The bar starts there,
   * counts keys on from there, and rates and ETAs count only this run's own progress.
   */
  resumeAt?: { bytes: number; keys: number };
}

export class Progress {
  private bar: cliProgress.SingleBar | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly started = Date.now();
  private readonly fromBytes: number;
  private readonly fromKeys: number;

  constructor(private readonly o: ProgressOptions) {
    this.fromBytes = Math.max(0, Math.min(o.resumeAt?.bytes ?? 0, o.totalBytes ?? Infinity));
    this.fromKeys = o.resumeAt?.keys ?? 0;
  }

  /** Input position: never behind where the resumed run starts (skipping the done part reads from 0). */
  private position(): number {
    return Math.max(this.fromBytes, this.o.inputBytesRead());
  }

  start(): void {
    if (this.o.quiet) return;
    const stream = this.o.stream ?? process.stderr;
    if (this.o.tty) {
      this.bar = new cliProgress.SingleBar(
        {
          format: `${this.o.label} {bar} {percentage}% | {keys} keys | {mb} MB | {rate} keys/s | ETA {eta_formatted} | errors {errors}`,
          stream: stream as NodeJS.WriteStream,
          hideCursor: true,
          etaBuffer: 50,
          fps: 5,
          noTTYOutput: false,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(this.o.totalBytes ?? 0, this.fromBytes, this.payload());
      this.timer = setInterval(() => this.bar?.update(this.position(), this.payload()), 200);
    } else {
      if (this.o.resumeAt) {
        const line = this.line();
        stream.write(line + '\n');
        this.o.log?.log('INFO', line);
      }
      this.timer = setInterval(() => {
        const line = this.line();
        stream.write(line + '\n');
        this.o.log?.log('INFO', line);
      }, this.o.intervalMs ?? 5000);
    }
    this.timer.unref();
  }

  private payload(): Record<string, string | number> {
    const s = this.o.snapshot();
    const secs = Math.max((Date.now() - this.started) / 1000, 1e-3);
    return { keys: this.fromKeys + s.keys, mb: (s.bytes / 1048576).toFixed(1), rate: Math.round(s.keys / secs), errors: s.errors };
  }

  line(): string {
    const p = this.payload();
    const total = this.o.totalBytes;
    const read = this.position();
    const moved = read - this.fromBytes;
    let eta = '';
    if (total && moved > 0 && read < total) {
      const secs = (Date.now() - this.started) / 1000;
      eta = `, ETA ${Math.round((secs * (total - read)) / moved)}s`;
    }
    const pct = total ? ` (${Math.min(100, Math.round((100 * read) / total))}% of the input)` : '';
    return `${this.o.label}: ${p.keys} keys, ${p.mb} MB, ${p.rate} keys/s, ${p.errors} errors${pct}${eta}`;
  }

  /** `complete`: the input was read to its end (a run that stopped early keeps its bar where it stood). */
  stop(complete = true): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.bar) {
      this.bar.update(complete ? (this.o.totalBytes ?? this.position()) : this.position(), this.payload());
      this.bar.stop();
      this.bar = null;
    }
  }
}

/** Inputs smaller than this finish before a bar is worth drawing. */
export const PROGRESS_MIN_BYTES = 16 * 1024 * 1024;

/**
 * Start the progress display a command shows by default: a bar on a terminal for inputs of 16 MiB
 * or more; `flag` forces it on (lines when stderr is not a terminal) or off. Null when off.
 */
export function startProgress(o: {
  label: string;
  flag: boolean | undefined;
  input: { fileSize?: number; bytesRead(): number };
  snapshot: () => ProgressSnapshot;
  log?: OperationLog;
}): Progress | null {
  const total = o.input.fileSize ?? 0;
  const tty = process.stderr.isTTY === true && total > 0;
  if (!(o.flag ?? (tty && total >= PROGRESS_MIN_BYTES))) return null;
  const p = new Progress({
    label: o.label,
    tty,
    ...(total > 0 ? { totalBytes: total } : {}),
    inputBytesRead: () => o.input.bytesRead(),
    snapshot: o.snapshot,
    ...(o.log ? { log: o.log } : {}),
  });
  p.start();
  return p;
}
