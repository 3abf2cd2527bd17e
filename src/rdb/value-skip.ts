import type { Flavor } from '../records/types.js';
import { MOD, T, VALKEY_HASH_2 } from './constants.js';
import { Cursor } from './cursor.js';
import { skipTemplateHash } from './hash-templates.js';

/**
 * Step over one serialized value without decoding it, so the parser can hand out its bytes
 * verbatim (librdb's "raw" level): only lengths are read, element bytes are skipped.
 * Counts are bounded by what the input can still hold before the loop runs.
 */
export function skipValue(c: Cursor, rdbType: number, flavor: Flavor): void {
  switch (rdbType) {
    case T.STRING:
    case T.HASH_ZIPMAP:
    case T.LIST_ZIPLIST:
    case T.SET_INTSET:
    case T.ZSET_ZIPLIST:
    case T.HASH_ZIPLIST:
    case T.HASH_LISTPACK:
    case T.ZSET_LISTPACK:
    case T.SET_LISTPACK:
    case T.HASH_LISTPACK_EX_PRE_GA:
      c.skipString('value');
      return;
    case T.LIST:
    case T.SET:
    case T.LIST_QUICKLIST: {
      const n = c.count(c.len('element count'), 1, 'element count');
      for (let i = 0; i < n; i++) c.skipString('element');
      return;
    }
    case T.ZSET: {
      const n = c.count(c.len('zset size'), 2, 'zset size');
      for (let i = 0; i < n; i++) {
        c.skipString('zset member');
        c.skipTextDouble('zset score');
      }
      return;
    }
    case T.ZSET_2: {
      const n = c.count(c.len('zset size'), 9, 'zset size');
      for (let i = 0; i < n; i++) {
        c.skipString('zset member');
        c.skip(8, 'zset score (binary double)');
      }
      return;
    }
    case T.HASH: {
      const n = c.count(c.len('hash size'), 2, 'hash size');
      for (let i = 0; i < n; i++) {
        c.skipString('hash field');
        c.skipString('hash value');
      }
      return;
    }
    case T.LIST_QUICKLIST_2: {
      const n = c.count(c.len('quicklist node count'), 2, 'quicklist node count');
      for (let i = 0; i < n; i++) {
        c.len('quicklist node container');
        c.skipString('quicklist node');
      }
      return;
    }
    case T.MODULE_2:
      c.lenBig('module type id');
      skipModuleOpcodes(c);
      return;
    case T.HASH_TMPL_LP:
    case T.HASH_TMPL_ARRAY:
      skipTemplateHash(c, rdbType);
      return;
    case T.HASH_TMPL_LP_REF:
    case T.HASH_TMPL_ARRAY_REF:
      // The parser resolves these against the file's registry; alone (a DUMP payload) they mean nothing.
      throw c.error(`a self-contained value: type ${rdbType} refers to a hash template of an RDB file's registry (opcode 242) and is not valid in a DUMP payload`);
    case T.MODULE_PRE_GA:
      throw c.error('a value this parser can step over: type 6 is a module value in the Redis 4.0 release-candidate format, which has no opcodes and cannot be read without the module');
    case T.STREAM_LISTPACKS:
    case T.STREAM_LISTPACKS_2:
    case T.STREAM_LISTPACKS_3:
    case T.STREAM_LISTPACKS_4:
      skipStream(c, rdbType);
      return;
    case 22:
      if (flavor === 'valkey' && rdbType === VALKEY_HASH_2) {
        const n = c.count(c.len('hash size'), 10, 'hash size');
        for (let i = 0; i < n; i++) {
          c.skipString('hash field');
          c.skipString('hash value');
          c.skip(8, 'field expiry');
        }
      } else {
        const n = c.count(c.len('hash size'), 3, 'hash size');
        for (let i = 0; i < n; i++) {
          c.len('field TTL');
          c.skipString('hash field');
          c.skipString('hash value');
        }
      }
      return;
    case T.HASH_METADATA: {
      c.skip(8, 'minimum field expiry');
      const n = c.count(c.len('hash size'), 3, 'hash size');
      for (let i = 0; i < n; i++) {
        c.len('field TTL');
        c.skipString('hash field');
        c.skipString('hash value');
      }
      return;
    }
    case T.HASH_LISTPACK_EX:
      c.skip(8, 'minimum field expiry');
      c.skipString('listpack');
      return;
    default:
      throw c.error(`a value type, found unknown type byte ${rdbType}`);
  }
}

