import { describe, expect, it } from 'vitest';
import {
  canonicalInt32,
  canonicalIntValue,
  intToBuffer,
  isCanonicalInt,
  parseCanonicalInt,
  storageForm,
} from '../../src/codec/int-text.js';
import { latin1 as b } from '../helpers/bytes.js';

describe('canonical decimal integers (string2ll rules)', () => {
  it('accepts canonical int64 text', () => {
    for (const s of ['0', '1', '-1', '9', '10', '123', '-4096', '2147483647', '-2147483648',
      '9007199254740991', '-9007199254740991', '9223372036854775807', '-9223372036854775808']) {
      expect(isCanonicalInt(b(s)), s).toBe(true);
      expect(parseCanonicalInt(b(s))).toBe(BigInt(s));
    }
  });

  it('rejects non-canonical or out-of-range text', () => {
    for (const s of ['', '-', '+1', '01', '00', '-0', '-01', ' 1', '1 ', '1.0', '1e3', '0x10', '١',
      '9223372036854775808', '-9223372036854775809', '99999999999999999999', '123456789012345678901', 'abc', '--1']) {
      expect(isCanonicalInt(b(s)), JSON.stringify(s)).toBe(false);
      expect(parseCanonicalInt(b(s))).toBeNull();
    }
  });

  it('returns numbers for safe integers and bigints beyond 2^53', () => {
    expect(canonicalIntValue(b('9007199254740991'))).toBe(9007199254740991);
    expect(canonicalIntValue(b('1000000000000000'))).toBe(1e15);
    expect(canonicalIntValue(b('9007199254740992'))).toBe(9007199254740992n);
    expect(canonicalIntValue(b('-9007199254740993'))).toBe(-9007199254740993n);
    expect(canonicalIntValue(b('xx-42yy'), 2, 5)).toBe(-42);
  });

  it('canonicalInt32 admits only int32 canonical text', () => {
    expect(canonicalInt32(b('2147483647'))).toBe(2147483647);
    expect(canonicalInt32(b('-2147483648'))).toBe(-2147483648);
    expect(canonicalInt32(b('2147483648'))).toBeNull();
    expect(canonicalInt32(b('-2147483649'))).toBeNull();
    expect(canonicalInt32(b('007'))).toBeNull();
    expect(canonicalInt32(b('-0'))).toBeNull();
    expect(canonicalInt32(b('0'))).toBe(0);
  });

  it('intToBuffer is the inverse', () => {
    expect(intToBuffer(-42).toString()).toBe('-42');
    expect(intToBuffer(-(2n ** 63n)).toString()).toBe('-9223372036854775808');
  });

  it('storageForm picks integer or text like a Redis writer', () => {
    expect(storageForm(b('12'))).toBe(12);
    const t = b('012');
    expect(storageForm(t)).toBe(t);
    expect(storageForm(-0)).toBe(0);
    expect(Object.is(storageForm(-0), 0)).toBe(true);
    expect(storageForm(2 ** 60)).toBe(2n ** 60n);
    expect(storageForm(2n ** 63n)).toEqual(b('9223372036854775808'));
    expect(storageForm(5n)).toBe(5);
    expect(() => storageForm(1.5)).toThrow(RangeError);
    expect(() => storageForm(Number.NaN)).toThrow(RangeError);
  });
});
