/**
 * CRC-64 (Redis/Jones, reflected, init 0, no final xor) is linear over GF(2), so a file whose bytes are
 * patched after their CRC was computed can have its CRC corrected without re-reading it:
 *   crc(M ⊕ D) = crc(M) ⊕ crc(D), and for D = zeros ‖ d ‖ N zero bytes, crc(D) = crc(d) advanced by N zero bytes.
 * Advancing by N zero bytes applies a 64×64 bit matrix N times; it is done with repeated squaring (zlib's
 * crc32_combine technique), O(64² log N) BigInt operations. Used once per patch at file close.
 */
import { crc64 } from './crc64.js';

const POLY = 0x95ac9329ac4bc9b5n;

type Matrix = bigint[]; // 64 columns: column i is the image of state bit i

function times(mat: Matrix, vec: bigint): bigint {
  let sum = 0n;
  for (let i = 0; vec !== 0n; i++, vec >>= 1n) if (vec & 1n) sum ^= mat[i]!;
  return sum;
}

function square(mat: Matrix): Matrix {
  return mat.map((col) => times(mat, col));
}

/** powers[k] advances the state by 2^k zero bytes; extended on demand and shared by all calls. */
const powers: Matrix[] = [];

function power(k: number): Matrix {
  if (powers.length === 0) {
    // One zero bit: state >> 1, xor POLY when the bit shifted out was set.
    let m: Matrix = new Array(64);
    m[0] = POLY;
    for (let i = 1; i < 64; i++) m[i] = 1n << BigInt(i - 1);
    for (let i = 0; i < 3; i++) m = square(m); // 8 bits = one byte
    powers.push(m);
  }
  while (powers.length <= k) powers.push(square(powers[powers.length - 1]!));
  return powers[k]!;
}

/** The CRC register after feeding `n` more zero bytes to a register holding `crc`. */
export function crc64ShiftZeros(crc: bigint, n: number): bigint {
  for (let k = 0; n > 0 && crc !== 0n; k++) {
    if (n % 2 === 1) crc = times(power(k), crc);
    n = Math.floor(n / 2);
  }
  return crc;
}

/**
 * The change to a whole-input CRC when the bytes at `at` change by `xorDelta` (old ⊕ new), in an input of
 * `totalLength` bytes. XOR the result into the CRC computed over the old bytes.
 */
export function crc64PatchDelta(xorDelta: Uint8Array, at: number, totalLength: number): bigint {
  const d = crc64(xorDelta).readBigUInt64LE(0);
  return crc64ShiftZeros(d, totalLength - at - xorDelta.length);
}
