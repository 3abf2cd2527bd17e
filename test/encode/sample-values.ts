/** Values of every type and size class, for encoder/sink tests. Times are fixed (TTLs far in the future). */
import type { StreamEntry, StreamGroup, StreamId, StreamValue, Value } from '../../src/records/types.js';

export const FUTURE = 4102444800000; // 2100-01-01
const B = (s: string) => Buffer.from(s, 'utf8');
const id = (ms: number, seq: number): StreamId => ({ ms: BigInt(ms), seq: BigInt(seq) });

function entries(n: number, startMs: number): StreamEntry[] {
  const out: StreamEntry[] = [];
  for (let i = 0; i < n; i++) {
    // Mostly the same field names (SAMEFIELDS), every 7th entry different ones, some repeated-ms IDs.
    const fields: Array<[Buffer, Buffer]> =
      i % 7 === 3 ? [[B('other'), B(`x${i}`)], [B('n'), B(String(i))], [B('n'), B('dup-field')]] : [[B('temp'), B(String(20 + (i % 13)))], [B('where'), B(i % 2 ? 'kitchen' : 'hall')]];
    out.push({ id: id(startMs + Math.floor(i / 3), i % 3), fields });
  }
  return out;
}

function groupsFor(es: StreamEntry[], withV2: boolean): StreamGroup[] {
  const c1 = B('alice');
  const c2 = B('bob');
  const pend = (i: number, who: Buffer, count: number) => ({ id: es[i]!.id, consumer: who, deliveryTimeMs: 1700000000000 + i, deliveryCount: count });
  const g1: StreamGroup = {
    name: B('g1'),
    lastDeliveredId: es[120]!.id,
    pending: [pend(5, c1, 1), pend(6, c1, 3), pend(50, c2, 2), pend(120, c2, 1)],
    consumers: [
      { name: c1, seenTimeMs: 1700000001000, pending: [es[5]!.id, es[6]!.id] },
      { name: c2, seenTimeMs: 1700000002000, pending: [es[50]!.id, es[120]!.id] },
      { name: B('idle-consumer'), seenTimeMs: 1700000003000, pending: [] },
    ],
  };
  const g2: StreamGroup = { name: B('g2-empty'), lastDeliveredId: id(0, 0), pending: [], consumers: [] };
  if (withV2) {
    g1.entriesRead = 121;
    g2.entriesRead = 0;
  }
  return [g1, g2];
}

/** Metadata a v1 loader derives, so it survives RDB 9. */
function simpleStream(): StreamValue {
  const es = entries(250, 1700000000000);
  return { type: 'stream', entries: es, length: es.length, lastId: es[es.length - 1]!.id, firstId: es[0]!.id, maxDeletedId: id(0, 0), entriesAdded: BigInt(es.length), groups: groupsFor(es, false), version: 1 };
}

/** Deleted entries, entries_read and active times: needs v2/v3. */
function metaStream(): StreamValue {
  const es = entries(30, 1710000000000);
  const groups = groupsFor(entries(130, 1710000000000), true).slice(1);
  groups.push({
    name: B('g3'),
    lastDeliveredId: es[4]!.id,
    entriesRead: 9,
    pending: [{ id: es[4]!.id, consumer: B('carol'), deliveryTimeMs: 1710000005000, deliveryCount: 4 }],
    consumers: [{ name: B('carol'), seenTimeMs: 1710000006000, activeTimeMs: 1710000005500, pending: [es[4]!.id] }],
  });
  return { type: 'stream', entries: es, length: es.length, lastId: id(1710000099999, 7), firstId: es[0]!.id, maxDeletedId: id(1710000050000, 0), entriesAdded: 77n, groups, version: 3 };
}

export interface Sample {
  name: string;
  value: Value;
  /** Lowest RDB version that holds it. */
  min: number;
}

const bytes256 = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

