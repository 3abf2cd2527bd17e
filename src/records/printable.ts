import { isUtf8 } from 'node:buffer';

/** A byte string for reports: the text when it is valid UTF-8, else `{ base64 }` (the JSONL convention). */
export function toPrintable(b: Buffer): string | { base64: string } {
  return isUtf8(b) ? b.toString('utf8') : { base64: b.toString('base64') };
}

/** For log lines and terminal output: UTF-8 text, or bytes escaped like redis-cli does. */
export function displayKey(b: Buffer): string {
  if (isUtf8(b) && !/[\x00-\x1f\x7f]/.test(b.toString('utf8'))) return b.toString('utf8');
  let s = '"';
  for (const byte of b) {
    if (byte === 0x22 || byte === 0x5c) s += '\\' + String.fromCharCode(byte);
    else if (byte >= 0x20 && byte < 0x7f) s += String.fromCharCode(byte);
    else s += '\\x' + byte.toString(16).padStart(2, '0');
  }
  return s + '"';
}
