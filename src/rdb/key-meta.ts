/**
 * Redis RDB 13+ key metadata (opcode 0xF3 KEY_META). Layout per keymeta.c `rdbSaveKeyMetadata` and the
 * loader branch in rdb.c `rdbLoadRioWithLoadingCtx` (docs/rdb-format.md §9.5): a class count (≤ 7), then per
 * class a 4-byte class spec and module-opcoded values ending with EOF. The content is module-defined,
 * so rekey keeps the bytes as they are.
 */
import { RekeyInputError } from '../errors.js';
import { Cursor } from './cursor.js';
import { skipModuleOpcodes } from './value-skip.js';

/** Redis keeps at most 7 metadata classes per key (3 bits of class id). */
export const MAX_KEY_META_CLASSES = 7;

/** Step over a KEY_META body (after the opcode byte). */
export function skipKeyMetaBody(c: Cursor): void {
  const classes = c.len('key metadata class count');
  if (classes > MAX_KEY_META_CLASSES) throw c.error(`at most ${MAX_KEY_META_CLASSES} key metadata classes, found ${classes}`);
  for (let i = 0; i < classes; i++) {
    c.skip(4, 'key metadata class spec');
    skipModuleOpcodes(c);
  }
}

/** null when `body` is exactly one well-formed KEY_META body, else what is wrong with it. */
export function keyMetaBodyProblem(body: Buffer): string | null {
  const c = new Cursor('key metadata', body);
  try {
    skipKeyMetaBody(c);
  } catch (e) {
    return e instanceof RekeyInputError ? `at byte ${e.offset}: ${e.expected}` : (e as Error).message;
  }
  return c.pos === body.length ? null : `${body.length - c.pos} bytes after the last class`;
}
