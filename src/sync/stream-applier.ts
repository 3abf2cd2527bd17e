/**
 * The replication stream, batch by batch, onto the target: SELECT followed (mapped through --to-db and
 * the rules' to_db), PING and REPLCONF consumed, MULTI…EXEC sent as one transaction (held back until
 * its EXEC arrives, so a batch never ends inside one), every other command renamed or refused.
 *
 * The offset that may be acknowledged is the end of the last command outside a transaction: a restart
 * from there re-reads a whole transaction, never half of one.
 *
 * With a marker, a batch goes to the target as one MULTI…EXEC that also SETs the marker key to the
 * offset it ends at: the target then holds its own exact position, so a sync killed between the
 * target's reply and the checkpoint file continues from the right byte (no write doubled or lost).
 * The source's own transactions are flattened into it (a bigger atomic unit keeps theirs atomic).
 */
import { ReplyError, type Link, type Reply } from './importer-adapter.js';
import { hasTypedRules, renameCommand, SCRIPT_CALLS, printable, type RenameContext } from './rename-command.js';
import type { SyncStatus } from './status.js';
import type { StreamCommand } from './stream-reader.js';

const MULTI = [Buffer.from('MULTI')];
const EXEC = [Buffer.from('EXEC')];

interface Txn {
  items: Buffer[][];
  /** Offset and source db before MULTI. */
  offset: number;
  db: number;
  /** Target db when the transaction started (its SELECTs move it). */
  targetDb: number;
}

export interface Planned {
  /** Commands for the target, in order. */
  out: Buffer[][];
  /** Stream offset and source db once `out` is applied. */
  offset: number;
  db: number;
  /** Commands of `out` that came from the stream (not SELECT/MULTI/EXEC we added). */
  applied: number;
  getack: boolean;
  /** The target connection's db once `out` is applied. */
  targetDb: number;
}

/** Where the target records its own position: a key in a db, set inside each batch's transaction. */
export interface Marker {
  db: number;
  key: string;
  value(p: Planned): string;
}

const SELECT = (db: number): Buffer[] => [Buffer.from('SELECT'), Buffer.from(String(db))];

export class StreamApplier {
  private txn: Txn | null = null;
  private readonly typed: boolean;
  /** Stream offset read so far and the source db selected there. */
  private offset: number;
  private db: number;
  /** The db the target connection will be in once everything planned is sent. */
  private targetDb = 0;

  constructor(
    private readonly ctx: RenameContext,
    private readonly status: SyncStatus,
    start: { offset: number; db: number },
  ) {
    this.typed = hasTypedRules(ctx.rules);
    this.offset = start.offset;
    this.db = start.db;
  }

  /** Turn stream commands into target commands (pure: nothing is sent). */
  plan(cmds: readonly StreamCommand[]): Planned {
    const out: Buffer[][] = [];
    let safe = { offset: this.txn ? this.txn.offset : this.offset, db: this.txn ? this.txn.db : this.db };
    let applied = 0;
    let getack = false;
    const st = this.status;
    for (const c of cmds) {
      this.offset += c.bytes;
      const a = c.args;
      const name = a.length > 0 ? a[0]!.toString('latin1').toLowerCase() : '';
      if (name === 'ping') st.pings++;
      else if (name === 'replconf') {
        if (a[1]?.toString('latin1').toLowerCase() === 'getack') {
          st.getacks++;
          getack = true;
        }
      } else if (name === 'select') {
        const n = Number(a[1]?.toString('latin1'));
        if (!Number.isInteger(n) || n < 0) st.count(st.errors, 'bad SELECT', `SELECT ${a[1]?.toString('latin1')} at offset ${this.offset}`);
        else this.db = n;
      } else if (name === 'multi') {
        if (this.txn) st.count(st.errors, 'nested MULTI', `MULTI inside a transaction at offset ${this.offset}`);
        else this.txn = { items: [], offset: this.offset - c.bytes, db: this.db, targetDb: this.targetDb };
      } else if (name === 'exec') {
        const t = this.txn;
        this.txn = null;
        if (!t) st.count(st.errors, 'EXEC without MULTI', `EXEC at offset ${this.offset}`);
        else if (t.items.length > 0) {
          out.push(MULTI, ...t.items, EXEC);
          applied += t.items.length;
          st.transactions++;
        }
      } else if (name !== '') {
        const r = renameCommand(a, this.db, this.ctx, this.typed);
        if (SCRIPT_CALLS.has(name)) st.scripts++;
        if (r.kind === 'apply') {
          const sink = this.txn ? this.txn.items : out;
          if (r.db !== this.targetDb) {
            sink.push([Buffer.from('SELECT'), Buffer.from(String(r.db))]);
            this.targetDb = r.db;
          }
          sink.push(r.args);
          if (!this.txn) applied++;
        } else if (r.kind === 'drop') st.count(st.dropped, r.reason);
        else st.count(st.refused, r.reason, `offset ${this.offset}: ${r.detail}`);
      }
      if (!this.txn) safe = { offset: this.offset, db: this.db };
    }
    st.readOffset = this.offset;
    return { out, offset: safe.offset, db: safe.db, applied, getack, targetDb: this.txn ? this.txn.targetDb : this.targetDb };
  }

  /** Send a plan and count what the target said. Rejects when the target connection is lost. */
  async apply(target: Link, p: Planned, marker: Marker | null = null): Promise<void> {
    if (p.out.length > 0 && marker) await this.applyMarked(target, p, marker);
    else if (p.out.length > 0) {
      const replies = await target.send(p.out);
      for (let i = 0; i < replies.length; i++) this.judge(replies[i]!, p.out[i]!);
    }
    this.status.commandsApplied += p.applied;
    this.status.appliedOffset = p.offset;
  }

  private async applyMarked(target: Link, p: Planned, m: Marker): Promise<void> {
    const mark: Buffer[][] = [SELECT(m.db), [Buffer.from('SET'), Buffer.from(m.key), Buffer.from(m.value(p))], SELECT(p.targetDb)];
    const inner = [...p.out.filter((c) => c !== MULTI && c !== EXEC), ...mark];
    const replies = await target.send([MULTI, ...inner, EXEC]);
    const exec = replies[replies.length - 1];
    if (Array.isArray(exec)) {
      for (let i = 0; i < inner.length; i++) this.judge(exec[i] ?? null, inner[i]!);
      return;
    }
    // EXECABORT: a command was refused while queueing (unknown to this target, wrong arity, OOM).
    // Nothing ran; send the batch as it came, so the target's replies name the culprit, marker last.
    const again = await target.send([...p.out, ...mark]);
    for (let i = 0; i < p.out.length; i++) this.judge(again[i]!, p.out[i]!);
  }

  private judge(r: Reply, cmd: Buffer[]): void {
    if (r instanceof ReplyError) this.error(r, cmd);
    else if (Array.isArray(r) && cmd === EXEC) for (const x of r) if (x instanceof ReplyError) this.error(x, cmd);
  }

  private error(r: ReplyError, cmd: Buffer[]): void {
    const what = cmd === EXEC ? 'EXEC' : `${cmd[0]!.toString('latin1').toUpperCase()}${cmd.length > 1 ? ` ${printable(cmd[1]!)}` : ''}`;
    this.status.count(this.status.errors, r.code, `${what}: ${r.message}`);
  }
}
