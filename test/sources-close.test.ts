import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openInput } from '../src/sources/open.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'dump.rdb');
const openFds = () => (existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : 0);

describe('sources close what they open', () => {
  it('closes the file at EOF even when data follows the RDB (AOF preamble, then refused), plain and gzip', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rekey-close-'));
    try {
      // An RDB followed by 2 MB of AOF-style commands: the parser stops at EOF, never reading them all.
      const tail = Buffer.from('*1\r\n$4\r\nPING\r\n'.repeat(150_000));
      const plain = join(dir, 'preamble.aof');
      writeFileSync(plain, Buffer.concat([readFileSync(FIXTURE), tail]));
      const gz = join(dir, 'preamble.aof.gz');
      writeFileSync(gz, gzipSync(Buffer.concat([readFileSync(FIXTURE), tail])));
      const before = openFds();
      for (let round = 0; round < 5; round++) {
        for (const path of [plain, gz]) {
          const input = await openInput(path);
          let keys = 0;
          let eof = false;
          // The AOF tail is refused after the EOF record (its commands would be lost); the file still closes.
          const err = await (async () => {
            for await (const batch of input.batches) for (const r of batch) (r.kind === 'key' ? keys++ : r.kind === 'eof' && (eof = true));
          })().then(() => null, (e: unknown) => e as Error);
          expect(err?.message).toMatch(/AOF with an RDB preamble/);
          expect(keys).toBe(446);
          expect(eof).toBe(true);
        }
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(openFds()).toBeLessThanOrEqual(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
