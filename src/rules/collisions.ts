/**
 * Streaming collision detection that scales to tens of millions of keys without holding key bytes.
 *
 * What counts as a collision (per target db):
 *  - duplicate_target: two different source keys get the same new key;
 *  - new_key_is_source_key: a key's new name equals another source key (that other key is renamed
 *    elsewhere or dropped; if it keeps its name, that is a duplicate_target).
 *
 * How: every (db, key bytes) is reduced to a 64-bit digest (two 32-bit murmur3-style lanes over the
 * bytes, seeded with the db; crypto hashes are several times slower). One open-addressing table of
 * digests (linear probing, power-of-two capacity, load <= 0.75) in a Uint32Array holds, per slot, 62
 * digest bits and 2 role bits (source / target). Feeding a record touches the digest of its source
 * key and of its new key; touching a digest another record already touched makes that digest a
 * candidate. Nothing else is kept, so memory is ~8 bytes per slot: about 13 bytes per kept key and
 * about 27 per renamed key (two digests) at 10M keys (bench/classify.mjs measures it).
 *
 * False positives: two different keys can share a 62-bit digest (at 10M keys the chance that any
 * pair does is ~1e-5). A candidate is therefore only a suspicion until confirmed: `confirm()` takes a
 * second pass over the same records, keeps the bytes of just the records whose source or new digest
 * is a candidate, and groups them by exact bytes; digest-only matches are discarded and counted as
 * `falsePositives`. When the input cannot be read twice (stdin), `report()` lists the candidates as
 * unconfirmed (with the bytes of the record that hit, kept for up to `sampleLimit` candidates).
 */

import { fmix32 as fmix } from '../codec/fmix32.js';

export interface CollisionInput {
  key: Buffer;
  db: number;
  /** null when the key is dropped (it still counts as a source key). */
  newKey: Buffer | null;
  toDb: number;
}

export type CollisionKind = 'duplicate_target' | 'new_key_is_source_key';

export interface CollisionFinding {
  kind: CollisionKind;
  /** Target db of the new key. */
  db: number;
  newKey: Buffer;
  /** Source keys whose new key is `newKey` (db is the source db). */
  sources: Array<{ db: number; key: Buffer }>;
  /** For new_key_is_source_key (and a duplicate_target that also hits one): the source key equal to newKey. */
  existingSource?: { db: number; key: Buffer };
  /** Byte-confirmed (second pass) or only a digest match. */
  confirmed: boolean;
}

export interface CollisionReport {
  /** Records fed. */
  records: number;
  /** Digests touched by more than one record. */
  candidates: number;
  /** Candidates that turned out to be digest-only matches (confirmed reports only). */
  falsePositives: number;
  /** Source keys seen more than once (duplicate lines in a keys file). */
  duplicateSources: number;
  /** Whether a byte-confirmation pass ran. */
  confirmed: boolean;
  /** Total collisions found (findings may be truncated to maxFindings). */
  total: number;
  findings: CollisionFinding[];
  truncated: boolean;
  memoryBytes: number;
  bytesPerKey: number;
}

export interface CollisionDetectorOptions {
  /** Expected number of records (pre-sizes the table; it grows anyway). */
  expectedKeys?: number;
  /** Test hook: keep only this many digest bits (1–62) to force digest collisions. */
  digestBits?: number;
  /** Candidate hits whose record bytes are kept for an unconfirmed report. Default 1000. */
  sampleLimit?: number;
  /** Findings listed in a report. Default 1000. */
  maxFindings?: number;
}

const ROLE_SRC = 1;
const ROLE_TGT = 2;

let H1 = 0;
let H2 = 0;

/** 64-bit digest of (db, bytes) into H1/H2 (no allocation). */
function digest(db: number, b: Uint8Array): void {
  const n = b.length;
  let h1 = (0x9747b28c ^ Math.imul(db + 1, 0x9e3779b1)) | 0;
  let h2 = (0x3c6ef372 ^ Math.imul(db + 1, 0x85ebca77)) | 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    let k1 = Math.imul(k, 0xcc9e2d51);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, 0x1b873593);
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    let k2 = Math.imul(k, 0x85ebca77);
    k2 = (k2 << 13) | (k2 >>> 19);
    h2 ^= Math.imul(k2, 0xc2b2ae3d);
    h2 = (h2 << 17) | (h2 >>> 15);
    h2 = (Math.imul(h2, 5) + 0x561ccd1b) | 0;
  }
  const rem = n & 3;
  if (rem !== 0) {
    let k = b[i]!;
    if (rem >= 2) k |= b[i + 1]! << 8;
    if (rem === 3) k |= b[i + 2]! << 16;
    let k1 = Math.imul(k, 0xcc9e2d51);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, 0x1b873593);
    let k2 = Math.imul(k, 0x85ebca77);
    k2 = (k2 << 13) | (k2 >>> 19);
    h2 ^= Math.imul(k2, 0xc2b2ae3d);
  }
  h1 ^= n;
  h2 ^= n;
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  H1 = h1 >>> 0;
  H2 = h2 >>> 0;
}

