import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openInput } from '../src/sources/open.js';
import { RekeyInputError } from '../src/errors.js';
import type { KeyRecord } from '../src/records/types.js';
import { truthProblems } from './helpers/truth.js';

import { CORPUS_DIR as CORPUS, corpusMissing } from './helpers/corpus.js';
const have = corpusMissing('rdb corpus conformance') === null;

async function readAll(path: string, opts = {}): Promise<{ keys: KeyRecord[]; meta: string[] }> {
  const input = await openInput(path, opts);
  const keys: KeyRecord[] = [];
  const meta: string[] = [];
  for await (const batch of input.batches) {
    for (const r of batch) {
      if (r.kind === 'key') {
        r.decode();
        keys.push(r);
      } else meta.push(r.kind);
    }
  }
  return { keys, meta };
}

function truthFiles(): Array<{ rdb: string; truth: string }> {
  if (!have) return [];
  const out: Array<{ rdb: string; truth: string }> = [];
  const gen = join(CORPUS, 'generated');
  for (const dir of readdirSync(gen).sort()) {
    for (const f of readdirSync(join(gen, dir)).sort()) {
      if (!f.endsWith('.rdb')) continue;
      const base = f.replace(/\.rdb$/, '');
      const truth = join(gen, dir, base === 'dump' ? 'truth.jsonl' : `${base}.truth.jsonl`);
      if (existsSync(truth)) out.push({ rdb: join(gen, dir, f), truth });
    }
  }
  return out;
}

/** Peer files that must fail, and the words their error must contain. */
const MUST_FAIL: Record<string, RegExp> = {
  'librdb/future_v19.rdb': /RDB version from 1 to \d+ .*found 99 .*newer than rekey knows/,
  'librdb/invalid_chksum_v8.rdb': /CRC64/,
  'redis-replicator/module.rdb': /type 6/,
  'librdb/redis_ent_opcode_ram_lru.rdb': /Redis Enterprise/,
  'valkey-tests-assets/corrupt_ziplist.rdb': /ziplist/,
  // zmlen 255 with 2 fields: Redis (zipmapValidateIntegrity) and librdb refuse it.
  'HDT3213-rdb/zipmap_big_len.rdb': /zipmap zmlen of 2 .*found 255/,
  // Its AOF tail would be lost: refused (the snapshot part alone is not the dataset).
  'valkey-tests-assets/rdb-preamble.aof': /AOF with an RDB preamble/,
};

describe.skipIf(!have)('rdb corpus conformance', () => {
  const files = truthFiles();
  let passedKeys = 0;
  let passedFiles = 0;

  it.each(files.map((f) => [f.rdb.slice(CORPUS.length + 1), f] as const))('%s decodes to its truth', async (_name, f) => {
    const { problems, matched } = await truthProblems(f.rdb, f.truth);
    expect(problems.slice(0, 10)).toEqual([]);
    passedKeys += matched;
    passedFiles++;
  });

  it('reports the pass count', () => {
    console.log(`corpus: ${passedFiles}/${files.length} generated files, ${passedKeys} keys match their truth`);
    expect(files.length).toBeGreaterThan(0);
  });
});


describe.skipIf(!have)('peer files', () => {
  const peers: string[] = [];
  if (have) {
    const root = join(CORPUS, 'peers');
    for (const dir of readdirSync(root)) {
      if (!existsSync(join(root, dir)) || dir.endsWith('.json')) continue;
      for (const f of readdirSync(join(root, dir))) if (/\.(rdb|aof)$/.test(f)) peers.push(`${dir}/${f}`);
    }
  }
  peers.sort();
  it.each(peers)('%s', async (name) => {
    const path = join(CORPUS, 'peers', name);
    const fail = MUST_FAIL[name];
    if (fail) {
      const err = await readAll(path).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(RekeyInputError);
      expect((err as Error).message).toMatch(fail);
      expect((err as Error).message).toContain(path);
      return;
    }
    const { meta } = await readAll(path);
    expect(meta).toContain('eof');
  });
});
