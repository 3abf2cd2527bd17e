/**
 * Writes an RDB file (docs/rdb-format.md §1, §12) at a chosen version: key values are copied verbatim unless
 * the target cannot load their type byte (then decoded and re-encoded, see encode/down-convert.ts);
 * non-key records are kept when the target version knows their opcode, otherwise dropped and counted.
 *
 * Output is built in ~1 MB chunks and written through an AtomicOutput (temp file + rename). RESIZEDB counts
 * are only known at the end: into a temp file they are written as fixed 5-byte placeholders and patched at
 * close. The CRC64 is computed on the fly and corrected for the patches by CRC combination (encode/
 * codec/crc64-combine.ts), so the finished file is never re-read. Placeholders still in the in-memory chunk are
 * simply patched before it is checksummed. On stdout RESIZEDB (a sizing hint) is left out.
 *
 * Not handled here: the same key twice in one db makes Redis abort the load; the pipeline prevents that.
 */
import { open } from 'node:fs/promises';
import { flavorOf, type Flavor, type KeyRecord, type MetaRecord, type RdbRecord } from '../records/types.js';
import { RekeyUsageError } from '../errors.js';
import { AtomicOutput } from '../io/atomic-file.js';
import { Crc64 } from '../codec/crc64.js';
import { MAX_REDIS_VERSION, MAX_VALKEY_VERSION, OP } from '../rdb/constants.js';
import { ByteWriter } from '../encode/rdb-primitives.js';
import { convertPayload, moduleLoss, streamIdmpLoss } from '../encode/down-convert.js';
import { UnrepresentableValueError } from '../encode/value-encoder.js';
import { crc64PatchDelta } from '../codec/crc64-combine.js';
import { applyLossPolicy, LossTally, type Loss } from '../encode/losses.js';
import { preGaFunctionCode } from '../jsonl/value-json.js';
import type { KeyOutcomes, Sink } from './sink.js';
import { verifyPayload } from '../codec/verify/index.js';

export interface RdbSinkOptions {
  /** Output file, or `-` for stdout (not atomic, no RESIZEDB). */
  path: string;
  /** Target RDB version. Default: the source header's, or 12 when the input has no header. */
  rdbVersion?: number;
  /** Target flavour. Default: `valkey` for versions ≥ 80, else `redis` (or the header's with its version). */
  flavor?: Flavor;
  /** Drop hash field TTLs the target cannot hold instead of failing. */
  lossy?: boolean;
  /** LZF-compress strings of re-encoded values and keys (verbatim payloads keep their bytes). */
  compress?: boolean;
  /** Bytes buffered before a write (default 1 MiB). */
  chunkSize?: number;
  /** Called per key written without a part the target cannot carry (under `lossy`, see encode/losses.ts). */
  onLoss?: (rec: KeyRecord, message: string) => void;
  /**
   * A named target (`--rdb-version valkey-9.0`, redis/server-versions.ts `namedTarget`): its name for
   * messages and the module types it ships; other module values and AUX records are not written.
   */
  target?: { name: string; modules: readonly string[] };
}

export interface RdbSinkStats {
  /** Keys written. */
  keys: number;
  /** Keys and keys with a TTL written, per db (the RESIZEDB counts). */
  perDb: Record<number, { keys: number; expires: number }>;
  /** Non-key records and per-key hints (IDLE, FREQ) the target version cannot hold. */
  droppedMeta: number;
  /** Function libraries the version cannot hold (no functions before RDB 10): a loss the command reports. */
  functionsDropped: number;
  /** Keys whose value was re-encoded for the target version. */
  convertedKeys: number;
  /** Hash field TTLs dropped under `lossy`. */
  droppedFieldTtls: number;
  /** Keys refused (told to the batch's KeyOutcomes). */
  skippedKeys: number;
  /** Keys written without a part the target cannot carry (key metadata, …), per kind and per key. */
  lost: LossTally;
}

const DEFAULT_VERSION = 12;
/** Payloads at least this big are written directly instead of being copied into the chunk. */
const DIRECT_WRITE = 256 * 1024;

