/**
 * `rekey rules test`, part 1: the plan — the options, the shape of the report, and where the keys come
 * from (a keys file, stdin spooled for the second pass, a dump). The checks are rules-test-run.ts, the
 * screen rules-test-render.ts, the command rules-test.ts.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RekeyUsageError } from '../errors.js';
import type { LogicalType } from '../records/types.js';
import { Dataset, type DatasetReport } from '../dataset/dataset.js';
import type { RuleDiagnostic } from '../rules/schema.js';

export interface RulesTestOptions {
  rulesFile: string;
  /** Path of a keys file, or `-` for stdin. */
  keys?: string;
  /** Dumps (RDB/JSONL, optionally .gz; paths or globs, read as one dataset) whose keys to check. */
  input?: string | string[];
  /** Treat warnings as problems (exit 1). */
  strict?: boolean;
  ignoreChecksum?: boolean;
  /** Where `-` reads from (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** Samples kept per list in the report. Default 5. */
  samples?: number;
  /** Test hook: digest bits of the collision detector (forces digest collisions). */
  collisionDigestBits?: number;
  /** Each key of --keys/--input as it is classified (the listing), in input order. */
  onKey?: (m: KeyMapping) => void;
}

/** One key's fate under the rules: the `rules test --keys` listing. */
export interface KeyMapping {
  /** The key's db in a dump; a keys file has none (it counts as db 0). */
  db: number | undefined;
  key: Buffer;
  /** The name it gets (the same bytes when kept), or null when dropped (unmatched: drop). */
  newKey: Buffer | null;
  toDb: number;
  /** The rule that matched (first match wins), or null. */
  rule: string | null;
  category: string | null;
  /** What happens to a key no rule matches (the file's `unmatched`); null when a rule matched. */
  unmatched: 'keep' | 'drop' | 'error' | null;
}

export type Printable = string | { base64: string };

export interface RulesTestReport {
  rules_file: string;
  valid: boolean;
  exit_code: number;
  errors: RuleDiagnostic[];
  warnings: RuleDiagnostic[];
  unmatched_mode?: 'keep' | 'drop' | 'error';
  rules: Array<{
    index: number;
    name: string;
    category: string;
    match: string | null;
    regex: string | null;
    rename: string | null;
    invertible: boolean;
    line?: number;
    /** Keys (from --keys/--input) this rule classified. */
    keys: number;
    /** Keys it matched but an earlier rule took. */
    lost: number;
    /** File tests this rule classified. */
    tests: number;
  }>;
  tests: {
    total: number;
    passed: number;
    failed: number;
    file: number;
    builtin: number;
    failures: Array<{ source: 'file' | 'builtin'; index: number; name: string; line?: number; key: Printable; failures: string[] }>;
  };
  shadowed: Array<{ rule: string; by: string[]; how: 'static' | 'observed'; message: string }>;
  overlaps: Array<{ rule: string; also_matches: string; how: 'static' | 'observed'; example: Printable | null; count?: number; samples?: Printable[] }>;
  potential_collisions: Array<{ kind: string; rule: string; other: string; example: Printable; message: string }>;
  undecided: Array<{ rule: string; reason: string }>;
  never_matched: string[];
  keys?: {
    sources: string[];
    total: number;
    matched: number;
    unmatched: number;
    unmatched_samples: Printable[];
    by_category: Record<string, number>;
    /** Several --input dumps: a row per file and their slot coverage (dataset/dataset.ts). */
    dataset?: DatasetReport;
  };
  collisions: {
    /** Among the file's test keys. */
    tests: CollisionJson;
    /** Among the keys of --keys/--input (absent without them). */
    keys?: CollisionJson;
  };
}

export interface CollisionJson {
  total: number;
  confirmed: boolean;
  candidates: number;
  false_positives: number;
  duplicate_sources: number;
  memory_bytes: number;
  bytes_per_key: number;
  truncated: boolean;
  findings: Array<{
    kind: string;
    db: number;
    new_key: Printable;
    sources: Array<{ db: number; key: Printable }>;
    existing_source?: { db: number; key: Printable };
    confirmed: boolean;
  }>;
}

export interface KeyItem {
  key: Buffer;
  type?: LogicalType;
  db?: number;
}

