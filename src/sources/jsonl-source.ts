/**
 * Streaming reader of JSONL dumps (README, "JSONL dump format"; see jsonl/value-json.ts for
 * the value mapping). Also tolerates redis-dump style lines:
 * `{"db": 0, "key": "...", "ttl": <seconds, -1 = none>, "type": "...", "value": ...}`.
 */
import { isUtf8 } from 'node:buffer';
import { RekeyInputError } from '../errors.js';
import { encodeValue, minRdbVersionFor } from '../encode/value-encoder.js';
import { bytesAt, describeJson, jsonToMeta, jsonToValue, JsonValueError, keyMetaFromJson } from '../jsonl/value-json.js';
import { mergedRepeat } from '../jsonl/repeated-keys.js';
import { LOGICAL_TYPES, type Flavor, type KeyRecord, type LogicalType, type RdbRecord, type Value } from '../records/types.js';

/** Shared lazily computed state: shared with views made by rewriteKey (Object.create). */
interface LazyState {
  enc?: { rdbType: number; payload: Buffer };
  rdbVersion?: number;
}

/**
 * A key read from JSONL. The value is parsed eagerly from the line; the RDB serialization
 * (`rdbType`, `payload`) is computed once, on first access, by encodeValue() at the lowest RDB
 * version able to hold the value.
 */
export class JsonKeyRecord implements KeyRecord {
  readonly kind = 'key' as const;
  readonly flavor: Flavor = 'redis';
  readonly encoding = 'json';
  idle?: number;
  freq?: number;
  keyMeta?: Buffer;
  private readonly lazy: LazyState = {};

  constructor(
    readonly db: number,
    readonly key: Buffer,
    readonly type: LogicalType,
    readonly expireAtMs: number | null,
    /** Byte offset of the line in the input. */
    readonly offset: number,
    private readonly value: Value,
  ) {}

  /** The payload is encoded from the value only when a sink needs the bytes. */
  readonly decodedFirst = true;

  decode(): Value {
    return this.value;
  }

  get rdbVersion(): number {
    return (this.lazy.rdbVersion ??= minRdbVersionFor(this.value));
  }

  get rdbType(): number {
    return this.encoded().rdbType;
  }

  get payload(): Buffer {
    return this.encoded().payload;
  }

  private encoded(): { rdbType: number; payload: Buffer } {
    return (this.lazy.enc ??= encodeValue(this.value, { rdbVersion: this.rdbVersion, key: this.key }));
  }
}

export interface JsonlParseStats {
  /** Lines read (blank lines included). */
  lines: number;
  keys: number;
  meta: number;
  /** Lines skipped under `skipBadLines`. */
  badLines: number;
}

export interface JsonlParseOptions {
  /** Name used in error messages. */
  file: string;
  /** Skip (and count) lines that are not valid instead of failing. */
  skipBadLines?: boolean;
  /** Called for each skipped line (1-based line number, what was wrong). */
  onBadLine?: (lineNo: number, msg: string) => void;
  /** "Now" for redis-dump `ttl` (relative seconds) → absolute `expire_at_ms`. Default Date.now(). */
  now?: number;
  /** Updated in place while parsing (also the generator's return value). */
  stats?: JsonlParseStats;
}

const LOGICAL = new Set<string>(LOGICAL_TYPES);

/** A bad line: the message names what was expected (no location; the caller adds it). */
class BadLine {
  constructor(readonly msg: string) {}
}

/**
 * Parse a JSONL dump. Yields one batch of records per input chunk (none for chunks that complete
 * no line). Lines are split on '\n' (a trailing '\r' is dropped); blank lines are ignored.
 * A bad line throws RekeyInputError(file, byte offset of the line, "line N: ..."), or with
 * `skipBadLines` is counted and reported through `onBadLine`.
 */
export async function* parseJsonl(
  source: AsyncIterable<Buffer>,
  opts: JsonlParseOptions,
): AsyncGenerator<RdbRecord[], JsonlParseStats> {
  const file = opts.file;
  const stats: JsonlParseStats = opts.stats ?? { lines: 0, keys: 0, meta: 0, badLines: 0 };
  const now = opts.now ?? Date.now();
  let pending: Buffer[] = [];
  let pendingLen = 0;
  /** Byte offset of the first byte of the line being assembled. */
  let lineStart = 0;
  let lineNo = 0;

  const handle = (line: Buffer, offset: number, batch: RdbRecord[]): void => {
    lineNo++;
    stats.lines++;
    let end = line.length;
    if (end > 0 && line[end - 1] === 13) end--;
    let start = 0;
    if (offset === 0 && end >= 3 && line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf) start = 3; // BOM
    if (start === end) return;
    const n = lineNo;
    try {
      const rec = parseLine(line.subarray(start, end), offset, () => `${file}:line ${n}`, now);
      if (rec === null) return;
      if (rec.kind === 'key') stats.keys++;
      else stats.meta++;
      batch.push(rec);
    } catch (e) {
      let msg: string;
      if (e instanceof BadLine) msg = e.msg;
      else if (e instanceof JsonValueError) msg = e.detail;
      else throw e;
      if (opts.skipBadLines) {
        stats.badLines++;
        opts.onBadLine?.(n, msg);
        return;
      }
      throw new RekeyInputError(file, offset, `line ${n}: ${msg}`);
    }
  };

  for await (const chunk of source) {
    const batch: RdbRecord[] = [];
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(10, from);
      if (nl === -1) break;
      let line: Buffer;
      if (pendingLen > 0) {
        pending.push(chunk.subarray(from, nl));
        line = Buffer.concat(pending, pendingLen + (nl - from));
        pending = [];
        pendingLen = 0;
      } else {
        line = chunk.subarray(from, nl);
      }
      const offset = lineStart;
      lineStart += line.length + 1;
      from = nl + 1;
      handle(line, offset, batch);
    }
    if (from < chunk.length) {
      // Copied: the source may reuse its buffers.
      pending.push(Buffer.from(chunk.subarray(from)));
      pendingLen += chunk.length - from;
    }
    if (batch.length > 0) yield batch;
  }
  if (pendingLen > 0) {
    const batch: RdbRecord[] = [];
    const line = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingLen);
    pending = [];
    handle(line, lineStart, batch);
    if (batch.length > 0) yield batch;
  }
  return stats;
}

