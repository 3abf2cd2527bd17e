/** Byte helpers the tests share: hex literals, latin1/utf8 buffers, and catching a codec's BlobError. */
import { expect } from 'vitest';
import { BlobError } from '../../src/errors.js';

/** Bytes from hex text; spaces and `|` separate fields for readability (`"02 | 0a 0b"`). */
export const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s|]+/g, ''), 'hex');

/** Bytes as written, one byte per char (binary-safe for test literals). */
export const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

/** UTF-8 bytes of a text. */
export const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Run `fn`, which must throw a BlobError; return it for assertions on its offset and message. */
export function blobError(fn: () => unknown): BlobError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BlobError);
    return e as BlobError;
  }
  throw new Error('expected a BlobError');
}
