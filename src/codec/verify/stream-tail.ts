/**
 * A stream's tail after its nodes (rdb.c rdbLoadObject, stream part, deep): consumer group names unique, group
 * PEL ids unique, consumer names unique in a group, every consumer PEL id present in the group PEL and owned
 * by one consumer only, and (deep sanitisation) every group PEL entry owned by some consumer.
 */
import type { Cursor } from '../../rdb/cursor.js';
import { T } from '../../rdb/constants.js';
import { skipStreamIdmp } from '../../rdb/value-skip.js';

export function verifyStreamTail(c: Cursor, t: number, nodes: number, fault: (at: number, why: string) => Error): void {
  const v2 = t >= T.STREAM_LISTPACKS_2;
  const la = c.pos;
  if (c.len('stream length') !== 0 && nodes === 0) throw fault(la, 'a stream length of 0 for a stream without nodes');
  c.lenBig('stream last id ms');
  c.lenBig('stream last id seq');
  if (v2) {
    for (let i = 0; i < 4; i++) c.lenBig('stream id');
    c.lenBig('stream entries added');
  }
  const groups = c.count(c.len('consumer group count'), 4, 'consumer group count');
  const groupNames = new Set<string>();
  for (let g = 0; g < groups; g++) {
    const ga = c.pos;
    const name = c.string('group name').toString('latin1');
    if (groupNames.has(name)) throw fault(ga, 'consumer group names without duplicates');
    groupNames.add(name);
    c.lenBig('group last delivered id ms');
    c.lenBig('group last delivered id seq');
    if (v2) c.lenBig('group entries read');
    const pelSize = c.count(c.len('group PEL size'), 25, 'group PEL size');
    // PEL id (16 raw bytes, as latin1) → owned yet?
    const pel = new Map<string, boolean>();
    for (let p = 0; p < pelSize; p++) {
      const pa = c.pos;
      const id = c.bytes(16, 'PEL entry id').toString('latin1');
      if (pel.has(id)) throw fault(pa, 'group PEL ids without duplicates');
      pel.set(id, false);
      c.skip(8, 'PEL delivery time');
      c.len('PEL delivery count');
    }
    const consumers = c.count(c.len('consumer count'), 10, 'consumer count');
    const consumerNames = new Set<string>();
    for (let k = 0; k < consumers; k++) {
      const ka = c.pos;
      const cname = c.string('consumer name').toString('latin1');
      if (consumerNames.has(cname)) throw fault(ka, 'consumer names without duplicates in a group');
      consumerNames.add(cname);
      c.skip(8, 'consumer seen time');
      if (t >= T.STREAM_LISTPACKS_3) c.skip(8, 'consumer active time');
      const cpel = c.count(c.len('consumer PEL size'), 16, 'consumer PEL size');
      for (let p = 0; p < cpel; p++) {
        const pa = c.pos;
        const id = c.bytes(16, 'consumer PEL id').toString('latin1');
        const owned = pel.get(id);
        if (owned === undefined) throw fault(pa, 'a consumer PEL id that is in the group PEL');
        if (owned) throw fault(pa, 'a consumer PEL id owned by one consumer only');
        pel.set(id, true);
      }
    }
    for (const owned of pel.values()) if (!owned) throw fault(ga, 'every group PEL entry owned by a consumer');
  }
  if (t === T.STREAM_LISTPACKS_4) skipStreamIdmp(c);
}
