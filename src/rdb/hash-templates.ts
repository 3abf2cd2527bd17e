/**
 * RDB 15 (Redis 8.10) hash templates: a registry of field-name sets written once per file (opcode 242) and
 * hashes that hold only their values (types 29–32). docs/rdb-format.md §5.5 names the source of each fact.
 *
 * Layouts, as the Redis sources define them (tests/unit/type/hash-template.tcl byte strings; t_hash.c
 * hashTemplateCreateInternal, hashTemplateValidateFields):
 *   opcode 242   [id len][count len][count × field string]                       (rdbLoadHashTemplates)
 *   29 TMPL_LP   [fields][values listpack string: id entry, then count values]  (self-contained, DUMP)
 *   30 _LP_REF   [values listpack string: id entry, then count values]          (file only)
 *   31 TMPL_ARR  [fields][count × value string]                                  (self-contained, DUMP)
 *   32 _ARR_REF  [id len][count × value string]                                  (file only)
 *   fields       0 (len) then a listpack string of the names (tmpl->fits_in_listpack), or
 *                1 (len) then [count len][count × field string]
 * Field names are strictly ascending by sdscmplen (length first, then bytes); values follow that order.
 * A template is an encoding, not data: it carries no TTL, no field TTL and no key metadata.
 */
import { BlobError } from '../errors.js';
import { itemToBuffer, listpackDecode, listpackEncode } from '../codec/listpack.js';
import { ByteWriter } from '../encode/rdb-primitives.js';
import type { Cursor } from './cursor.js';
import { T } from './constants.js';

/** Template ids to their (sorted) field names, for one file: Redis keeps one registry per server, not per db. */
export type TemplateRegistry = Map<number, Buffer[]>;

/** sdscmplen order: the shorter name first, equal lengths by bytes (t_hash.c hashTemplateValidateFields). */
export function sdsCmpLen(a: Buffer, b: Buffer): number {
  return a.length !== b.length ? a.length - b.length : Buffer.compare(a, b);
}

function checkFields(c: Cursor, fields: Buffer[], at: number, what: string): void {
  if (fields.length === 0) throw c.error(`a ${what} with at least one field (Redis refuses a template with zero fields)`, at);
  for (let i = 1; i < fields.length; i++) {
    if (sdsCmpLen(fields[i - 1]!, fields[i]!) >= 0) {
      throw c.error(`${what} field names strictly ascending by length, then bytes (sdscmplen), but field ${i} ${JSON.stringify(fields[i]!.toString('latin1'))} does not follow ${JSON.stringify(fields[i - 1]!.toString('latin1'))}`, at);
    }
  }
}