interface Placeholder {
  db: number;
  /** Absolute file offset of the 4 value bytes of the db-size length; the expires length follows 5 bytes later. */
  at: number;
}

export class RdbSink implements Sink {
  readonly stats: RdbSinkStats = { keys: 0, perDb: {}, droppedMeta: 0, functionsDropped: 0, convertedKeys: 0, droppedFieldTtls: 0, skippedKeys: 0, lost: new LossTally() };
  private readonly out: AtomicOutput;
  private readonly chunkSize: number;
  private w = new ByteWriter(64 * 1024);
  private readonly crc = new Crc64();
  /** Bytes already handed to the stream (and fed to the CRC). */
  private flushed = 0;
  private started = false;
  private version = 0;
  private flavor: Flavor = 'redis';
  private db = -1;
  private readonly placeholders: Placeholder[] = [];

  constructor(readonly opts: RdbSinkOptions) {
    if (opts.rdbVersion !== undefined) checkVersion(opts.rdbVersion, opts.flavor);
    this.chunkSize = opts.chunkSize ?? 1 << 20;
    this.out = AtomicOutput.open(opts.path);
  }

  /** The version being written (known once the first record arrived). */
  get rdbVersion(): number {
    return this.version;
  }

  /**
   * A key whose value cannot be written at the target (a module below RDB 8, a corrupt payload that fails
   * to decode for conversion) is skipped and told to `outcomes`; without it such an error fails the batch.
   * RekeyUsageError (field TTLs without lossy, streams below 9) always propagates.
   */
  async writeBatch(records: readonly RdbRecord[], outcomes?: KeyOutcomes): Promise<void> {
    for (const r of records) {
      if (!this.started) this.start(r.kind === 'header' ? r : null);
      const p = r.kind === 'key' ? this.writeKey(r, outcomes) : this.writeMeta(r);
      if (p) await p;
      if (this.w.pos >= this.chunkSize) await this.flush();
    }
  }

  private start(header: { rdbVersion: number; flavor: Flavor } | null): void {
    this.started = true;
    const o = this.opts;
    if (o.rdbVersion !== undefined) {
      this.version = o.rdbVersion;
      this.flavor = o.flavor ?? flavorOf(o.rdbVersion);
    } else if (header) {
      this.version = header.rdbVersion;
      this.flavor = o.flavor ?? header.flavor;
      checkVersion(this.version, this.flavor);
    } else {
      this.version = DEFAULT_VERSION;
      this.flavor = 'redis';
    }
    // Valkey 7.2/8 files are REDIS0011: below 80 the layout is Redis'.
    if (this.flavor === 'valkey' && this.version < 80) this.flavor = 'redis';
    const magic = this.flavor === 'valkey' ? `VALKEY${String(this.version).padStart(3, '0')}` : `REDIS${String(this.version).padStart(4, '0')}`;
    this.w.ensure(9);
    this.w.pos += this.w.buf.write(magic, this.w.pos, 'latin1');
  }

  /** Redis RDB 13+ loads KEY_META; Valkey reads 0xF3 as SLOT_IMPORT and older Redis does not know it. */
  private get carriesKeyMeta(): boolean {
    return this.flavor === 'redis' && this.version >= 13;
  }

  /** The target in messages: `RDB 12`, `Valkey RDB 80`. */
  private get targetName(): string {
    return this.flavor === 'valkey' ? `Valkey RDB ${this.version}` : `RDB ${this.version}`;
  }

  /** Effective Redis-numbered version for opcode gates (Valkey 80+ knows everything Redis 7.2 knows). */
  private get gate(): number {
    return this.flavor === 'valkey' ? 11 : this.version;
  }

