/**
 * Deep structural validation of one key's serialized value before it goes to RDB, RESP or RESTORE output —
 * what Redis checks with `sanitize-dump-payload yes` (rdb.c rdbLoadObject with deep integrity validation),
 * so rekey never writes a value Redis refuses or, worse, loads wrong. Works on the payload bytes with
 * offsets; nothing is decoded to objects except the field/member names kept for duplicate checks.
 *
 * `verifyPayload(rec)` is the one entry point: null when the value is sound, else a PayloadFault naming the
 * byte offset inside the payload and what was expected there. Module values are opaque and pass.
 */
import type { KeyRecord } from '../../records/types.js';
import { BlobError, RekeyInputError } from '../../errors.js';
import { Cursor } from '../../rdb/cursor.js';
import { T, VALKEY_HASH_2 } from '../../rdb/constants.js';
import { keyText } from '../../encode/losses.js';
import { verifyListpack, type LpVisit } from './listpack.js';
import { verifyZiplist } from './ziplist.js';
import { verifyIntset } from './intset.js';
import { verifyZipmap } from './zipmap.js';
import { verifyStreamNode } from './stream-node.js';
import { verifyStreamTail } from './stream-tail.js';
import { decodeTemplateHash } from '../../rdb/hash-templates.js';

/** A value refused as corrupt: `at` is the byte offset inside the payload (after the type byte). */
export class PayloadFault extends Error {
  override readonly name = 'PayloadFault';
  constructor(
    readonly rec: Pick<KeyRecord, 'key' | 'offset' | 'inFile'>,
    readonly at: number,
    readonly reason: string,
  ) {
    // A later input of a several-file import carries dataset positions: name its own file and byte.
    const where = rec.inFile ? `${rec.inFile.file}, entry at byte ${rec.inFile.offset}` : `entry at byte ${rec.offset}`;
    super(`key ${keyText(rec.key)} (${where}): corrupt value at payload byte ${at}: ${reason}; the key was not written`);
  }
}

/** Null when `rec`'s payload is structurally sound, else why not. */
export function verifyPayload(rec: KeyRecord): PayloadFault | null {
  const c = new Cursor('', rec.payload);
  try {
    verifyAt(c, rec.rdbType, rec.flavor === 'valkey');
    if (c.pos !== rec.payload.length && rec.rdbType !== T.MODULE_2) return new PayloadFault(rec, c.pos, `the value to end here, but ${rec.payload.length - c.pos} more bytes follow`);
    return null;
  } catch (e) {
    if (e instanceof Fault) return new PayloadFault(rec, e.at, e.message);
    if (e instanceof RekeyInputError) return new PayloadFault(rec, e.offset, e.expected);
    throw e;
  }
}

class Fault extends Error {
  constructor(readonly at: number, message: string) {
    super(message);
  }
}

/** Run a blob check on the RDB string at the cursor, rebasing its error onto the payload. */
function blob(c: Cursor, what: string, check: (b: Buffer, s: number, e: number) => void): void {
  const at = c.pos;
  const n = c.lenOrSpecial(what);
  // Read once: c.string() below re-reads the header and leaves c.special as its last length read set it.
  const special = c.special;
  let b: Buffer;
  let s: number;
  if (!special) {
    c.skip(n, what);
    b = c.buf;
    s = c.pos - n;
  } else {
    c.pos = at;
    b = c.string(what); // LZF: checked in its decompressed form
    s = 0;
    if (n !== 3) throw new Fault(at, `a ${what}, found an integer-encoded string`);
  }
  try {
    check(b, s, s + (special ? b.length : n));
  } catch (e) {
    if (e instanceof BlobError) {
      const where = special ? at : s + e.at;
      throw new Fault(where, `a valid ${what}: ${e.expected}${special ? ` (at byte ${e.at} of the decompressed ${what})` : ''}`);
    }
    throw e;
  }
}

