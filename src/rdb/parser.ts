import { RekeyInputError } from '../errors.js';
import type { Flavor, KeyRecord, LogicalType, RdbRecord, Value } from '../records/types.js';
import { Crc64 } from '../codec/crc64.js';
import { Cursor, NEED_MORE } from './cursor.js';
import { describeType, MAX_REDIS_VERSION, MAX_VALKEY_VERSION, moduleNameFromId, OP, T } from './constants.js';
import { skipModuleOpcodes, skipValue } from './value-skip.js';
import { decodeValue } from './value-decode.js';
import { skipKeyMetaBody } from './key-meta.js';
import { aofIncrementsAfter } from './aof-manifest.js';
import { readTemplateRecord, resolveTemplateRef, type TemplateRegistry } from './hash-templates.js';

export interface ParseOptions {
  /** Name used in error messages. */
  file: string;
  /** Total input size when known (a plain file): declared lengths are checked against it. */
  size?: number;
  /** Skip CRC64 verification at EOF. */
  ignoreChecksum?: boolean;
  /** Read a header version newer than rekey knows. */
  allowFutureVersion?: boolean;
  /**
   * What follows the EOF record: 'refuse' (default) stops with a clear error when an AOF tail follows
   * (an AOF with an RDB preamble), whose commands rekey would otherwise lose in silence; 'ignore' for
   * sources that end the payload themselves.
   */
  trailing?: 'refuse' | 'ignore';
}

/** A key as read from an RDB: the payload is a view into the input, decoded only when asked. */
export class RdbKeyRecord implements KeyRecord {
  readonly kind = 'key' as const;
  private decoded: Value | undefined;
  idle?: number;
  freq?: number;
  /** RDB 13 KEY_META bytes that preceded this key (opcode included), kept for a verbatim rewrite. */
  keyMeta?: Buffer;
  constructor(
    readonly db: number,
    readonly key: Buffer,
    readonly type: LogicalType,
    readonly rdbType: number,
    readonly encoding: string,
    readonly flavor: Flavor,
    readonly rdbVersion: number,
    readonly expireAtMs: number | null,
    readonly payload: Buffer,
    readonly offset: number,
    /** Input offset of payload[0], so decode errors point into the file. */
    readonly payloadOffset: number,
    readonly file: string,
  ) {}

  decode(): Value {
    return (this.decoded ??= decodeValue(this.payload, this.rdbType, this.flavor, this.file, this.payloadOffset));
  }
}

const MIN_READ = 64 * 1024;

/**
 * Streaming RDB parser. Pulls chunks from `source` and yields records in batches (one batch per
 * buffer fill), so per-record async overhead is paid once per batch, not per key.
 * An entry is parsed synchronously from its first byte; when the buffer runs short the entry is
 * re-run after more input arrives. The amount awaited at least doubles on each retry, so a huge
 * value costs O(size) in total, and only the current entry is ever held.
 */
