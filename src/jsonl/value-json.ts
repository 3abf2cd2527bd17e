/**
 * The mapping between the logical `Value` model and the JSONL dump format (README, "JSONL dump
 * format"), both directions. Shared by the JSONL writer (sinks/jsonl-sink.ts) and reader
 * (sources/jsonl-source.ts).
 *
 * Format decisions (documented in the README with its JSON Schema):
 * - Byte strings: a JSON string when the bytes are valid UTF-8, else `{"base64": "..."}` (standard
 *   alphabet, padded). Reading also accepts the corpus truth's `{"b64": "..."}`.
 * - zset scores: a JSON number; `"inf"` / `"-inf"` for infinities; negative zero is written `-0`
 *   (valid JSON, parses back to -0); a NaN score (only in corrupt input) is written `"nan"`. Reading
 *   also accepts scores as decimal text ("1.5", as Redis replies and the corpus truth give them).
 * - hash: `{field: value}` only when every field is valid UTF-8, no field is `__proto__`, and
 *   `JSON.parse` keeps the stored field order (JS objects enumerate array-index keys such as "7"
 *   first, in ascending order, so a hash storing field "10" before "2" uses the pairs form). Otherwise
 *   `[[field, value], ...]`. Field TTLs go in the sibling `"field_expire_at_ms"` on the line, in the
 *   same form as the value (`{field: ms}` or `[[field, ms], ...]`), listing only fields with a TTL.
 * - stream: IDs are `"ms-seq"` strings; `entries_added` is a JSON number up to 2^53, else a string of
 *   digits; `entries_read` is omitted when the source layout has none (stream v1), null when Redis
 *   does not know it (as XINFO and the corpus truth show it; -1 is also read as unknown);
 *   `active_time_ms` is omitted when the layout has none (stream v1/v2). The line carries
 *   a sibling `"stream_version"` (1..4: RDB types 15, 19, 21, 26) naming the layout the value came
 *   from, so RDB → JSONL → RDB is exact; without it the reader infers the lowest layout holding all
 *   the fields present. A stream v4's IDMP state goes in `"idmp"` (idmpJson; its presence means layout 4).
 * - module: `{"module": "<9-char type name>", "encver": n, "raw": "<base64>"}` where raw is the whole
 *   serialized value after the type byte (module id, opcodes, EOF); name and encver are checked
 *   against the id at the start of raw.
 * - Lines that are not keys carry `"$"`: `{"$":"header","rdb_version":12,"flavor":"redis"}`,
 *   `{"$":"aux","key":…,"value":…}`, `{"$":"function","code":…}` (FUNCTION2 library source; pre-GA
 *   functions are converted to `#!<engine, lowercased> name=<name>\n<code>`, the description is
 *   dropped), `{"$":"module_aux","module":name,"when":n,"raw":base64}` (raw: everything after the
 *   MODULE_AUX opcode). selectdb / resizedb / slot-info / eof produce no line.
 * - key metadata (Redis RDB 13 KEY_META, module-defined): `"meta": "<base64>"` on the key line, the bytes
 *   after the 0xF3 opcode (class count, then per class its 4-byte spec and module-opcoded values).
 */
import { isUtf8 } from 'node:buffer';
import { EXIT_BAD_INPUT } from '../errors.js';
import { moduleNameFromId, OP } from '../rdb/constants.js';
import { keyMetaBodyProblem } from '../rdb/key-meta.js';
import { compareStreamIds, parseStreamIdStrict, streamIdText } from '../records/stream-id.js';
import type {
  KeyRecord,
  MetaRecord,
  ModuleValue,
  StreamConsumer,
  StreamEntry,
  StreamGroup,
  StreamId,
  StreamIdmp,
  StreamIdmpProducer,
  StreamPendingEntry,
  StreamValue,
  Value,
} from '../records/types.js';

