import type { RdbRecord } from '../records/types.js';

/**
 * Where records go. The pipeline calls writeBatch() with records in input order (metadata and
 * keys; keys already filtered and renamed), then close() once the input ended cleanly, or abort()
 * when anything failed, which must leave no output that looks complete.
 */
export interface Sink {
  writeBatch(records: readonly RdbRecord[]): void | Promise<void>;
  close(): Promise<void>;
  abort(err: unknown): Promise<void>;
}
