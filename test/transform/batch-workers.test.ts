import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from '../helpers/cli.js';

// RDB → JSONL on worker threads (src/pipeline/batch-workers.ts) must write exactly the bytes the
// one-thread JsonlSink writes. Worker threads run built code, so this test drives dist/ (npm run build).
const ROOT = join(import.meta.dirname, '..', '..');
const DIST = join(ROOT, 'dist');
const CORPUS = process.env.REKEY_CORPUS ?? join(ROOT, '..', 'shared', 'rdb-corpus');
const haveCorpus = existsSync(CORPUS);
const dir = mkdtempSync(join(tmpdir(), 'rekey-batch-workers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rdbFiles(d: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(d).sort()) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) out.push(...rdbFiles(p));
    else if (name.endsWith('.rdb')) out.push(p);
  }
  return out;
}

const load = async <T>(p: string): Promise<T> => (await import(pathToFileURL(join(DIST, p)).href)) as T;
type Sink = { writeBatch(r: unknown[]): void | Promise<void>; close(): Promise<void>; abort(e: unknown): Promise<void> };

/** Every batch of `file` into `sink`, as the pipeline does; the error message when reading or writing failed. */
async function drive(file: string, sink: Sink): Promise<string | null> {
  const { openInput } = await load<{ openInput: (p: string) => Promise<{ batches: AsyncIterable<unknown[]> }> }>('sources/open.js');
  try {
    const input = await openInput(file);
    for await (const batch of input.batches) {
      const p = sink.writeBatch(batch);
      if (p) await p;
    }
    await sink.close();
    return null;
  } catch (e) {
    await sink.abort(e);
    return (e as Error).message;
  }
}

let n = 0;
async function both(file: string, workers: number): Promise<{ one: Buffer | string; many: Buffer | string }> {
  const { JsonlSink } = await load<{ JsonlSink: new (o: { path: string }) => Sink }>('sinks/jsonl-sink.js');
  const { ParallelJsonlSink } = await load<{ ParallelJsonlSink: new (o: { path: string; workers: number }) => Sink }>('pipeline/batch-workers.js');
  const a = join(dir, `one-${n}.jsonl`);
  const b = join(dir, `many-${n++}.jsonl`);
  const errA = await drive(file, new JsonlSink({ path: a }));
  const errB = await drive(file, new ParallelJsonlSink({ path: b, workers }));
  return {
    one: errA ?? readFileSync(a),
    many: errB ?? (existsSync(b) ? readFileSync(b) : 'no output'),
  };
}

describe('RDB → JSONL on worker threads writes what one thread writes', () => {
  it('fixtures/dump.rdb, with 1, 2 and 3 workers', async () => {
    for (const w of [1, 2, 3]) {
      const r = await both(join(ROOT, 'fixtures', 'dump.rdb'), w);
      expect(Buffer.isBuffer(r.one)).toBe(true);
      expect((r.one as Buffer).length).toBeGreaterThan(1000);
      expect(r.many).toEqual(r.one);
    }
  });

  it.skipIf(!haveCorpus)('every corpus RDB: the same bytes, or the same error and no output', async () => {
    const files = rdbFiles(CORPUS);
    expect(files.length).toBeGreaterThan(50);
    let same = 0;
    let failedAlike = 0;
    for (const f of files) {
      const r = await both(f, 1);
      expect(r.many, relative(CORPUS, f)).toEqual(r.one);
      if (typeof r.one === 'string') failedAlike++;
      else same++;
    }
    // Both kinds occur in the corpus: files that convert, and files that must fail (MUST_FAIL in corpus.test.ts).
    expect(same).toBeGreaterThan(50);
    expect(failedAlike).toBeGreaterThan(0);
  }, 300_000);
});

describe('rekey transform --jobs', () => {
  it('--jobs 3 writes the file --jobs 1 writes (rules applied, keys renamed)', async () => {
    const rules = join(ROOT, 'examples', 'meta-glasses.rules.yaml');
    const outs: Buffer[] = [];
    for (const jobs of ['1', '3']) {
      const o = join(dir, `cli-${jobs}.jsonl`);
      // REKEY_JOBS_MIN_BYTES=0: workers even for the small fixture (worker-pool.ts workersFor).
      const r = await runCli(['transform', join(ROOT, 'fixtures', 'dump.rdb'), '-o', o, '--rules', rules, '--now', '1700000000000', '--jobs', jobs, '--out-dir', dir], { env: { REKEY_JOBS_MIN_BYTES: '0' } });
      expect(r.stderr).not.toContain('internal error');
      expect(r.code).toBe(0);
      outs.push(readFileSync(o));
    }
    expect(outs[1]).toEqual(outs[0]);
  });

  it.skipIf(!haveCorpus)('a corrupt file: the same error and exit code with workers, and no output', async () => {
    const bad = join(CORPUS, 'peers', 'valkey-tests-assets', 'corrupt_ziplist.rdb');
    const results = [];
    for (const jobs of ['1', '3']) {
      const o = join(dir, `bad-${jobs}.jsonl`);
      const r = await runCli(['transform', bad, '-o', o, '--jobs', jobs, '--out-dir', dir], { env: { REKEY_JOBS_MIN_BYTES: '0' } });
      results.push({ code: r.code, err: r.stderr.split('\n')[0], out: existsSync(o) });
    }
    expect(results[0]!.code).toBe(2);
    expect(results[0]!.err).toMatch(/ziplist/);
    expect(results[1]).toEqual(results[0]);
    expect(results[1]!.out).toBe(false);
  });
});
