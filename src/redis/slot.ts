/**
 * Redis Cluster key slots (cluster.c keyHashSlot): CRC16-CCITT (XMODEM: poly 0x1021, init 0) of the key,
 * or of its hash tag (the bytes between the first `{` and the first `}` after it, when not empty),
 * modulo 16384.
 */

export const SLOT_COUNT = 16384;

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 8;
  for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  TABLE[i] = c;
}

/** CRC16 (XMODEM) of buf[start, end). */
export function crc16(buf: Uint8Array, start = 0, end: number = buf.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >>> 8) ^ buf[i]!) & 0xff]!;
  return crc;
}

/** The cluster slot of a key, hash tags included. */
export function keySlot(key: Uint8Array): number {
  const n = key.length;
  let open = -1;
  for (let i = 0; i < n; i++) {
    if (key[i] === 0x7b /* { */) {
      open = i;
      break;
    }
  }
  if (open >= 0) {
    for (let j = open + 1; j < n; j++) {
      if (key[j] === 0x7d /* } */) {
        if (j > open + 1) return crc16(key, open + 1, j) & (SLOT_COUNT - 1);
        break;
      }
    }
  }
  return crc16(key, 0, n) & (SLOT_COUNT - 1);
}
