/**
 * The terminal summary of an analysis: aligned tables, humanised sizes. Plain text unless `color` is set
 * (the command sets it only for a TTY without NO_COLOR).
 */
import type { AnalysisReport, BigKey, Printable } from './aggregator.js';
import { TTL_BUCKETS } from './aggregator.js';
import type { PrefixStat } from './prefix-tree.js';
import { displayKey } from '../records/printable.js';

export interface TextOptions {
  color?: boolean;
  /** Longest key shown in a table cell (longer keys are cut with "…"). */
  keyWidth?: number;
  /** Rows per top list (default: all the report holds). */
  rows?: number;
}

/** 1023 B, 1.00 KiB, 12.3 MiB … */
export function human(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(Math.abs(v) < 10 ? 2 : 1)} ${units[i]}`;
}

export function num(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function pct(part: number, whole: number): string {
  if (whole === 0) return '0%';
  const p = (100 * part) / whole;
  return `${p < 10 && p > 0 ? p.toFixed(1) : Math.round(p)}%`;
}

export function printableToDisplay(p: Printable): string {
  return typeof p === 'string' ? displayKey(Buffer.from(p, 'utf8')) : displayKey(Buffer.from(p.base64, 'base64'));
}

/** Shorten to `width` characters with "…" in the middle: keys share long prefixes, their ends differ. */
function cut(s: string, width: number): string {
  const chars = [...s];
  if (chars.length <= width) return s;
  const tail = Math.floor((width - 1) / 2);
  const head = Math.max(1, width - 1 - tail);
  return chars.slice(0, head).join('') + '…' + chars.slice(chars.length - tail).join('');
}

function width(s: string): number {
  return [...s].length;
}

type Align = 'l' | 'r';

/** Columns padded to their widest cell; numbers right-aligned. */
export function table(headers: string[], rows: string[][], align: Align[], bold: (s: string) => string = (s) => s): string {
  const w = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const pad = (s: string, i: number): string => {
    const fill = ' '.repeat(Math.max(0, w[i]! - width(s)));
    return align[i] === 'r' ? fill + s : s + fill;
  };
  const line = (cells: string[]): string => cells.map((c, i) => pad(c, i)).join('  ').trimEnd();
  return ['  ' + bold(line(headers)), ...rows.map((r) => '  ' + line(r))].join('\n');
}

export function renderText(r: AnalysisReport, o: TextOptions = {}): string {
  const color = o.color ?? false;
  const bold = (s: string): string => (color ? `\x1b[1m${s}\x1b[22m` : s);
  const dim = (s: string): string => (color ? `\x1b[2m${s}\x1b[22m` : s);
  const kw = o.keyWidth ?? 60;
  const rows = o.rows ?? Infinity;
  const out: string[] = [];
  const m = r.metadata;
  const t = r.totals;

  out.push(bold(`rekey analyze: ${r.input.path}`));
  const fmt: string[] = [];
  if (r.input.format === 'rdb') fmt.push(`RDB v${r.input.rdb_version ?? '?'}${r.input.flavor === 'valkey' ? ' (valkey)' : ''}`);
  else fmt.push('JSONL');
  if (r.input.gzip) fmt.push('gzip');
  if (r.input.size !== null) fmt.push(human(r.input.size));
  if (m.redis_ver) fmt.push(`redis ${m.redis_ver}${m.redis_bits ? ` ${m.redis_bits}-bit` : ''}`);
  if (m.ctime_iso) fmt.push(`saved ${m.ctime_iso.replace(/\.\d+Z$/, 'Z')}`);
  if (m.used_mem !== null) fmt.push(`used-mem ${human(m.used_mem)}`);
  fmt.push(`checksum ${m.checksum}`);
  out.push('  ' + fmt.join(', '));
  const extra: string[] = [];
  if (m.dbs.length) extra.push(`dbs ${m.dbs.map((d) => d.db).join(', ')}`);
  if (m.functions.length) extra.push(`functions ${m.functions.map((f) => `${f.library} (${f.engine}${f.functions.length ? ': ' + f.functions.join(', ') : ''})`).join('; ')}`);
  if (m.modules.length) extra.push(`modules ${m.modules.map((x) => x.name).join(', ')}`);
  if (m.slot_info) extra.push(`slot-info records ${m.slot_info}`);
  if (extra.length) out.push('  ' + extra.join('   '));
  out.push('');
  out.push(
    `  ${bold(num(t.keys))} keys   with TTL ${num(t.with_ttl)} (${pct(t.with_ttl, t.keys)})   expired ${num(t.expired)}   ` +
      `serialized ${human(t.bytes)}   est. memory ${bold(human(t.memory))}` +
      (t.filtered_out ? `   filtered out ${num(t.filtered_out)}` : '') +
      `   ${dim(`${r.seconds.toFixed(2)} s`)}`,
  );

  // by type
  out.push('', bold('By type'));
  out.push(
    table(
      ['TYPE', 'KEYS', 'TTL', 'BYTES', 'EST. MEMORY', 'ELEM p50', 'p90', 'p99', 'max', 'ENCODINGS'],
      Object.entries(r.by_type).map(([type, s]) => [
        type,
        num(s.keys),
        num(s.with_ttl),
        human(s.bytes),
        human(s.memory),
        num(s.elements.p50),
        num(s.elements.p90),
        num(s.elements.p99),
        num(s.elements.max),
        Object.entries(s.encodings)
          .map(([e, n]) => `${e} ${num(n)}`)
          .join(', '),
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
      bold,
    ),
  );

  // by db
  out.push('', bold('By db'));
  out.push(
    table(
      ['DB', 'KEYS', 'TTL', 'EXPIRED', 'BYTES', 'EST. MEMORY', 'TYPES'],
      Object.entries(r.by_db).map(([db, s]) => [
        db,
        num(s.keys),
        num(s.with_ttl),
        num(s.expired),
        human(s.bytes),
        human(s.memory),
        Object.entries(s.by_type)
          .sort((a, b) => b[1] - a[1])
          .map(([x, n]) => `${x} ${num(n)}`)
          .join(', '),
      ]),
      ['r', 'r', 'r', 'r', 'r', 'r', 'l'],
      bold,
    ),
  );

  // TTL
  const ttl = r.ttl;
  out.push('', bold(`TTL (judged at ${new Date(r.now_ms).toISOString()})`));
  out.push(
    table(
      ['NO TTL', 'EXPIRED', ...TTL_BUCKETS],
      [[num(ttl.no_ttl), num(ttl.expired), ...TTL_BUCKETS.map((b) => num(ttl.buckets[b]))]],
      ['r', 'r', ...TTL_BUCKETS.map((): Align => 'r')],
      bold,
    ),
  );
  if (ttl.earliest) out.push(`  earliest expiry ${ttl.earliest}, latest ${ttl.latest}`);
  const hf = ttl.hash_fields;
  if (hf.fields > 0) {
    out.push(`  hash field TTLs: ${num(hf.fields)} fields in ${num(hf.hashes)} hashes, ${num(hf.expired)} expired; ` + TTL_BUCKETS.map((b) => `${b} ${num(hf.buckets[b])}`).join(', '));
  }

  // biggest keys
  const bigTable = (title: string, keys: BigKey[]): void => {
    if (keys.length === 0) return;
    out.push('', bold(title));
    out.push(
      table(
        ['#', 'DB', 'KEY', 'TYPE', 'ENCODING', 'BYTES', 'ELEMENTS', 'EST. MEMORY', 'TTL'],
        keys.slice(0, rows).map((k, i) => [
          String(i + 1),
          String(k.db),
          cut(printableToDisplay(k.key), kw),
          k.type,
          k.encoding,
          human(k.bytes),
          k.elements === null ? '-' : num(k.elements),
          human(k.memory),
          k.expire_at_ms === null ? '' : k.expire_at_ms <= r.now_ms ? 'expired' : ttlText(k.expire_at_ms - r.now_ms),
        ]),
        ['r', 'r', 'l', 'l', 'l', 'r', 'r', 'r', 'r'],
        bold,
      ),
    );
  };
  bigTable('Biggest keys (serialized bytes)', r.biggest_keys);
  bigTable('Biggest keys (elements)', r.biggest_keys_by_elements);

  // prefixes
  const prefixTable = (title: string, ps: PrefixStat[]): void => {
    if (ps.length === 0) return;
    out.push('', bold(title));
    out.push(
      table(
        ['PREFIX', 'DEPTH', 'KEYS', '% KEYS', 'BYTES', 'EST. MEMORY'],
        ps.slice(0, rows).map((p) => [cut(printableToDisplay(p.prefix), kw), String(p.depth), num(p.keys), pct(p.keys, t.keys), human(p.bytes), human(p.memory)]),
        ['l', 'r', 'r', 'r', 'r', 'r'],
        bold,
      ),
    );
  };
  prefixTable(`Top prefixes by keys (split on ":", depth ≤ ${r.prefix_tree.max_depth}${r.prefix_tree.approximate ? ', approximate' : ''})`, r.prefixes);
  prefixTable('Top prefixes by bytes', r.prefixes_by_bytes);

  // samples per type
  const sampleLines = Object.entries(r.by_type)
    .filter(([, s]) => s.samples.length > 0)
    .map(([type, s]) => `  ${type.padEnd(7)} ${s.samples.map((k) => cut(printableToDisplay(k.key), 40)).join('  ')}`);
  if (sampleLines.length) out.push('', bold('Sample keys'), ...sampleLines);

  // rules
  if (r.rules && r.by_category && r.unmatched && r.collisions && r.migration) {
    out.push('', bold(`Rules: ${r.rules.path} (${r.rules.rules} rules, unmatched: ${r.rules.unmatched_mode})`));
    for (const w of r.rules.warnings) out.push(`  warning: ${w}`);
    out.push(
      table(
        ['CATEGORY', 'KEYS', '% KEYS', 'BYTES', 'EST. MEMORY', 'RULES', 'EXAMPLE'],
        [
          ...Object.entries(r.by_category).map(([cat, c]) => [
            cat,
            num(c.keys),
            pct(c.keys, t.keys),
            human(c.bytes),
            human(c.memory),
            c.rules.join(', '),
            c.samples[0] ? `${cut(printableToDisplay(c.samples[0].key), 40)} → ${cut(printableToDisplay(c.samples[0].new_key), 40)}` : '',
          ]),
          [
            '(unmatched)',
            num(r.unmatched.keys),
            pct(r.unmatched.keys, t.keys),
            human(r.unmatched.bytes),
            human(r.unmatched.memory),
            r.unmatched.mode,
            r.unmatched.samples[0] ? cut(printableToDisplay(r.unmatched.samples[0].key), 40) : '',
          ],
        ],
        ['l', 'r', 'r', 'r', 'r', 'l', 'l'],
        bold,
      ),
    );
    if (r.unmatched.samples.length > 1) {
      out.push(`  unmatched samples: ${r.unmatched.samples.map((k) => cut(printableToDisplay(k.key), 50)).join('  ')}`);
    }
    const col = r.collisions;
    out.push(`  collisions: ${num(col.keys)}${col.keys ? ' (later keys would be dropped)' : ''}`);
    for (const c of col.samples.slice(0, 5)) {
      out.push(`    db ${c.db} ${cut(printableToDisplay(c.new_key), kw)}  ← ${cut(printableToDisplay(c.source_key), kw)}`);
    }
    const mg = r.migration;
    out.push(
      `  migration: ${bold(num(mg.keys_to_write))} keys, ${human(mg.bytes_to_write)} to write, est. target memory ${bold(human(mg.estimated_memory))}` +
        `; dropped: expired ${num(mg.expired_dropped)}, unmatched ${num(mg.unmatched_dropped + mg.unmatched_errors)}, collisions ${num(mg.collisions_dropped)}` +
        (mg.ttl_changed ? `; TTL changed by rules ${num(mg.ttl_changed)}` : ''),
    );
  }
  return out.join('\n') + '\n';
}

function ttlText(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86400) return `${(s / 3600).toFixed(1)}h`;
  if (s < 86400 * 365) return `${(s / 86400).toFixed(1)}d`;
  return `${(s / 86400 / 365.25).toFixed(1)}y`;
}
