/**
 * MurmurHash3's 32-bit finaliser (fmix32): spreads every input bit over the output, so the low bits a
 * power-of-two table indexes by depend on the whole hash. The key digests of the key guard, the
 * collision detector and the key sample all end with it.
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