// ---------------------------------------------------------------------------------------------
// Key sources

/** Split a byte stream into lines (LF, optional CR before it), without decoding. */
async function* byteLines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<{ line: Buffer; no: number }> {
  let rest: Buffer = Buffer.alloc(0);
  let no = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let data = rest.length > 0 ? Buffer.concat([rest, buf]) : buf;
    let start = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, start);
      if (nl < 0) break;
      no++;
      let end = nl;
      if (end > start && data[end - 1] === 0x0d) end--;
      yield { line: data.subarray(start, end), no };
      start = nl + 1;
    }
    rest = Buffer.from(data.subarray(start));
    data = rest;
  }
  if (rest.length > 0) {
    no++;
    let end = rest.length;
    if (rest[end - 1] === 0x0d) end--;
    yield { line: rest.subarray(0, end), no };
  }
}

const B64_LINE = /^[A-Za-z0-9+/=_-]*$/;

async function* keysFromStream(stream: AsyncIterable<Buffer | string>, name: string): AsyncGenerator<KeyItem> {
  try {
    for await (const { line, no } of byteLines(stream)) {
      if (line.length === 0) continue;
      if (line.length >= 7 && line.subarray(0, 7).toString('latin1') === 'base64:') {
        const text = line.subarray(7).toString('latin1');
        if (!B64_LINE.test(text)) throw new RekeyUsageError(`${name}:${no}: "base64:" line is not base64`);
        yield { key: Buffer.from(text, 'base64') };
      } else yield { key: Buffer.from(line) };
    }
  } catch (e) {
    if (e instanceof RekeyUsageError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new RekeyUsageError(`--keys ${name}: cannot read: ${err.code ?? ''} ${err.message}`.trim());
  }
}

/** Copy a stream into a file while passing its chunks on (stdin is spooled for the second pass). */
async function* tee(stream: AsyncIterable<Buffer | string>, path: string): AsyncGenerator<Buffer> {
  const out = createWriteStream(path);
  try {
    for await (const chunk of stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (!out.write(buf)) await once(out, 'drain');
      yield buf;
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
}

async function* keysFromDump(input: string | string[], ignoreChecksum: boolean, onDataset?: (d: Dataset) => void): AsyncGenerator<KeyItem> {
  const ds = await Dataset.open(input, { ignoreChecksum });
  onDataset?.(ds);
  for await (const batch of ds.input.batches) {
    for (const rec of batch) if (rec.kind === 'key') yield { key: rec.key, type: rec.type, db: rec.db };
  }
}

export interface KeySource {
  /** The --input dataset of the last pass (its per-file table). */
  dataset: Dataset | null;
  /** Iterate the keys (callable again for the confirmation pass). */
  items(): AsyncGenerator<KeyItem>;
  /** Remove the stdin spool file, if any. */
  cleanup(): Promise<void>;
}

/**
 * The keys of --keys then --input. stdin (`--keys -`) is copied to a temp file on the first pass so
 * the collision check can confirm digest matches on a second pass like it does for files.
 */
export function keySource(o: RulesTestOptions): KeySource | null {
  if (o.keys === undefined && o.input === undefined) return null;
  const stdin = o.stdin ?? process.stdin;
  let spoolDir: string | null = null;
  let spooled = false;
  const src: KeySource = {
    dataset: null,
    async *items() {
      if (o.keys === '-') {
        if (spooled) yield* keysFromStream(createReadStream(join(spoolDir!, 'stdin.keys')), '<stdin>');
        else {
          spoolDir = await mkdtemp(join(tmpdir(), 'rekey-keys-'));
          yield* keysFromStream(tee(stdin as AsyncIterable<Buffer>, join(spoolDir, 'stdin.keys')), '<stdin>');
          spooled = true;
        }
      } else if (o.keys !== undefined) yield* keysFromStream(createReadStream(o.keys), o.keys);
      if (o.input !== undefined) yield* keysFromDump(o.input, o.ignoreChecksum ?? false, (d) => (src.dataset ??= d));
    },
    async cleanup() {
      if (spoolDir !== null) await rm(spoolDir, { recursive: true, force: true });
    },
  };
  return src;
}