/** Duplicate detection over names kept as latin1 strings (integers as their decimal text, as Redis sees them). */
class Names {
  private readonly seen = new Set<string>();
  add(s: string, at: number, what: string): void {
    if (this.seen.has(s)) throw new BlobError(at, `${what}s without duplicates`);
    this.seen.add(s);
  }
}

/**
 * A compact collection (listpack or ziplist) of `stride`-element records whose first element must be unique
 * (stride 0: a list, nothing unique). `ttlAt` marks the element that must be an integer (field TTLs).
 */
function compact(kind: 'listpack' | 'ziplist', stride: number, what: string, ttlAt = -1, counted?: { n: number }) {
  return (b: Buffer, s: number, e: number): void => {
    const names = stride > 0 ? new Names() : null;
    let i = 0;
    const visit: LpVisit | undefined =
      stride > 0
        ? (int, ss, ee) => {
            const k = i++ % stride;
            if (k === 0) names!.add(int !== null ? String(int) : b.toString('latin1', ss, ee), (int !== null ? 0 : ss) - s, what);
            else if (k === ttlAt && int === null) throw new BlobError(ss - s, `an integer field TTL`);
          }
        : undefined;
    const n = kind === 'listpack' ? verifyListpack(b, s, e, visit) : verifyZiplist(b, s, e, visit);
    if (counted) counted.n += n; // a quicklist node: the loader skips empty ones, the list must not be empty
    else if (n === 0) throw new BlobError(0, `a non-empty ${kind} (Redis refuses empty keys)`);
    if (stride > 1 && n % stride !== 0) throw new BlobError(0, `a ${kind} of ${stride}-element records, found ${n} elements`);
  };
}

function nonEmpty(n: number, at: number): void {
  if (n === 0) throw new Fault(at, 'a non-empty collection (Redis refuses empty keys)');
}

