import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { RekeyInputError, RekeyUsageError } from '../errors.js';
import type { RdbRecord } from '../records/types.js';
import { parseRdb } from '../rdb/parser.js';
import { parseJsonl } from './jsonl-source.js';
import { openRedisSource, type RedisSourceOptions } from './redis-source.js';

export type InputFormat = 'rdb' | 'jsonl';

export interface OpenOptions {
  ignoreChecksum?: boolean;
  allowFutureVersion?: boolean;
  skipBadLines?: boolean;
  onBadLine?: (lineNo: number, msg: string) => void;
  /** Override sniffing. */
  format?: InputFormat;
  // Live `redis://` / `rediss://` sources only (see redis-source.ts); ignored for files.
  /** SCAN COUNT hint (default 1000). */
  scanCount?: number;
  /** Rate limit over every command sent to the source. */
  maxOpsPerSec?: number;
  /** CA file for a rediss:// source. */
  tlsCa?: string;
  /** A key SCAN returned was gone by the time it was DUMPed. */
  onVanished?: (db: number, key: Buffer) => void;
  /** A key whose DUMP failed with a server error; without it the run stops at the first. */
  onKeyError?: (db: number, key: Buffer, message: string) => void;
  /** Only these dbs are scanned. */
  db?: number[];
  /** SCAN MATCH glob pushed down to the server (see scan-match.ts matchPrefixFor). */
  match?: string;
  /** Require (true) / ignore (false) cluster mode; default: detected. */
  cluster?: boolean;
}

export interface OpenedInput {
  name: string;
  format: InputFormat;
  gzip: boolean;
  /** Size of the (uncompressed) input when known. */
  size?: number;
  /** Bytes read so far from the underlying file (compressed bytes for .gz), for progress. */
  bytesRead(): number;
  /** Total size of the underlying file, for progress. */
  fileSize?: number;
  batches: AsyncIterable<RdbRecord[]>;
}

/**
 * Read size. Small reads keep parser batches small (hundreds of records), so records die young in
 * V8's nursery: 1 MB reads held ~30 000 records per batch alive and doubled GC time and RSS.
 */
const CHUNK = 64 * 1024;

/** Peek the first bytes of a chunk stream without losing them. */
async function peek(source: AsyncIterable<Buffer>, n: number): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const it = source[Symbol.asyncIterator]();
  const got: Buffer[] = [];
  let total = 0;
  let ended = false;
  while (total < n) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    got.push(r.value);
    total += r.value.length;
  }
  const head = Buffer.concat(got, total);
  const rest = (async function* () {
    try {
      if (head.length > 0) yield head;
      if (ended) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      // A reader that stops early (EOF reached, an error) closes what is behind us.
      await it.return?.();
    }
  })();
  return { head, rest };
}

/** Strip a replication wrapper: `$<len>\r\n` or `$EOF:<40 chars>\r\n` before the RDB. */
async function* skipPrefix(source: AsyncIterable<Buffer>, n: number): AsyncGenerator<Buffer> {
  let left = n;
  for await (const chunk of source) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}

function sniff(head: Buffer): InputFormat | 'gzip' | 'wrapped' | null {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  const s = head.subarray(0, 6).toString('latin1');
  if (s.startsWith('REDIS') || s.startsWith('VALKEY')) return 'rdb';
  if (s.startsWith('$')) return 'wrapped';
  const first = head.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  if (first === 0x7b /* { */ || (first === undefined && head.length >= 0)) return 'jsonl';
  return null;
}

/**
 * Open a dump for reading: a path (`.rdb`, `.jsonl`, either `.gz`) or `-` for stdin. The format is
 * sniffed from the first bytes (gzip, REDIS/VALKEY magic, a replication `$…\r\n` wrapper, JSON).
 */
