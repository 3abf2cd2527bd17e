/**
 * The acknowledgement window beside the ledger: every key the writer received, in input order, until
 * the high-water mark passes it. A key is "done" when its fate is known (acknowledged, skipped, failed);
 * the high-water mark is the input offset up to which every key is done — what `--resume` skips — and
 * the keys still pending are what the ledger records as in flight when a run stops.
 */
import type { KeyRecord } from '../records/types.js';

export class AckWindow {
  /** Every received key (its index + base is its sequence number) until the mark passes it. */
  private recs: Array<KeyRecord | undefined> = [];
  /** The key's input offset while pending; -(offset + 1) once done. */
  private off: number[] = [];
  private base = 0;
  private head = 0;
  private received = 0;

  /** Register a key; returns its sequence number. */
  push(rec: KeyRecord): number {
    this.recs.push(rec);
    this.off.push(rec.offset);
    return this.received++;
  }

  /** Mark `seq` done; returns the new high-water offset when the mark advanced, else -1. */
  done(seq: number): number {
    const i = seq - this.base;
    const off = this.off;
    const o = off[i]!;
    if (o < 0) return -1;
    off[i] = -o - 1;
    this.recs[i] = undefined;
    let h = this.head;
    if (h !== i) return -1;
    const n = off.length;
    while (h < n && off[h]! < 0) h++;
    const mark = -off[h - 1]! - 1;
    // Drop the done prefix now and then (amortised: only when it is most of the arrays).
    if (h > 8192 && h * 2 > n) {
      this.recs.splice(0, h);
      off.splice(0, h);
      this.base += h;
      h = 0;
    }
    this.head = h;
    return mark;
  }

  /** Keys received and not done, oldest first. */
  *pending(): Generator<KeyRecord> {
    for (let i = this.head; i < this.off.length; i++) {
      const r = this.recs[i];
      if (this.off[i]! >= 0 && r) yield r;
    }
  }
}
