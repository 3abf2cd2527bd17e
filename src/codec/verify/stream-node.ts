/**
 * One stream node's listpack (t_stream.c streamValidateListpackIntegrity, deep): a valid listpack whose master
 * entry is count, deleted, field count, the fields and a 0 terminator, followed by exactly count + deleted
 * entries, each flags, ms/seq deltas, [field count, fields,] values and an lp-count that matches.
 */
import { BlobError } from '../../errors.js';
import { canonicalIntValue } from '../int-text.js';
import { verifyListpack } from './listpack.js';

const SAMEFIELDS = 2;

export function verifyStreamNode(b: Buffer, start: number, end: number): void {
  // Element integer values (NaN for a non-integer string) and offsets, for the structural walk below.
  const ints: number[] = [];
  const offs: number[] = [];
  verifyListpack(b, start, end, (int, s, e) => {
    let v = int;
    if (v === null) {
      const c = canonicalIntValue(b, s, e);
      v = c === null ? NaN : Number(c);
    }
    ints.push(v);
    offs.push(s - start);
  });
  if (ints.length === 0) throw new BlobError(0, 'a non-empty stream listpack');
  let i = 0;
  const int = (what: string): number => {
    if (i >= ints.length) throw new BlobError(end - start - 1, `the stream node's ${what}, found the end of the listpack`);
    const v = ints[i]!;
    if (Number.isNaN(v)) throw new BlobError(offs[i]!, `the stream node's ${what} as an integer`);
    i++;
    return v;
  };
  const skip = (n: number, what: string): void => {
    if (i + n > ints.length) throw new BlobError(end - start - 1, `${n} stream ${what}, found the end of the listpack`);
    i += n;
  };
  const count = int('entry count');
  const deleted = int('deleted count');
  const masterFields = int('master field count');
  if (count < 0 || deleted < 0 || masterFields < 0) throw new BlobError(offs[0]!, 'non-negative stream node counts');
  skip(masterFields, 'master fields');
  if (int('master entry terminator') !== 0) throw new BlobError(offs[i - 1]!, 'the master entry terminator 0');
  for (let n = count + deleted; n > 0; n--) {
    const flags = int('entry flags');
    int('entry ms delta');
    int('entry seq delta');
    let fields = masterFields;
    let extra = 3;
    if (!(flags & SAMEFIELDS)) {
      fields = int('entry field count');
      if (fields < 0) throw new BlobError(offs[i - 1]!, 'a non-negative entry field count');
      skip(fields, 'entry fields');
      extra += fields + 1;
    }
    skip(fields, 'entry values');
    const lpCount = int('entry lp-count');
    if (lpCount !== fields + extra) throw new BlobError(offs[i - 1]!, `the entry's lp-count to be ${fields + extra}, found ${lpCount}`);
  }
  if (i !== ints.length) throw new BlobError(offs[i]!, `the stream node to end after its ${count + deleted} entries, found ${ints.length - i} more elements`);
}
