/**
 * Several inputs as one dataset for the commands that stream records (transform, import, validate,
 * rules test): the files are read one after the other behind one OpenedInput, so a command's pipeline,
 * key guard and report span every file. With two or more inputs each file gets a row (format, RDB
 * version, keys, bytes, the slots its keys hash to or its slot-info names) and the rows give the
 * dataset's slot coverage (analyze/slots.ts).
 *
 * Function libraries: every master of a cluster holds every library (FUNCTION LOAD is propagated to all
 * of them), so each shard's RDB repeats them. A library already read with the same code is not passed on
 * again (Redis refuses a file naming a library twice: functionsCreateWithLibraryCtx without replace);
 * one with the same name and other code is kept from the first file and named as a conflict.
 */
import { statSync } from 'node:fs';
import { RekeyUsageError } from '../errors.js';
import type { RdbRecord } from '../records/types.js';
import { keySlot } from '../redis/slot.js';
import { SlotHoldings, slotCoverage, type SlotCoverage } from '../analyze/slots.js';
import { openInput, type OpenedInput, type OpenOptions } from '../sources/open.js';
import { expandInputs } from '../sources/multi.js';

/** One input of the dataset, as the per-file table shows it. */
export interface DatasetFile {
  path: string;
  format: 'rdb' | 'jsonl';
  gzip: boolean;
  size: number | null;
  rdb_version: number | null;
  keys: number;
  /** Serialized bytes: key bytes + value payload bytes, as read. */
  bytes: number;
  slot_info: number;
  slots_held: number;
  /** The file's slot ranges (held slots joined over short gaps no other file holds). */
  slots: string;
  from_slot_info: boolean;
}

export interface FunctionConflict {
  library: string;
  /** The file whose code was kept, and the file whose other code was not written. */
  kept: string;
  dropped: string;
}

export interface DatasetReport {
  files: DatasetFile[];
  slot_coverage: SlotCoverage;
  function_conflicts: FunctionConflict[];
}

interface Row {
  file: DatasetFile;
  holdings: SlotHoldings;
}

/** The library name of a FUNCTION2 source (`#!lua name=mylib`). */
function libraryName(code: Buffer): string {
  const first = code.subarray(0, Math.min(code.length, 4096)).toString('utf8').split('\n', 1)[0] ?? '';
  return /\bname=(\S+)/.exec(first)?.[1] ?? '';
}

const isFileArg = (p: string): boolean => p !== '-' && !/^rediss?:\/\//i.test(p);

export class Dataset {
  readonly rows: Row[] = [];
  readonly functionConflicts: FunctionConflict[] = [];
  /** One input that reads every file in turn. */
  readonly input: OpenedInput;

  private constructor(
    readonly paths: readonly string[],
    first: OpenedInput,
    private readonly opts: OpenOptions,
    /**
     * Key offsets become positions in the whole dataset (import's ledger: one high-water mark and one
     * `sent` mark over every input, so one `--resume` continues each input where it stands). A later
     * input's offsets are shifted by the previous inputs' extent (each one's last record offset + 1):
     * strictly increasing over the run and the same for the same inputs in the same order.
     */
    private readonly positions = false,
  ) {
    this.input = this.paths.length === 1 ? first : this.concat(first);
  }

