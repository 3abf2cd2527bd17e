/**
 * Writes a RESP command stream for `redis-cli --pipe`:
 *  - restore mode: `RESTORE key ttl payload [ABSTTL] [REPLACE] [IDLETIME s | FREQ f]` per key, the payload being
 *    the record's own value bytes in a DUMP envelope (re-encoded only when `payloadVersion` is lower than
 *    what the record's type needs);
 *  - commands mode: the value as ordinary write commands (encode/value-commands.ts).
 * `SELECT db` is emitted when a key's db differs from the current one, starting from db 0 (redis-cli's
 * default, and the only db in cluster mode). Function libraries become `FUNCTION LOAD [REPLACE]`.
 */
import { flavorOf, type KeyRecord, type RdbRecord } from '../records/types.js';
import { RekeyUsageError } from '../errors.js';
import { AtomicOutput } from '../io/atomic-file.js';
import { footerVersion } from '../import/key-plan.js';
import { convertPayload, moduleLoss, streamIdmpLoss } from '../encode/down-convert.js';
import { appendRestore, RespBatchWriter, type RespArg } from '../encode/resp.js';
import { encodeValueCommands, type CommandTarget } from '../encode/value-commands.js';
import { preGaFunctionCode } from '../jsonl/value-json.js';
import { applyLossPolicy, commandLosses, LossTally, type Loss } from '../encode/losses.js';
import type { KeyOutcomes, Sink } from './sink.js';
import { verifyPayload } from '../codec/verify/index.js';

export interface RespSinkOptions {
  /** Output file, or `-` for stdout. */
  path: string;
  mode: 'restore' | 'commands';
  /** Highest DUMP footer version the target accepts (e.g. 10 for Redis 7.0); lower-version payloads are re-encoded. */
  payloadVersion?: number;
  /** Drop hash field TTLs a lower `payloadVersion` cannot hold instead of failing. */
  lossy?: boolean;
  /** RESTORE … REPLACE / DEL before the commands. */
  replace?: boolean;
  /** Elements per variadic command in commands mode (default 1000). */
  chunk?: number;
  /** Called per key written without a part RESP cannot carry (key metadata; under `lossy`, encode/losses.ts). */
  onLoss?: (rec: KeyRecord, message: string) => void;
  /**
   * The named server the stream is for (`--rdb-version redis-8.0`): module values it does not ship are
   * refused per key (counted losses under `lossy`), and commands use the syntax that version accepts.
   */
  target?: { name: string; modules: readonly string[]; server: 'redis' | 'valkey'; version: string };
}

export interface RespSinkStats {
  keys: number;
  commands: number;
  bytes: number;
  convertedKeys: number;
  droppedFieldTtls: number;
  skippedKeys: number;
  functions: number;
  /** Keys written without a part RESP cannot carry, per kind and per key. */
  lost: LossTally;
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const REPLACE = b('REPLACE');

/** The payload a key's RESTORE carries (framed by encode/resp.ts appendRestore). */
interface Restore {
  rdbType: number;
  payload: Buffer;
  version: number;
}

export class RespSink implements Sink {
  readonly stats: RespSinkStats = { keys: 0, commands: 0, bytes: 0, convertedKeys: 0, droppedFieldTtls: 0, skippedKeys: 0, functions: 0, lost: new LossTally() };
  private readonly out: AtomicOutput;
  private readonly writer: RespBatchWriter;
  private db = 0;

  constructor(readonly opts: RespSinkOptions) {
    this.out = AtomicOutput.open(opts.path);
    this.writer = new RespBatchWriter(this.out);
  }

  /**
   * A key that cannot be written (a module value in commands mode, a payload that fails to decode) is
   * skipped and told to `outcomes`; without it the error fails the batch.
   */
  async writeBatch(records: readonly RdbRecord[], outcomes?: KeyOutcomes): Promise<void> {
    for (const r of records) {
      if (r.kind === 'key') this.writeKey(r, outcomes);
      else if (r.kind === 'function' || r.kind === 'function-pre-ga') {
        const code = r.kind === 'function' ? r.code : preGaFunctionCode(r.name, r.engine, r.code);
        const args: RespArg[] = [b('FUNCTION'), b('LOAD')];
        if (this.opts.replace) args.push(REPLACE);
        args.push(code);
        this.writer.add(args);
        this.stats.functions++;
      }
      const p = this.writer.maybeFlush();
      if (p) await p;
    }
    this.syncStats();
  }

