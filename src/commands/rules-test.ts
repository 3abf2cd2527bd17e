/**
 * `rekey rules test <rules-file> [--keys FILE|-] [--input DUMP] [--json] [--[no-]list] [--strict]`
 *
 * Offline, no Redis. Checks, in order:
 *  1. the file parses and validates (else exit 2, each problem with file:line:col and the rule);
 *  2. the file's `tests:` and built-in base64 round trips pass, and the test keys, taken together as
 *     a small keyspace, have no collisions;
 *  3. static analysis: shadowed rules (no key can reach them), overlaps, potential collisions;
 *  4. with --keys/--input: every key is classified; per-rule counts, unmatched keys, shadowing as
 *     observed, and collisions (digest table, confirmed byte-exactly by a second read of the input).
 *
 * Keys file: one key per line (LF; a CR before the LF is dropped). A line starting with `base64:` is
 * the base64 of the key's bytes (for binary keys, keys containing newlines, keys that start with
 * `base64:`, and the empty key: `base64:`). Empty lines are skipped. `-` reads stdin (copied to a
 * temp file while read, so collision candidates can be confirmed on a second pass). Keys from a
 * keys file have no type or db: type/db filters do not restrict them, and they count as db 0.
 *
 * With --keys (or --list), each key is listed first: old -> new name and the rule that matched
 * (`--json` only with --list: one object per line, the report last, on one line too).
 *
 * Exit: 0 all good; 1 a test failed, a collision exists, a key is unmatched under `unmatched: error`
 * (or, with --strict, any warning: shadowed rule, potential collision, rule warnings); 2 the rules
 * file (or the keys file / dump) is invalid.
 */
import type { Argv, CommandModule } from 'yargs';
import { runRulesTest } from './rules-test-run.js';
import { formatKeyMapping, formatRulesTestReport, keyMappingJson, KEY_LISTING_HEADING } from './rules-test-render.js';
import type { RulesTestOptions } from './rules-test-plan.js';

export type { RulesTestOptions, RulesTestReport } from './rules-test-plan.js';
export { runRulesTest } from './rules-test-run.js';
export { formatRulesTestReport, makeStyle, table } from './rules-test-render.js';

interface RulesTestArgs {
  'rules-file': string;
  keys?: string;
  input?: string[];
  json: boolean;
  list?: boolean;
  strict: boolean;
  'ignore-checksum': boolean;
}

export const rulesTestCommand: CommandModule<object, RulesTestArgs> = {
  command: 'test <rules-file>',
  describe: 'Check a rules file offline: syntax, its tests, shadowed rules, collisions (over --keys/--input)',
  builder: (y: Argv<object>) =>
    y
      .positional('rules-file', { type: 'string', demandOption: true, describe: 'rules file (YAML or JSON)' })
      .option('keys', { type: 'string', nargs: 1, describe: 'keys file, one key per line ("base64:" prefix for binary keys), or - for stdin' })
      .option('input', { type: 'string', array: true, describe: 'dumps (.rdb/.jsonl, optionally .gz; paths or globs, several are one dataset) whose keys to check' })
      .option('json', { type: 'boolean', default: false, describe: 'print the report as one JSON document (after one JSON line per listed key)' })
      .option('list', { type: 'boolean', describe: "list each key: old -> new name and the rule that matched (default: on with --keys, off with --json; --no-list turns it off)" })
      .option('strict', { type: 'boolean', default: false, describe: 'exit 1 on warnings too (shadowed rules, potential collisions)' })
      .option('ignore-checksum', { type: 'boolean', default: false, describe: 'do not verify the RDB CRC64 of --input' }) as unknown as Argv<RulesTestArgs>,
  handler: async (a) => {
    const opts: RulesTestOptions = { rulesFile: a['rules-file'], strict: a.strict, ignoreChecksum: a['ignore-checksum'] };
    if (a.keys !== undefined) opts.keys = a.keys;
    if (a.input !== undefined) opts.input = a.input;
    const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
    // The listing is written as keys are read (a keys file can be long; nothing is held for it).
    // --json stays one document unless the listing is asked for: scripts read that document.
    const list = a.list ?? (a.keys !== undefined && !a.json);
    let listed = 0;
    if (list) {
      opts.onKey = (m) => {
        if (!a.json && listed++ === 0) process.stdout.write(KEY_LISTING_HEADING + '\n');
        process.stdout.write(a.json ? keyMappingJson(m) : formatKeyMapping(m, color));
      };
    }
    const { exitCode, report } = await runRulesTest(opts);
    // After a JSON listing the report is one line too, so every line of the output is one object.
    if (a.json) process.stdout.write((list ? JSON.stringify(report) : JSON.stringify(report, null, 2)) + '\n');
    else process.stdout.write((listed > 0 ? '\n' : '') + formatRulesTestReport(report, color));
    process.exitCode = exitCode;
  },
};
