import { isUtf8 } from 'node:buffer';
import type { KeyRecord, StreamId, Value } from '../../src/records/types.js';

/** The corpus truth's byte-string form: UTF-8 text, else {"b64": …}. */
export function truthBytes(b: Buffer): unknown {
  return isUtf8(b) ? b.toString('utf8') : { b64: b.toString('base64') };
}

export function truthToBuffer(v: unknown): Buffer {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v && typeof v === 'object' && 'b64' in v) return Buffer.from((v as { b64: string }).b64, 'base64');
  throw new Error(`not a truth byte string: ${JSON.stringify(v)}`);
}

const id = (x: StreamId) => `${x.ms}-${x.seq}`;
const byBytes = <T>(get: (t: T) => Buffer) => (a: T, b: T) => Buffer.compare(get(a), get(b));

/** Our decoded record in the corpus truth shape (sets/hashes/zsets sorted by bytes, like the truth). */
export function toTruthShape(rec: KeyRecord, v: Value): Record<string, unknown> {
  const out: Record<string, unknown> = {
    db: rec.db,
    key: truthBytes(rec.key),
    type: v.type === 'module' ? v.moduleName : v.type,
    expire_at_ms: rec.expireAtMs,
  };
  switch (v.type) {
    case 'string':
      out.value = truthBytes(v.value);
      break;
    case 'list':
      out.value = v.items.map(truthBytes);
      break;
    case 'set':
      out.value = [...v.members].sort(Buffer.compare).map(truthBytes);
      break;
    case 'zset':
      out.value = [...v.entries].sort(byBytes((e) => e[0])).map(([m, s]) => [truthBytes(m), s]);
      break;
    case 'hash': {
      const idx = v.entries.map((_, i) => i).sort((a, b) => Buffer.compare(v.entries[a]![0], v.entries[b]![0]));
      out.value = idx.map((i) => [truthBytes(v.entries[i]![0]), truthBytes(v.entries[i]![1])]);
      if (v.expires) {
        const f = idx.filter((i) => v.expires![i] !== null).map((i) => [truthBytes(v.entries[i]![0]), v.expires![i]]);
        if (f.length) out.field_expire_at_ms = f;
      }
      break;
    }
    case 'stream':
      out.value = {
        entries: v.entries.map((e) => [id(e.id), e.fields.map(([f, x]) => [truthBytes(f), truthBytes(x)])]),
        length: v.length,
        last_generated_id: id(v.lastId),
        max_deleted_entry_id: id(v.maxDeletedId),
        entries_added: Number(v.entriesAdded),
        recorded_first_entry_id: id(v.firstId),
        groups: [...v.groups].sort(byBytes((g) => g.name)).map((g) => ({
          name: truthBytes(g.name),
          last_delivered_id: id(g.lastDeliveredId),
          entries_read: g.entriesRead === undefined || g.entriesRead < 0 ? null : g.entriesRead,
          pending: g.pending.map((p) => ({ id: id(p.id), consumer: truthBytes(p.consumer), delivery_count: p.deliveryCount, delivery_time_ms: p.deliveryTimeMs })),
          consumers: [...g.consumers].sort(byBytes((c) => c.name)).map((c) => ({
            name: truthBytes(c.name),
            pending: c.pending.map(id),
            seen_time_ms: c.seenTimeMs,
            active_time_ms: c.activeTimeMs,
          })),
        })),
      };
      break;
    case 'module':
      out.value = null;
      break;
  }
  return out;
}

/**
 * Compare our shape with a truth line. Only fields the truth has are compared (older servers
 * report less), scores compare as doubles. Returns a description of the first difference or null.
 */
export function diffTruth(ours: unknown, truth: unknown, path = ''): string | null {
  if (typeof truth === 'string' && typeof ours === 'number') {
    const t = truth === 'inf' ? Infinity : truth === '-inf' ? -Infinity : Number(truth);
    return t === ours || (Number.isNaN(t) && Number.isNaN(ours)) ? null : `${path}: ${ours} != ${truth}`;
  }
  if (truth === null || typeof truth !== 'object') {
    if (truth === null && ours === undefined) return null;
    return ours === truth ? null : `${path}: ${JSON.stringify(ours)?.slice(0, 200)} != ${JSON.stringify(truth)?.slice(0, 200)}`;
  }
  if (Array.isArray(truth)) {
    if (!Array.isArray(ours)) return `${path}: not an array`;
    if (ours.length !== truth.length) return `${path}: length ${ours.length} != ${truth.length}`;
    for (let i = 0; i < truth.length; i++) {
      const d = diffTruth(ours[i], truth[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (ours === null || typeof ours !== 'object') return `${path}: ${JSON.stringify(ours)} is not an object`;
  for (const [k, tv] of Object.entries(truth as Record<string, unknown>)) {
    const d = diffTruth((ours as Record<string, unknown>)[k], tv, `${path}.${k}`);
    if (d) return d;
  }
  return null;
}