  private writeMeta(r: MetaRecord): void {
    const w = this.w;
    switch (r.kind) {
      case 'header':
      case 'selectdb':
      case 'resizedb':
      case 'eof':
        return; // we write our own header, db switches, sizes and trailer
      case 'aux':
        if (this.gate < 7) break;
        w.u8(OP.AUX).string(r.key).string(r.value);
        return;
      case 'module-aux':
        if (this.gate < 9) break;
        // A target without the module refuses the whole file on its AUX record (rdb.c `rdbLoadRio...`).
        if (this.opts.target && !this.opts.target.modules.includes(r.moduleName)) break;
        w.u8(OP.MODULE_AUX).bytes(r.raw);
        return;
      case 'function':
        if (this.gate < 10) {
          this.stats.functionsDropped++;
          return;
        }
        w.u8(OP.FUNCTION2).string(r.code, this.opts.compress);
        return;
      case 'function-pre-ga': {
        if (this.gate < 10) {
          this.stats.functionsDropped++;
          return;
        }
        // What Redis 7.0 GA does with a release-candidate function record.
        w.u8(OP.FUNCTION2).string(preGaFunctionCode(r.name, r.engine, r.code), this.opts.compress);
        return;
      }
      case 'slot-info':
        if (this.flavor === 'redis' && this.version < 12) break;
        w.u8(OP.SLOT_INFO).len(r.slot).len(r.slotSize).len(r.expiresSlotSize);
        return;
    }
    this.stats.droppedMeta++;
  }

  private writeKey(rec: KeyRecord, outcomes: KeyOutcomes | undefined): Promise<void> | void {
    let rdbType: number;
    let payload: Buffer;
    try {
      // Inside the try: a JSONL value is encoded here, and one no RDB can hold (a NaN score) is this key's error.
      rdbType = rec.rdbType;
      payload = rec.payload;
      // Deep structural check, as Redis' sanitize-dump-payload does (codec/verify): a corrupt value is refused.
      const fault = verifyPayload(rec);
      if (fault) throw fault;
      const target = this.opts.target;
      const ml = target ? moduleLoss(rec, target.modules, target.name) : null;
      if (ml) {
        // Nothing of a module value the target cannot load is writable: refused, or skipped under lossy.
        applyLossPolicy(rec, [ml], target!.name, this.opts, this.stats.lost);
        return;
      }
      const conv = convertPayload(rec, this.version, { lossy: this.opts.lossy, flavor: this.flavor, compress: this.opts.compress });
      if (conv !== null) {
        rdbType = conv.rdbType;
        payload = conv.payload;
        this.stats.convertedKeys++;
        if (conv.droppedFieldTtls) this.stats.droppedFieldTtls += conv.droppedFieldTtls;
      }
      // RDB 1–2 expiries are i32 seconds: nothing after 2038-01-19 fits.
      if (rec.expireAtMs !== null && this.version < 3 && Math.ceil(rec.expireAtMs / 1000) > 0x7fffffff) {
        throw new UnrepresentableValueError(`an expiry after 2038 (${rec.expireAtMs} ms) does not fit RDB ${this.version}'s 32-bit seconds; use RDB 3 or newer`);
      }
      const losses: Loss[] = [];
      if (rec.keyMeta !== undefined && !this.carriesKeyMeta) losses.push({ kind: 'key_meta', what: `key metadata (KEY_META, ${rec.keyMeta.length} bytes)` });
      const idmp = streamIdmpLoss(rec, this.version, this.flavor);
      if (idmp) losses.push(idmp);
      applyLossPolicy(rec, losses, this.targetName, this.opts, this.stats.lost);
    } catch (e) {
      if (e instanceof RekeyUsageError || !outcomes) throw e;
      this.stats.skippedKeys++;
      outcomes.refused(rec, e as Error);
      return;
    }

    const w = this.w;
    if (rec.db !== this.db) {
      this.db = rec.db;
      w.u8(OP.SELECTDB).len(rec.db);
      if (this.out.tempPath !== null && this.gate >= 7) {
        w.u8(OP.RESIZEDB);
        const at = w.len32Fixed(0);
        w.len32Fixed(0);
        this.placeholders.push({ db: rec.db, at: this.flushed + at });
      }
    }
    if (rec.expireAtMs !== null) {
      if (this.version >= 3) w.u8(OP.EXPIRETIME_MS).i64le(rec.expireAtMs);
      // Seconds, rounded up so the key never expires before its time.
      else w.u8(OP.EXPIRETIME).i32le(Math.ceil(rec.expireAtMs / 1000));
    }
    if (rec.idle !== undefined) {
      if (this.gate >= 9) w.u8(OP.IDLE).len(rec.idle);
      else this.stats.droppedMeta++;
    }
    if (rec.freq !== undefined) {
      if (this.gate >= 9) w.u8(OP.FREQ).u8(rec.freq);
      else this.stats.droppedMeta++;
    }
    // KEY_META goes right before the type byte, after the expiry/LRU/LFU opcodes: rdb.c
    // `rdbLoadRioWithLoadingCtx` reads "[<META>,]<TYPE>,<KEY>,<VALUE>" and Redis 8.6 refuses other orders.
    if (rec.keyMeta !== undefined && this.carriesKeyMeta) w.bytes(rec.keyMeta);
    w.u8(rdbType).string(rec.key, this.opts.compress);

    const s = this.stats;
    s.keys++;
    const d = (s.perDb[rec.db] ??= { keys: 0, expires: 0 });
    d.keys++;
    if (rec.expireAtMs !== null) d.expires++;

    if (payload.length < DIRECT_WRITE) {
      w.bytes(payload);
      return;
    }
    // A big value: hand its bytes to the stream as they are instead of copying them into the chunk.
    const p1 = this.flush();
    const p2 = this.emit(payload);
    if (p1 || p2) return Promise.all([p1, p2]).then(() => undefined);
  }

