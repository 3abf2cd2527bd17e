/**
 * Ziplist structure check (ziplist.c ziplistValidateIntegrity + zipEntrySafe, deep mode): header size = blob
 * size, the tail offset points at the last entry, every prevlen equals the previous entry's size, encodings
 * are known, entries stay inside the blob, a known count matches, 0xFF ends it. Same visitor as listpacks.
 */
import { BlobError } from '../../errors.js';
import type { LpVisit } from './listpack.js';

const HEADER = 10;

export function verifyZiplist(b: Buffer, start: number, end: number, visit?: LpVisit): number {
  const size = end - start;
  if (size < HEADER + 1) throw new BlobError(0, `a ziplist of at least 11 bytes, found ${size}`);
  const total = b.readUInt32LE(start);
  if (total !== size) throw new BlobError(0, `the ziplist header's total size (${total}) to equal the blob size (${size})`);
  const tail = b.readUInt32LE(start + 4);
  if (tail > size - 1) throw new BlobError(4, `a ziplist tail offset inside the blob, found ${tail}`);
  const zllen = b.readUInt16LE(start + 8);
  const last = end - 1;
  if (b[last] !== 0xff) throw new BlobError(size - 1, 'the ziplist end byte 0xFF as the last byte');
  let p = start + HEADER;
  let prevSize = 0;
  let prevAt = -1;
  let count = 0;
  while (p < last) {
    const at = p - start;
    let h = p;
    let prevlen = b[h++]!;
    if (prevlen === 0xfe) {
      if (h + 4 > last) throw new BlobError(at, 'a 5-byte prevlen inside the ziplist');
      prevlen = b.readUInt32LE(h);
      h += 4;
    } else if (prevlen === 0xff) throw new BlobError(at, 'a ziplist entry, found the end byte before the end');
    if (prevlen !== prevSize) throw new BlobError(at, `the entry's prevlen to be ${prevSize}, found ${prevlen}`);
    if (h >= last) throw new BlobError(at, 'a ziplist entry encoding inside the blob');
    const e = b[h]!;
    let data: number;
    let isStr = false;
    if (e < 0x40) { isStr = true; data = e & 0x3f; h += 1; }
    else if (e < 0x80) {
      if (h + 1 >= last) throw new BlobError(at, 'a 14-bit string length inside the ziplist');
      isStr = true; data = ((e & 0x3f) << 8) | b[h + 1]!; h += 2;
    } else if (e < 0xc0) {
      if (h + 4 >= last) throw new BlobError(at, 'a 32-bit string length inside the ziplist');
      isStr = true; data = b.readUInt32BE(h + 1); h += 5;
    } else {
      h += 1;
      if (e === 0xc0) data = 2;
      else if (e === 0xd0) data = 4;
      else if (e === 0xe0) data = 8;
      else if (e === 0xf0) data = 3;
      else if (e === 0xfe) data = 1;
      else if (e >= 0xf1 && e <= 0xfd) data = 0;
      else throw new BlobError(h - 1 - start, `a ziplist entry encoding, found 0x${e.toString(16)}`);
    }
    if (h + data > last) throw new BlobError(at, `a ziplist entry of ${h + data - p} bytes inside the ${size}-byte ziplist`);
    if (visit) {
      if (isStr) visit(null, h, h + data);
      else if (data === 0) visit((e & 0x0f) - 1, 0, 0);
      else visit(data === 1 ? b.readInt8(h) : data === 2 ? b.readInt16LE(h) : data === 3 ? b.readIntLE(h, 3) : data === 4 ? b.readInt32LE(h) : Number(b.readBigInt64LE(h)), 0, 0);
    }
    prevSize = h + data - p;
    prevAt = p - start;
    p = h + data;
    count++;
  }
  if (prevAt !== -1 && tail !== prevAt) throw new BlobError(4, `the ziplist tail offset to point at the last entry (${prevAt}), found ${tail}`);
  if (zllen !== 0xffff && zllen !== count) throw new BlobError(8, `the ziplist header's entry count (${zllen}) to match its ${count} entries`);
  return count;
}
