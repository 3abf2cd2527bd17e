import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRdb } from '../src/rdb/parser.js';
import { RekeyInputError } from '../src/errors.js';
import { seededRandom as rng } from '../src/analyze/stats.js';
import { CORPUS_GENERATED, corpusMissing } from './helpers/corpus.js';

function mutate(src: Buffer, r: () => number): Buffer {
  const b = Buffer.from(src);
  const kind = Math.floor(r() * 5);
  const at = Math.floor(r() * b.length);
  switch (kind) {
    case 0: // flip a few bits
      for (let i = 0; i < 1 + Math.floor(r() * 4); i++) b[Math.floor(r() * b.length)]! ^= 1 << Math.floor(r() * 8);
      return b;
    case 1: // random bytes
      for (let i = 0; i < 1 + Math.floor(r() * 8); i++) b[Math.min(b.length - 1, at + i)] = Math.floor(r() * 256);
      return b;
    case 2: // truncate
      return b.subarray(0, at);
    case 3: // big length prefixes where a length may be
      b[at] = [0x80, 0x81, 0xc3, 0x7f, 0xff][Math.floor(r() * 5)]!;
      return b;
    default: // splice a chunk of itself elsewhere
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.floor(r() * b.length), Math.floor(r() * b.length)), b.subarray(at)]);
  }
}

async function parseAll(data: Buffer, chunk: number): Promise<void> {
  async function* chunks() {
    for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
  }
  for await (const batch of parseRdb(chunks(), { file: 'mutant.rdb', size: data.length, ignoreChecksum: true })) {
    for (const r of batch) if (r.kind === 'key') r.decode();
  }
}

const seeds: Array<[string, Buffer]> = [];
const fixture = join(import.meta.dirname, '..', 'fixtures', 'dump.rdb');
if (existsSync(fixture)) seeds.push(['fixtures/dump.rdb', readFileSync(fixture)]);
const corpus = CORPUS_GENERATED;
corpusMissing('fuzz seeds from the corpus');
for (const f of ['redis-5.0.14/small-encodings.rdb', 'redis-7.4.1/dump.rdb', 'redis-2.4.18/dump.rdb', 'redis-7.2.6/modules.rdb']) {
  if (existsSync(join(corpus, f))) seeds.push([f, readFileSync(join(corpus, f))]);
}

describe('fuzz: mutated dumps fail cleanly', () => {
  it('throws only RekeyInputError, never hangs, never allocates wildly', async () => {
    const budgetMs = Number(process.env.REKEY_FUZZ_MS ?? 20_000);
    const deadline = Date.now() + budgetMs;
    const r = rng(0xc0ffee);
    let runs = 0;
    let rejected = 0;
    const heapStart = process.memoryUsage().rss;
    let worstRss = heapStart;
    while (Date.now() < deadline && runs < 5000) {
      const [name, seed] = seeds[runs % seeds.length]!;
      const mutant = mutate(seed, r);
      const t0 = Date.now();
      try {
        await parseAll(mutant, 1 + Math.floor(r() * 65536));
      } catch (e) {
        if (!(e instanceof RekeyInputError)) {
          throw new Error(`mutant ${runs} of ${name} threw ${(e as Error)?.name}: ${(e as Error)?.stack}`);
        }
        expect(e.message).toMatch(/^mutant\.rdb: at byte \d+: /);
        rejected++;
      }
      expect(Date.now() - t0).toBeLessThan(5000);
      worstRss = Math.max(worstRss, process.memoryUsage().rss);
      runs++;
    }
    console.log(`fuzz: ${runs} mutants, ${rejected} rejected with RekeyInputError, rss growth ${((worstRss - heapStart) / 1048576).toFixed(1)} MiB`);
    expect(runs).toBeGreaterThan(500);
    // No mutant may make the parser allocate far beyond the input sizes (a few MB here).
    expect(worstRss - heapStart).toBeLessThan(512 * 1048576);
  }, 120_000);
});
