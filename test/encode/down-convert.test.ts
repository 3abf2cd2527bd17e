import { describe, expect, it } from 'vitest';
import { convertPayload, loadsVerbatim } from '../../src/encode/down-convert.js';
import { UnrepresentableValueError } from '../../src/encode/value-encoder.js';
import { decodeValue } from '../../src/rdb/value-decode.js';
import { valuesEqual } from '../../src/validate/read-value.js';
import { RekeyUsageError } from '../../src/errors.js';
import { keyRecord } from '../sinks/sink-helpers.js';
import { sample, withoutFieldTtls } from './sample-values.js';

const lv = (rdbType: number, target: number, flavor: 'redis' | 'valkey' = 'redis', targetFlavor: 'redis' | 'valkey' = 'redis', rdbVersion = 12) =>
  loadsVerbatim({ rdbType, flavor, rdbVersion }, target, targetFlavor);

describe('loadsVerbatim', () => {
  it('follows the first version that loads each type', () => {
    expect(lv(0, 1)).toBe(true);
    expect(lv(5, 7)).toBe(false);
    expect(lv(5, 8)).toBe(true);
    expect(lv(14, 6)).toBe(false);
    expect(lv(15, 9)).toBe(true);
    expect(lv(18, 9)).toBe(false);
    expect(lv(20, 10)).toBe(false);
    expect(lv(21, 11)).toBe(true);
    expect(lv(25, 11)).toBe(false);
    expect(lv(25, 12)).toBe(true);
    expect(lv(26, 12)).toBe(false);
  });
  it('re-encodes ziplists with RDB 6 integers for RDB 2–5 targets', () => {
    expect(lv(10, 5, 'redis', 'redis', 6)).toBe(false);
    expect(lv(10, 5, 'redis', 'redis', 4)).toBe(true);
    expect(lv(13, 6, 'redis', 'redis', 9)).toBe(true);
  });
  it('never crosses 22+ between Redis and Valkey', () => {
    expect(lv(22, 80, 'valkey', 'valkey', 80)).toBe(true);
    expect(lv(22, 12, 'valkey', 'redis', 80)).toBe(false);
    expect(lv(25, 80, 'redis', 'valkey')).toBe(false);
    expect(lv(21, 80, 'redis', 'valkey')).toBe(true);
    expect(lv(6, 10)).toBe(true);
    expect(lv(6, 11)).toBe(false);
  });
});

describe('convertPayload', () => {
  const same = (a: ReturnType<typeof sample>, b: ReturnType<typeof sample>) => expect(valuesEqual(a, b).diff).toBeUndefined();

  it('returns null when the bytes load as they are', () => {
    expect(convertPayload(keyRecord('k', sample('list-big'), { version: 10 }), 12)).toBeNull();
    expect(convertPayload(keyRecord('k', sample('stream-simple'), { version: 9 }), 11)).toBeNull();
  });

  it('re-encodes for older targets', () => {
    const rec = keyRecord('k', sample('set-strings'), { version: 11 });
    const c = convertPayload(rec, 10)!;
    expect(c.rdbType).toBe(2);
    same(decodeValue(c.payload, c.rdbType, 'redis', 't', 0), sample('set-strings'));
    expect(convertPayload(keyRecord('s', sample('stream-meta'), { version: 12 }), 9)!.rdbType).toBe(15);
    expect(convertPayload(keyRecord('l', sample('list-small'), { version: 10 }), 6)!.rdbType).toBe(10);
  });

  it('moves field-TTL hashes between Redis and Valkey layouts', () => {
    const redis = keyRecord('h', sample('hash-ttl-small'), { version: 12 });
    const toValkey = convertPayload(redis, 80)!;
    expect(toValkey.rdbType).toBe(22);
    same(decodeValue(toValkey.payload, 22, 'valkey', 't', 0), sample('hash-ttl-small'));
    const valkey = keyRecord('h', sample('hash-ttl-small'), { version: 80, flavor: 'valkey' });
    expect(valkey.rdbType).toBe(22);
    const toRedis = convertPayload(valkey, 12)!;
    expect(toRedis.rdbType).toBe(25);
    same(decodeValue(toRedis.payload, 25, 'redis', 't', 0), sample('hash-ttl-small'));
  });

  it('field TTLs below 12: usage error, or dropped and counted with lossy', () => {
    const rec = keyRecord('user:1', sample('hash-ttl-big'), { version: 12 });
    expect(() => convertPayload(rec, 11)).toThrow(RekeyUsageError);
    expect(() => convertPayload(rec, 11)).toThrow(/key "user:1"/);
    const c = convertPayload(rec, 11, { lossy: true })!;
    expect(c.droppedFieldTtls).toBe(100);
    same(decodeValue(c.payload, c.rdbType, 'redis', 't', 0), withoutFieldTtls(sample('hash-ttl-big')));
  });

  it('refuses pre-GA module values it cannot load', () => {
    const rec = { ...keyRecord('m', sample('str-int')), rdbType: 6 };
    expect(() => convertPayload(rec, 11)).toThrow(UnrepresentableValueError);
    expect(convertPayload(rec, 9)).toBeNull();
  });
});
