import type { Flavor, LogicalType } from '../records/types.js';

/** Opcodes (rdb.h). Everything else in the top-level byte stream is a value type. */
export const OP = {
  HASH_TEMPLATE: 0xf2, // Redis 15: one hash template of the file's registry (rdbLoadHashTemplates).
  KEY_META: 0xf3, // Redis 13: key metadata prefix. Valkey 80: SLOT_IMPORT.
  SLOT_INFO: 0xf4,
  FUNCTION2: 0xf5,
  FUNCTION_PRE_GA: 0xf6,
  MODULE_AUX: 0xf7,
  IDLE: 0xf8,
  FREQ: 0xf9,
  AUX: 0xfa,
  RESIZEDB: 0xfb,
  EXPIRETIME_MS: 0xfc,
  EXPIRETIME: 0xfd,
  SELECTDB: 0xfe,
  EOF: 0xff,
} as const;

/** Value type bytes (rdb.h). */
export const T = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE_PRE_GA: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  SET_LISTPACK: 20,
  STREAM_LISTPACKS_3: 21,
  HASH_METADATA_PRE_GA: 22, // Valkey 80: HASH_2
  HASH_LISTPACK_EX_PRE_GA: 23,
  HASH_METADATA: 24,
  HASH_LISTPACK_EX: 25,
  STREAM_LISTPACKS_4: 26,
  // RDB 15 hash templates (src/rdb/hash-templates.ts): _REF forms exist only in a file, after opcode 242.
  HASH_TMPL_LP: 29,
  HASH_TMPL_LP_REF: 30,
  HASH_TMPL_ARRAY: 31,
  HASH_TMPL_ARRAY_REF: 32,
} as const;

/** Valkey 9 reuses 22 for its own field-TTL hash layout. */
export const VALKEY_HASH_2 = 22;

/** Newest header version of each flavour we read without an override. */
export const MAX_REDIS_VERSION = 15;
export const MAX_VALKEY_VERSION = 81;

/** Module value opcodes (module.c). */
export const MOD = { EOF: 0, SINT: 1, UINT: 2, FLOAT: 3, DOUBLE: 4, STRING: 5 } as const;

const REDIS_TYPE_NAMES: Record<number, string> = {
  0: 'STRING', 1: 'LIST', 2: 'SET', 3: 'ZSET', 4: 'HASH', 5: 'ZSET_2', 6: 'MODULE_PRE_GA', 7: 'MODULE_2',
  9: 'HASH_ZIPMAP', 10: 'LIST_ZIPLIST', 11: 'SET_INTSET', 12: 'ZSET_ZIPLIST', 13: 'HASH_ZIPLIST',
  14: 'LIST_QUICKLIST', 15: 'STREAM_LISTPACKS', 16: 'HASH_LISTPACK', 17: 'ZSET_LISTPACK',
  18: 'LIST_QUICKLIST_2', 19: 'STREAM_LISTPACKS_2', 20: 'SET_LISTPACK', 21: 'STREAM_LISTPACKS_3',
  22: 'HASH_METADATA_PRE_GA', 23: 'HASH_LISTPACK_EX_PRE_GA', 24: 'HASH_METADATA', 25: 'HASH_LISTPACK_EX',
  26: 'STREAM_LISTPACKS_4',
  29: 'HASH_TMPL_LP', 30: 'HASH_TMPL_LP_REF', 31: 'HASH_TMPL_ARRAY', 32: 'HASH_TMPL_ARRAY_REF',
};

/** Valkey's own types from 22 (valkey: rdb.h `enum RdbType`). */
const VALKEY_TYPE_NAMES: Record<number, string> = { 22: 'HASH_2', 23: 'PATH_HASH' };

export function typeName(rdbType: number, flavor: Flavor): string {
  if (flavor === 'valkey' && rdbType >= VALKEY_HASH_2) return VALKEY_TYPE_NAMES[rdbType] ?? `UNKNOWN_${rdbType}`;
  return REDIS_TYPE_NAMES[rdbType] ?? `UNKNOWN_${rdbType}`;
}