/** Module values and MODULE_AUX bodies: typed opcodes until the EOF opcode (redis-check-rdb does the same). */
export function skipModuleOpcodes(c: Cursor): void {
  for (;;) {
    const op = c.len('module opcode');
    switch (op) {
      case MOD.EOF:
        return;
      case MOD.SINT:
      case MOD.UINT:
        c.lenBig('module integer');
        break;
      case MOD.FLOAT:
        c.skip(4, 'module float');
        break;
      case MOD.DOUBLE:
        c.skip(8, 'module double');
        break;
      case MOD.STRING:
        c.skipString('module string');
        break;
      default:
        throw c.error(`a module opcode (0-5), found ${op}`);
    }
  }
}

function skipStream(c: Cursor, rdbType: number): StreamIdmp | null {
  const nodes = c.count(c.len('stream node count'), 2, 'stream node count');
  for (let i = 0; i < nodes; i++) {
    c.skipString('stream node key');
    c.skipString('stream node listpack');
  }
  c.len('stream length');
  c.lenBig('stream last id ms');
  c.lenBig('stream last id seq');
  if (rdbType >= T.STREAM_LISTPACKS_2) {
    c.lenBig('stream first id ms');
    c.lenBig('stream first id seq');
    c.lenBig('stream max deleted id ms');
    c.lenBig('stream max deleted id seq');
    c.lenBig('stream entries added');
  }
  const groups = c.count(c.len('consumer group count'), 4, 'consumer group count');
  for (let g = 0; g < groups; g++) {
    c.skipString('group name');
    c.lenBig('group last delivered id ms');
    c.lenBig('group last delivered id seq');
    if (rdbType >= T.STREAM_LISTPACKS_2) c.lenBig('group entries read');
    const pel = c.count(c.len('group PEL size'), 25, 'group PEL size');
    for (let p = 0; p < pel; p++) {
      c.skip(16, 'PEL entry id');
      c.skip(8, 'PEL delivery time');
      c.len('PEL delivery count');
    }
    const consumers = c.count(c.len('consumer count'), 10, 'consumer count');
    for (let k = 0; k < consumers; k++) {
      c.skipString('consumer name');
      c.skip(8, 'consumer seen time');
      if (rdbType >= T.STREAM_LISTPACKS_3) c.skip(8, 'consumer active time');
      const cpel = c.count(c.len('consumer PEL size'), 16, 'consumer PEL size');
      c.skip(cpel * 16, 'consumer PEL ids');
    }
  }
  return rdbType === T.STREAM_LISTPACKS_4 ? skipStreamIdmp(c) : null;
}

/** What a stream v4 IDMP tail holds, counted (for loss messages when a target cannot carry it). */
export interface StreamIdmp {
  durationS: number;
  maxEntries: number;
  producers: number;
  iids: number;
  iidsAdded: bigint;
}

/** RDB 13 stream tail (IDMP producers), per librdb's reading of Redis 8.6. */
export function skipStreamIdmp(c: Cursor): StreamIdmp {
  const durationS = c.len('idmp duration');
  const maxEntries = c.len('idmp max entries');
  const producers = c.count(c.len('idmp producer count'), 2, 'idmp producer count');
  let iids = 0;
  for (let i = 0; i < producers; i++) {
    c.skipString('idmp producer id');
    const n = c.count(c.len('idmp entry count'), 3, 'idmp entry count');
    iids += n;
    for (let j = 0; j < n; j++) {
      c.skipString('idmp iid');
      c.lenBig('idmp id ms');
      c.lenBig('idmp id seq');
    }
  }
  const iidsAdded = c.lenBig('idmp iids added');
  c.lenBig('idmp iids duplicates');
  return { durationS, maxEntries, producers, iids, iidsAdded };
}

/** The IDMP tail of a stream v4 payload (null for other types). */
export function streamIdmpOf(payload: Buffer, rdbType: number, file: string): StreamIdmp | null {
  if (rdbType !== T.STREAM_LISTPACKS_4) return null;
  return skipStream(new Cursor(file, payload), rdbType);
}
