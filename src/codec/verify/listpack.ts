/**
 * Listpack structure check (listpack.c lpValidateIntegrity + lpValidateNext, deep mode), on the bytes in place:
 * header size = blob size, a known element count matches, every element's encoding and data stay inside the
 * blob, every back-length equals its element's size, and the 0xFF terminator is the last byte.
 * `visit` sees each element without a copy: an integer (number, exact below 2^53) or a string's byte range.
 */
import { BlobError } from '../../errors.js';
import { backlenSize } from '../listpack.js';

/** Called per element: `int` is the integer value, or null for a string stored at b[s, e). */
export type LpVisit = (int: number | null, s: number, e: number) => void;

const HEADER = 6;

export function verifyListpack(b: Buffer, start: number, end: number, visit?: LpVisit): number {
  const size = end - start;
  if (size < HEADER + 1) throw new BlobError(0, `a listpack of at least 7 bytes, found ${size}`);
  const total = b.readUInt32LE(start);
  if (total !== size) throw new BlobError(0, `the listpack header's total size (${total}) to equal the blob size (${size})`);
  const numele = b.readUInt16LE(start + 4);
  const last = end - 1;
  if (b[last] !== 0xff) throw new BlobError(size - 1, 'the listpack terminator 0xFF as the last byte');
  let p = start + HEADER;
  let count = 0;
  while (p < last) {
    const at = p - start;
    const c = b[p]!;
    let hdr: number; // encoding bytes
    let data: number; // data bytes after them
    let int: number | null = null;
    if (c < 0x80) { hdr = 1; data = 0; int = c; }
    else if (c < 0xc0) { hdr = 1; data = c & 0x3f; }
    else if (c < 0xe0) {
      hdr = 2; data = 0;
      if (p + 1 >= last) throw new BlobError(at, 'a 13-bit integer inside the listpack');
      const v = ((c & 0x1f) << 8) | b[p + 1]!;
      int = v >= 4096 ? v - 8192 : v;
    } else if (c < 0xf0) {
      hdr = 2;
      if (p + 1 >= last) throw new BlobError(at, 'a 12-bit string length inside the listpack');
      data = ((c & 0x0f) << 8) | b[p + 1]!;
    } else if (c === 0xf0) {
      hdr = 5;
      if (p + 4 >= last) throw new BlobError(at, 'a 32-bit string length inside the listpack');
      data = b.readUInt32LE(p + 1);
    } else if (c >= 0xf1 && c <= 0xf4) {
      hdr = 1; data = c === 0xf1 ? 2 : c === 0xf2 ? 3 : c === 0xf3 ? 4 : 8;
    } else throw new BlobError(at, `a listpack element encoding, found 0x${c.toString(16)}`);
    const len = hdr + data;
    const bl = backlenSize(len);
    if (p + len + bl > last) throw new BlobError(at, `a listpack element of ${len + bl} bytes inside the ${size}-byte listpack`);
    if (c >= 0xf1 && c <= 0xf4) {
      const q = p + 1;
      int = c === 0xf1 ? b.readInt16LE(q) : c === 0xf2 ? b.readIntLE(q, 3) : c === 0xf3 ? b.readInt32LE(q) : Number(b.readBigInt64LE(q));
    }
    // lpDecodeBacklen: right to left, 7 bits a byte, while the high bit says another byte follows to the left
    // (not bounded by the size lpEncodeBacklen gives, so a stray high bit makes the value differ, as in Redis).
    let q = p + len + bl - 1;
    let v = 0;
    let shift = 1;
    for (let i = 0; i < 5 && q >= start; i++, q--) {
      const x = b[q]!;
      v += (x & 0x7f) * shift;
      if (!(x & 0x80)) break;
      shift *= 128;
      if (i === 4) v = -1;
    }
    if (v !== len) throw new BlobError(at + len, `the element's back-length to be ${len}, found ${v}`);
    if (visit) {
      if (int !== null) visit(int, 0, 0);
      else visit(null, p + hdr, p + len);
    }
    p += len + bl;
    count++;
  }
  if (numele !== 0xffff && numele !== count) throw new BlobError(4, `the listpack header's element count (${numele}) to match its ${count} elements`);
  return count;
}