/** A JSON value that does not have the expected shape. `detail` is the message without location. */
export class JsonValueError extends Error {
  override readonly name = 'JsonValueError';
  readonly exitCode = EXIT_BAD_INPUT;
  constructor(
    readonly where: string,
    readonly detail: string,
  ) {
    super(`${where}: ${detail}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

interface FastSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}
const HAS_SLICES = typeof (Buffer.prototype as unknown as Partial<FastSlices>).latin1Slice === 'function' &&
  typeof (Buffer.prototype as unknown as Partial<FastSlices>).utf8Slice === 'function';
/** Byte strings up to this length are scanned in JS for characters JSON must escape. */
const SCAN_MAX = 256;

/** JSON text of a byte string: a JSON string when valid UTF-8, else `{"base64":"..."}`. */
export function bytesToJson(b: Buffer): string {
  const n = b.length;
  if (n <= SCAN_MAX && HAS_SLICES) {
    // Fast path: nothing to escape (no control characters, '"' or '\\'), so skip JSON.stringify.
    let high = false;
    let i = 0;
    for (; i < n; i++) {
      const x = b[i]!;
      if (x < 0x20 || x === 34 || x === 92) break;
      if (x > 0x7f) high = true;
    }
    if (i === n) {
      if (!high) return '"' + (b as unknown as FastSlices).latin1Slice(0, n) + '"';
      if (isUtf8(b)) return '"' + (b as unknown as FastSlices).utf8Slice(0, n) + '"';
      return '{"base64":"' + b.toString('base64') + '"}';
    }
  }
  if (isUtf8(b)) return JSON.stringify(b.toString('utf8'));
  return '{"base64":"' + b.toString('base64') + '"}';
}

/** JSON text of a zset score. */
export function scoreToJson(x: number): string {
  if (x === Infinity) return '"inf"';
  if (x === -Infinity) return '"-inf"';
  if (x !== x) return '"nan"';
  if (x === 0 && 1 / x < 0) return '-0';
  return String(x);
}

export const streamIdToString = streamIdText;

const TWO_POW_53 = 2n ** 53n;
const U64_MAX = (1n << 64n) - 1n;

/** `-1` if the bytes are not a JS array-index key (canonical decimal below 2^32-1), else its value. */
function arrayIndexKey(b: Buffer): number {
  const n = b.length;
  if (n === 0 || n > 10) return -1;
  const c0 = b[0]!;
  if (c0 < 48 || c0 > 57 || (c0 === 48 && n > 1)) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v <= 4294967294 ? v : -1;
}

function isProtoKey(b: Buffer): boolean {
  // "__proto__"
  return b.length === 9 && b[0] === 95 && b[1] === 95 && b[7] === 95 && b[8] === 95 && b.toString('latin1', 2, 7) === 'proto';
}

/**
 * Whether a hash can be written as a JSON object and read back with the same fields in the same
 * order, given the fields' JSON texts.
 */
function hashObjectForm(entries: ReadonlyArray<[Buffer, Buffer]>, fieldJson: readonly string[]): boolean {
  let lastIndex = -1;
  let seenPlain = false;
  for (let i = 0; i < entries.length; i++) {
    if (fieldJson[i]!.charCodeAt(0) !== 34) return false; // {"base64": ...}
    const f = entries[i]![0];
    if (f.length > 0 && f[0]! >= 48 && f[0]! <= 57) {
      const idx = arrayIndexKey(f);
      if (idx >= 0) {
        if (seenPlain || idx <= lastIndex) return false;
        lastIndex = idx;
        continue;
      }
    }
    if (isProtoKey(f)) return false;
    seenPlain = true;
  }
  return true;
}

function stringsArray(items: readonly Buffer[]): string {
  const n = items.length;
  if (n === 0) return '[]';
  let s = '[' + bytesToJson(items[0]!);
  for (let i = 1; i < n; i++) s += ',' + bytesToJson(items[i]!);
  return s + ']';
}

function zsetJson(entries: ReadonlyArray<[Buffer, number]>): string {
  const n = entries.length;
  if (n === 0) return '[]';
  let s = '[';
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    s += (i === 0 ? '[' : ',[') + bytesToJson(e[0]) + ',' + scoreToJson(e[1]) + ']';
  }
  return s + ']';
}

/** The hash value JSON, plus the `field_expire_at_ms` JSON (or null when no field has a TTL). */
function hashJson(entries: ReadonlyArray<[Buffer, Buffer]>, expires: ReadonlyArray<number | null> | undefined): [string, string | null] {
  const n = entries.length;
  const fieldJson: string[] = new Array(n);
  for (let i = 0; i < n; i++) fieldJson[i] = bytesToJson(entries[i]![0]);
  const obj = hashObjectForm(entries, fieldJson);
  let s: string;
  if (n === 0) s = obj ? '{}' : '[]';
  else if (obj) {
    s = '{';
    for (let i = 0; i < n; i++) s += (i === 0 ? '' : ',') + fieldJson[i] + ':' + bytesToJson(entries[i]![1]);
    s += '}';
  } else {
    s = '[';
    for (let i = 0; i < n; i++) s += (i === 0 ? '[' : ',[') + fieldJson[i] + ',' + bytesToJson(entries[i]![1]) + ']';
    s += ']';
  }
  if (expires === undefined) return [s, null];
  let t = '';
  for (let i = 0; i < n; i++) {
    const ms = expires[i];
    if (ms === null || ms === undefined) continue;
    if (obj) t += (t === '' ? '' : ',') + fieldJson[i] + ':' + ms;
    else t += (t === '' ? '[' : ',[') + fieldJson[i] + ',' + ms + ']';
  }
  if (t === '') return [s, null];
  return [s, obj ? '{' + t + '}' : '[' + t + ']'];
}

function streamJson(v: StreamValue): string {
  let s = '{"entries":[';
  const entries = v.entries;
  for (let i = 0; i < entries.length; i++) s += (i === 0 ? '' : ',') + streamEntryJson(entries[i]!);
  return s + ']' + streamTailJson(v);
}

/** One stream entry: `["ms-seq",[[field,value],...]]`. */
export function streamEntryJson(e: StreamEntry): string {
  let s = '["' + streamIdText(e.id) + '",[';
  const f = e.fields;
  for (let j = 0; j < f.length; j++) {
    const p = f[j]!;
    s += (j === 0 ? '[' : ',[') + bytesToJson(p[0]) + ',' + bytesToJson(p[1]) + ']';
  }
  return s + ']]';
}

/** Everything of a stream's JSON after its entries array: `,"length":…,"groups":[…]}`. */
export function streamTailJson(v: Omit<StreamValue, 'type' | 'entries'>): string {
  let s = ',"length":' + v.length;
  s += ',"last_generated_id":"' + streamIdToString(v.lastId) + '"';
  s += ',"max_deleted_entry_id":"' + streamIdToString(v.maxDeletedId) + '"';
  s += ',"entries_added":' + (v.entriesAdded <= TWO_POW_53 ? String(v.entriesAdded) : '"' + v.entriesAdded + '"');
  s += ',"recorded_first_entry_id":"' + streamIdToString(v.firstId) + '"';
  s += ',"groups":[';
  for (let g = 0; g < v.groups.length; g++) {
    const grp = v.groups[g]!;
    s += (g === 0 ? '{"name":' : ',{"name":') + bytesToJson(grp.name);
    s += ',"last_delivered_id":"' + streamIdToString(grp.lastDeliveredId) + '"';
    if (grp.entriesRead !== undefined) s += ',"entries_read":' + (grp.entriesRead === -1 ? 'null' : grp.entriesRead);
    s += ',"pending":[';
    for (let p = 0; p < grp.pending.length; p++) {
      const pe = grp.pending[p]!;
      s += (p === 0 ? '{"id":"' : ',{"id":"') + streamIdToString(pe.id) + '","consumer":' + bytesToJson(pe.consumer);
      s += ',"delivery_time_ms":' + pe.deliveryTimeMs + ',"delivery_count":' + pe.deliveryCount + '}';
    }
    s += '],"consumers":[';
    for (let c = 0; c < grp.consumers.length; c++) {
      const con = grp.consumers[c]!;
      s += (c === 0 ? '{"name":' : ',{"name":') + bytesToJson(con.name) + ',"seen_time_ms":' + con.seenTimeMs;
      if (con.activeTimeMs !== undefined) s += ',"active_time_ms":' + con.activeTimeMs;
      s += ',"pending":[';
      for (let p = 0; p < con.pending.length; p++) s += (p === 0 ? '"' : ',"') + streamIdToString(con.pending[p]!) + '"';
      s += ']}';
    }
    s += ']}';
  }
  s += ']';
  if (v.idmp) s += ',"idmp":' + idmpJson(v.idmp);
  return s + '}';
}

const countJson = (n: bigint): string => (n <= TWO_POW_53 ? String(n) : '"' + n + '"');

/**
 * A stream v4's IDMP state (names follow XINFO STREAM / XCFGSET): `{"idmp_duration", "idmp_maxsize",
 * "producers": [{"pid", "iids": [[iid, "ms-seq"], ...]}], "iids_added", "iids_duplicates"}`.
 */
function idmpJson(m: StreamIdmp): string {
  let s = '{"idmp_duration":' + m.durationS + ',"idmp_maxsize":' + m.maxSize + ',"producers":[';
  for (let i = 0; i < m.producers.length; i++) {
    const p = m.producers[i]!;
    s += (i === 0 ? '{"pid":' : ',{"pid":') + bytesToJson(p.pid) + ',"iids":[';
    for (let j = 0; j < p.iids.length; j++) s += (j === 0 ? '[' : ',[') + bytesToJson(p.iids[j]!.iid) + ',"' + streamIdToString(p.iids[j]!.id) + '"]';
    s += ']}';
  }
  return s + '],"iids_added":' + countJson(m.iidsAdded) + ',"iids_duplicates":' + countJson(m.iidsDuplicates) + '}';
}

function moduleJson(v: ModuleValue): string {
  return '{"module":' + JSON.stringify(v.moduleName) + ',"encver":' + v.encver + ',"raw":"' + v.raw.toString('base64') + '"}';
}

/**
 * The JSON text of a value, plus the sibling fields it needs on the line (`,"field_expire_at_ms":…`
 * or `,"stream_version":n`, with the leading comma; '' when none).
 */
export function valueToJson(v: Value): [json: string, siblings: string] {
  switch (v.type) {
    case 'string':
      return [bytesToJson(v.value), ''];
    case 'list':
      return [stringsArray(v.items), ''];
    case 'set':
      return [stringsArray(v.members), ''];
    case 'zset':
      return [zsetJson(v.entries), ''];
    case 'hash': {
      const [s, fe] = hashJson(v.entries, v.expires);
      return [s, fe === null ? '' : ',"field_expire_at_ms":' + fe];
    }
    case 'stream':
      return [streamJson(v), ',"stream_version":' + v.version];
    case 'module':
      return [moduleJson(v), ''];
  }
}

/**
 * One JSONL line (no trailing newline) for a key:
 * `{"db":0,"key":…,"type":…,"expire_at_ms":…|null,"value":…}` plus, when present,
 * `"field_expire_at_ms"`, `"stream_version"`, `"idle"`, `"freq"`.
 * `opts.decoded` supplies an already decoded value (otherwise `rec.decode()` is called).
 */
export function keyToJsonLine(rec: KeyRecord, opts?: { decoded?: Value }): string {
  const v = opts?.decoded ?? rec.decode();
  let s = '{"db":' + rec.db + ',"key":' + bytesToJson(rec.key) + ',"type":"' + v.type + '","expire_at_ms":' +
    (rec.expireAtMs === null || rec.expireAtMs === undefined ? 'null' : rec.expireAtMs) + ',"value":';
  switch (v.type) {
    case 'string':
      s += bytesToJson(v.value);
      break;
    case 'list':
      s += stringsArray(v.items);
      break;
    case 'set':
      s += stringsArray(v.members);
      break;
    case 'zset':
      s += zsetJson(v.entries);
      break;
    case 'hash': {
      const [h, fe] = hashJson(v.entries, v.expires);
      s += h;
      if (fe !== null) s += ',"field_expire_at_ms":' + fe;
      break;
    }
    case 'stream':
      s += streamJson(v) + ',"stream_version":' + v.version;
      break;
    case 'module':
      s += moduleJson(v);
      break;
  }
  if (rec.idle !== undefined) s += ',"idle":' + rec.idle;
  if (rec.freq !== undefined) s += ',"freq":' + rec.freq;
  if (rec.keyMeta !== undefined) s += keyMetaJson(rec.keyMeta);
  return s + '}';
}

/** `,"meta":"<base64>"`: the KEY_META entry without its opcode byte. */
export function keyMetaJson(keyMeta: Buffer): string {
  return ',"meta":"' + keyMeta.toString('base64', 1) + '"';
}

/** FUNCTION2 library source for a pre-GA function: `#!<engine> name=<name>\n<code>`. */
export function preGaFunctionCode(name: Buffer, engine: Buffer, code: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from('#!' + engine.toString('latin1').toLowerCase() + ' name=', 'latin1'),
    name,
    Buffer.from('\n', 'latin1'),
    code,
  ]);
}

