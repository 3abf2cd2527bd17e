/**
 * LZF, the block compression behind RDB string encoding 0xC3 (lzf_d.c / lzf_c.c).
 *
 * Stream format, repeated until the input ends:
 *   ctrl < 0x20  literal run: copy the next ctrl+1 bytes
 *   ctrl ≥ 0x20  back-reference: len = ctrl>>5 (7 → add next byte), off = ((ctrl&0x1F)<<8 | next byte) + 1,
 *                copy len+2 bytes from out[pos-off], byte by byte (overlap repeats a pattern)
 */
import { BlobError } from '../errors.js';

/**
 * Inflate src[start, end) into exactly outLen bytes. The caller bounds outLen (it comes from the file).
 * Errors are BlobErrors whose offset is relative to `start`.
 */
export function lzfDecompress(src: Uint8Array, start: number, end: number, outLen: number): Buffer {
  if (!(start >= 0 && start <= end && end <= src.length)) {
    throw new RangeError(`lzfDecompress: range [${start}, ${end}) outside ${src.length} bytes`);
  }
  if (start === end) throw new BlobError(0, 'LZF data (the compressed string is empty)');
  // allocUnsafe is safe: we only return after writing every byte (op === outLen), otherwise we throw.
  const out = Buffer.allocUnsafe(outLen);
  let ip = start;
  let op = 0;
  while (ip < end) {
    const at = ip - start;
    const ctrl = src[ip++]!;
    if (ctrl < 0x20) {
      let n = ctrl + 1;
      if (op + n > outLen) throw new BlobError(at, `LZF output of ${outLen} bytes (a literal run overflows it)`);
      if (ip + n > end) throw new BlobError(end - start, `${n} literal bytes for the LZF run at ${at} (input truncated)`);
      while (n-- > 0) out[op++] = src[ip++]!;
    } else {
      let len = ctrl >>> 5;
      if (ip >= end) throw new BlobError(end - start, `LZF back-reference offset byte (input truncated)`);
      if (len === 7) {
        len += src[ip++]!;
        if (ip >= end) throw new BlobError(end - start, `LZF back-reference offset byte (input truncated)`);
      }
      let ref = op - ((ctrl & 0x1f) << 8) - 1 - src[ip++]!;
      len += 2;
      if (op + len > outLen) throw new BlobError(at, `LZF output of ${outLen} bytes (a back-reference overflows it)`);
      if (ref < 0) throw new BlobError(at, `LZF back-reference inside the output (it points ${-ref} bytes before its start)`);
      // Semantics are byte by byte (a distance shorter than the length repeats the last bytes). Long copies go
      // through copyWithin in chunks of at most the distance, which gives the same bytes faster.
      const dist = op - ref;
      if (len >= 16 && dist >= 8) {
        while (len > 0) {
          const n = len < dist ? len : dist;
          out.copyWithin(op, ref, ref + n);
          op += n;
          ref += n;
          len -= n;
        }
      } else {
        while (len-- > 0) out[op++] = out[ref++]!;
      }
    }
  }
  if (op !== outLen) throw new BlobError(end - start, `LZF output of ${outLen} bytes, the data inflates to ${op}`);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Compressor: same algorithm and settings as the lzf_c.c Redis builds (HLOG 16, VERY_FAST), so its output is
// byte-identical to what Redis writes, including the cases where Redis gives up.

const HLOG = 16;
const HMASK = (1 << HLOG) - 1;
const MAX_LIT = 1 << 5;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);

/**
 * Hash of the last three bytes -> position. Entries hold `base + position`; `base` grows past every earlier
 * input, so stale entries read as negative positions and the 256 KiB table never needs clearing per call.
 */
const htab = new Int32Array(1 << HLOG);
let base = 1;

/** lzf_c.c IDX() in VERY_FAST mode; only the low 16 bits matter, so int32 wrap-around is fine. */
function idx(h: number): number {
  return ((h >>> (24 - HLOG)) - Math.imul(h, 5)) & HMASK;
}

/**
 * Compress like Redis' rdbSaveLzfStringObject: only inputs longer than 20 bytes, with an output budget of
 * length−4 (so the result is at least 4 bytes shorter). Returns null when Redis would store the string raw.
 */
export function lzfCompress(src: Uint8Array): Buffer | null {
  const inLen = src.length;
  if (inLen <= 20 || inLen >= 0x7fffffff - MAX_OFF) return null;
  if (base + inLen >= 0x7fffffff) {
    htab.fill(0);
    base = 1;
  }
  const b = base;
  base += inLen;

  const outLen = inLen - 4;
  const out = Buffer.allocUnsafe(outLen);
  let ip = 0;
  let op = 1; // out[0] is reserved for the first literal run's header
  let lit = 0;
  let hval = (src[0]! << 8) | src[1]!;

  while (ip < inLen - 2) {
    hval = (hval << 8) | src[ip + 2]!;
    const slot = idx(hval);
    const ref = htab[slot]! - b; // ≤ 0 when empty or stale
    htab[slot] = b + ip;
    const off = ip - ref - 1;
    if (
      ref > 0 && // lzf_c.c never references position 0 (`ref > in_data`)
      off < MAX_OFF &&
      ip + 4 < inLen &&
      src[ref] === src[ip] &&
      src[ref + 1] === src[ip + 1] &&
      src[ref + 2] === src[ip + 2]
    ) {
      let len = 2;
      let maxlen = inLen - ip - len;
      if (maxlen > MAX_REF) maxlen = MAX_REF;

      if (lit > 0) out[op - lit - 1] = lit - 1; // close the literal run
      else op--; // no literals: drop the reserved header byte
      if (op + 3 + 1 >= outLen) return null;

      // lzf_c.c first compares up to 16 bytes unrolled without looking at maxlen; mirror that exactly.
      if (maxlen > 16) {
        let k = 0;
        for (; k < 16; k++) {
          len++;
          if (src[ref + len] !== src[ip + len]) break;
        }
        if (k === 16) {
          do len++;
          while (len < maxlen && src[ref + len] === src[ip + len]);
        }
      } else {
        do len++;
        while (len < maxlen && src[ref + len] === src[ip + len]);
      }

      len -= 2; // the stored length: the back-reference copies len + 2 bytes
      ip++;
      if (len < 7) {
        out[op++] = (off >>> 8) + (len << 5);
      } else {
        out[op++] = (off >>> 8) + (7 << 5);
        out[op++] = len - 7;
      }
      out[op++] = off & 0xff;
      lit = 0;
      op++; // reserve the next run's header

      ip += len + 1;
      if (ip >= inLen - 2) break;

      // VERY_FAST: hash only the last two positions of the match.
      ip -= 2;
      hval = (src[ip]! << 8) | src[ip + 1]!;
      hval = (hval << 8) | src[ip + 2]!;
      htab[idx(hval)] = b + ip;
      ip++;
      hval = (hval << 8) | src[ip + 2]!;
      htab[idx(hval)] = b + ip;
      ip++;
    } else {
      if (op >= outLen) return null;
      lit++;
      out[op++] = src[ip++]!;
      if (lit === MAX_LIT) {
        out[op - lit - 1] = lit - 1;
        lit = 0;
        op++;
      }
    }
  }

  if (op + 3 > outLen) return null; // at most 3 more bytes are written below
  while (ip < inLen) {
    lit++;
    out[op++] = src[ip++]!;
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  if (lit > 0) out[op - lit - 1] = lit - 1;
  else op--;
  return out.subarray(0, op);
}