export async function* parseRdb(source: AsyncIterable<Buffer>, opts: ParseOptions): AsyncGenerator<RdbRecord[]> {
  const incr = opts.trailing === 'ignore' ? [] : aofIncrementsAfter(opts.file);
  if (incr.length > 0) {
    await source[Symbol.asyncIterator]().return?.(); // close the file behind it
    throw new RekeyInputError(
      opts.file,
      0,
      `expected a snapshot, found the base file of a multi-part AOF whose manifest lists commands written after it (${incr.join(', ')}); rekey reads snapshots, not command logs, so those writes would be lost. Start a redis-server on the appendonlydir (appendonly yes) and SAVE a fresh RDB, or copy the base file elsewhere to read only the snapshot part.`,
    );
  }
  const it = source[Symbol.asyncIterator]();
  const crc = new Crc64();
  const c = new Cursor(opts.file, Buffer.alloc(0));
  let done = false;
  let want = 9;

  let version = 0;
  let flavor: Flavor = 'redis';
  let db = 0;
  // Per-key prefix state, reset after each key.
  let expireAtMs: number | null = null;
  let idle: number | undefined;
  let freq: number | undefined;
  let keyMeta: Buffer | undefined;
  let sawHeader = false;
  let finished = false;
  // RDB 15 hash templates (opcode 242): one registry for the whole file, as Redis keeps one per server.
  const templates: TemplateRegistry = new Map();

  try {
    while (!finished) {
      // Fill: keep what is unconsumed and add chunks until `want` bytes are buffered or input ends.
      if (c.end - c.pos < want && !done) {
        const parts: Buffer[] = [c.buf.subarray(c.pos, c.end)];
        let total = parts[0]!.length;
        const target = Math.max(want, MIN_READ);
        while (total < target) {
          const r = await it.next();
          if (r.done) {
            done = true;
            break;
          }
          parts.push(r.value);
          total += r.value.length;
        }
        c.base += c.pos;
        c.buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
        c.pos = 0;
        c.end = total;
      }
      c.streaming = !done;
      c.beyond = done ? 0 : opts.size !== undefined ? Math.max(0, opts.size - c.base - c.end) : Infinity;

      const batch: RdbRecord[] = [];
      let committed = c.pos;
      try {
        if (!sawHeader) {
          const h = readHeader(c, opts);
          version = h.rdbVersion;
          flavor = h.flavor;
          sawHeader = true;
          batch.push(h);
          crc.update(c.buf, committed, c.pos);
          committed = c.pos;
        }
        for (;;) {
          const start = c.pos;
          const op = c.u8('an opcode or value type');
          switch (op) {
            case OP.EOF: {
              crc.update(c.buf, committed, c.pos);
              let checksum: Buffer | null = null;
              let checksumOk: boolean | null = null;
              if (version >= 5) {
                checksum = c.bytes(8, 'the CRC64 checksum after EOF');
                if (checksum.readBigUInt64LE(0) === 0n) checksumOk = null; // saved with rdbchecksum no
                else {
                  const computed = crc.digestLE();
                  checksumOk = computed.equals(checksum);
                  if (!checksumOk && !opts.ignoreChecksum) {
                    throw c.error(`CRC64 ${computed.toString('hex')} (computed over the file), found ${checksum.toString('hex')}: the file is corrupt (--ignore-checksum reads it anyway)`, c.pos - 8);
                  }
                }
              }
              batch.push({ kind: 'eof', checksum, checksumOk, offset: c.base + start });
              committed = c.pos;
              finished = true;
              break;
            }
            case OP.SELECTDB:
              db = c.len('database number');
              batch.push({ kind: 'selectdb', db, offset: c.base + start });
              break;
            case OP.EXPIRETIME:
              expireAtMs = c.i32le('expire time (seconds)') * 1000;
              continue;
            case OP.EXPIRETIME_MS: {
              const at = c.pos;
              expireAtMs = c.i64le('expire time (ms)');
              // Beyond 2^53 ms (285,000 years) a JS number cannot carry the expiry exactly: refuse it rather
              // than write a rounded one (rdbLoadMillisecondTime reads any int64).
              if (!Number.isSafeInteger(expireAtMs)) throw c.error(`an expire time (ms) below 2^53, got ${c.buf.readBigInt64LE(at)}`, at);
              continue;
            }
            case OP.IDLE:
              idle = c.len('LRU idle time');
              continue;
            case OP.FREQ:
              freq = c.u8('LFU frequency');
              continue;
            case OP.RESIZEDB: {
              const dbSize = c.len('RESIZEDB db size');
              const expiresSize = c.len('RESIZEDB expires size');
              batch.push({ kind: 'resizedb', db, dbSize, expiresSize, offset: c.base + start });
              break;
            }
            case OP.AUX: {
              const key = c.string('AUX field name');
              const value = c.string('AUX field value');
              batch.push({ kind: 'aux', key, value, offset: c.base + start });
              break;
            }
            case OP.MODULE_AUX: {
              const bodyStart = c.pos;
              const moduleId = c.lenBig('module id');
              const whenOp = c.len('MODULE_AUX when-opcode');
              if (whenOp !== 2) throw c.error(`MODULE_AUX when-opcode 2 (UINT), found ${whenOp}`);
              const when = c.len('MODULE_AUX when');
              skipModuleOpcodes(c);
              batch.push({ kind: 'module-aux', moduleId, moduleName: moduleNameFromId(moduleId).name, when, raw: c.buf.subarray(bodyStart, c.pos), offset: c.base + start });
              break;
            }
            case OP.FUNCTION_PRE_GA: {
              const name = c.string('function name');
              const engine = c.string('function engine');
              const hasDesc = c.len('function has-description flag');
              const description = hasDesc ? c.string('function description') : null;
              const code = c.string('function code');
              batch.push({ kind: 'function-pre-ga', name, engine, description, code, offset: c.base + start });
              break;
            }
            case OP.FUNCTION2:
              batch.push({ kind: 'function', code: c.string('function library code'), offset: c.base + start });
              break;
            case OP.SLOT_INFO: {
              const slot = c.len('slot number');
              const slotSize = c.len('slot key count');
              const expiresSlotSize = c.len('slot expires count');
              batch.push({ kind: 'slot-info', slot, slotSize, expiresSlotSize, offset: c.base + start });
              break;
            }
            case OP.HASH_TEMPLATE:
              if (flavor === 'redis') {
                readTemplateRecord(c, templates);
                break;
              }
              throw c.error(`an opcode or value type, found byte 0xf2 (Valkey RDB 81 UPDATE, whose layout rekey does not read)`, start);
            case OP.KEY_META: {
              if (flavor === 'valkey') {
                // SLOT_IMPORT (Valkey 9): job name, then slot ranges. Only meaningful to a cluster loading it.
                c.skipString('slot import job name');
                const n = c.count(c.len('slot range count'), 2, 'slot range count');
                for (let i = 0; i < n; i++) {
                  c.len('slot range start');
                  c.len('slot range end');
                }
                break;
              }
              skipKeyMetaBody(c);
              keyMeta = c.buf.subarray(start, c.pos);
              continue;
            }
            default: {
              const d = describeType(op, flavor);
              if (d === null) {
                throw c.error(`an opcode or value type, found byte 0x${op.toString(16).padStart(2, '0')}${unknownTypeHint(op, flavor)}`, start);
              }
              const key = c.string('key');
              const payloadStart = c.pos;
              let rdbType: number = op;
              let payload: Buffer;
              if (flavor === 'redis' && (op === T.HASH_TMPL_LP_REF || op === T.HASH_TMPL_ARRAY_REF)) {
                // A _REF hash leaves the parser self-contained (29/31), so no sink sees a value it cannot carry.
                ({ rdbType, payload } = resolveTemplateRef(c, op, templates));
              } else {
                skipValue(c, op, flavor);
                payload = c.buf.subarray(payloadStart, c.pos);
              }
              const rec = new RdbKeyRecord(db, key, d.type, rdbType, d.encoding, flavor, version, expireAtMs,
                payload, c.base + start, c.base + payloadStart, opts.file);
              if (idle !== undefined) rec.idle = idle;
              if (freq !== undefined) rec.freq = freq;
              if (keyMeta !== undefined) rec.keyMeta = keyMeta;
              batch.push(rec);
              expireAtMs = null;
              idle = freq = undefined;
              keyMeta = undefined;
            }
          }
          if (finished) break;
          // Commit only at entry boundaries: a prefix opcode without its key is re-read with it.
          crc.update(c.buf, committed, c.pos);
          committed = c.pos;
        }
      } catch (e) {
        if (e !== NEED_MORE) throw e;
        // Roll back to the last complete entry (prefix opcodes are re-read with their key).
        expireAtMs = null;
        idle = freq = undefined;
        keyMeta = undefined;
        const entryBuffered = c.end - committed;
        c.pos = committed;
        want = Math.max(NEED_MORE.need - committed, entryBuffered * 2);
      }
      if (batch.length > 0) yield batch;
    }
    if (opts.trailing !== 'ignore') await refuseAofTail(c, it, done, opts.file);
  } finally {
    // Stop reading at EOF or on error: close the file or socket behind the chunks (an AOF
    // preamble or a replication stream goes on after the RDB).
    await it.return?.();
  }
}