/** One JSONL line (no trailing newline) for a non-key record, or null when it has no line. */
export function metaToJsonLine(rec: MetaRecord): string | null {
  switch (rec.kind) {
    case 'header':
      return '{"$":"header","rdb_version":' + rec.rdbVersion + ',"flavor":"' + rec.flavor + '"}';
    case 'aux':
      return '{"$":"aux","key":' + bytesToJson(rec.key) + ',"value":' + bytesToJson(rec.value) + '}';
    case 'function':
      return '{"$":"function","code":' + bytesToJson(rec.code) + '}';
    case 'function-pre-ga':
      return '{"$":"function","code":' + bytesToJson(preGaFunctionCode(rec.name, rec.engine, rec.code)) + '}';
    case 'module-aux':
      return '{"$":"module_aux","module":' + JSON.stringify(rec.moduleName) + ',"when":' + rec.when + ',"raw":"' + rec.raw.toString('base64') + '"}';
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

type Where = () => string;

function fail(where: Where, path: string, expected: string, found: unknown): never {
  throw new JsonValueError(where(), `${path}: ${expected}, found ${describeJson(found)}`);
}

/** Short description of a JSON value for error messages. */
export function describeJson(v: unknown): string {
  if (v === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    // Too deep to print (a JSON of 100k nested arrays overflows stringify and join alike).
    text = Array.isArray(v) ? '[[[… nested too deep to print]' : typeof v === 'object' && v !== null ? '{… nested too deep to print}' : String(v);
  }
  if (text.length > 60) text = text.slice(0, 57) + '...';
  const kind = v === null ? '' : Array.isArray(v) ? 'array ' : typeof v === 'object' ? 'object ' : typeof v === 'string' ? 'string ' : typeof v === 'number' ? 'number ' : typeof v + ' ';
  return kind + text;
}

const wellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (s) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict standard base64 (padded), or null. */
export function decodeBase64(s: string): Buffer | null {
  if (s.length % 4 !== 0 || !BASE64_RE.test(s)) return null;
  const b = Buffer.from(s, 'base64');
  // Reject non-canonical padding bits so the text round-trips exactly.
  if (b.toString('base64') !== s) return null;
  return b;
}

/** A byte string from its JSON form (string, `{"base64": …}` or `{"b64": …}`), or null. */
export function jsonToBytes(v: unknown): Buffer | null {
  if (typeof v === 'string') return wellFormed(v) ? Buffer.from(v, 'utf8') : null;
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length !== 1) return null;
    const k = keys[0];
    if (k !== 'base64' && k !== 'b64') return null;
    const s = o[k];
    return typeof s === 'string' ? decodeBase64(s) : null;
  }
  return null;
}

