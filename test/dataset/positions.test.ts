/**
 * Import's dataset positions (one ledger over several inputs): a later input's key offsets are shifted
 * past the earlier inputs, and each such key still knows its own file and byte for messages.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataset } from '../../src/dataset/dataset.js';
import { PayloadFault } from '../../src/codec/verify/index.js';
import type { KeyRecord } from '../../src/records/types.js';

const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'dump.rdb');

async function keys(ds: Dataset): Promise<KeyRecord[]> {
  const out: KeyRecord[] = [];
  for await (const batch of ds.input.batches) for (const r of batch) if (r.kind === 'key') out.push(r);
  return out;
}

describe('dataset positions', () => {
  it('a second input: offsets past the first, its own file and byte kept in inFile and named by PayloadFault', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rekey-positions-'));
    try {
      const copy = join(dir, 'copy.rdb');
      copyFileSync(FIXTURE, copy);
      const one = await keys(await Dataset.open([FIXTURE]));
      const both = await keys(await Dataset.open([FIXTURE, copy], {}, { positions: true }));
      expect(both.length).toBe(2 * one.length);
      const first = both.slice(0, one.length);
      const second = both.slice(one.length);
      expect(first.map((r) => r.offset)).toEqual(one.map((r) => r.offset));
      expect(first.every((r) => r.inFile === undefined)).toBe(true);
      const lastOfFirst = first.at(-1)!.offset;
      for (let i = 0; i < second.length; i++) {
        expect(second[i]!.offset).toBeGreaterThan(lastOfFirst);
        expect(second[i]!.inFile).toEqual({ file: copy, offset: one[i]!.offset });
      }
      const msg = new PayloadFault(second[0]!, 3, 'a listpack header').message;
      expect(msg).toContain(`(${copy}, entry at byte ${one[0]!.offset})`);
      expect(new PayloadFault(first[0]!, 3, 'x').message).toContain(`(entry at byte ${one[0]!.offset})`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
