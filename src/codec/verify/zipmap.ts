/**
 * Zipmap check (zipmap.c zipmapValidateIntegrity, deep; duplicates as rdb.c refuses them when converting):
 * every length and free byte inside the blob, 0xFF as the last byte, a known count (< 254) matches, no
 * field twice.
 */
import { BlobError } from '../../errors.js';

export function verifyZipmap(b: Buffer, start: number, end: number): number {
  const size = end - start;
  if (size < 2) throw new BlobError(0, `a zipmap of at least 2 bytes, found ${size}`);
  const zmlen = b[start]!;
  const last = end - 1;
  if (b[last] !== 0xff) throw new BlobError(size - 1, 'the zipmap end byte 0xFF as the last byte');
  let p = start + 1;
  let count = 0;
  const seen = new Set<string>();
  const len = (what: string): number => {
    if (p >= last) throw new BlobError(p - start, `a zipmap ${what} length inside the blob`);
    const x = b[p]!;
    if (x < 254) { p++; return x; }
    if (x === 255) throw new BlobError(p - start, `a zipmap ${what} length, found the end byte`);
    if (p + 5 > last) throw new BlobError(p - start, `a 5-byte zipmap ${what} length inside the blob`);
    const v = b.readUInt32LE(p + 1);
    p += 5;
    return v;
  };
  while (p < last) {
    const at = p - start;
    const kl = len('field');
    if (p + kl > last) throw new BlobError(at, 'a zipmap field inside the blob');
    const field = b.toString('latin1', p, p + kl);
    p += kl;
    const vl = len('value');
    if (p >= last) throw new BlobError(p - start, 'a zipmap free byte inside the blob');
    const free = b[p++]!;
    if (p + vl + free > last) throw new BlobError(at, 'a zipmap value and its free space inside the blob');
    p += vl + free;
    if (seen.has(field)) throw new BlobError(at, 'zipmap fields without duplicates');
    seen.add(field);
    count++;
  }
  if (zmlen < 254 && zmlen !== count) throw new BlobError(0, `the zipmap count (${zmlen}) to match its ${count} entries`);
  if (count === 0) throw new BlobError(0, 'a non-empty zipmap');
  return count;
}