const BYTES_EXPECTED = 'a byte string (a JSON string, or {"base64": "..."} for bytes that are not UTF-8)';

function bytesExpected(v: unknown): string {
  if (typeof v === 'string') return 'a JSON string without lone surrogates (use {"base64": "..."} for bytes that are not UTF-8)';
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return '{"base64": "<standard padded base64>"} with no other field';
  return BYTES_EXPECTED;
}

/** Read a byte string at `path` or throw. */
export function bytesAt(v: unknown, where: Where, path: string): Buffer {
  const b = jsonToBytes(v);
  if (b === null) fail(where, path, bytesExpected(v), v);
  return b;
}

function bytesArray(v: unknown, where: Where, path: string): Buffer[] {
  if (!Array.isArray(v)) fail(where, path, 'an array of byte strings', v);
  const n = v.length;
  const out: Buffer[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const b = jsonToBytes(v[i]);
    if (b === null) fail(where, `${path}[${i}]`, bytesExpected(v[i]), v[i]);
    out[i] = b;
  }
  return out;
}

const NUMERIC_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A zset score: a JSON number, "inf"/"-inf" (also "+inf", "infinity", any case), "nan", or decimal
 * text as Redis prints scores ("0.10000000000000001", as in the corpus truth and redis-dump output).
 */
function scoreFrom(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return null;
  if (NUMERIC_RE.test(v)) return Number(v);
  const s = v.toLowerCase();
  if (s === 'inf' || s === '+inf' || s === 'infinity' || s === '+infinity') return Infinity;
  if (s === '-inf' || s === '-infinity') return -Infinity;
  if (s === 'nan') return NaN;
  return null;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function intAt(v: unknown, where: Where, path: string, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(where, path, `an integer from ${min} to ${max}`, v);
  }
  return v;
}

/** Parse a stream ID `"ms-seq"` (both unsigned 64-bit), or null. */
export const parseStreamId = parseStreamIdStrict;

function idAt(v: unknown, where: Where, path: string): StreamId {
  const id = parseStreamId(v);
  if (id === null) fail(where, path, 'a stream ID "<ms>-<seq>" (unsigned 64-bit decimals)', v);
  return id;
}

const cmpId = compareStreamIds;

export interface JsonValueExtra {
  /** The line's `"field_expire_at_ms"` (hashes). */
  field_expire_at_ms?: unknown;
  /** The line's `"stream_version"` (streams). */
  stream_version?: unknown;
}

/**
 * The logical value of a key line's `"value"` for `type`, strictly validated. Throws
 * JsonValueError naming `where()` ("file:line N") and the JSON path of the first problem.
 */
