/**
 * Intset check (intset.c intsetValidateIntegrity, deep): encoding 2, 4 or 8; the size is the header plus
 * length × encoding exactly; not empty; members strictly ascending (so no duplicates).
 */
import { BlobError } from '../../errors.js';

export function verifyIntset(b: Buffer, start: number, end: number): number {
  const size = end - start;
  if (size < 8) throw new BlobError(0, `an intset header of 8 bytes, found ${size}`);
  const enc = b.readUInt32LE(start);
  if (enc !== 2 && enc !== 4 && enc !== 8) throw new BlobError(0, `an intset encoding of 2, 4 or 8, found ${enc}`);
  const n = b.readUInt32LE(start + 4);
  if (8 + n * enc !== size) throw new BlobError(4, `${n} intset members of ${enc} bytes to fill the ${size - 8} bytes after the header`);
  if (n === 0) throw new BlobError(4, 'a non-empty intset');
  let prev: number | bigint = -Infinity;
  for (let i = 0, p = start + 8; i < n; i++, p += enc) {
    const v = enc === 2 ? b.readInt16LE(p) : enc === 4 ? b.readInt32LE(p) : b.readBigInt64LE(p);
    if (v <= prev) throw new BlobError(p - start, `intset members in strictly ascending order (member ${i} is not greater than the one before)`);
    prev = v;
  }
  return n;
}