/** The members of a hash line that may hold an object keyed by field. */
const HASH_OBJECT_MEMBERS: ReadonlySet<string> = new Set(['value', 'field_expire_at_ms']);

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** One non-blank line → a record, or null for a whitespace-only line. Throws BadLine / JsonValueError. */
function parseLine(line: Buffer, offset: number, where: () => string, now: number): RdbRecord | null {
  if (!isUtf8(line)) throw new BadLine('UTF-8 text (the line has bytes that are not UTF-8; binary strings must be written {"base64": "..."})');
  const text = line.toString('utf8');
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    if (text.trim() === '') return null;
    throw new BadLine(`a JSON object (invalid JSON: ${(e as Error).message})`);
  }
  if (!isObject(obj)) throw new BadLine(`a JSON object, found ${describeJson(obj)}`);
  if (obj.$ !== undefined) return jsonToMeta(obj, offset, where);

  const key = bytesAt(obj.key, where, 'key');
  const type = obj.type;
  if (typeof type !== 'string' || !LOGICAL.has(type)) {
    throw new BadLine(`"type": one of ${LOGICAL_TYPES.join(', ')}, found ${describeJson(type)}`);
  }
  if (type === 'hash' && (isObject(obj.value) || isObject(obj.field_expire_at_ms))) {
    // JSON.parse kept only the last of a repeated field: find it in the text (hash object lines only).
    const r = mergedRepeat(text, obj, HASH_OBJECT_MEMBERS);
    if (r !== null) {
      throw new BadLine(
        r.where === ''
          ? `each member of the line once, found ${JSON.stringify(r.key)} twice (JSON keeps only the last)`
          : `"${r.where}": a hash listing each field once, found ${JSON.stringify(r.key)} twice (JSON keeps only the last)`,
      );
    }
  }
  // "db" is required (README schema): a line without it would silently land in db 0.
  const db = obj.db;
  if (db === undefined) throw new BadLine('"db": a database number (integer ≥ 0); the key line has no "db"');
  if (typeof db !== 'number' || !Number.isInteger(db) || db < 0 || db > 0xffffffff) throw new BadLine(`"db": a database number (integer ≥ 0), found ${describeJson(db)}`);

  let expireAtMs: number | null;
  if (obj.expire_at_ms === undefined && obj.ttl !== undefined) {
    // redis-dump: relative seconds, -1 (or null) for none.
    const ttl = obj.ttl;
    if (ttl === null || ttl === -1) expireAtMs = null;
    else if (typeof ttl === 'number' && Number.isFinite(ttl) && ttl >= 0) expireAtMs = now + Math.round(ttl * 1000);
    else throw new BadLine(`"ttl": seconds to live (≥ 0) or -1 for none, found ${describeJson(ttl)}`);
  } else {
    const e = obj.expire_at_ms;
    if (e === undefined || e === null) expireAtMs = null;
    else if (typeof e === 'number' && Number.isSafeInteger(e)) expireAtMs = e;
    else throw new BadLine(`"expire_at_ms": absolute Unix milliseconds (an integer) or null, found ${describeJson(e)}`);
  }

  const value = jsonToValue(
    type,
    obj.value,
    { field_expire_at_ms: obj.field_expire_at_ms, stream_version: obj.stream_version },
    where,
  );
  // Redis has no empty list/set/zset/hash (RESTORE refuses them, loaders skip them); empty streams exist.
  const size = value.type === 'list' ? value.items.length : value.type === 'set' ? value.members.length : value.type === 'zset' || value.type === 'hash' ? value.entries.length : 1;
  if (size === 0) throw new BadLine(`"value": a non-empty ${value.type} (Redis has no empty collections)`);
  const rec = new JsonKeyRecord(db, key, type as LogicalType, expireAtMs, offset, value);
  if (obj.idle !== undefined && obj.idle !== null) {
    const idle = obj.idle;
    if (typeof idle !== 'number' || !Number.isSafeInteger(idle) || idle < 0) throw new BadLine(`"idle": seconds idle (integer ≥ 0), found ${describeJson(idle)}`);
    rec.idle = idle;
  }
  if (obj.freq !== undefined && obj.freq !== null) {
    const freq = obj.freq;
    if (typeof freq !== 'number' || !Number.isInteger(freq) || freq < 0 || freq > 255) throw new BadLine(`"freq": an LFU counter from 0 to 255, found ${describeJson(freq)}`);
    rec.freq = freq;
  }
  const keyMeta = keyMetaFromJson(obj.meta, where);
  if (keyMeta !== undefined) rec.keyMeta = keyMeta;
  return rec;
}