export function jsonToValue(type: string, value: unknown, extra: JsonValueExtra, where: Where): Value {
  switch (type) {
    case 'string':
      return { type: 'string', value: bytesAt(value, where, 'value') };
    case 'list':
      return { type: 'list', items: bytesArray(value, where, 'value') };
    case 'set': {
      const members = bytesArray(value, where, 'value');
      noDuplicate(members, (i) => members[i]!, where, 'value', 'member');
      return { type: 'set', members };
    }
    case 'zset': {
      const entries = zsetFrom(value, where);
      noDuplicate(entries, (i) => entries[i]![0], where, 'value', 'member');
      return { type: 'zset', entries };
    }
    case 'hash':
      return hashFrom(value, extra.field_expire_at_ms, where);
    case 'stream':
      return streamFrom(value, extra.stream_version, where);
    case 'module':
      return moduleFrom(value, where);
    default:
      throw new JsonValueError(where(), `type: one of string, list, set, zset, hash, stream, module, found ${describeJson(type)}`);
  }
}

/**
 * Set members, zset members and hash fields are unique: rdbLoadObject reports an RDB repeating one
 * as corrupt, so a value listing one twice is a bad line naming the second occurrence.
 */
function noDuplicate(list: { length: number }, at: (i: number) => Buffer, where: Where, path: string, what: string): void {
  const n = list.length;
  if (n < 2) return;
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const k = at(i).toString('latin1');
    if (seen.has(k)) {
      throw new JsonValueError(where(), `${path}[${i}]: a ${what} not listed before, found duplicate ${describeJson(bytesToJsonValue(at(i)))}`);
    }
    seen.add(k);
  }
}

function zsetFrom(value: unknown, where: Where): Array<[Buffer, number]> {
  if (!Array.isArray(value)) fail(where, 'value', 'an array of [member, score] pairs', value);
  const n = value.length;
  const out: Array<[Buffer, number]> = new Array(n);
  for (let i = 0; i < n; i++) {
    const e: unknown = value[i];
    if (!Array.isArray(e) || e.length !== 2) fail(where, `value[${i}]`, 'a [member, score] pair', e);
    const m = jsonToBytes(e[0]);
    if (m === null) fail(where, `value[${i}][0]`, bytesExpected(e[0]), e[0]);
    const sc = scoreFrom(e[1]);
    if (sc === null) fail(where, `value[${i}][1]`, 'a score: a JSON number, "inf", "-inf" or decimal text', e[1]);
    out[i] = [m, sc];
  }
  return out;
}

function hashFrom(value: unknown, fieldTtls: unknown, where: Where): Value {
  let entries: Array<[Buffer, Buffer]>;
  if (Array.isArray(value)) {
    const n = value.length;
    entries = new Array(n);
    for (let i = 0; i < n; i++) {
      const e: unknown = value[i];
      if (!Array.isArray(e) || e.length !== 2) fail(where, `value[${i}]`, 'a [field, value] pair', e);
      const f = jsonToBytes(e[0]);
      if (f === null) fail(where, `value[${i}][0]`, bytesExpected(e[0]), e[0]);
      const v = jsonToBytes(e[1]);
      if (v === null) fail(where, `value[${i}][1]`, bytesExpected(e[1]), e[1]);
      entries[i] = [f, v];
    }
    noDuplicate(entries, (i) => entries[i]![0], where, 'value', 'field');
  } else if (isPlainObject(value)) {
    const keys = Object.keys(value);
    const n = keys.length;
    entries = new Array(n);
    for (let i = 0; i < n; i++) {
      const k = keys[i]!;
      if (!wellFormed(k)) fail(where, `value[${JSON.stringify(k)}]`, 'a field name without lone surrogates (use the [[field, value]] form for bytes that are not UTF-8)', k);
      const raw = value[k];
      const v = jsonToBytes(raw);
      if (v === null) fail(where, `value[${JSON.stringify(k)}]`, bytesExpected(raw), raw);
      entries[i] = [Buffer.from(k, 'utf8'), v];
    }
  } else {
    fail(where, 'value', 'a hash: an object {field: value} or an array of [field, value] pairs', value);
  }
  if (fieldTtls === undefined || fieldTtls === null) return { type: 'hash', entries };

  // Field TTLs: map them onto the entries by field bytes.
  const pairs: Array<[Buffer, number, string]> = [];
  if (Array.isArray(fieldTtls)) {
    for (let i = 0; i < fieldTtls.length; i++) {
      const e: unknown = fieldTtls[i];
      if (!Array.isArray(e) || e.length !== 2) fail(where, `field_expire_at_ms[${i}]`, 'a [field, unix_ms] pair', e);
      const f = jsonToBytes(e[0]);
      if (f === null) fail(where, `field_expire_at_ms[${i}][0]`, bytesExpected(e[0]), e[0]);
      pairs.push([f, intAt(e[1], where, `field_expire_at_ms[${i}][1]`, 1), `field_expire_at_ms[${i}]`]);
    }
  } else if (isPlainObject(fieldTtls)) {
    for (const k of Object.keys(fieldTtls)) {
      const path = `field_expire_at_ms[${JSON.stringify(k)}]`;
      if (!wellFormed(k)) fail(where, path, 'a field name without lone surrogates', k);
      pairs.push([Buffer.from(k, 'utf8'), intAt(fieldTtls[k], where, path, 1), path]);
    }
  } else {
    fail(where, 'field_expire_at_ms', 'an object {field: unix_ms} or an array of [field, unix_ms] pairs', fieldTtls);
  }
  if (pairs.length === 0) return { type: 'hash', entries };
  const index = new Map<string, number>();
  for (let i = 0; i < entries.length; i++) index.set(entries[i]![0].toString('latin1'), i);
  const expires: Array<number | null> = new Array(entries.length).fill(null);
  for (const [f, ms, path] of pairs) {
    const i = index.get(f.toString('latin1'));
    if (i === undefined) throw new JsonValueError(where(), `${path}: a field of the hash, found ${describeJson(bytesToJsonValue(f))} which is not in "value"`);
    expires[i] = ms;
  }
  return { type: 'hash', entries, expires };
}

function bytesToJsonValue(b: Buffer): unknown {
  return JSON.parse(bytesToJson(b));
}

