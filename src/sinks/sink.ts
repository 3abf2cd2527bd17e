import type { KeyRecord, RdbRecord } from '../records/types.js';

/**
 * What a sink did with the keys of one batch, told to the one place that counts them (the pipeline):
 * a key it was given is written unless the sink says it refused it. Without it, a sink's refusal fails
 * the batch (library use).
 */
export interface KeyOutcomes {
  /** The key (the record as given) was not written: its value cannot be held by the output. */
  refused(rec: KeyRecord, err: Error): void;
}

/**
 * Where records go. The pipeline calls writeBatch() with records in input order (metadata and
 * keys; keys already filtered and renamed), then close() once the input ended cleanly, or abort()
 * when anything failed, which must leave no output that looks complete.
 */
export interface Sink {
  writeBatch(records: readonly RdbRecord[], outcomes?: KeyOutcomes): void | Promise<void>;
  close(): Promise<void>;
  abort(err: unknown): Promise<void>;
}
