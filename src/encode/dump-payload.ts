/**
 * DUMP / RESTORE payload (docs/rdb-format.md §11, cluster.c createDumpPayload):
 *   type u8 | value bytes (as in an RDB) | rdb_version u16le | crc64 u64le over everything before it.
 * RESTORE accepts a footer version up to the server's own, so callers pass the lowest version whose
 * loader knows `rdbType` (not necessarily the source file's).
 */
import { Crc64 } from '../codec/crc64.js';

export function dumpPayload(rdbType: number, payload: Buffer, rdbVersion: number): Buffer {
  // RDB 15 _REF template hashes name a file's registry; RESTORE refuses them (the parser resolves them to 29/31).
  if (rdbType === 30 || rdbType === 32) throw new RangeError(`DUMP payload of template reference type ${rdbType}: only the self-contained forms 29/31 are RESTORE-able`);
  if (!(rdbVersion >= 1 && rdbVersion <= 0xffff)) throw new RangeError(`DUMP payload RDB version out of range: ${rdbVersion}`);
  const n = payload.length;
  const out = Buffer.allocUnsafe(1 + n + 2 + 8);
  out[0] = rdbType;
  payload.copy(out, 1);
  out.writeUInt16LE(rdbVersion, 1 + n);
  const crc = new Crc64();
  crc.update(out, 0, n + 3);
  crc.digestLE().copy(out, n + 3);
  return out;
}
