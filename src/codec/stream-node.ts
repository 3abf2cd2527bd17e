import type { StreamEntry, StreamId } from '../records/types.js';
import { BlobError } from '../errors.js';
import { itemToBuffer, type LpItem } from './listpack.js';

const MASK64 = (1n << 64n) - 1n;
const FLAG_DELETED = 1;
const FLAG_SAMEFIELDS = 2;

function int(items: LpItem[], i: number, what: string): number {
  const v = items[i];
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw new BlobError(i, `${what} as an integer element (element ${i})`);
}

function bigDelta(items: LpItem[], i: number, what: string): bigint {
  const v = items[i];
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'bigint') return v;
  throw new BlobError(i, `${what} as an integer element (element ${i})`);
}

/**
 * Walk one stream node listpack (t_stream.c streamAppendItem layout): a master entry
 * `count deleted n_fields field… 0`, then entries `flags ms_delta seq_delta [n f v…| v…] lp_count`.
 * Live entries are appended to `out`; deleted ones are skipped. IDs add in 64-bit wrap-around.
 * Errors name the element index (the listpack is decoded whole, so byte offsets are not kept).
 */
export function decodeStreamNode(items: LpItem[], master: StreamId, out: StreamEntry[]): void {
  const count = int(items, 0, 'node live entry count');
  const deleted = int(items, 1, 'node deleted entry count');
  const nMaster = int(items, 2, 'master field count');
  if (nMaster < 0 || 3 + nMaster >= items.length) throw new BlobError(2, 'a master field count within the node');
  const masterFields: Buffer[] = new Array(nMaster);
  for (let f = 0; f < nMaster; f++) masterFields[f] = itemToBuffer(items[3 + f]!);
  let i = 3 + nMaster;
  if (int(items, i, 'master entry terminator') !== 0) throw new BlobError(i, 'the master entry terminator 0');
  i++;
  const total = count + deleted;
  for (let e = 0; e < total; e++) {
    const start = i;
    if (i + 3 > items.length) throw new BlobError(i, `entry ${e} of ${total} in the node`);
    const flags = int(items, i++, 'entry flags');
    const ms = (master.ms + bigDelta(items, i++, 'entry ms delta')) & MASK64;
    const seq = (master.seq + bigDelta(items, i++, 'entry seq delta')) & MASK64;
    let fields: Array<[Buffer, Buffer]>;
    if (flags & FLAG_SAMEFIELDS) {
      if (i + nMaster >= items.length) throw new BlobError(i, 'entry values within the node');
      fields = new Array(nMaster);
      for (let f = 0; f < nMaster; f++) fields[f] = [masterFields[f]!, itemToBuffer(items[i++]!)];
    } else {
      const n = int(items, i++, 'entry field count');
      if (n < 0 || i + 2 * n >= items.length) throw new BlobError(i, 'entry fields within the node');
      fields = new Array(n);
      for (let f = 0; f < n; f++) {
        fields[f] = [itemToBuffer(items[i]!), itemToBuffer(items[i + 1]!)];
        i += 2;
      }
    }
    const lpCount = int(items, i, 'entry lp-count');
    if (lpCount !== i - start) throw new BlobError(i, `entry lp-count ${i - start}, found ${lpCount}`);
    i++;
    if (!(flags & FLAG_DELETED)) out.push({ id: { ms, seq }, fields });
  }
  if (i !== items.length) throw new BlobError(i, `the node to end after ${total} entries, found ${items.length - i} more elements`);
}