export async function openInput(input: string, opts: OpenOptions = {}): Promise<OpenedInput> {
  if (/^rediss?:\/\//i.test(input)) {
    const ro: RedisSourceOptions = { ignoreChecksum: opts.ignoreChecksum ?? false, allowFutureVersion: opts.allowFutureVersion ?? false };
    if (opts.scanCount !== undefined) ro.scanCount = opts.scanCount;
    if (opts.maxOpsPerSec !== undefined) ro.maxOpsPerSec = opts.maxOpsPerSec;
    if (opts.tlsCa !== undefined) ro.tlsCa = opts.tlsCa;
    if (opts.onVanished) ro.onVanished = opts.onVanished;
    if (opts.onKeyError) ro.onKeyError = opts.onKeyError;
    if (opts.db !== undefined) ro.db = opts.db;
    if (opts.match !== undefined) ro.match = opts.match;
    if (opts.cluster !== undefined) ro.cluster = opts.cluster;
    return openRedisSource(input, ro);
  }
  let fileSize: number | undefined;
  let raw: AsyncIterable<Buffer>;
  let counted = 0;
  const name = input === '-' ? '<stdin>' : input;
  if (input === '-') {
    raw = process.stdin as AsyncIterable<Buffer>;
  } else {
    try {
      const st = await stat(input);
      if (!st.isFile()) throw new RekeyUsageError(`${input}: not a regular file`);
      fileSize = st.size;
    } catch (e) {
      if (e instanceof RekeyUsageError) throw e;
      throw new RekeyUsageError(`${input}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    raw = createReadStream(input, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>;
  }
  const countingRaw = (async function* () {
    for await (const chunk of raw) {
      counted += chunk.length;
      yield chunk as Buffer;
    }
  })();

  let { head, rest } = await peek(countingRaw, 64);
  let gzip = false;
  let size = fileSize;
  let kind = sniff(head);
  if (kind === 'gzip') {
    gzip = true;
    size = undefined;
    const gunzip = createGunzip({ chunkSize: CHUNK });
    const src = rest;
    const piped = (async function* () {
      const pump = (async () => {
        try {
          for await (const chunk of src) {
            if (gunzip.destroyed) break; // the reader stopped early: stop reading the file too
            if (!gunzip.write(chunk)) await new Promise((r) => (gunzip.once('drain', r), gunzip.once('close', r)));
          }
          gunzip.end();
        } catch (e) {
          gunzip.destroy(e as Error);
        }
      })();
      try {
        for await (const chunk of gunzip) yield chunk as Buffer;
      } catch (e) {
        throw new RekeyInputError(name, counted, `expected valid gzip data (${(e as Error).message})`);
      } finally {
        gunzip.destroy();
      }
      await pump;
    })();
    ({ head, rest } = await peek(piped, 64));
    kind = sniff(head);
  }
  let skip = 0;
  if (kind === 'wrapped') {
    const nl = head.indexOf('\r\n');
    const line = head.subarray(0, nl < 0 ? head.length : nl).toString('latin1');
    if (nl < 0 || !/^\$(EOF:[0-9a-zA-Z]{40}|[0-9]+)$/.test(line)) {
      throw new RekeyInputError(name, 0, 'expected an RDB header, or a replication wrapper "$<length>\\r\\n" / "$EOF:<40 chars>\\r\\n"');
    }
    skip = nl + 2;
    kind = 'rdb';
    if (size !== undefined) size -= skip;
  }
  const format = opts.format ?? (kind === 'rdb' || kind === 'jsonl' ? kind : null);
  if (format === null) {
    throw new RekeyInputError(name, 0, `expected an RDB file (REDIS/VALKEY magic), a JSONL dump, or gzip of either; found bytes ${head.subarray(0, 8).toString('hex')}`);
  }
  const body = skip > 0 ? skipPrefix(rest, skip) : rest;
  const batches =
    format === 'rdb'
      ? parseRdb(body, { file: name, ...(size !== undefined ? { size } : {}), ignoreChecksum: opts.ignoreChecksum ?? false, allowFutureVersion: opts.allowFutureVersion ?? false })
      : parseJsonl(body, { file: name, skipBadLines: opts.skipBadLines ?? false, ...(opts.onBadLine ? { onBadLine: opts.onBadLine } : {}) });
  return {
    name,
    format,
    gzip,
    ...(size !== undefined ? { size } : {}),
    ...(fileSize !== undefined ? { fileSize } : {}),
    bytesRead: () => counted,
    batches,
  };
}

/** Every record of a dump, one at a time (convenient for library users; the CLI uses batches). */
export async function* openRecords(input: string, opts: OpenOptions = {}): AsyncGenerator<RdbRecord> {
  const opened = await openInput(input, opts);
  for await (const batch of opened.batches) yield* batch;
}