function fieldPairs(v: unknown, where: Where, path: string): Array<[Buffer, Buffer]> {
  if (!Array.isArray(v)) fail(where, path, 'an array of [field, value] pairs', v);
  const out: Array<[Buffer, Buffer]> = new Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const e: unknown = v[i];
    if (!Array.isArray(e) || e.length !== 2) fail(where, `${path}[${i}]`, 'a [field, value] pair', e);
    const f = jsonToBytes(e[0]);
    if (f === null) fail(where, `${path}[${i}][0]`, bytesExpected(e[0]), e[0]);
    const val = jsonToBytes(e[1]);
    if (val === null) fail(where, `${path}[${i}][1]`, bytesExpected(e[1]), e[1]);
    out[i] = [f, val];
  }
  return out;
}

function entriesAddedFrom(v: unknown, where: Where, path = 'value.entries_added'): bigint {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 2 ** 53) return BigInt(v);
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) {
    const b = BigInt(v);
    if (b <= U64_MAX) return b;
  }
  fail(where, path, 'an unsigned 64-bit count (a JSON number, or a string of digits above 2^53)', v);
}

const ZERO_ID = (): StreamId => ({ ms: 0n, seq: 0n });

function streamFrom(value: unknown, versionJson: unknown, where: Where): StreamValue {
  if (!isPlainObject(value)) fail(where, 'value', 'a stream object {"entries", "length", "last_generated_id", ..., "groups"}', value);
  const rawEntries = value.entries;
  if (!Array.isArray(rawEntries)) fail(where, 'value.entries', 'an array of [id, [[field, value], ...]]', rawEntries);
  const entries: StreamEntry[] = new Array(rawEntries.length);
  let prev: StreamId | null = null;
  for (let i = 0; i < rawEntries.length; i++) {
    const e: unknown = rawEntries[i];
    if (!Array.isArray(e) || e.length !== 2) fail(where, `value.entries[${i}]`, 'an entry [id, [[field, value], ...]]', e);
    const id = idAt(e[0], where, `value.entries[${i}][0]`);
    if (prev !== null && cmpId(prev, id) >= 0) fail(where, `value.entries[${i}][0]`, `an ID above the previous entry's ${streamIdToString(prev)} (entries in ID order)`, e[0]);
    prev = id;
    entries[i] = { id, fields: fieldPairs(e[1], where, `value.entries[${i}][1]`) };
  }
  // Normally the number of entries; kept as given (like an RDB loader does) so any value we wrote reads back.
  const length = value.length === undefined ? entries.length : intAt(value.length, where, 'value.length', 0);
  const last = entries.length > 0 ? entries[entries.length - 1]!.id : null;
  const lastId = value.last_generated_id === undefined ? (last ?? ZERO_ID()) : idAt(value.last_generated_id, where, 'value.last_generated_id');
  if (last !== null && cmpId(lastId, last) < 0) fail(where, 'value.last_generated_id', `an ID at or above the last entry's ${streamIdToString(last)}`, value.last_generated_id);
  const firstId = value.recorded_first_entry_id === undefined ? (entries.length > 0 ? entries[0]!.id : ZERO_ID()) : idAt(value.recorded_first_entry_id, where, 'value.recorded_first_entry_id');
  const maxDeletedId = value.max_deleted_entry_id === undefined ? ZERO_ID() : idAt(value.max_deleted_entry_id, where, 'value.max_deleted_entry_id');
  const entriesAdded = value.entries_added === undefined ? BigInt(length) : entriesAddedFrom(value.entries_added, where);

  const rawGroups = value.groups === undefined ? [] : value.groups;
  if (!Array.isArray(rawGroups)) fail(where, 'value.groups', 'an array of consumer groups', rawGroups);
  const groups: StreamGroup[] = new Array(rawGroups.length);
  let hasEntriesRead = false;
  let hasActiveTime = false;
  for (let g = 0; g < rawGroups.length; g++) {
    const gp = `value.groups[${g}]`;
    const rg: unknown = rawGroups[g];
    if (!isPlainObject(rg)) fail(where, gp, 'a group object {"name", "last_delivered_id", "entries_read", "pending", "consumers"}', rg);
    const name = bytesAt(rg.name, where, `${gp}.name`);
    const lastDeliveredId = idAt(rg.last_delivered_id, where, `${gp}.last_delivered_id`);
    const rawPel = rg.pending === undefined ? [] : rg.pending;
    if (!Array.isArray(rawPel)) fail(where, `${gp}.pending`, 'an array of {"id", "consumer", "delivery_time_ms", "delivery_count"}', rawPel);
    const pending: StreamPendingEntry[] = new Array(rawPel.length);
    const pelIndex = new Map<string, number>();
    for (let p = 0; p < rawPel.length; p++) {
      const pp = `${gp}.pending[${p}]`;
      const rp: unknown = rawPel[p];
      if (!isPlainObject(rp)) fail(where, pp, 'a pending entry {"id", "consumer", "delivery_time_ms", "delivery_count"}', rp);
      const id = idAt(rp.id, where, `${pp}.id`);
      const key = streamIdToString(id);
      if (pelIndex.has(key)) fail(where, `${pp}.id`, 'an ID not already in the group PEL', rp.id);
      pelIndex.set(key, p);
      pending[p] = {
        id,
        consumer: bytesAt(rp.consumer, where, `${pp}.consumer`),
        deliveryTimeMs: rp.delivery_time_ms === undefined ? 0 : intAt(rp.delivery_time_ms, where, `${pp}.delivery_time_ms`, Number.MIN_SAFE_INTEGER),
        deliveryCount: intAt(rp.delivery_count, where, `${pp}.delivery_count`, 0),
      };
    }
    const rawConsumers = rg.consumers === undefined ? [] : rg.consumers;
    if (!Array.isArray(rawConsumers)) fail(where, `${gp}.consumers`, 'an array of {"name", "seen_time_ms", "active_time_ms", "pending"}', rawConsumers);
    const consumers: StreamConsumer[] = new Array(rawConsumers.length);
    const claimed = new Uint8Array(pending.length);
    for (let c = 0; c < rawConsumers.length; c++) {
      const cp = `${gp}.consumers[${c}]`;
      const rc: unknown = rawConsumers[c];
      if (!isPlainObject(rc)) fail(where, cp, 'a consumer {"name", "seen_time_ms", "active_time_ms", "pending"}', rc);
      const cname = bytesAt(rc.name, where, `${cp}.name`);
      const consumer: StreamConsumer = {
        name: cname,
        seenTimeMs: rc.seen_time_ms === undefined ? 0 : intAt(rc.seen_time_ms, where, `${cp}.seen_time_ms`, Number.MIN_SAFE_INTEGER),
        pending: [],
      };
      if (rc.active_time_ms !== undefined && rc.active_time_ms !== null) {
        consumer.activeTimeMs = intAt(rc.active_time_ms, where, `${cp}.active_time_ms`, Number.MIN_SAFE_INTEGER);
        hasActiveTime = true;
      }
      if (rc.pending === undefined) {
        // Derived from the group PEL.
        for (let p = 0; p < pending.length; p++) {
          if (claimed[p] === 0 && pending[p]!.consumer.equals(cname)) {
            claimed[p] = 1;
            consumer.pending.push(pending[p]!.id);
          }
        }
      } else {
        if (!Array.isArray(rc.pending)) fail(where, `${cp}.pending`, 'an array of stream IDs', rc.pending);
        for (let k = 0; k < rc.pending.length; k++) {
          const id = idAt(rc.pending[k], where, `${cp}.pending[${k}]`);
          const p = pelIndex.get(streamIdToString(id));
          if (p === undefined) fail(where, `${cp}.pending[${k}]`, 'an ID listed in the group\'s "pending"', rc.pending[k]);
          if (claimed[p] !== 0) fail(where, `${cp}.pending[${k}]`, 'an ID not claimed by another consumer', rc.pending[k]);
          if (!pending[p]!.consumer.equals(cname)) {
            fail(where, `${cp}.pending[${k}]`, `an ID whose group PEL entry names this consumer (${gp}.pending[${p}].consumer is ${describeJson(bytesToJsonValue(pending[p]!.consumer))})`, rc.pending[k]);
          }
          claimed[p] = 1;
          consumer.pending.push(id);
        }
      }
      consumers[c] = consumer;
    }
    for (let p = 0; p < pending.length; p++) {
      if (claimed[p] === 0) {
        fail(where, `${gp}.pending[${p}]`, 'a PEL entry owned by one of the group\'s consumers (listed in its "pending")', rawPel[p]);
      }
    }
    const group: StreamGroup = { name, lastDeliveredId, pending, consumers };
    if (rg.entries_read !== undefined) {
      // null (as XINFO shows it) or -1: Redis does not know the count.
      group.entriesRead = rg.entries_read === null ? -1 : intAt(rg.entries_read, where, `${gp}.entries_read`, -1);
      hasEntriesRead = true;
    }
    groups[g] = group;
  }

  let version: number;
  if (versionJson === undefined || versionJson === null) {
    const v2Fields = value.max_deleted_entry_id !== undefined || value.entries_added !== undefined || value.recorded_first_entry_id !== undefined;
    version = hasActiveTime ? 3 : hasEntriesRead || v2Fields ? 2 : 1;
  } else {
    version = intAt(versionJson, where, 'stream_version', 1, 4);
    if (version < 3 && hasActiveTime) fail(where, 'stream_version', 'a stream_version of 3 or more (a consumer has "active_time_ms")', versionJson);
  }
  const out: StreamValue = { type: 'stream', entries, length, lastId, firstId, maxDeletedId, entriesAdded, groups, version };
  if (value.idmp !== undefined && value.idmp !== null) {
    if (versionJson !== undefined && versionJson !== null && version !== 4) fail(where, 'stream_version', 'stream_version 4 (the stream has "idmp" state)', versionJson);
    out.idmp = idmpFrom(value.idmp, where);
    out.version = 4;
  }
  return out;
}

