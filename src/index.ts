/**
 * rekey as a library: read dumps record by record, decode values on demand, classify and rename
 * keys with rules, and write RDB / JSONL / RESP. The CLI is built from these same parts.
 */
export type * from './records/types.js';
export { RekeyInputError, RekeyUsageError, BlobError, EXIT_OK, EXIT_PROBLEM, EXIT_BAD_INPUT } from './errors.js';
export { redactUrl } from './redis/redact.js';
export { openInput, openRecords, type OpenOptions, type OpenedInput, type InputFormat } from './sources/open.js';
export { parseRdb, RdbKeyRecord, type ParseOptions } from './rdb/parser.js';
export { decodeValue } from './rdb/value-decode.js';
export { typeName, describeType, moduleNameFromId } from './rdb/constants.js';
export { crc64, Crc64 } from './codec/crc64.js';
export { rewriteKey } from './records/rewrite.js';
export { loadRules, compileRules } from './rules/index.js';
export { buildFilter, globToRegExp, type FilterOptions } from './pipeline/filters.js';
export { runPipeline, type PipelineOptions } from './pipeline/run.js';
export { MigrationStats } from './pipeline/stats.js';
export { DigestKeyGuard } from './pipeline/key-guard.js';
export type { Sink } from './sinks/sink.js';
export { JsonlSink } from './sinks/jsonl-sink.js';
export { RdbSink } from './sinks/rdb-sink.js';
export { RespSink } from './sinks/resp-sink.js';
export { encodeValue } from './encode/value-encoder.js';
export { dumpPayload } from './encode/dump-payload.js';
export { RulesFileError, type CompiledRules, type Classification } from './rules/index.js';
export { CollisionDetector } from './rules/collisions.js';
export { openRedisSource, isLiveInput, type RedisSourceOptions, type RedisSourceInput } from './sources/redis-source.js';
export { matchPrefixFor } from './sources/scan-match.js';
export { keyToJsonLine, metaToJsonLine, jsonToValue } from './jsonl/value-json.js';
export { parseJsonl, JsonKeyRecord } from './sources/jsonl-source.js';
export { valueToCommands } from './encode/value-commands.js';
export { convertPayload } from './encode/down-convert.js';
export { readValue, valuesEqual, normalizeValue } from './validate/read-value.js';
export { keySlot } from './redis/slot.js';
export { analyze, runAnalyze, type AnalyzeArgs } from './commands/analyze.js';
export { Analyzer } from './analyze/aggregator.js';
export { runTransform, type TransformArgs } from './commands/transform.js';
export { importWithOutcome, runImport, type ImportArgs } from './commands/import.js';
export { runValidate, validateInput } from './commands/validate.js';
export { runRollback, rollbackLedger } from './commands/rollback.js';