/**
 * Open-addressing set of 62-bit digests with 2 flag bits each, in one Uint32Array (2 words a slot).
 * A slot is empty when its flag bits are 0 (every stored digest has at least one flag).
 */
export class DigestTable {
  private words: Uint32Array;
  private mask: number;
  private count = 0;
  private limit: number;

  constructor(expected = 1024) {
    let cap = 1024;
    while (cap * 0.75 < expected) cap *= 2;
    this.words = new Uint32Array(cap * 2);
    this.mask = cap - 1;
    this.limit = Math.floor(cap * 0.75);
  }

  get size(): number {
    return this.count;
  }

  get byteLength(): number {
    return this.words.byteLength;
  }

  /** OR `flags` into the entry for (hi, lo>>2); returns the flags it had before (0 = new). */
  touch(hi: number, lo: number, flags: number): number {
    const words = this.words;
    const mask = this.mask;
    const key = lo & ~3;
    let i = (hi ^ Math.imul(key, 0x9e3779b1)) & mask;
    for (;;) {
      const w = i * 2;
      const f = words[w + 1]! & 3;
      if (f === 0) {
        words[w] = hi;
        words[w + 1] = (key | flags) >>> 0;
        if (++this.count > this.limit) this.grow();
        return 0;
      }
      if (words[w] === hi && (words[w + 1]! & ~3) === key) {
        words[w + 1] = (words[w + 1]! | flags) >>> 0;
        return f;
      }
      i = (i + 1) & mask;
    }
  }

  /** The flags stored for the digest, 0 when absent. */
  get(hi: number, lo: number): number {
    const words = this.words;
    const mask = this.mask;
    const key = lo & ~3;
    let i = (hi ^ Math.imul(key, 0x9e3779b1)) & mask;
    for (;;) {
      const w = i * 2;
      const f = words[w + 1]! & 3;
      if (f === 0) return 0;
      if (words[w] === hi && (words[w + 1]! & ~3) === key) return f;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.words;
    const cap = (this.mask + 1) * 2;
    this.words = new Uint32Array(cap * 2);
    this.mask = cap - 1;
    this.limit = Math.floor(cap * 0.75);
    this.count = 0;
    for (let w = 0; w < old.length; w += 2) {
      const lo = old[w + 1]!;
      if ((lo & 3) !== 0) this.touch(old[w]!, lo, lo & 3);
    }
  }
}

interface Sample {
  key: Buffer;
  db: number;
  newKey: Buffer | null;
  toDb: number;
  /** Which digest of the record hit: its source, its new key, or both (a key that keeps its name). */
  hit: 'source' | 'target' | 'both';
  prevFlags: number;
}

interface Kept {
  ord: number;
  key: Buffer;
  db: number;
  newKey: Buffer | null;
  toDb: number;
}

export class CollisionDetector {
  private readonly table: DigestTable;
  private readonly cands = new DigestTable(64);
  private readonly hiMask: number;
  private readonly loMask: number;
  private readonly sampleLimit: number;
  private readonly maxFindings: number;
  private readonly samples: Sample[] = [];
  private records = 0;
  private candidateHits = 0;

  constructor(opts: CollisionDetectorOptions = {}) {
    this.table = new DigestTable(Math.ceil((opts.expectedKeys ?? 0) * 1.5));
    const bits = Math.max(1, Math.min(62, opts.digestBits ?? 62));
    // 62 bits: all of hi and the top 30 bits of lo (the low 2 hold flags).
    this.hiMask = bits >= 32 ? 0xffffffff : ((1 << bits) - 1) >>> 0;
    this.loMask = bits <= 32 ? 0 : (((0xffffffff << (62 - bits + 2)) >>> 0) & ~3) >>> 0;
    this.sampleLimit = opts.sampleLimit ?? 1000;
    this.maxFindings = opts.maxFindings ?? 1000;
  }

