import { it } from 'vitest';
import { keyToJsonLine } from '../../src/jsonl/value-json.js';
import type { KeyRecord } from '../../src/records/types.js';
import { keyRec } from './fixtures.js';
import { parseJsonl } from '../../src/sources/jsonl-source.js';

// A micro-check, printed and not asserted (performance is measured by `npm run bench`).
it('keyToJsonLine throughput on 200k small string/hash records (printed, not asserted)', () => {
  const recs: KeyRecord[] = [];
  for (let i = 0; i < 200_000; i++) {
    const key = Buffer.from(`josancamon:rayban-meta-glasses-api:reminder:${i}`);
    if (i % 2 === 0) recs.push(keyRec(key, { type: 'string', value: Buffer.from(`value-${i}-some payload text`) }, { expireAtMs: 1767225600000 + i }));
    else recs.push(keyRec(key, { type: 'hash', entries: [[Buffer.from('name'), Buffer.from(`user ${i}`)], [Buffer.from('email'), Buffer.from(`u${i}@example.com`)], [Buffer.from('age'), Buffer.from(String(i % 90))]] }));
  }
  let bytes = 0;
  for (let i = 0; i < 20_000; i++) bytes += keyToJsonLine(recs[i]!).length; // warm-up
  bytes = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < recs.length; i++) bytes += keyToJsonLine(recs[i]!).length;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`keyToJsonLine: ${recs.length} records in ${ms.toFixed(1)} ms = ${Math.round(recs.length / (ms / 1000)).toLocaleString('en-US')} keys/s, ${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s of JSON text`);
});

it('parseJsonl throughput on the same 200k lines (printed, not asserted)', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 200_000; i++) {
    const key = Buffer.from(`josancamon:rayban-meta-glasses-api:reminder:${i}`);
    lines.push(keyToJsonLine(i % 2 === 0
      ? keyRec(key, { type: 'string', value: Buffer.from(`value-${i}-some payload text`) }, { expireAtMs: 1767225600000 + i })
      : keyRec(key, { type: 'hash', entries: [[Buffer.from('name'), Buffer.from(`user ${i}`)], [Buffer.from('email'), Buffer.from(`u${i}@example.com`)], [Buffer.from('age'), Buffer.from(String(i % 90))]] })));
  }
  const data = Buffer.from(lines.join('\n') + '\n');
  async function* chunks() {
    for (let i = 0; i < data.length; i += 65536) yield data.subarray(i, i + 65536);
  }
  const t0 = process.hrtime.bigint();
  let n = 0;
  for await (const batch of parseJsonl(chunks(), { file: 'bench.jsonl' })) n += batch.length;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`parseJsonl: ${n} records in ${ms.toFixed(1)} ms = ${Math.round(n / (ms / 1000)).toLocaleString('en-US')} keys/s, ${(data.length / 1e6 / (ms / 1000)).toFixed(1)} MB/s`);
});