/** The `"idmp"` object of a stream (see idmpJson). */
function idmpFrom(v: unknown, where: Where): StreamIdmp {
  if (!isPlainObject(v)) fail(where, 'value.idmp', 'an object {"idmp_duration", "idmp_maxsize", "producers", "iids_added", "iids_duplicates"}', v);
  const rawProducers = v.producers === undefined ? [] : v.producers;
  if (!Array.isArray(rawProducers)) fail(where, 'value.idmp.producers', 'an array of {"pid", "iids"}', rawProducers);
  const producers: StreamIdmpProducer[] = [];
  for (let i = 0; i < rawProducers.length; i++) {
    const pp = `value.idmp.producers[${i}]`;
    const rp: unknown = rawProducers[i];
    if (!isPlainObject(rp)) fail(where, pp, 'a producer {"pid", "iids": [[iid, id], ...]}', rp);
    const pid = bytesAt(rp.pid, where, `${pp}.pid`);
    if (!Array.isArray(rp.iids)) fail(where, `${pp}.iids`, 'an array of [iid, "ms-seq"]', rp.iids);
    const iids: StreamIdmpProducer['iids'] = [];
    for (let j = 0; j < rp.iids.length; j++) {
      const e: unknown = rp.iids[j];
      if (!Array.isArray(e) || e.length !== 2) fail(where, `${pp}.iids[${j}]`, 'an [iid, "ms-seq"] pair', e);
      iids.push({ iid: bytesAt(e[0], where, `${pp}.iids[${j}][0]`), id: idAt(e[1], where, `${pp}.iids[${j}][1]`) });
    }
    producers.push({ pid, iids });
  }
  return {
    durationS: intAt(v.idmp_duration, where, 'value.idmp.idmp_duration', 0),
    maxSize: intAt(v.idmp_maxsize, where, 'value.idmp.idmp_maxsize', 0),
    producers,
    iidsAdded: v.iids_added === undefined ? 0n : entriesAddedFrom(v.iids_added, where, 'value.idmp.iids_added'),
    iidsDuplicates: v.iids_duplicates === undefined ? 0n : entriesAddedFrom(v.iids_duplicates, where, 'value.idmp.iids_duplicates'),
  };
}