/** Logical type and encoding name of a value type byte, or null when the byte is not a value type. */
export function describeType(rdbType: number, flavor: Flavor): { type: LogicalType; encoding: string } | null {
  if (flavor === 'valkey' && rdbType === VALKEY_HASH_2) return { type: 'hash', encoding: 'hashtable' };
  // Valkey numbers its own types from 22 (valkey: rdb.h `RDB_FOREIGN_TYPE_MIN`): 23 is its PATH_HASH
  // (RDB 81), not Redis' HASH_LISTPACK_EX; a layout we do not read is refused, never misread.
  if (flavor === 'valkey' && rdbType > VALKEY_HASH_2) return null;
  switch (rdbType) {
    case 0: return { type: 'string', encoding: 'string' };
    case 1: return { type: 'list', encoding: 'linkedlist' };
    case 2: return { type: 'set', encoding: 'hashtable' };
    case 3: case 5: return { type: 'zset', encoding: 'skiplist' };
    case 4: return { type: 'hash', encoding: 'hashtable' };
    case 6: case 7: return { type: 'module', encoding: 'module' };
    case 9: return { type: 'hash', encoding: 'zipmap' };
    case 10: return { type: 'list', encoding: 'ziplist' };
    case 11: return { type: 'set', encoding: 'intset' };
    case 12: return { type: 'zset', encoding: 'ziplist' };
    case 13: return { type: 'hash', encoding: 'ziplist' };
    case 14: return { type: 'list', encoding: 'quicklist' };
    case 15: case 19: case 21: case 26: return { type: 'stream', encoding: 'stream' };
    case 16: return { type: 'hash', encoding: 'listpack' };
    case 17: return { type: 'zset', encoding: 'listpack' };
    case 18: return { type: 'list', encoding: 'quicklist2' };
    case 20: return { type: 'set', encoding: 'listpack' };
    case 22: case 24: return { type: 'hash', encoding: 'hashtable' };
    case 23: case 25: return { type: 'hash', encoding: 'listpackex' };
    // OBJECT ENCODING's names for them (Redis 8.10).
    case 29: case 30: return { type: 'hash', encoding: 'template-listpack' };
    case 31: case 32: return { type: 'hash', encoding: 'template-array' };
    default: return null;
  }
}

/** The first RDB version able to load a value type (for down-conversion decisions). */
export function minVersionForType(rdbType: number, flavor: Flavor): number {
  if (flavor === 'valkey' && rdbType === VALKEY_HASH_2) return 80;
  if (rdbType <= 4) return 1;
  if (rdbType <= 7) return 8;
  if (rdbType <= 12) return 2;
  if (rdbType === 13) return 4;
  if (rdbType === 14) return 7;
  if (rdbType === 15) return 9;
  if (rdbType <= 19) return 10;
  if (rdbType <= 21) return 11;
  if (rdbType <= 25) return 12;
  if (rdbType >= 29 && rdbType <= 32) return 15;
  return 13;
}

/** Module type names are 9 characters of this 64-symbol alphabet, 6 bits each (module.c). */
const MODULE_CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The 64-bit id of a module type: its name's symbols, then the encver in the low 10 bits (module.c moduleTypeEncodeId). */
export function moduleIdFromName(name: string, encver: number): bigint {
  let id = 0n;
  for (const ch of name) id = (id << 6n) | BigInt(MODULE_CHARSET.indexOf(ch));
  return (id << 10n) | BigInt(encver & 1023);
}

export function moduleNameFromId(id: bigint): { name: string; encver: number } {
  const encver = Number(id & 1023n);
  let name = '';
  for (let j = 8; j >= 0; j--) name += MODULE_CHARSET[Number((id >> BigInt(10 + 6 * j)) & 63n)];
  return { name, encver };
}
