/**
 * Zipmap (zipmap.c), the blob of RDB type 9 (small hashes, Redis ≤ 2.4). Decode only: nothing loads it
 * back except by converting, so we never write it.
 *
 *   zmlen:u8 (254 = count by scanning) | (len key  len free:u8 value pad[free])* | 0xFF
 *   len: one byte 0–253, or 254 followed by a u32le; a 255 where a key length is expected ends the map
 *
 * Validation follows zipmapValidateIntegrity (zmlen 254 or the field count), plus: the end byte must be exactly the last byte, and a value
 * length byte of 255 is rejected. BlobError offsets are relative to the zipmap start.
 */
import { BlobError } from '../errors.js';

const BIGLEN = 254;
const END = 0xff;

/** Field/value pairs in order; both are views into `blob` (no copy). */
export function zipmapDecode(blob: Buffer, start = 0, end: number = blob.length): Array<[Buffer, Buffer]> {
  if (!(start >= 0 && start <= end && end <= blob.length)) {
    throw new RangeError(`zipmap: range [${start}, ${end}) outside ${blob.length} bytes`);
  }
  const size = end - start;
  if (size < 2) throw new BlobError(0, `zipmap of at least 2 bytes (found ${size})`);
  const last = end - 1;
  if (blob[last] !== END) throw new BlobError(size - 1, `zipmap end byte 0xFF (found ${blob[last]})`);

  const out: Array<[Buffer, Buffer]> = [];
  let p = start + 1;
  while (blob[p] !== END) {
    // key
    let at = p - start;
    let len = blob[p]!;
    if (len === BIGLEN) {
      if (p + 5 > last) throw new BlobError(at, 'zipmap 5-byte key length within the zipmap');
      len = blob.readUInt32LE(p + 1);
      p += 5;
    } else {
      p += 1;
    }
    if (p + len > last) throw new BlobError(at, `zipmap key of ${len} bytes within the zipmap`);
    const key = blob.subarray(p, p + len);
    p += len;

    // value: length, free byte, bytes, free padding
    at = p - start;
    if (p >= last) throw new BlobError(at, 'zipmap value length (found the end of the zipmap after a key)');
    len = blob[p]!;
    if (len === BIGLEN) {
      if (p + 5 > last) throw new BlobError(at, 'zipmap 5-byte value length within the zipmap');
      len = blob.readUInt32LE(p + 1);
      p += 5;
    } else if (len === END) {
      throw new BlobError(at, 'zipmap value length (found 0xFF)');
    } else {
      p += 1;
    }
    if (p >= last) throw new BlobError(p - start, 'zipmap free byte within the zipmap');
    const free = blob[p++]!;
    if (p + len + free > last) {
      throw new BlobError(at, `zipmap value of ${len} bytes plus ${free} free within the zipmap`);
    }
    out.push([key, blob.subarray(p, p + len)]);
    p += len + free;
  }
  if (p !== last) throw new BlobError(p - start, `zipmap end byte 0xFF only at the last byte (offset ${size - 1})`);
  if (out.length === 0) throw new BlobError(0, 'zipmap with at least one field');
  const zmlen = blob[start]!;
  // 254 means "count by scanning"; anything else must be the field count. Redis refuses the rest on load
  // (zipmap.c zipmapValidateIntegrity), 255 included, so a file holding it is not a loadable snapshot.
  if (zmlen !== BIGLEN && zmlen !== out.length) {
    throw new BlobError(0, `zipmap zmlen of ${out.length} (its field count) or 254, as zipmapValidateIntegrity requires (found ${zmlen})`);
  }
  return out;
}
