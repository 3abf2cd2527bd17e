import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { openInput } from '../../src/sources/open.js';
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

/**
 * Decode every key of `rdb` and compare it with the truth file beside it (one JSON line per key, the
 * server's own readback). Returns what differs (empty when all match) and how many keys matched.
 */
export async function truthProblems(rdb: string, truthFile: string): Promise<{ problems: string[]; matched: number }> {
  const truth = readFileSync(truthFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const input = await openInput(rdb);
  const ours: Record<string, unknown>[] = [];
  for await (const batch of input.batches) for (const r of batch) if (r.kind === 'key') ours.push(toTruthShape(r, r.decode()));
  const problems: string[] = [];
  let matched = 0;
  const byKey = new Map(ours.map((o) => [`${o.db as number}/${JSON.stringify(o.key)}`, o]));
  for (const t of truth) {
    const o = byKey.get(`${t.db as number}/${JSON.stringify(t.key)}`);
    const want = { ...t };
    // What the truth says about the server's side only (its encoding, how the module value was read back).
    for (const k of ['encoding', 'rdb_type', 'rdb_type_name', 'module_type', 'module_readback', 'module_readback_cmd', 'expired_at_save']) delete want[k];
    if (!o) {
      problems.push(`missing key ${JSON.stringify(t.key)}`);
      continue;
    }
    // A server without PEXPIRETIME (6.2) gave its expiry as now + PTTL: exact to within the tolerance it wrote.
    const tol = want.expire_tolerance_ms;
    if (typeof tol === 'number') {
      delete want.expire_tolerance_ms;
      const a = o.expire_at_ms as number | null;
      const b = want.expire_at_ms as number | null;
      if (a !== null && b !== null && Math.abs(a - b) <= tol) want.expire_at_ms = a;
    }
    const d = diffTruth(o, want, JSON.stringify(t.key));
    if (d) problems.push(d);
    else matched++;
  }
  if (ours.length !== truth.length) problems.push(`${ours.length} keys decoded, truth has ${truth.length}`);
  return { problems, matched };
}