/** Read an RDB length-encoded integer at `pos`: [value, next position], or null. */
export function readRdbLen(b: Buffer, pos: number): [bigint, number] | null {
  if (pos >= b.length) return null;
  const c = b[pos]!;
  switch (c >> 6) {
    case 0:
      return [BigInt(c & 63), pos + 1];
    case 1:
      return pos + 2 <= b.length ? [BigInt(((c & 63) << 8) | b[pos + 1]!), pos + 2] : null;
    case 2:
      if (c === 0x80) return pos + 5 <= b.length ? [BigInt(b.readUInt32BE(pos + 1)), pos + 5] : null;
      if (c === 0x81) return pos + 9 <= b.length ? [b.readBigUInt64BE(pos + 1), pos + 9] : null;
      return null;
    default:
      return null;
  }
}

function moduleFrom(value: unknown, where: Where): ModuleValue {
  if (!isPlainObject(value)) fail(where, 'value', 'a module object {"module", "encver", "raw"}', value);
  if (typeof value.raw !== 'string') fail(where, 'value.raw', 'the serialized module value as base64', value.raw);
  const raw = decodeBase64(value.raw);
  if (raw === null) fail(where, 'value.raw', 'standard padded base64', value.raw);
  const id = readRdbLen(raw, 0);
  if (id === null) fail(where, 'value.raw', 'bytes starting with the RDB length-encoded module type id', value.raw);
  const { name, encver } = moduleNameFromId(id[0]);
  if (value.module !== undefined && value.module !== name) fail(where, 'value.module', `the module type name encoded at the start of "raw" (${JSON.stringify(name)})`, value.module);
  if (value.encver !== undefined && value.encver !== encver) fail(where, 'value.encver', `the encoding version encoded at the start of "raw" (${encver})`, value.encver);
  return { type: 'module', moduleId: id[0], moduleName: name, encver, raw };
}

/**
 * A MetaRecord from a `"$"` line (already parsed into `obj`). `offset` is the line's byte offset.
 */
/** A key line's `"meta"` → the KEY_META entry (opcode included), or undefined when absent. */
export function keyMetaFromJson(v: unknown, where: Where): Buffer | undefined {
  if (v === undefined || v === null) return undefined;
  const body = typeof v === 'string' ? decodeBase64(v) : null;
  if (body === null) fail(where, 'meta', 'key metadata as base64 text', v);
  const problem = keyMetaBodyProblem(body);
  if (problem !== null) fail(where, 'meta', `well-formed key metadata (${problem})`, v);
  return Buffer.concat([Buffer.of(OP.KEY_META), body]);
}

export function jsonToMeta(obj: Record<string, unknown>, offset: number, where: Where): MetaRecord {
  const kind = obj.$;
  switch (kind) {
    case 'header': {
      const flavor = obj.flavor === undefined ? 'redis' : obj.flavor;
      if (flavor !== 'redis' && flavor !== 'valkey') fail(where, 'flavor', '"redis" or "valkey"', flavor);
      const rdbVersion = intAt(obj.rdb_version, where, 'rdb_version', 1, 9999);
      const magic = flavor === 'redis' ? 'REDIS' + String(rdbVersion).padStart(4, '0') : 'VALKEY' + String(rdbVersion).padStart(3, '0');
      return { kind: 'header', rdbVersion, flavor, magic };
    }
    case 'aux':
      return { kind: 'aux', key: bytesAt(obj.key, where, 'key'), value: bytesAt(obj.value, where, 'value'), offset };
    case 'function':
      return { kind: 'function', code: bytesAt(obj.code, where, 'code'), offset };
    case 'module_aux': {
      if (typeof obj.raw !== 'string') fail(where, 'raw', 'the MODULE_AUX body as base64', obj.raw);
      const raw = decodeBase64(obj.raw);
      if (raw === null) fail(where, 'raw', 'standard padded base64', obj.raw);
      const id = readRdbLen(raw, 0);
      if (id === null) fail(where, 'raw', 'bytes starting with the RDB length-encoded module id', obj.raw);
      const moduleName = moduleNameFromId(id[0]).name;
      if (obj.module !== undefined && obj.module !== moduleName) fail(where, 'module', `the module name encoded at the start of "raw" (${JSON.stringify(moduleName)})`, obj.module);
      // The body goes on: when-opcode (2), when.
      const op = readRdbLen(raw, id[1]);
      const w = op !== null && op[0] === 2n ? readRdbLen(raw, op[1]) : null;
      if (w === null) fail(where, 'raw', 'a MODULE_AUX body: module id, the UINT opcode 2, the "when" value', obj.raw);
      const when = Number(w[0]);
      if (obj.when !== undefined && obj.when !== when) fail(where, 'when', `the value encoded in "raw" (${when})`, obj.when);
      return { kind: 'module-aux', moduleId: id[0], moduleName, when, raw, offset };
    }
    default:
      fail(where, '$', 'a line kind: "header", "aux", "function" or "module_aux"', kind);
  }
}