  /** Digests touched by more than one record so far. */
  get candidateCount(): number {
    return this.cands.size;
  }

  get memoryBytes(): number {
    return this.table.byteLength + this.cands.byteLength;
  }

  get recordCount(): number {
    return this.records;
  }

  /**
   * Feed one record. Returns 0, or the role flags (1 source, 2 target) a previous record left on
   * the digest of this record's new key / source key: a candidate collision (not yet confirmed).
   */
  add(key: Buffer, db: number, newKey: Buffer | null, toDb: number): number {
    this.records++;
    const hiM = this.hiMask;
    const loM = this.loMask;
    const t = this.table;
    let hit = 0;
    if (newKey !== null && toDb === db && (newKey === key || newKey.equals(key))) {
      digest(db, key);
      const hi = (H1 & hiM) >>> 0;
      const lo = (H2 & loM) >>> 0;
      const prev = t.touch(hi, lo, ROLE_SRC | ROLE_TGT);
      if (prev !== 0) {
        hit = prev;
        this.candidate(hi, lo, key, db, newKey, toDb, 'both', prev);
      }
      return hit;
    }
    digest(db, key);
    let hi = (H1 & hiM) >>> 0;
    let lo = (H2 & loM) >>> 0;
    let prev = t.touch(hi, lo, ROLE_SRC);
    if (prev !== 0) {
      hit |= prev;
      this.candidate(hi, lo, key, db, newKey, toDb, 'source', prev);
    }
    if (newKey !== null) {
      digest(toDb, newKey);
      hi = (H1 & hiM) >>> 0;
      lo = (H2 & loM) >>> 0;
      prev = t.touch(hi, lo, ROLE_TGT);
      if (prev !== 0) {
        hit |= prev;
        this.candidate(hi, lo, key, db, newKey, toDb, 'target', prev);
      }
    }
    return hit;
  }

  private candidate(
    hi: number,
    lo: number,
    key: Buffer,
    db: number,
    newKey: Buffer | null,
    toDb: number,
    which: 'source' | 'target' | 'both',
    prevFlags: number,
  ): void {
    this.candidateHits++;
    this.cands.touch(hi, lo, 1);
    if (this.samples.length < this.sampleLimit) {
      this.samples.push({
        key: Buffer.from(key),
        db,
        newKey: newKey === null ? null : Buffer.from(newKey),
        toDb,
        hit: which,
        prevFlags,
      });
    }
  }

  private isCandidate(db: number, bytes: Buffer): boolean {
    digest(db, bytes);
    return this.cands.get((H1 & this.hiMask) >>> 0, (H2 & this.loMask) >>> 0) !== 0;
  }

  private base(confirmed: boolean): Omit<CollisionReport, 'total' | 'findings' | 'truncated' | 'falsePositives' | 'duplicateSources'> {
    return {
      records: this.records,
      candidates: this.cands.size,
      confirmed,
      memoryBytes: this.memoryBytes,
      bytesPerKey: this.records === 0 ? 0 : this.table.byteLength / this.records,
    };
  }

  /**
   * The report without a confirmation pass: every candidate hit is listed as an unconfirmed finding
   * (its other side is only known by digest). Use confirm() whenever the input can be read again.
   */
  report(): CollisionReport {
    const findings: CollisionFinding[] = [];
    let dupSources = 0;
    for (const s of this.samples) {
      const prevSrc = (s.prevFlags & ROLE_SRC) !== 0;
      const prevTgt = (s.prevFlags & ROLE_TGT) !== 0;
      // A key seen again (same source) cannot be told from a collision without bytes; a source
      // digest hit by a source, or a kept key hitting a kept key, is taken as a repeated key.
      if ((s.hit === 'source' && prevSrc) || (s.hit === 'both' && prevSrc && prevTgt)) {
        dupSources++;
        continue;
      }
      const newKey = s.newKey ?? s.key;
      if (s.hit === 'source') {
        // This source key equals an earlier record's new key.
        findings.push({
          kind: 'new_key_is_source_key',
          db: s.db,
          newKey: s.key,
          sources: [],
          existingSource: { db: s.db, key: s.key },
          confirmed: false,
        });
      } else if (prevTgt) {
        findings.push({ kind: 'duplicate_target', db: s.toDb, newKey, sources: [{ db: s.db, key: s.key }], confirmed: false });
      } else {
        findings.push({
          kind: 'new_key_is_source_key',
          db: s.toDb,
          newKey,
          sources: [{ db: s.db, key: s.key }],
          existingSource: { db: s.toDb, key: newKey },
          confirmed: false,
        });
      }
    }
    const total = Math.max(findings.length, this.candidateHits - dupSources);
    return {
      ...this.base(false),
      falsePositives: 0,
      duplicateSources: dupSources,
      total,
      findings: findings.slice(0, this.maxFindings),
      truncated: total > Math.min(findings.length, this.maxFindings),
    };
  }

