/**
 * Regular expressions that cannot hang: user patterns (rule `regex:`, `--key-regex`,
 * `--exclude-regex`, `--match` globs) are compiled here.
 *
 * Why V8's own engines and not an npm package: V8 (Node 20) has a linear-time engine (a
 * breadth-first NFA simulation). With `--enable-experimental-regexp-engine-on-excessive-backtracks`,
 * a backtracking match that exceeds `--regexp-backtracks-before-fallback` backtracks is re-run on it,
 * so the common case keeps the fast backtracking code and `^(a+)+$` against 40 a's + "b" ends in
 * milliseconds. Measured on one pattern over 1M keys: backtracking without the `d` flag ~130 ms,
 * with `d` ~880 ms, the linear engine alone ~2000 ms. The fallback only exists for patterns the
 * linear engine can run, and only without the `d`/`i`/`u` flags: so every pattern is first
 * compiled with the `l` flag (which throws "Cannot be executed in linear time" for backreferences,
 * lookarounds and counted repetition above 16), and refused at load time when that fails.
 * The flags are process-wide and are read when a RegExp is created, so they are set when this
 * module is first imported, before any user pattern is compiled.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--enable-experimental-regexp-engine');
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
setFlagsFromString('--regexp-backtracks-before-fallback=10000');

/** A pattern the linear engine cannot run. */
export class NonLinearRegexError extends Error {
  override readonly name = 'NonLinearRegexError';
}

/**
 * Compile `source` with `flags` (only `s`, `m`, `g`, `y` keep the linear fallback). Throws a
 * SyntaxError for an invalid pattern, NonLinearRegexError for one that could backtrack without bound.
 */
export function compileLinearRegExp(source: string, flags = 's'): RegExp {
  if (/[diuv]/.test(flags)) throw new Error(`internal: flags "${flags}" disable the linear fallback`);
  const re = new RegExp(source, flags); // a SyntaxError names the problem
  try {
    new RegExp(source, flags + 'l');
  } catch {
    throw new NonLinearRegexError(
      'cannot be matched in linear time (backreferences, lookahead/lookbehind and counted repetition ' +
        'above 16 such as {1,20} are not supported; use + or * instead)',
    );
  }
  return re;
}
