import type { KeyRecord, StreamValue, Value } from '../../src/records/types.js';
import { moduleIdFromName } from '../../src/rdb/constants.js';

const U64 = (1n << 64n) - 1n;

export { decodedRecord as keyRec } from '../helpers/records.js';

import { utf8 as b } from '../helpers/bytes.js';
export { b };
export const bin = (...bytes: number[]): Buffer => Buffer.from(bytes);
/** Not valid UTF-8. */
export const BAD = bin(0xff, 0xfe, 0x00, 0x80, 0x41);

export function bigStream(): StreamValue {
  return {
    type: 'stream',
    entries: [
      { id: { ms: 1n, seq: 0n }, fields: [[b('f'), b('v')], [b('f'), b('again')]] },
      { id: { ms: U64 - 1n, seq: U64 - 1n }, fields: [[BAD, b('x')], [b('n'), BAD]] },
      { id: { ms: U64, seq: U64 - 1n }, fields: [[b('k'), b('')]] },
    ],
    length: 3,
    lastId: { ms: U64, seq: U64 },
    firstId: { ms: 1n, seq: 0n },
    maxDeletedId: { ms: 5n, seq: 7n },
    entriesAdded: U64 - 4n,
    groups: [
      {
        name: b('g1'),
        lastDeliveredId: { ms: U64 - 1n, seq: U64 - 1n },
        entriesRead: -1,
        pending: [
          { id: { ms: 1n, seq: 0n }, consumer: b('alice'), deliveryTimeMs: 1700000000123, deliveryCount: 3 },
          { id: { ms: U64 - 1n, seq: U64 - 1n }, consumer: BAD, deliveryTimeMs: 1700000000999, deliveryCount: 1 },
        ],
        consumers: [
          { name: b('alice'), seenTimeMs: 1700000001000, activeTimeMs: 1700000000500, pending: [{ ms: 1n, seq: 0n }] },
          { name: BAD, seenTimeMs: 1700000002000, activeTimeMs: -1, pending: [{ ms: U64 - 1n, seq: U64 - 1n }] },
          { name: b('idle-one'), seenTimeMs: 5, activeTimeMs: 6, pending: [] },
        ],
      },
      { name: b('empty'), lastDeliveredId: { ms: 0n, seq: 0n }, entriesRead: 0, pending: [], consumers: [] },
    ],
    version: 3,
  };
}

/** One value of every shape the format distinguishes. */
export function allValues(): Array<[string, Buffer, Value]> {
  return [
    ['string utf8', b('user:1'), { type: 'string', value: b('héllo "quoted" \\ \n\t ✓ 😀') }],
    ['string binary', BAD, { type: 'string', value: BAD }],
    ['string empty', b(''), { type: 'string', value: Buffer.alloc(0) }],
    ['list', b('l'), { type: 'list', items: [b('a'), BAD, b(''), b('a')] }],
    ['list empty', b('l0'), { type: 'list', items: [] }],
    ['set', b('s'), { type: 'set', members: [b('z'), b('a'), BAD, b('1')] }],
    ['zset', b('z'), {
      type: 'zset',
      entries: [[b('a'), 1.5], [b('inf'), Infinity], [b('-inf'), -Infinity], [b('negzero'), -0], [b('zero'), 0],
        [b('tiny'), 1e-300], [b('denorm'), 5e-324], [b('huge'), 1.7976931348623157e308], [BAD, -2.5], [b('big'), 1e21], [b('p'), 0.1]],
    }],
    ['hash object form', b('h'), { type: 'hash', entries: [[b('1'), b('x')], [b('2'), b('y')], [b('name'), b('Ada')], [b('bin'), BAD], [b('0x'), b('')]] }],
    ['hash with non-UTF-8 field', b('hb'), { type: 'hash', entries: [[b('name'), b('Ada')], [BAD, b('v')]] }],
    ['hash __proto__ field', b('hp'), { type: 'hash', entries: [[b('__proto__'), b('p')], [b('constructor'), b('c')]] }],
    ['hash numeric fields out of order', b('hn'), { type: 'hash', entries: [[b('10'), b('a')], [b('2'), b('b')], [b('x'), b('c')]] }],
    ['hash numeric after text', b('hn2'), { type: 'hash', entries: [[b('x'), b('c')], [b('1'), b('a')]] }],
    ['hash field TTLs (object)', b('ht'), { type: 'hash', entries: [[b('a'), b('1')], [b('b'), b('2')], [b('c'), b('3')]], expires: [1767225600000, null, 1767225600001] }],
    ['hash field TTLs (pairs)', BAD, { type: 'hash', entries: [[BAD, b('1')], [b('b'), b('2')]], expires: [null, 1767225600000] }],
    ['hash empty', b('h0'), { type: 'hash', entries: [] }],
    ['stream', b('st'), bigStream()],
    ['stream v1 empty', b('st1'), {
      type: 'stream', entries: [], length: 0, lastId: { ms: 0n, seq: 0n }, firstId: { ms: 0n, seq: 0n },
      maxDeletedId: { ms: 0n, seq: 0n }, entriesAdded: 0n,
      groups: [{ name: b('g'), lastDeliveredId: { ms: 0n, seq: 0n }, pending: [], consumers: [{ name: b('c'), seenTimeMs: 1, pending: [] }] }],
      version: 1,
    }],
    ['stream entries_added 2^53', b('st2'), {
      type: 'stream', entries: [{ id: { ms: 5n, seq: 1n }, fields: [[b('a'), b('b')]] }], length: 1, lastId: { ms: 5n, seq: 1n },
      firstId: { ms: 5n, seq: 1n }, maxDeletedId: { ms: 0n, seq: 0n }, entriesAdded: 2n ** 53n, groups: [], version: 2,
    }],
    ['stream entries_added 2^53+1', b('st3'), {
      type: 'stream', entries: [], length: 0, lastId: { ms: 9n, seq: 9n },
      firstId: { ms: 0n, seq: 0n }, maxDeletedId: { ms: 9n, seq: 9n }, entriesAdded: 2n ** 53n + 1n, groups: [], version: 4,
    }],
    ['module', b('m'), moduleValue()],
  ];
}

/** A ReJSON-RL style module value: raw = 0x81 + 8-byte BE id + some opcodes + EOF. */
export function moduleValue(): Value {
  const name = 'ReJSON-RL';
  const id = moduleIdFromName(name, 3);
  const raw = Buffer.alloc(9 + 4);
  raw[0] = 0x81;
  raw.writeBigUInt64BE(id, 1);
  raw[9] = 5; // MOD.STRING
  raw[10] = 1; // length 1
  raw[11] = 0x7b; // '{'
  raw[12] = 0; // EOF
  return { type: 'module', moduleId: id, moduleName: name, encver: 3, raw };
}
