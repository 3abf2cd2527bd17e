/** Synthetic key records for the analyze tests, serialized by the project's own value encoder. */
import type { KeyRecord, MetaRecord, Value } from '../../src/records/types.js';
import { encodeValue } from '../../src/encode/value-encoder.js';
import { describeType } from '../../src/rdb/constants.js';
import { decodeValue } from '../../src/rdb/value-decode.js';

import { utf8 as b } from '../helpers/bytes.js';
import { encodedRecord, recordFromPayload as fromPayload, type RecordOptions } from '../helpers/records.js';
export { b };
export type RecOptions = Pick<RecordOptions, 'db' | 'expireAtMs' | 'compress'> & { rdbVersion?: number };

const withVersion = ({ rdbVersion, ...o }: RecOptions): RecordOptions => ({ ...o, version: rdbVersion ?? 11 });

/** A key record whose payload is what Redis of `rdbVersion` (default 11) would write for `value`. */
export const rec = (key: string | Buffer, value: Value, o: RecOptions = {}): KeyRecord => encodedRecord(key, value, withVersion(o));

export const recFromPayload = (key: string | Buffer, rdbType: number, payload: Buffer, o: RecOptions = {}): KeyRecord =>
  fromPayload(key, rdbType, payload, withVersion(o));

export const str = (s: string | Buffer): Value => ({ type: 'string', value: typeof s === 'string' ? b(s) : s });
export const list = (items: Array<string | Buffer>): Value => ({ type: 'list', items: items.map((x) => (typeof x === 'string' ? b(x) : x)) });
export const set = (members: Array<string | Buffer>): Value => ({ type: 'set', members: members.map((x) => (typeof x === 'string' ? b(x) : x)) });
export const zset = (entries: Array<[string, number]>): Value => ({ type: 'zset', entries: entries.map(([m, s]) => [b(m), s]) });
export const hash = (entries: Array<[string, string]>, expires?: Array<number | null>): Value => ({
  type: 'hash',
  entries: entries.map(([f, v]) => [b(f), b(v)]),
  ...(expires ? { expires } : {}),
});

export function range(n: number, f: (i: number) => string): string[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

export function meta(): MetaRecord[] {
  return [
    { kind: 'header', rdbVersion: 11, flavor: 'redis', magic: 'REDIS0011' },
    { kind: 'aux', key: b('redis-ver'), value: b('7.2.4'), offset: 9 },
    { kind: 'aux', key: b('redis-bits'), value: b('64'), offset: 20 },
    { kind: 'aux', key: b('ctime'), value: b('1700000000'), offset: 30 },
    { kind: 'aux', key: b('used-mem'), value: b('1048576'), offset: 40 },
    { kind: 'function', code: b("#!lua name=mylib\nredis.register_function('f1', function() return 1 end)\nredis.register_function{function_name='f2', callback=function() return 2 end}"), offset: 50 },
    { kind: 'module-aux', moduleId: 0n, moduleName: 'ReJSON-RL', when: 2, raw: Buffer.alloc(0), offset: 60 },
    { kind: 'selectdb', db: 0, offset: 70 },
    { kind: 'resizedb', db: 0, dbSize: 10, expiresSize: 2, offset: 72 },
  ];
}
