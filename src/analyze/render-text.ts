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
  /**
   * Terminal width: table rows get their key/prefix (or list) column cut and free-text lines are wrapped
   * to fit (default 100; 0 for no limit).
   */
  columns?: number;
  /** The run was told the dataset is partial (`--partial`): missing slots are a note, not a problem. */
  partial?: boolean;
}

/** 1,023 B, 1.00 KiB, 12.3 MiB … */
export function human(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${num(v)} B` : `${v.toFixed(Math.abs(v) < 10 ? 2 : 1)} ${units[i]}`;
}

/** 1,234,567: one thousands style everywhere (not the locale's), so reports read and diff the same. */
export function num(n: number): string {
  const r = Math.round(n);
  const s = String(Math.abs(r)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return r < 0 ? '-' + s : s;
}

function pct(part: number, whole: number): string {
  if (whole === 0) return '0%';
  const p = (100 * part) / whole;
  return `${p < 10 && p > 0 ? p.toFixed(1) : Math.round(p)}%`;
}

export function printableToDisplay(p: Printable): string {
  return typeof p === 'string' ? displayKey(Buffer.from(p, 'utf8')) : displayKey(Buffer.from(p.base64, 'base64'));
}

/** Width of a line when the terminal's is unknown (output piped to a file or another program). */
export const DEFAULT_COLUMNS = 100;

/** Shorten to `width` characters with "…" in the middle: keys share long prefixes, their ends differ. */
function cut(s: string, width: number): string {
  const chars = [...s];
  if (chars.length <= width) return s;
  if (width <= 1) return '…';
  const tail = Math.floor((width - 1) / 2);
  const head = Math.max(1, width - 1 - tail);
  return chars.slice(0, head).join('') + '…' + chars.slice(chars.length - tail).join('');
}

function width(s: string): number {
  return [...s].length;
}

type Align = 'l' | 'r';

export interface Fit {
  /** Width of the terminal. */
  columns: number;
  /** The column that gives way (keys, prefixes); its cells are cut in the middle. */
  flex: number;
  /** Narrowest the flex column gets. */
  min?: number;
  /** Where a cut flex cell loses characters: keys in the middle (their ends differ), lists at the end. */
  at?: 'middle' | 'end' | 'pair';
}

/** An "old → new" pair shortened on both sides, so the arrow and both ends stay visible. */
function cutPair(s: string, width: number): string {
  const [a, b] = s.split(' → ');
  if (b === undefined) return cut(s, width);
  const half = Math.max(3, Math.floor((width - 3) / 2));
  return `${cut(a!, half)} → ${cut(b, width - 3 - half)}`;
}

/** Shorten to `width` characters with "…" at the end (lists: the first items are the biggest). */
function cutEnd(s: string, width: number): string {
  const chars = [...s];
  return chars.length <= width ? s : chars.slice(0, Math.max(0, width - 1)).join('') + '…';
}

/**
 * Items joined by `sep` on lines no wider than `columns`: `first` starts the first line, `indent` the
 * others; an item wider than a whole line is cut. `columns` 0: one line.
 */
export function wrap(items: readonly string[], columns: number, first = '  ', indent = '    ', sep = '   '): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const raw of items) {
    const room = columns > 0 ? columns - width(indent) : Infinity;
    const item = width(raw) > room ? cut(raw, room) : raw;
    if (!empty && columns > 0 && width(line) + width(sep) + width(item) > columns) {
      lines.push(line);
      line = indent;
      empty = true;
    }
    line += (empty ? '' : sep) + item;
    empty = false;
  }
  if (!empty) lines.push(line);
  return lines;
}

/** Columns padded to their widest cell; numbers right-aligned; with `fit`, no line wider than the terminal. */
export function table(headers: string[], rows: string[][], align: Align[], bold: (s: string) => string = (s) => s, fit?: Fit): string {
  const w = headers.map((h, i) => rows.reduce((m, r) => Math.max(m, width(r[i] ?? '')), width(h)));
  if (fit !== undefined && w.length > 0) {
    const total = 2 + w.reduce((x, y) => x + y, 0) + 2 * (w.length - 1);
    const over = total - fit.columns;
    if (over > 0) {
      const cur = w[fit.flex]!;
      const to = Math.max(fit.min ?? 12, cur - over, width(headers[fit.flex]!));
      if (to < cur) {
        w[fit.flex] = to;
        const shorten = fit.at === 'end' ? cutEnd : fit.at === 'pair' ? cutPair : cut;
        rows = rows.map((r) => r.map((c, i) => (i === fit.flex ? shorten(c, to) : c)));
      }
    }
  }
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
  const columns = o.columns ?? DEFAULT_COLUMNS;
  const fit = (flex: number, at: Fit['at'] = 'middle'): Fit | undefined => (columns > 0 ? { columns, flex, at } : undefined);
  const para = (items: string[], first = '  ', indent = '    ', sep = '   '): string[] => wrap(items, columns, first, indent, sep);
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
  out.push(...para(fmt.map((f, i) => (i < fmt.length - 1 ? f + ',' : f)), '  ', '    ', ' '));
  const extra: string[] = [];
  if (m.dbs.length) extra.push(`dbs ${m.dbs.map((d) => d.db).join(', ')}`);
  if (m.functions.length) extra.push(`functions ${m.functions.map((f) => `${f.library} (${f.engine}${f.functions.length ? ': ' + f.functions.join(', ') : ''})`).join('; ')}`);
  if (m.modules.length) extra.push(`modules ${m.modules.map((x) => x.name).join(', ')}`);
  if (m.slot_info) extra.push(`slot-info records ${m.slot_info}`);
  if (extra.length) out.push(...para(extra));
  out.push('');
  // Wrapped on the plain text, styled after: escape codes take no room on the terminal.
  const keysItem = `${num(t.keys)} keys`;
  const memItem = `est. memory ${human(t.memory)}`;
  const timeItem = `${r.seconds.toFixed(2)} s`;
  const totals = [keysItem, `with TTL ${num(t.with_ttl)} (${pct(t.with_ttl, t.keys)})`, `expired ${num(t.expired)}`, `serialized ${human(t.bytes)}`, memItem];
  if (t.filtered_out) totals.push(`filtered out ${num(t.filtered_out)}`);
  totals.push(timeItem);
  out.push(
    ...para(totals).map((l) =>
      l
        .replace(keysItem, bold(num(t.keys)) + ' keys')
        .replace(memItem, `est. memory ${bold(human(t.memory))}`)
        .replace(timeItem, dim(timeItem)),
    ),
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
      fit(9, 'end'),
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
      fit(6, 'end'),
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
  if (ttl.earliest) out.push(...para([`earliest expiry ${ttl.earliest},`, `latest ${ttl.latest}`], '  ', '    ', ' '));
  const hf = ttl.hash_fields;
  if (hf.fields > 0) {
    out.push(...para([`hash field TTLs: ${num(hf.fields)} fields in ${num(hf.hashes)} hashes, ${num(hf.expired)} expired;`, ...TTL_BUCKETS.map((b) => `${b} ${num(hf.buckets[b])}`)], '  ', '    ', ' '));
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
        fit(2),
      ),
    );
  };
  bigTable('Biggest keys (serialized bytes)', r.biggest_keys);
  bigTable('Biggest keys (elements)', r.biggest_keys_by_elements);

  // prefixes
  const up = r.prefix_tree.unprefixed;
  const prefixTable = (title: string, ps: PrefixStat[]): void => {
    if (ps.length === 0 && up.keys === 0) return;
    out.push('', bold(title));
    out.push(
      table(
        ['PREFIX', 'DEPTH', 'KEYS', '% KEYS', 'BYTES', 'EST. MEMORY'],
        [
          ...ps.slice(0, rows).map((p) => [cut(printableToDisplay(p.prefix), kw), String(p.depth), num(p.keys), pct(p.keys, t.keys), human(p.bytes), human(p.memory)]),
          // Keys without a ":" belong to no prefix: shown so the column of % adds up.
          ['(no prefix)', '0', num(up.keys), pct(up.keys, t.keys), human(up.bytes), human(up.memory)],
        ],
        ['l', 'r', 'r', 'r', 'r', 'r'],
        bold,
        fit(0),
      ),
    );
  };
  prefixTable(`Top prefixes by keys (split on ":", depth ≤ ${r.prefix_tree.max_depth}${r.prefix_tree.approximate ? ', approximate' : ''})`, r.prefixes);
  prefixTable('Top prefixes by bytes', r.prefixes_by_bytes);

  if (r.files && r.files.length > 1) renderFiles(r, out, bold, fit(0), o.partial ?? false, columns);

  // samples per type
  const sampleLines = Object.entries(r.by_type)
    .filter(([, s]) => s.samples.length > 0)
    .flatMap(([type, s]) => para(s.samples.map((k) => `[db${k.db}] ${cut(printableToDisplay(k.key), 40)}`), `  ${type.padEnd(7)} `, ' '.repeat(10), '  '));
  if (sampleLines.length) out.push('', bold('Sample keys'), ...sampleLines);

  // rules
  if (r.rules && r.by_category && r.unmatched && r.collisions && r.migration) {
    out.push('', bold(`Rules: ${r.rules.path} (${r.rules.rules} rules, unmatched: ${r.rules.unmatched_mode})`));
    for (const w of r.rules.warnings) out.push(...para(w.split(' '), '  warning: ', '    ', ' '));
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
        fit(6, 'pair'),
      ),
    );
    if (r.unmatched.samples.length > 1) {
      out.push(...para(r.unmatched.samples.map((k) => cut(printableToDisplay(k.key), 50)), '  unmatched samples: ', '    ', '  '));
    }
    const col = r.collisions;
    out.push(`  collisions: ${num(col.keys)}${col.keys ? ' (later keys would be dropped)' : ''}`);
    for (const c of col.samples.slice(0, 5)) {
      const half = columns > 0 ? Math.max(12, Math.min(kw, Math.floor((columns - 16) / 2))) : kw;
      out.push(`    db ${c.db} ${cut(printableToDisplay(c.new_key), half)}  ← ${cut(printableToDisplay(c.source_key), half)}`);
    }
    const mg = r.migration;
    const parts = [
      `migration: ${num(mg.keys_to_write)} keys,`,
      `${human(mg.bytes_to_write)} to write,`,
      `est. target memory ${human(mg.estimated_memory)};`,
      `dropped: expired ${num(mg.expired_dropped)},`,
      `unmatched ${num(mg.unmatched_dropped + mg.unmatched_errors)},`,
      `collisions ${num(mg.collisions_dropped)}${mg.ttl_changed ? ';' : ''}`,
      ...(mg.ttl_changed ? [`TTL changed by rules ${num(mg.ttl_changed)}`] : []),
    ];
    const head = `migration: ${num(mg.keys_to_write)} keys,`;
    const mem = `est. target memory ${human(mg.estimated_memory)};`;
    out.push(
      ...para(parts, '  ', '    ', ' ').map((l) =>
        l.replace(head, `migration: ${bold(num(mg.keys_to_write))} keys,`).replace(mem, `est. target memory ${bold(human(mg.estimated_memory))};`),
      ),
    );
  }
  return out.join('\n') + '\n';
}

/** The per-file table, slot coverage and cross-file duplicates of a many-input dataset. */
function renderFiles(r: AnalysisReport, out: string[], bold: (s: string) => string, fit: Fit | undefined, partial: boolean, columns: number): void {
  // A sentence wrapped at spaces to the terminal width, continued two columns further in.
  const say = (line: string): void => {
    const indent = /^ */.exec(line)![0];
    out.push(...wrap(line.trimStart().split(' '), columns, indent, indent + '  ', ' '));
  };
  out.push('', bold(`Files (${num(r.files.length)})`));
  out.push(
    table(
      ['FILE', 'FORMAT', 'RDB', 'KEYS', 'BYTES', 'EST. MEMORY', 'SLOTS HELD', 'SLOT RANGES'],
      r.files.map((f) => [
        f.path,
        f.format + (f.gzip ? '.gz' : ''),
        f.rdb_version === null ? '-' : String(f.rdb_version),
        num(f.keys),
        human(f.bytes),
        human(f.memory),
        num(f.slots_held) + (f.from_slot_info ? ' (slot-info)' : ''),
        cut(f.slots, 40),
      ]),
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'l'],
      bold,
      fit,
    ),
  );
  const c = r.slot_coverage;
  if (c.checked) {
    say(`  slots held by some file: ${num(c.slots_held)} of 16,384 (gaps up to ${num(c.gap_tolerance)} slots read as sparse keys)`);
    if (c.missing.slots > 0) {
      say(`  ${partial ? 'note' : 'PROBLEM'}: ${num(c.missing.slots)} slots held by no file (${cut(c.missing.ranges, 80)})${partial ? ' — --partial given' : ' — a missing shard? (--partial accepts it)'}`);
    }
    for (const ov of c.overlaps.slice(0, 10)) say(`  warning: ${ov.files[0]} and ${ov.files[1]} overlap on ${num(ov.slots)} slots (${cut(ov.ranges, 60)})`);
    if (c.overlaps.length > 10) say(`  … ${num(c.overlaps.length - 10)} more overlapping pairs in the JSON report`);
    for (const m of c.misplaced.by_file.slice(0, 10)) say(`  warning: ${num(m.keys)} keys in ${m.file} hash to slots its ranges do not own (${cut(m.ranges, 60)})`);
  }
  const d = r.duplicates;
  if (d.checked || d.keys > 0) {
    say(`  keys in more than one file: ${num(d.keys)}${d.checked ? '' : ' (within each part only: not checked across merged parts)'}`);
    for (const k of d.samples.slice(0, 5)) say(`    [db${k.db}] ${cut(printableToDisplay(k.key), 60)}  again in ${k.file}`);
  }
}

function ttlText(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86400) return `${(s / 3600).toFixed(1)}h`;
  if (s < 86400 * 365) return `${(s / 86400).toFixed(1)}d`;
  return `${(s / 86400 / 365.25).toFixed(1)}y`;
}