function readHeader(c: Cursor, opts: ParseOptions): { kind: 'header'; rdbVersion: number; flavor: Flavor; magic: string } {
  const magic = c.bytes(9, 'the 9-byte RDB header (REDIS0012 or VALKEY080)').toString('latin1');
  let flavor: Flavor;
  let digits: string;
  if (magic.startsWith('REDIS')) {
    flavor = 'redis';
    digits = magic.slice(5);
  } else if (magic.startsWith('VALKEY')) {
    flavor = 'valkey';
    digits = magic.slice(6);
  } else {
    throw c.error(`an RDB header "REDIS" + 4 digits or "VALKEY" + 3 digits, found ${JSON.stringify(magic)}`, 0);
  }
  if (!/^[0-9]+$/.test(digits)) throw c.error(`an RDB version number after the magic, found ${JSON.stringify(digits)}`, flavor === 'redis' ? 5 : 6);
  const rdbVersion = Number(digits);
  const max = flavor === 'redis' ? MAX_REDIS_VERSION : MAX_VALKEY_VERSION;
  if (rdbVersion < 1 || (rdbVersion > max && !opts.allowFutureVersion)) {
    throw c.error(`an RDB version from 1 to ${max} for ${flavor === 'redis' ? 'Redis' : 'Valkey'}, found ${rdbVersion}${rdbVersion > max ? futureHint(flavor, rdbVersion) : ''}`, flavor === 'redis' ? 5 : 6);
  }
  if (flavor === 'valkey' && rdbVersion < 80 && !opts.allowFutureVersion) {
    throw c.error(`a Valkey RDB version of 80 or more with the VALKEY magic, found ${rdbVersion}`, 6);
  }
  return { kind: 'header', rdbVersion, flavor, magic };
}