  /**
   * Open the inputs named by `args` (paths, globs, `-`, redis:// URLs; see expandInputs). The first is
   * opened now and every other file is checked to exist, so a typo fails before anything is written;
   * the others are opened when the previous one is read to its end (one parser live at a time).
   */
  static async open(args: string | readonly string[], opts: OpenOptions = {}, o: { positions?: boolean } = {}): Promise<Dataset> {
    const paths = expandInputs(typeof args === 'string' ? [args] : args);
    for (const p of paths.slice(1)) {
      if (!isFileArg(p)) continue;
      try {
        if (!statSync(p).isFile()) throw new Error('not a regular file');
      } catch (e) {
        throw new RekeyUsageError(`${p}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
    const first = await openInput(paths[0]!, opts);
    return new Dataset(paths, first, opts, o.positions === true);
  }

  get multi(): boolean {
    return this.paths.length > 1;
  }

  private concat(first: OpenedInput): OpenedInput {
    const n = this.paths.length;
    const sizes = this.paths.map((p) => (isFileArg(p) ? statSync(p).size : undefined));
    const total = sizes.every((s) => s !== undefined) ? sizes.reduce<number>((a, s) => a + s!, 0) : undefined;
    // Parallel RDB → JSONL decoding (transform --jobs) wants RDB records only: JSONL-named inputs say no.
    const allRdb = first.format === 'rdb' && this.paths.every((p) => !/\.(jsonl|ndjson)(\.gz)?$/i.test(p));
    let done = 0;
    let cur: OpenedInput = first;
    const self = this;
    const positions = this.positions;
    let base = 0;
    let extent = 0;
    async function* batches(): AsyncGenerator<RdbRecord[]> {
      const libraries = new Map<string, { code: Buffer; file: string }>();
      for (let i = 0; i < n; i++) {
        if (i > 0) {
          done += cur.bytesRead();
          base = extent;
          cur = await openInput(self.paths[i]!, self.opts);
        }
        const row: Row = {
          file: { path: cur.name, format: cur.format, gzip: cur.gzip, size: cur.size ?? cur.fileSize ?? null, rdb_version: null, keys: 0, bytes: 0, slot_info: 0, slots_held: 0, slots: '', from_slot_info: false },
          holdings: new SlotHoldings(),
        };
        self.rows.push(row);
        for await (const batch of cur.batches) {
          let out: RdbRecord[] | null = null; // a copy only once a record is left out
          for (let j = 0; j < batch.length; j++) {
            const r = batch[j]!;
            let keep = true;
            if (positions && r.kind !== 'header') {
              if (r.offset + base >= extent) extent = r.offset + base + 1;
              if (base > 0 && r.kind === 'key') {
                r.inFile = { file: cur.name, offset: r.offset };
                r.offset += base;
              }
            }
            if (r.kind === 'key') {
              row.file.keys++;
              row.file.bytes += r.key.length + r.payload.length;
              row.holdings.addKey(keySlot(r.key));
            } else if (r.kind === 'header') {
              row.file.rdb_version = r.rdbVersion;
            } else if (r.kind === 'slot-info') {
              row.file.slot_info++;
              row.holdings.addInfo(r.slot);
            } else if (r.kind === 'function' || r.kind === 'function-pre-ga') {
              const name = r.kind === 'function' ? libraryName(r.code) : r.name.toString('utf8');
              const seen = libraries.get(name);
              if (seen === undefined) libraries.set(name, { code: r.code, file: cur.name });
              else {
                keep = false;
                if (!seen.code.equals(r.code)) self.functionConflicts.push({ library: name, kept: seen.file, dropped: cur.name });
              }
            }
            if (!keep) out ??= batch.slice(0, j);
            else if (out !== null) out.push(r);
          }
          yield out ?? batch;
        }
      }
    }
    return {
      name: `${first.name} (+${n - 1} more)`,
      format: allRdb ? 'rdb' : 'jsonl',
      gzip: first.gzip,
      ...(total !== undefined ? { fileSize: total } : {}),
      bytesRead: () => done + cur.bytesRead(),
      batches: batches(),
    };
  }

  /** The per-file table and slot coverage (null for one input: there is nothing to compare). */
  report(): DatasetReport | null {
    if (!this.multi) return null;
    const { files, coverage } = slotCoverage(
      this.rows.map((r) => r.file.path),
      this.rows.map((r) => r.holdings),
    );
    return {
      files: this.rows.map((r, i) => ({ ...r.file, slots_held: files[i]!.slots_held, slots: files[i]!.ranges, from_slot_info: files[i]!.from_slot_info })),
      slot_coverage: coverage,
      function_conflicts: this.functionConflicts,
    };
  }
}