function verifyAt(c: Cursor, t: number, valkey: boolean): void {
  switch (t) {
    case T.STRING:
      c.skipString('string value');
      return;
    case T.LIST:
    case T.SET: {
      const at = c.pos;
      const n = c.count(c.len('element count'), 1, 'element count');
      nonEmpty(n, at);
      const names = t === T.SET ? new Set<string>() : null;
      for (let i = 0; i < n; i++) {
        const m = c.pos;
        const v = c.string('element');
        if (names) {
          const k = v.toString('latin1');
          if (names.has(k)) throw new Fault(m, 'set members without duplicates');
          names.add(k);
        }
      }
      return;
    }
    case T.ZSET:
    case T.ZSET_2: {
      const at = c.pos;
      const n = c.count(c.len('zset size'), t === T.ZSET ? 2 : 9, 'zset size');
      nonEmpty(n, at);
      const names = new Set<string>();
      for (let i = 0; i < n; i++) {
        const m = c.pos;
        const k = c.string('zset member').toString('latin1');
        if (names.has(k)) throw new Fault(m, 'zset members without duplicates');
        names.add(k);
        const sa = c.pos;
        const score = t === T.ZSET ? c.textDouble('zset score') : c.f64le('zset score');
        if (Number.isNaN(score)) throw new Fault(sa, 'a zset score that is a number, found NaN');
      }
      return;
    }
    case T.HASH:
    case T.HASH_METADATA:
    case 22: {
      const legacy22 = t === 22 && !valkey;
      if (t === T.HASH_METADATA) c.skip(8, 'minimum field expiry');
      const at = c.pos;
      const n = c.count(c.len('hash size'), 2, 'hash size');
      nonEmpty(n, at);
      const names = new Set<string>();
      for (let i = 0; i < n; i++) {
        if (t === T.HASH_METADATA || legacy22) c.len('field TTL');
        const m = c.pos;
        const k = c.string('hash field').toString('latin1');
        if (names.has(k)) throw new Fault(m, 'hash fields without duplicates');
        names.add(k);
        c.skipString('hash value');
        if (t === VALKEY_HASH_2 && valkey) c.skip(8, 'field expiry');
      }
      return;
    }
    case T.HASH_ZIPMAP:
      blob(c, 'zipmap', verifyZipmap);
      return;
    case T.LIST_ZIPLIST:
      blob(c, 'ziplist', compact('ziplist', 0, 'element'));
      return;
    case T.SET_INTSET:
      blob(c, 'intset', verifyIntset);
      return;
    case T.ZSET_ZIPLIST:
      blob(c, 'ziplist', compact('ziplist', 2, 'zset member'));
      return;
    case T.HASH_ZIPLIST:
      blob(c, 'ziplist', compact('ziplist', 2, 'hash field'));
      return;
    case T.SET_LISTPACK:
      blob(c, 'listpack', compact('listpack', 1, 'set member'));
      return;
    case T.ZSET_LISTPACK:
      blob(c, 'listpack', compact('listpack', 2, 'zset member'));
      return;
    case T.HASH_LISTPACK:
      blob(c, 'listpack', compact('listpack', 2, 'hash field'));
      return;
    case T.HASH_LISTPACK_EX:
    case T.HASH_LISTPACK_EX_PRE_GA:
      if (t === T.HASH_LISTPACK_EX) c.skip(8, 'minimum field expiry');
      blob(c, 'listpack', compact('listpack', 3, 'hash field', 2));
      return;
    case T.LIST_QUICKLIST: {
      const at = c.pos;
      const n = c.count(c.len('quicklist node count'), 1, 'quicklist node count');
      nonEmpty(n, at);
      const total = { n: 0 };
      for (let i = 0; i < n; i++) blob(c, 'quicklist ziplist', compact('ziplist', 0, 'element', -1, total));
      if (total.n === 0) throw new Fault(at, 'a quicklist with at least one element (Redis refuses empty keys)');
      return;
    }
    case T.LIST_QUICKLIST_2: {
      const at = c.pos;
      const n = c.count(c.len('quicklist node count'), 2, 'quicklist node count');
      nonEmpty(n, at);
      let total = 0;
      for (let i = 0; i < n; i++) {
        const ca = c.pos;
        const container = c.len('quicklist node container');
        if (container === 1) {
          c.skipString('plain quicklist node');
          total++;
        } else if (container === 2) blob(c, 'quicklist listpack', (b, s, e) => void (total += verifyListpack(b, s, e)));
        else throw new Fault(ca, `a quicklist node container of 1 (plain) or 2 (packed), found ${container}`);
      }
      // The loader skips empty packed nodes (rdb.c), but the list must not end up empty.
      if (total === 0) throw new Fault(at, 'a quicklist with at least one element (Redis refuses empty keys)');
      return;
    }
    case T.STREAM_LISTPACKS:
    case T.STREAM_LISTPACKS_2:
    case T.STREAM_LISTPACKS_3:
    case T.STREAM_LISTPACKS_4: {
      const nodes = c.count(c.len('stream node count'), 2, 'stream node count');
      let prev: Buffer | null = null;
      for (let i = 0; i < nodes; i++) {
        const at = c.pos;
        const key = c.string('stream node key');
        if (key.length !== 16) throw new Fault(at, `a 16-byte stream node key, found ${key.length} bytes`);
        if (prev && Buffer.compare(prev, key) >= 0) throw new Fault(at, 'stream node keys in ascending order');
        prev = key;
        blob(c, 'stream listpack', verifyStreamNode);
      }
      verifyStreamTail(c, t, nodes, (at, why) => new Fault(at, why));
      return;
    }
    case T.HASH_TMPL_LP:
    case T.HASH_TMPL_ARRAY:
      decodeTemplateHash(c, t); // RDB 15: non-empty, strictly sorted fields, one value each
      return;
    case T.MODULE_2:
    case T.MODULE_PRE_GA:
      return; // module-defined bytes; the parser already stepped over their opcodes
    default:
      throw new Fault(0, `a value type rekey can check, found type byte ${t}`);
  }
}
