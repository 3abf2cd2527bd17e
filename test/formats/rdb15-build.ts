/**
 * RDB 15 test files built with the project's own writer primitives from the Redis source's definitions
 * (src/rdb/hash-templates.ts header, docs/rdb-format.md §5.5): no server here writes RDB 15.
 */
import { crc64Into } from '../../src/codec/crc64.js';
import { listpackEncode } from '../../src/codec/listpack.js';
import { ByteWriter } from '../../src/encode/rdb-primitives.js';
import { OP, T } from '../../src/rdb/constants.js';

const b = (s: string | Buffer): Buffer => (typeof s === 'string' ? Buffer.from(s) : s);

/** The fields of a self-contained form: 0 = one listpack string, 1 = counted strings. */
function selfFields(w: ByteWriter, fields: Buffer[], form: 0 | 1): void {
  w.len(form);
  if (form === 0) w.string(listpackEncode(fields));
  else {
    w.len(fields.length);
    for (const f of fields) w.string(f);
  }
}

export type Rdb15Entry =
  | { kind: 'template'; id: number; fields: string[] }
  | { kind: 'select'; db: number }
  | { kind: 'raw'; bytes: Buffer }
  | {
      kind: 'key';
      key: string;
      type: 'lp-ref' | 'array-ref' | 'lp' | 'array';
      id?: number;
      /** self-contained forms: the field names; _REF forms: none (the template's). */
      fields?: string[];
      values: Array<string | Buffer>;
      form?: 0 | 1;
      expireAtMs?: number;
    };

/** Byte offset of each key entry's type byte, by key name, filled by buildRdb15. */
export type Offsets = Map<string, number>;

export function buildRdb15(entries: Rdb15Entry[], offsets: Offsets = new Map()): Buffer {
  const w = new ByteWriter();
  w.bytes(Buffer.from('REDIS0015', 'latin1'));
  w.u8(OP.AUX).string(b('redis-ver')).string(b('8.10.0'));
  for (const e of entries) {
    if (e.kind === 'template') {
      w.u8(OP.HASH_TEMPLATE).len(e.id).len(e.fields.length);
      for (const f of e.fields) w.string(b(f));
    } else if (e.kind === 'select') w.u8(OP.SELECTDB).len(e.db);
    else if (e.kind === 'raw') w.bytes(e.bytes);
    else {
      if (e.expireAtMs !== undefined) w.u8(OP.EXPIRETIME_MS).i64le(e.expireAtMs);
      offsets.set(e.key, w.pos);
      const vals = e.values.map(b);
      const type = { 'lp-ref': T.HASH_TMPL_LP_REF, 'array-ref': T.HASH_TMPL_ARRAY_REF, lp: T.HASH_TMPL_LP, array: T.HASH_TMPL_ARRAY }[e.type];
      w.u8(type).string(b(e.key));
      if (e.type === 'lp-ref') w.string(listpackEncode([e.id ?? 0, ...vals]));
      else if (e.type === 'array-ref') {
        w.len(e.id ?? 0);
        for (const v of vals) w.string(v);
      } else {
        selfFields(w, (e.fields ?? []).map(b), e.form ?? 0);
        if (e.type === 'lp') w.string(listpackEncode([e.id ?? 0, ...vals]));
        else for (const v of vals) w.string(v);
      }
    }
  }
  w.u8(OP.EOF);
  const body = w.finish();
  const out = Buffer.concat([body, Buffer.alloc(8)]);
  crc64Into(out, 0, body.length, body.length);
  return out;
}
