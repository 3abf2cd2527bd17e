/**
 * Counters of a running sync and the views of them: the periodic status line, the `--json` status
 * (SIGUSR1, the final report). Lag in seconds comes from samples of the source's offset over time:
 * how long ago the source was where the target is now.
 */
export class SyncStatus {
  started = Date.now();
  phase: 'connecting' | 'full-sync' | 'streaming' | 'scan-copy' | 'notifications' | 'stopped' = 'connecting';
  /** How the stream started: a full resync, a PSYNC continue, or the SCAN+DUMP fallback. */
  start: 'full' | 'continue' | 'scan' | null = null;
  /** SCAN fallback: keys named by notifications and not copied yet. */
  pendingKeys: number | null = null;
  replid = '';
  /** Stream bytes read from the source. */
  readOffset = 0;
  /** Stream bytes applied on the target and acknowledged. */
  appliedOffset = 0;
  sourceOffset: number | null = null;
  commandsApplied = 0;
  pings = 0;
  getacks = 0;
  transactions = 0;
  scripts = 0;
  readonly dropped = new Map<string, number>();
  readonly refused = new Map<string, number>();
  readonly errors = new Map<string, number>();
  /** The first refusals and errors, each naming its command and key. */
  readonly samples: string[] = [];
  private readonly history: Array<[number, number]> = [];
  private rateMark: [number, number] = [Date.now(), 0];
  private rate = 0;

  count(m: Map<string, number>, reason: string, detail?: string): void {
    m.set(reason, (m.get(reason) ?? 0) + 1);
    if (detail !== undefined && this.samples.length < 1000) this.samples.push(detail);
  }

  /** A new reading of the source's master_repl_offset. */
  sourceAt(offset: number, now = Date.now()): void {
    this.sourceOffset = offset;
    const last = this.history[this.history.length - 1];
    if (!last || last[1] !== offset) this.history.push([now, offset]);
    if (this.history.length > 600) this.history.shift();
  }

  lagBytes(): number | null {
    return this.sourceOffset === null ? null : Math.max(0, this.sourceOffset - this.appliedOffset);
  }

  /** Seconds since the source first went past what the target has applied (0 when caught up). */
  lagSeconds(now = Date.now()): number | null {
    if (this.sourceOffset === null) return null;
    if (this.sourceOffset <= this.appliedOffset) return 0;
    let since: number | null = null;
    for (let i = this.history.length - 1; i >= 0; i--) {
      const [t, o] = this.history[i]!;
      if (o > this.appliedOffset) since = t;
      else break;
    }
    return since === null ? null : (now - since) / 1000;
  }

  /** Commands per second since the previous call. */
  tickRate(now = Date.now()): number {
    const [t, n] = this.rateMark;
    if (now - t >= 500) {
      this.rate = ((this.commandsApplied - n) * 1000) / (now - t);
      this.rateMark = [now, this.commandsApplied];
    }
    return this.rate;
  }

  private static sum(m: Map<string, number>): number {
    let s = 0;
    for (const v of m.values()) s += v;
    return s;
  }

  get losses(): number {
    return SyncStatus.sum(this.refused);
  }

  get errorCount(): number {
    return SyncStatus.sum(this.errors);
  }

  line(now = Date.now()): string {
    const lb = this.lagBytes();
    const ls = this.lagSeconds(now);
    const errs = [...this.errors].map(([k, v]) => `${k} ${v}`).join(', ');
    const ref = [...this.refused].map(([k, v]) => `${k} ${v}`).join(', ');
    return (
      `sync ${this.phase}${this.start ? ` (${this.start === 'continue' ? 'PSYNC continue' : this.start === 'scan' ? 'SCAN+DUMP, can miss writes' : 'full resync'})` : ''}: ` +
      (this.start === 'scan' ? `${this.pendingKeys ?? 0} keys pending` : `offset ${this.appliedOffset}`) +
      `, lag ${lb === null ? '?' : lb} bytes / ${ls === null ? '?' : ls.toFixed(1)} s, ${this.tickRate(now).toFixed(0)} cmd/s, ${this.commandsApplied} applied` +
      `, errors ${errs || '0'}${ref ? `, refused ${ref}` : ''}`
    );
  }

  toJSON(): Record<string, unknown> {
    return {
      phase: this.phase,
      start: this.start,
      replid: this.replid,
      read_offset: this.readOffset,
      applied_offset: this.appliedOffset,
      source_offset: this.sourceOffset,
      lag_bytes: this.lagBytes(),
      lag_seconds: this.lagSeconds(),
      ...(this.pendingKeys !== null ? { pending_keys: this.pendingKeys } : {}),
      commands_applied: this.commandsApplied,
      commands_per_second: Math.round(this.tickRate()),
      transactions: this.transactions,
      script_calls: this.scripts,
      pings: this.pings,
      getacks: this.getacks,
      dropped: Object.fromEntries(this.dropped),
      refused: Object.fromEntries(this.refused),
      errors: Object.fromEntries(this.errors),
      samples: this.samples.slice(0, 100),
      seconds: (Date.now() - this.started) / 1000,
    };
  }
}