  private emit(chunk: Buffer): Promise<void> | void {
    this.crc.update(chunk);
    this.flushed += chunk.length;
    return this.out.write(chunk);
  }

  private flush(): Promise<void> | void {
    if (this.w.pos === 0) return;
    return this.emit(this.w.finish());
  }

  async close(): Promise<void> {
    if (!this.started) this.start(null);
    const w = this.w;
    w.u8(OP.EOF);
    // Patch RESIZEDB counts: in the buffer when still there, otherwise later in the file (CRC corrected).
    const filePatches: Array<{ at: number; bytes: Buffer }> = [];
    for (const p of this.placeholders) {
      const d = this.stats.perDb[p.db]!;
      const bytes = Buffer.alloc(9);
      bytes.writeUInt32BE(d.keys, 0);
      bytes[4] = 0x80;
      bytes.writeUInt32BE(d.expires, 5);
      if (p.at >= this.flushed) bytes.copy(w.buf, p.at - this.flushed);
      else filePatches.push({ at: p.at, bytes });
    }
    const tail = w.finish();
    this.crc.update(tail);
    const total = this.flushed + tail.length;
    let last = tail;
    if (this.version >= 5) {
      let crc = this.crc.value();
      // The placeholders were zeros, so each patch's XOR delta is its new bytes (the 0x80 between was not changed).
      for (const p of filePatches) {
        const delta = Buffer.from(p.bytes);
        delta[4] = 0;
        crc ^= crc64PatchDelta(delta, p.at, total);
      }
      const trailer = Buffer.allocUnsafe(8);
      trailer.writeBigUInt64LE(crc);
      last = Buffer.concat([tail, trailer]);
    }
    if (filePatches.length === 0) {
      const p = this.out.write(last);
      if (p) await p;
    } else {
      // Wait until every byte reached the temp file, then patch it in place through a second descriptor.
      await new Promise<void>((resolve, reject) => this.out.stream.write(last, (err) => (err ? reject(err) : resolve())));
      const fh = await open(this.out.tempPath!, 'r+');
      try {
        for (const p of filePatches) await fh.write(p.bytes, 0, 9, p.at);
      } finally {
        await fh.close();
      }
    }
    await this.out.commit();
  }

  async abort(_err: unknown): Promise<void> {
    await this.out.abort();
  }
}

function checkVersion(v: number, flavor: Flavor | undefined): void {
  const ok = Number.isInteger(v) && ((v >= 1 && v <= MAX_REDIS_VERSION) || (v >= 80 && v <= MAX_VALKEY_VERSION && flavor !== 'redis'));
  if (!ok) {
    throw new RekeyUsageError(`cannot write RDB version ${v}: rekey writes Redis versions 1–${MAX_REDIS_VERSION} and Valkey ${80}–${MAX_VALKEY_VERSION}`);
  }
}