  /**
   * Second pass over the same records (any order): keeps the bytes of records that touch a
   * candidate digest and groups them by exact bytes. Only byte-equal keys are reported.
   */
  async confirm(pass: Iterable<CollisionInput> | AsyncIterable<CollisionInput>): Promise<CollisionReport> {
    const kept: Kept[] = [];
    if (this.cands.size > 0) {
      let ord = 0;
      for await (const r of pass) {
        const touches =
          this.isCandidate(r.db, r.key) || (r.newKey !== null && this.isCandidate(r.toDb, r.newKey));
        if (touches) {
          kept.push({ ord, key: Buffer.from(r.key), db: r.db, newKey: r.newKey === null ? null : Buffer.from(r.newKey), toDb: r.toDb });
        }
        ord++;
      }
    }
    return this.group(kept);
  }

  private group(kept: Kept[]): CollisionReport {
    const id = (db: number, b: Buffer): string => `${db}\u0000${b.toString('latin1')}`;
    // Collapse records with the same source key (duplicates in a keys file) onto the first one.
    const canonical = new Map<string, Kept>();
    let duplicateSources = 0;
    const uniq: Kept[] = [];
    for (const k of kept) {
      const sid = id(k.db, k.key);
      if (canonical.has(sid)) duplicateSources++;
      else {
        canonical.set(sid, k);
        uniq.push(k);
      }
    }
    interface Group {
      db: number;
      bytes: Buffer;
      source: Kept | null;
      targets: Kept[];
      /** Records (duplicates included) touching these exact bytes. */
      touches: number;
    }
    const groups = new Map<string, Group>();
    const groupOf = (db: number, bytes: Buffer): Group => {
      const gid = id(db, bytes);
      let g = groups.get(gid);
      if (g === undefined) {
        g = { db, bytes, source: null, targets: [], touches: 0 };
        groups.set(gid, g);
      }
      return g;
    };
    for (const k of kept) {
      const sg = groupOf(k.db, k.key);
      sg.touches++;
      const same = k.newKey !== null && k.toDb === k.db && k.newKey.equals(k.key);
      if (k.newKey !== null && !same) groupOf(k.toDb, k.newKey).touches++;
    }
    for (const k of uniq) {
      groupOf(k.db, k.key).source = k;
      if (k.newKey !== null) groupOf(k.toDb, k.newKey).targets.push(k);
    }
    const findings: CollisionFinding[] = [];
    let total = 0;
    const explained = new Set<string>();
    for (const g of groups.values()) {
      if (g.touches >= 2) {
        digest(g.db, g.bytes);
        explained.add(`${(H1 & this.hiMask) >>> 0}:${(H2 & this.loMask) >>> 0}`);
      }
      const other = g.source !== null && !g.targets.includes(g.source) ? g.source : null;
      let f: CollisionFinding | null = null;
      if (g.targets.length >= 2) {
        f = { kind: 'duplicate_target', db: g.db, newKey: g.bytes, sources: g.targets.map((t) => ({ db: t.db, key: t.key })), confirmed: true };
        if (other !== null) f.existingSource = { db: g.db, key: other.key };
      } else if (g.targets.length === 1 && other !== null) {
        const t = g.targets[0]!;
        f = {
          kind: 'new_key_is_source_key',
          db: g.db,
          newKey: g.bytes,
          sources: [{ db: t.db, key: t.key }],
          existingSource: { db: g.db, key: other.key },
          confirmed: true,
        };
      }
      if (f !== null) {
        total++;
        if (findings.length < this.maxFindings) findings.push(f);
      }
    }
    // Candidate digests that no group of byte-equal keys explains: digest-only matches.
    const falsePositives = Math.max(0, this.cands.size - explained.size);
    return {
      ...this.base(true),
      falsePositives,
      duplicateSources,
      total,
      findings,
      truncated: total > findings.length,
    };
  }
}

/** Exposed for tests and the bench: the 64-bit digest of (db, bytes) as [hi, lo]. */
export function digest64(db: number, bytes: Uint8Array): [number, number] {
  digest(db, bytes);
  return [H1, H2];
}
