// Parse (and by default decode every value of) a dump through the library, printing counts.
// `--raw` only walks entries (what transform rdb→rdb does); the default decodes each value.
import { openInput } from '../dist/index.js';

const [path, flag] = process.argv.slice(2);
const input = await openInput(path);
let keys = 0;
let elements = 0;
for await (const batch of input.batches) {
  for (const r of batch) {
    if (r.kind !== 'key') continue;
    keys++;
    if (flag === '--raw') continue;
    const v = r.decode();
    elements += v.type === 'list' ? v.items.length : v.type === 'set' ? v.members.length : v.type === 'zset' || v.type === 'hash' || v.type === 'stream' ? v.entries.length : 1;
  }
}
process.stderr.write(`${keys} keys, ${elements} elements\n`);