function strings(c: Cursor, what: string): Buffer[] {
  const n = c.count(c.len(`${what} count`), 1, `${what} count`);
  const out: Buffer[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = c.string(what);
  return out;
}

/** Opcode 242's body: one template, added to `reg` (a duplicate id is a corrupt file, as for Redis). */
export function readTemplateRecord(c: Cursor, reg: TemplateRegistry): void {
  const at = c.pos;
  const id = c.len('hash template id');
  const fieldsAt = c.pos;
  const fields = strings(c, 'hash template field');
  checkFields(c, fields, fieldsAt, 'hash template');
  if (reg.has(id)) throw c.error(`a hash template id not defined before in this file, found ${id} again`, at);
  // Copies: views would pin the parser's input chunks for the whole file.
  reg.set(id, fields.map((f) => Buffer.from(f)));
}

/** The listpack of a TMPL_LP value: an integer template id, then `n` values (rdb.c "first entry is not an integer"). */
function lpValues(c: Cursor, n: number | null, what: string): Buffer[] {
  const at = c.pos;
  const b = c.string(what);
  let items;
  try {
    items = listpackDecode(b);
  } catch (e) {
    if (e instanceof BlobError) throw c.error(`a valid ${what}: ${e.expected} (at byte ${e.at} of the ${b.length}-byte ${what})`, at);
    throw e;
  }
  const first = items[0];
  if (first === undefined) throw c.error(`a ${what} holding the template id and the values, found an empty listpack`, at);
  if (Buffer.isBuffer(first)) throw c.error(`a ${what} whose first entry is the integer template id, found a string`, at);
  if (n !== null && items.length !== n + 1) throw c.error(`a ${what} of ${n + 1} entries (template id + ${n} values), found ${items.length}`, at);
  return items.slice(1).map(itemToBuffer);
}

/** The field names of a self-contained form (29/31): a listpack blob (0) or counted strings (1). */
function selfFields(c: Cursor): Buffer[] {
  const at = c.pos;
  const form = c.len('template fields format (0 listpack, 1 strings)');
  let fields: Buffer[];
  if (form === 0) {
    const b = c.string('template fields listpack');
    try {
      fields = listpackDecode(b).map(itemToBuffer);
    } catch (e) {
      if (e instanceof BlobError) throw c.error(`a valid template fields listpack: ${e.expected}`, at);
      throw e;
    }
  } else if (form === 1) fields = strings(c, 'template field');
  else throw c.error(`a template fields format of 0 (listpack) or 1 (strings), found ${form}`, at);
  checkFields(c, fields, at, 'template hash');
  return fields;
}

/** Decode a self-contained template hash (29/31) into field/value pairs, in template field order. */
export function decodeTemplateHash(c: Cursor, rdbType: number): Array<[Buffer, Buffer]> {
  const fields = selfFields(c);
  const values = rdbType === T.HASH_TMPL_LP ? lpValues(c, fields.length, 'template values listpack') : fields.map(() => c.string('template hash value'));
  return fields.map((f, i) => [f, values[i]!]);
}

/** Step over (and check) a self-contained template hash, for the parser's raw pass. */
export function skipTemplateHash(c: Cursor, rdbType: number): void {
  const fields = selfFields(c);
  if (rdbType === T.HASH_TMPL_LP) lpValues(c, fields.length, 'template values listpack');
  else for (let i = 0; i < fields.length; i++) c.skipString('template hash value');
}

/**
 * Whether a default-configured Redis would DUMP these names as one listpack (t_hash.c hashTypeSdsArrayFitsLp
 * with redis.conf's hash-max-listpack-entries 128 / hash-max-listpack-value 64), so the self-contained form
 * rekey writes is the one such a server writes itself.
 */
function fitsListpack(fields: Buffer[]): boolean {
  if (fields.length > 128) return false;
  let sum = 0;
  for (const f of fields) {
    if (f.length > 64) return false;
    sum += f.length;
  }
  return sum < 1 << 30; // listpack.c lpSafeToAdd: LISTPACK_MAX_SAFETY_SIZE
}

/**
 * Read a _REF value (30/32) and return it self-contained (29/31): the registry's field names (a listpack
 * when they fit one, else counted strings), then the ref's value bytes verbatim. RESTORE refuses _REF payloads ("not valid in a DUMP
 * payload") and a file without its registry cannot resolve them, so no record ever leaves the parser as a ref.
 */
export function resolveTemplateRef(c: Cursor, rdbType: number, reg: TemplateRegistry): { rdbType: number; payload: Buffer } {
  const start = c.pos;
  let id: number;
  let fields: Buffer[] | undefined;
  let valuesAt: number;
  if (rdbType === T.HASH_TMPL_LP_REF) {
    valuesAt = c.pos;
    // Peek the id from the listpack, then check the count against the template it names.
    const probe = c.pos;
    const b = c.string('template values listpack');
    c.pos = probe;
    let first;
    try {
      first = listpackDecode(b)[0];
    } catch (e) {
      if (e instanceof BlobError) throw c.error(`a valid template values listpack: ${e.expected} (at byte ${e.at} of the ${b.length}-byte listpack)`, probe);
      throw e;
    }
    if (first === undefined || Buffer.isBuffer(first)) throw c.error('a template values listpack whose first entry is the integer template id', probe);
    id = Number(first);
    fields = reg.get(id);
    if (fields === undefined) throw c.error(`a hash template id defined earlier in the file by opcode 242, found id ${id}, which no template has`, start);
    lpValues(c, fields.length, 'template values listpack');
  } else {
    id = c.len('hash template id');
    fields = reg.get(id);
    if (fields === undefined) throw c.error(`a hash template id defined earlier in the file by opcode 242, found id ${id}, which no template has`, start);
    valuesAt = c.pos;
    for (let i = 0; i < fields.length; i++) c.skipString('template hash value');
  }
  const w = new ByteWriter();
  if (fitsListpack(fields)) w.len(0).string(listpackEncode(fields));
  else {
    w.len(1).len(fields.length);
    for (const f of fields) w.string(f);
  }
  const head = w.finish();
  return {
    rdbType: rdbType === T.HASH_TMPL_LP_REF ? T.HASH_TMPL_LP : T.HASH_TMPL_ARRAY,
    payload: Buffer.concat([head, c.buf.subarray(valuesAt, c.pos)]),
  };
}
