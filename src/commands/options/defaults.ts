/**
 * The one table of option defaults. Every group (groups.ts) and every handler that needs a default
 * after parsing (library callers skip yargs) reads it here, so a default cannot differ between the
 * help text and the code path.
 */
export const DEFAULTS = {
  outDir: '.',
  json: false,
  ignoreChecksum: false,
  allowFutureVersion: false,
  skipBadLines: false,
  expired: 'drop',
  onCollision: 'keep-first',
  lossy: false,
  live: false,
  yes: false,
  cluster: false,
  ttlTolerance: 1000,
  sample: 1,
  /** Keys in flight per connection: import keeps the socket as busy as redis-cli --pipe; rollback only sends DEL/EXISTS. */
  pipeline: { import: 8000, rollback: 1000 },
  /** Existing keys: an import leaves them; a sync replaces them (the source is the truth). */
  onConflict: { import: 'skip', sync: 'replace' },
} as const;
