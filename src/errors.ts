/**
 * Exit codes of the CLI (README, "Exit codes"): 0 ok, 1 the job found a problem, 2 bad usage or bad
 * input, 3 could not run (a Redis endpoint unreachable, refusing the credentials, or speaking no TLS).
 */
export const EXIT_OK = 0;
export const EXIT_PROBLEM = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_COULD_NOT_RUN = 3;

/**
 * Corrupt or unreadable input. Always names where (file, byte offset) and what was expected,
 * so an operator can open the file in a hex editor and see it.
 */
export class RekeyInputError extends Error {
  override readonly name = 'RekeyInputError';
  readonly exitCode = EXIT_BAD_INPUT;
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly expected: string,
  ) {
    super(`${file}: at byte ${offset}: ${expected}`);
  }
}

/** Bad usage: wrong flags, an invalid rules file, an unsupported conversion. Exit 2. */
export class RekeyUsageError extends Error {
  override readonly name = 'RekeyUsageError';
  readonly exitCode = EXIT_BAD_INPUT;
}

/** Thrown by blob decoders that do not know the file; the caller rebases it onto a file offset. */
export class BlobError extends Error {
  override readonly name = 'BlobError';
  constructor(
    readonly at: number,
    readonly expected: string,
  ) {
    super(`at blob byte ${at}: ${expected}`);
  }
}
