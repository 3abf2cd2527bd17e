import { describe, expect, it } from 'vitest';
import { ByteWriter, doubleText, lenSize } from '../../src/encode/rdb-primitives.js';
import { dumpPayload } from '../../src/encode/dump-payload.js';
import { crc64PatchDelta, crc64ShiftZeros } from '../../src/codec/crc64-combine.js';
import { encodeCommand, RespBatchWriter } from '../../src/encode/resp.js';
import { Cursor } from '../../src/rdb/cursor.js';
import { crc64 } from '../../src/codec/crc64.js';

const hex = (b: Buffer) => b.toString('hex');
const w = () => new ByteWriter(4);

describe('ByteWriter', () => {
  it('writes RDB lengths in the canonical forms', () => {
    expect(hex(w().len(0).finish())).toBe('00');
    expect(hex(w().len(63).finish())).toBe('3f');
    expect(hex(w().len(64).finish())).toBe('4040');
    expect(hex(w().len(16383).finish())).toBe('7fff');
    expect(hex(w().len(16384).finish())).toBe('8000004000');
    expect(hex(w().len(0xffffffff).finish())).toBe('80ffffffff');
    expect(hex(w().len(0x100000000).finish())).toBe('810000000100000000');
    expect(hex(w().len(0xffffffffffffffffn).finish())).toBe('81ffffffffffffffff');
    expect(hex(w().len(5n).finish())).toBe('05');
    expect(lenSize(63)).toBe(1);
    expect(lenSize(16384)).toBe(5);
    expect(() => w().len(-1)).toThrow(RangeError);
  });

  it('int-encodes only canonical int32 text, smallest width', () => {
    const s = (t: string) => hex(w().string(Buffer.from(t)).finish());
    expect(s('10')).toBe('c00a');
    expect(s('-128')).toBe('c080');
    expect(s('128')).toBe('c18000');
    expect(s('-32769')).toBe('c2ff7fffff');
    expect(s('2147483647')).toBe('c2ffffff7f');
    expect(s('2147483648')).toBe('0a32313437343833363438');
    expect(s('007')).toBe('03303037');
    expect(s('-0')).toBe('022d30');
    expect(s('+1')).toBe('022b31');
    expect(s('')).toBe('00');
  });

  it('LZF-compresses only when asked and when it saves 4 bytes', () => {
    const long = Buffer.from('a'.repeat(100));
    const out = w().string(long, true).finish();
    expect(out[0]).toBe(0xc3);
    const c = new Cursor('t', out);
    expect(c.string('s').equals(long)).toBe(true);
    expect(c.pos).toBe(out.length);
    expect(hex(w().string(long, false).finish().subarray(0, 2))).toBe('4064'); // 2-byte length, raw
    const random = Buffer.from(Array.from({ length: 40 }, (_, i) => (i * 97 + 13) & 0xff));
    expect(w().string(random, true).finish()[0]).toBe(40); // incompressible: raw
  });

  it('writes fixed-width numbers and text doubles', () => {
    expect(hex(w().i64le(1767225600000).finish())).toBe(Buffer.from(BigInt(1767225600000).toString(16).padStart(16, '0'), 'hex').reverse().toString('hex'));
    expect(hex(w().i64le(-1).finish())).toBe('ffffffffffffffff');
    expect(hex(w().u64be(0x0102030405060708n).finish())).toBe('0102030405060708');
    expect(hex(w().f64le(1.5).finish())).toBe('000000000000f83f');
    expect(hex(w().textDouble(NaN).finish())).toBe('fd');
    expect(hex(w().textDouble(Infinity).finish())).toBe('fe');
    expect(hex(w().textDouble(-Infinity).finish())).toBe('ff');
    for (const x of [0, -0, 1.5, -2, 1e16, 123456789012345680, 0.1, 1e-300, Number.MAX_VALUE]) {
      const c = new Cursor('t', w().textDouble(x).finish());
      expect(Object.is(c.textDouble('d'), x)).toBe(true);
    }
    expect(doubleText(1e16)).toBe('10000000000000000');
    expect(doubleText(-0)).toBe('-0');
  });

  it('grows past its initial size and finish() hands out a stable view', () => {
    const x = new ByteWriter(16);
    for (let i = 0; i < 1000; i++) x.u8(i & 0xff);
    const a = x.finish();
    x.bytes(Buffer.alloc(10, 7));
    expect(a.length).toBe(1000);
    expect(a[999]).toBe(999 & 0xff);
    expect(x.finish().length).toBe(10);
  });
});

describe('dumpPayload', () => {
  it('matches the §11 example (SET k 10)', () => {
    expect(hex(dumpPayload(0, Buffer.from('c00a', 'hex'), 10))).toBe('00c00a0a006e9f57450eae63bb');
    expect(hex(dumpPayload(0, Buffer.from('c00a', 'hex'), 9)).slice(-16)).toBe('be6d06895a28000a');
  });
});

describe('crc64 combination', () => {
  it('corrects a CRC for bytes patched after it was computed', () => {
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 31 + 7) & 0xff));
    const before = crc64(data).readBigUInt64LE(0);
    const patched = Buffer.from(data);
    const at = 1234;
    const neu = Buffer.from([1, 2, 3, 4]);
    const delta = Buffer.alloc(4);
    for (let i = 0; i < 4; i++) delta[i] = data[at + i]! ^ neu[i]!;
    neu.copy(patched, at);
    const fixed = before ^ crc64PatchDelta(delta, at, data.length);
    expect(fixed).toBe(crc64(patched).readBigUInt64LE(0));
    expect(crc64ShiftZeros(before, 0)).toBe(before);
    expect(crc64ShiftZeros(before, 3000)).toBe(crc64(Buffer.concat([data, Buffer.alloc(3000)])).readBigUInt64LE(0));
  });
});

describe('RESP encoding', () => {
  it('encodes commands and batches them', async () => {
    expect(encodeCommand(['SET', Buffer.from('k'), 'é']).toString('latin1')).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n\xc3\xa9\r\n');
    const chunks: Buffer[] = [];
    const bw = new RespBatchWriter({ write: (c) => void chunks.push(c) }, 64);
    for (let i = 0; i < 20; i++) {
      bw.add(['INCR', `k${i}`]);
      await bw.maybeFlush();
    }
    await bw.flush();
    expect(chunks.length).toBeGreaterThan(1);
    const all = Buffer.concat(chunks).toString('latin1');
    expect(all.split('*2\r\n').length - 1).toBe(20);
    expect(bw.commands).toBe(20);
    expect(bw.bytes).toBe(Buffer.concat(chunks).length);
  });
});