  private writeKey(rec: KeyRecord, outcomes: KeyOutcomes | undefined): void {
    let cmds: RespArg[][] | null = null;
    let restore: Restore | null = null;
    try {
      const fault = verifyPayload(rec); if (fault) throw fault; // deep check, as sanitize-dump-payload (codec/verify)
      // Neither RESTORE payloads nor commands carry RDB 13 key metadata.
      const t = this.opts.target;
      const ml = t ? moduleLoss(rec, t.modules, t.name) : null;
      if (ml) {
        // A module value the target cannot load: nothing of it is writable (refused, or skipped under lossy).
        applyLossPolicy(rec, [ml], t!.name, this.opts, this.stats.lost);
        this.stats.skippedKeys++;
        return;
      }
      const losses: Loss[] = [];
      if (rec.keyMeta !== undefined) losses.push({ kind: 'key_meta', what: `key metadata (KEY_META, ${rec.keyMeta.length} bytes)` });
      if (this.opts.mode === 'restore') {
        restore = this.restorePlan(rec);
        const idmp = streamIdmpLoss(rec, restore.version, flavorOf(restore.version));
        if (idmp) losses.push(idmp);
      } else {
        const target: CommandTarget | undefined = t ? { product: t.server, version: t.version } : undefined;
        const r = encodeValueCommands(rec.key, rec.decode(), rec.expireAtMs, { replace: this.opts.replace, chunk: this.opts.chunk, ...(target ? { target } : {}) });
        cmds = r.commands;
        losses.push(...commandLosses(r.losses));
      }
      applyLossPolicy(rec, losses, t ? `RESP output for ${t.name}` : 'RESP output', this.opts, this.stats.lost);
    } catch (e) {
      if (e instanceof RekeyUsageError || !outcomes) throw e;
      this.stats.skippedKeys++;
      outcomes.refused(rec, e as Error);
      return;
    }
    if (rec.db !== this.db) {
      this.db = rec.db;
      this.writer.add([b('SELECT'), b(String(rec.db))]);
    }
    if (restore) {
      const r = restore;
      const replace = this.opts.replace === true;
      this.writer.append((w) => appendRestore(w, rec.key, r.rdbType, r.payload, r.version, rec.expireAtMs, replace, rec.idle, rec.idle === undefined ? rec.freq : undefined));
    } else for (const c of cmds!) this.writer.add(c);
    this.stats.keys++;
  }

  private restorePlan(rec: KeyRecord): Restore {
    let rdbType = rec.rdbType;
    let payload = rec.payload;
    let version = rec.rdbVersion;
    const target = this.opts.payloadVersion;
    if (target !== undefined) {
      // Also for a newer target of the other fork (Redis 12 → Valkey 80): its loader reads 22+ its own way
      // and refuses footers 12–79, as import's key plan knows (footerVersion).
      const flavor = flavorOf(target);
      const conv = convertPayload(rec, target, { lossy: this.opts.lossy, flavor });
      if (conv !== null) {
        rdbType = conv.rdbType;
        payload = conv.payload;
        this.stats.convertedKeys++;
        if (conv.droppedFieldTtls) this.stats.droppedFieldTtls += conv.droppedFieldTtls;
        version = target;
      } else version = footerVersion(rec, target, flavor);
    }
    return { rdbType, payload, version };
  }

  private syncStats(): void {
    this.stats.commands = this.writer.commands;
    this.stats.bytes = this.writer.bytes;
  }

  async close(): Promise<void> {
    const p = this.writer.flush();
    if (p) await p;
    this.syncStats();
    await this.out.commit();
  }

  async abort(_err: unknown): Promise<void> {
    await this.out.abort();
  }
}