/**
 * After the EOF record: an AOF file with an RDB preamble (aof-use-rdb-preamble, loadSingleAppendOnlyFile
 * in aof.c) goes on with RESP commands. rekey reads snapshots, not command logs, so those writes would
 * be lost without a word: refuse, naming where the tail starts. Other trailing bytes are ignored, as
 * rdbLoad does.
 */
async function refuseAofTail(c: Cursor, it: AsyncIterator<Buffer>, done: boolean, file: string): Promise<void> {
  let first: number | undefined = c.pos < c.end ? c.buf[c.pos] : undefined;
  const at = c.base + c.pos;
  while (first === undefined && !done) {
    const r = await it.next();
    if (r.done) break;
    if (r.value.length > 0) first = r.value[0];
  }
  if (first === 0x2a /* '*' */) {
    throw new RekeyInputError(
      file,
      at,
      `expected the end of the file after the RDB EOF record, found RESP commands: this is an AOF with an RDB preamble, and rekey reads snapshots, not command logs (its commands would be lost). Load it into a redis-server (with appendonly yes) and SAVE a fresh RDB, or cut the file at byte ${at} to keep only the snapshot part.`,
    );
  }
}

/** Why a byte is no type we read, when we know (RDB 14/15 types are named, their layouts not held). */
function unknownTypeHint(op: number, flavor: Flavor): string {
  if (op === 107 || op === 121) return ' (a Redis Enterprise opcode, not part of open-source RDB)';
  if (flavor === 'valkey' && op === 23) return ' (Valkey RDB 81 PATH_HASH, whose layout rekey does not read)';
  if (flavor === 'redis' && (op === 27 || op === 28)) {
    return ' (an RDB 14/15 type or opcode of Redis 8.8/8.10; the Redis sources rekey was built from do not define its layout)';
  }
  if (flavor === 'redis' && op === 33) {
    return ' (RDB 15 RDB_TYPE_GCRA of Redis 8.10, built only with ENABLE_GCRA; no source rekey can read defines its layout)';
  }
  return '';
}

function futureHint(flavor: Flavor, v: number): string {
  if (flavor === 'redis' && (v === 14 || v === 15)) {
    return ` (RDB ${v} is Redis ${v === 14 ? '8.8' : '8.10'}; the Redis sources rekey was built from do not define its new types, so rekey does not claim it: --allow-future-version reads a file that uses none of them and names any it meets)`;
  }
  return ' (newer than rekey knows; --allow-future-version tries anyway)';
}
