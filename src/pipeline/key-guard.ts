import { fmix32 as fmix } from '../codec/fmix32.js';
import type { KeyGuard } from './run.js';

/**
 * A set of (db, key) held as 96-bit digests in one open-addressing table of Uint32 triples, so
 * 10M output keys cost ~24 bytes each instead of the keys themselves. A false "seen" needs a
 * 96-bit digest collision (about 1e-15 at 10M keys), which we accept for a one-pass check.
 */
export class DigestKeyGuard implements KeyGuard {
  private slots: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(initialSlots = 1 << 16) {
    this.slots = new Uint32Array(initialSlots * 3);
    this.mask = initialSlots - 1;
  }

  get size(): number {
    return this.count;
  }

  add(db: number, key: Buffer): boolean {
    // Three independent 32-bit FNV-1a/murmur-style lanes over the db and the key bytes.
    let h1 = (0x811c9dc5 ^ db) >>> 0;
    let h2 = (0x9747b28c ^ Math.imul(db, 0x85ebca6b)) >>> 0;
    let h3 = (0x2545f491 + db) >>> 0;
    for (let i = 0; i < key.length; i++) {
      const b = key[i]!;
      h1 = Math.imul(h1 ^ b, 0x01000193);
      h2 = Math.imul(h2 ^ b, 0x5bd1e995);
      h2 ^= h2 >>> 15;
      h3 = Math.imul(h3 + b, 0x27d4eb2d) ^ (h3 >>> 13);
    }
    h1 = fmix(h1 ^ key.length);
    h2 = fmix(h2 ^ key.length) || 1; // 0 marks an empty slot
    h3 = fmix(h3);
    const s = this.slots;
    let i = h1 & this.mask;
    for (;;) {
      const at = i * 3;
      if (s[at + 1] === 0) {
        s[at] = h1;
        s[at + 1] = h2;
        s[at + 2] = h3;
        if (++this.count * 4 > (this.mask + 1) * 3) this.grow();
        return false;
      }
      if (s[at] === h1 && s[at + 1] === h2 && s[at + 2] === h3) return true;
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    const n = (this.mask + 1) * 2;
    this.slots = new Uint32Array(n * 3);
    this.mask = n - 1;
    for (let at = 0; at < old.length; at += 3) {
      if (old[at + 1] === 0) continue;
      let i = old[at]! & this.mask;
      while (this.slots[i * 3 + 1] !== 0) i = (i + 1) & this.mask;
      this.slots[i * 3] = old[at]!;
      this.slots[i * 3 + 1] = old[at + 1]!;
      this.slots[i * 3 + 2] = old[at + 2]!;
    }
  }
}