export const SAMPLES: Sample[] = [
  { name: 'str-int', value: { type: 'string', value: B('10') }, min: 1 },
  { name: 'str-leading-zero', value: { type: 'string', value: B('007') }, min: 1 },
  { name: 'str-binary', value: { type: 'string', value: bytes256 }, min: 1 },
  { name: 'str-big', value: { type: 'string', value: B('compress me '.repeat(10000)) }, min: 1 },
  { name: 'str-empty', value: { type: 'string', value: Buffer.alloc(0) }, min: 1 },
  { name: 'list-small', value: { type: 'list', items: ['a', 'b', '1', '2', '300', '-5', '12', '-70000', '9223372036854775807', '007'].map(B).concat([bytes256.subarray(0, 10)]) }, min: 1 },
  { name: 'list-big', value: { type: 'list', items: Array.from({ length: 1000 }, (_, i) => B(i % 3 ? `item-${i}-${'p'.repeat(i % 90)}` : String(i * 1000))) }, min: 1 },
  { name: 'list-huge-element', value: { type: 'list', items: [B('small'), B('y'.repeat(20000)), B('after'), B('12')] }, min: 1 },
  { name: 'set-ints', value: { type: 'set', members: ['1', '-5', '300', '70000', '9223372036854775807', '-9223372036854775808'].map(B) }, min: 1 },
  { name: 'set-small-ints', value: { type: 'set', members: ['3', '1', '2'].map(B) }, min: 1 },
  { name: 'set-noncanonical', value: { type: 'set', members: ['1', '01', '+2'].map(B) }, min: 1 },
  { name: 'set-strings', value: { type: 'set', members: ['a', 'b', 'c', 'ünï'].map(B) }, min: 1 },
  { name: 'set-big', value: { type: 'set', members: Array.from({ length: 600 }, (_, i) => B(`m${i}`)) }, min: 1 },
  { name: 'set-big-ints', value: { type: 'set', members: Array.from({ length: 600 }, (_, i) => B(String(i * 7 - 100))) }, min: 1 },
  {
    name: 'zset-small',
    value: { type: 'zset', entries: [['a', 1], ['b', 1.5], ['c', -0], ['d', Infinity], ['e', -Infinity], ['f', 1e20], ['g', 0.1], ['h', 2 ** 60], ['i', -3], ['j', 1]].map(([m, s]) => [B(m as string), s as number]) },
    min: 1,
  },
  { name: 'zset-big', value: { type: 'zset', entries: Array.from({ length: 200 }, (_, i) => [B(`member-${i}`), i / 7]) }, min: 1 },
  { name: 'zset-long-member', value: { type: 'zset', entries: [[B('q'.repeat(100)), 2.5], [B('r'), 1e-7]] }, min: 1 },
  { name: 'hash-small', value: { type: 'hash', entries: [[B('f1'), B('v1')], [B('f2'), B('2')], [bytes256.subarray(250), B('')]] }, min: 1 },
  { name: 'hash-big', value: { type: 'hash', entries: Array.from({ length: 200 }, (_, i) => [B(`field${i}`), B(String(i * i))]) }, min: 1 },
  { name: 'hash-long-value', value: { type: 'hash', entries: [[B('f'), B('z'.repeat(100))], [B('g'), B('1')]] }, min: 1 },
  {
    name: 'hash-ttl-small',
    value: { type: 'hash', entries: [[B('a'), B('1')], [B('b'), B('2')], [B('c'), B('3')], [B('d'), B('4')]], expires: [FUTURE + 5000, null, FUTURE, FUTURE + 5000] },
    min: 12,
  },
  {
    name: 'hash-ttl-big',
    value: {
      type: 'hash',
      entries: Array.from({ length: 150 }, (_, i) => [B(`f${i}`), B(`value-${i}`)] as [Buffer, Buffer]),
      expires: Array.from({ length: 150 }, (_, i) => (i % 3 === 0 ? null : FUTURE + (i % 5) * 1000)),
    },
    min: 12,
  },
  { name: 'stream-simple', value: simpleStream(), min: 9 },
  { name: 'stream-meta', value: metaStream(), min: 11 },
  {
    name: 'stream-empty',
    value: { type: 'stream', entries: [], length: 0, lastId: id(5, 0), firstId: id(0, 0), maxDeletedId: id(5, 0), entriesAdded: 3n, groups: [], version: 2 },
    min: 10,
  },
  {
    name: 'stream-empty-group',
    value: {
      type: 'stream', entries: [], length: 0, lastId: id(0, 0), firstId: id(0, 0), maxDeletedId: id(0, 0), entriesAdded: 0n, version: 2,
      groups: [{ name: B('g'), lastDeliveredId: id(0, 0), entriesRead: 0, pending: [], consumers: [{ name: B('c'), seenTimeMs: 1700000000000, pending: [] }] }],
    },
    min: 9,
  },
];

export function sample(name: string): Value {
  const s = SAMPLES.find((x) => x.name === name);
  if (!s) throw new Error(`no sample ${name}`);
  return s.value;
}

/** The value as a v1 stream loader would see it (no field TTLs, v2 metadata derived). */
export function withoutFieldTtls(v: Value): Value {
  if (v.type !== 'hash' || !v.expires) return v;
  return { type: 'hash', entries: v.entries };
}

/**
 * What Redis 7.0 holds after loading `v` written at RDB `version`: a v1 stream (RDB 9) carries no v2 metadata,
 * so the loader derives it (first entry, no deletions, entries_added = length, estimated entries_read; and for an
 * empty stream the max ID as first ID, streamGetEdgeID's answer on an empty rax).
 */
export function asLoadedBy70(v: Value, version: number): Value {
  if (v.type !== 'stream' || version >= 10) return v;
  const MAX = 2n ** 64n - 1n;
  return {
    ...v,
    firstId: v.entries[0]?.id ?? { ms: MAX, seq: MAX },
    maxDeletedId: { ms: 0n, seq: 0n },
    entriesAdded: BigInt(v.entries.length),
    groups: v.groups.map((g) => ({ ...g, entriesRead: undefined, consumers: g.consumers.map((c) => ({ ...c, activeTimeMs: undefined })) })),
  } as StreamValue;
}
