/**
 * A self-contained HTML report: inline CSS, the chart data as inline JSON and Apache ECharts (from npm,
 * Apache-2.0) inlined as a script, drawn with its SVG renderer. No fetch, no font, no network: the file
 * opens offline in any browser and can be mailed as one file. Numbers and sizes are formatted here, with
 * the terminal summary's num()/human(), so the page reads like the text report; the page script only
 * maps the data to chart options, sorts tables on click and records that the charts laid out
 * (body[data-charts-rendered]).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { AnalysisReport, BigKey } from './aggregator.js';
import { TTL_BUCKETS } from './aggregator.js';
import type { HistogramBucket } from './stats.js';
import type { PrefixStat } from './prefix-tree.js';
import { human, num, printableToDisplay } from './render-text.js';

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Shorten to `n` characters with "…" in the middle (keys share prefixes; their ends differ). */
function cut(s: string, n: number): string {
  const chars = [...s];
  if (chars.length <= n) return s;
  const tail = Math.floor((n - 1) / 2);
  const head = Math.max(1, n - 1 - tail);
  return chars.slice(0, head).join('') + '…' + chars.slice(chars.length - tail).join('');
}

interface ChartLibrary {
  code: string;
  version: string;
  /** ECharts' LICENSE and NOTICE, and those of what its bundle embeds (zrender, d3 parts). */
  licences: string;
}

let echartsSource: ChartLibrary | null = null;

/** Inside <script>, only "</script" could end the element early. */
const scriptSafe = (s: string): string => s.replace(/<\/(script)/gi, '<\\/$1');

/** The published minified build (it carries its licence header) and the licence texts, read once per process. */
function echarts(): ChartLibrary {
  if (echartsSource === null) {
    const req = createRequire(import.meta.url);
    const pkg = req.resolve('echarts/package.json');
    const dir = dirname(pkg);
    const zrender = dirname(createRequire(pkg).resolve('zrender/package.json'));
    const code = readFileSync(join(dir, 'dist', 'echarts.min.js'), 'utf8');
    const version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
    const licences = [
      ['Apache ECharts NOTICE', join(dir, 'NOTICE')],
      ['Apache ECharts LICENSE', join(dir, 'LICENSE')],
      ['d3 (parts embedded by ECharts) LICENSE', join(dir, 'licenses', 'LICENSE-d3')],
      ['ZRender (bundled in ECharts) LICENSE', join(zrender, 'LICENSE')],
    ]
      .map(([title, path]) => `==== ${title} ====\n${readFileSync(path!, 'utf8').trim()}\n`)
      .join('\n');
    echartsSource = { code: scriptSafe(code), version, licences: scriptSafe(licences) };
  }
  return echartsSource;
}

/** Counts differ by two orders of magnitude or more: a linear axis would hide the small ones. */
export function wantsLogScale(values: readonly number[]): boolean {
  let min = Infinity;
  let max = 0;
  for (const v of values) {
    if (v <= 0) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return max > 0 && max / min >= 100;
}

interface Series {
  name: string;
  values: number[];
  /** Tooltip line per point (the value as the tables show it). */
  tips: string[];
}

/** What the page script needs for one chart; `unit` picks the axis tick format. */
interface ChartSpec {
  id: string;
  title: string;
  kind: 'columns' | 'bars' | 'treemap';
  /** Full row of the grid (long labels, the treemap). */
  wide: boolean;
  labels: string[];
  /** Uncut labels (keys, prefixes) for the tooltip, when `labels` had to be shortened. */
  names?: string[];
  series: Series[];
  unit: 'keys' | 'bytes' | 'percent';
  log: boolean;
  tree?: TreeNode[];
}

interface TreeNode {
  name: string;
  /** The whole prefix (tooltip, breadcrumb). */
  path: string;
  value: number;
  tip: string;
  children?: TreeNode[];
}

function columns(id: string, title: string, labels: string[], series: Series[], unit: ChartSpec['unit'], wide = false): ChartSpec {
  return { id, title, kind: 'columns', wide, labels, series, unit, log: unit !== 'percent' && wantsLogScale(series.flatMap((s) => s.values)) };
}

/** Longest bar label: keys and prefixes are cut in the middle here (their ends differ), whole in the tooltip. */
const BAR_LABEL_CHARS = 56;

function bars(id: string, title: string, labels: string[], series: Series[], unit: ChartSpec['unit'], wide = true): ChartSpec {
  const cutLabels = labels.map((l) => cut(l, BAR_LABEL_CHARS));
  const names = cutLabels.some((l, i) => l !== labels[i]) ? { names: labels } : {};
  return { ...columns(id, title, cutLabels, series, unit, wide), ...names, kind: 'bars' };
}

/** A bucket bound as an axis label: 512 B, 1 KiB, 1.5 KiB (no trailing zeros: ticks stay short). */
export function compactSize(v: number): string {
  return human(v).replace(/\.0+ /, ' ').replace(/(\.\d*?)0+ /, '$1 ');
}

/** A power-of-two histogram: each column labelled by its lower bound, the range in the tooltip. */
function histogram(id: string, title: string, hist: readonly HistogramBucket[]): ChartSpec {
  return columns(
    id,
    title,
    hist.map((b) => compactSize(b.from)),
    [{ name: 'keys', values: hist.map((b) => b.count), tips: hist.map((b) => `${num(b.count)} keys of ${b.from === b.to ? human(b.from) : `${human(b.from)} to ${human(b.to)}`}`) }],
    'keys',
  );
}

/** Most prefixes the treemap draws (by memory; the biggest first, each under its parent). */
const TREEMAP_NODES = 1500;

/**
 * The prefix tree as treemap nodes sized by estimated memory. Each parent gets an "(other keys)" child for
 * the memory its drawn children do not cover (keys ending at that level, pruned or undrawn prefixes), so
 * areas add up to the parent's.
 */
export function prefixTreemap(list: readonly PrefixStat[], unprefixed: { keys: number; bytes: number; memory: number }, maxNodes = TREEMAP_NODES): TreeNode[] {
  const raw = (p: PrefixStat['prefix']): string => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p.base64, 'base64')).toString('latin1');
  const parentOf = (id: string): string => id.slice(0, id.lastIndexOf(':', id.length - 2) + 1);
  const stat = (s: { keys: number; bytes: number; memory: number }): string => `${num(s.keys)} keys, ${human(s.bytes)} serialized, est. memory ${human(s.memory)}`;
  const byMemory = [...list].sort((a, b) => b.memory - a.memory || a.depth - b.depth);
  const nodes = new Map<string, { node: TreeNode; stat: PrefixStat }>();
  const roots: TreeNode[] = [];
  for (const p of byMemory) {
    if (nodes.size >= maxNodes) break;
    const id = raw(p.prefix);
    const display = printableToDisplay(p.prefix);
    const parent = p.depth > 1 ? nodes.get(parentOf(id)) : undefined;
    if (p.depth > 1 && parent === undefined) continue; // its parent is not drawn: counted in an "(other keys)"
    const name = parent ? display.slice(printableToDisplay(parent.stat.prefix).length) || display : display;
    const node: TreeNode = { name, path: display, value: Math.round(p.memory), tip: stat(p) };
    nodes.set(id, { node, stat: p });
    if (parent) (parent.node.children ??= []).push(node);
    else roots.push(node);
  }
  for (const { node, stat: s } of nodes.values()) {
    if (!node.children) continue;
    const rest = Math.round(s.memory) - node.children.reduce((a, c) => a + c.value, 0);
    if (rest > 0) node.children.push({ name: '(other keys)', path: `${node.path} (other keys)`, value: rest, tip: `est. memory ${human(rest)} in keys under ${node.path} not drawn apart` });
  }
  if (unprefixed.keys > 0) roots.push({ name: '(no prefix)', path: '(no prefix)', value: Math.round(unprefixed.memory), tip: stat(unprefixed) });
  return roots;
}

/** A table cell: its text, and for numbers the value it sorts by (sizes are shown humanised). */
type Cell = string | { text: string; v: number };

const n = (v: number): Cell => ({ text: num(v), v });
const h = (v: number): Cell => ({ text: human(v), v });

/** A table whose columns sort on a click of their header (numbers by value, text by code point). */
function tableHtml(headers: string[], rows: Cell[][], o: { sortable?: boolean; id?: string } = {}): string {
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'object'));
  const sortable = o.sortable ?? true;
  const th = headers.map((x, i) => `<th${numeric[i] ? ' class="n"' : ''}${sortable ? ' tabindex="0" aria-sort="none"' : ''}>${esc(x)}</th>`).join('');
  const td = (c: Cell | undefined): string => (c === undefined ? '<td></td>' : typeof c === 'string' ? `<td>${esc(c)}</td>` : `<td class="n" data-v="${c.v}">${esc(c.text)}</td>`);
  const trs = rows.map((r) => `<tr>${headers.map((_, i) => td(r[i])).join('')}</tr>`).join('');
  return `<table${o.id ? ` id="${o.id}"` : ''}${sortable ? ' class="sortable"' : ''}><thead><tr>${th}</tr></thead><tbody>${trs}</tbody></table>`;
}

function bigKeyRows(keys: BigKey[], nowMs: number): Cell[][] {
  return keys.map((k, i) => [
    n(i + 1),
    n(k.db),
    cut(printableToDisplay(k.key), 120),
    k.type,
    k.encoding,
    h(k.bytes),
    k.elements === null ? { text: '-', v: -1 } : n(k.elements),
    h(k.memory),
    k.expire_at_ms === null ? '' : k.expire_at_ms <= nowMs ? 'expired' : new Date(k.expire_at_ms).toISOString(),
  ]);
}

export interface HtmlOptions {
  /** Every prefix of the tree (Analyzer.prefixList()); without it the treemap shows the report's top prefixes. */
  prefixTree?: { prefixes: readonly PrefixStat[]; unprefixed: { keys: number; bytes: number; memory: number } };
}

function chartSpecs(r: AnalysisReport, o: HtmlOptions): ChartSpec[] {
  const types = Object.entries(r.by_type);
  const t = r.totals;
  const specs: ChartSpec[] = [];
  const tree = o.prefixTree ?? { prefixes: uniquePrefixes([...r.prefixes, ...r.prefixes_by_bytes]), unprefixed: r.prefix_tree.unprefixed };
  specs.push({
    id: 'prefix-treemap',
    title: `Estimated memory by key prefix (split on "${r.prefix_tree.separator}", depth ≤ ${r.prefix_tree.max_depth}; click to zoom)`,
    kind: 'treemap',
    wide: true,
    labels: [],
    series: [],
    unit: 'bytes',
    log: false,
    tree: prefixTreemap(tree.prefixes, tree.unprefixed),
  });
  const share = (part: number, whole: number): number => (whole > 0 ? Math.round((1000 * part) / whole) / 10 : 0);
  specs.push(
    bars(
      'types',
      'Share of keys and of estimated memory by type',
      types.map(([type]) => type),
      [
        { name: '% of keys', values: types.map(([, s]) => share(s.keys, t.keys)), tips: types.map(([, s]) => `${num(s.keys)} keys`) },
        { name: '% of est. memory', values: types.map(([, s]) => share(s.memory, t.memory)), tips: types.map(([, s]) => human(s.memory)) },
      ],
      'percent',
      false,
    ),
  );
  const encs = Object.values(r.by_encoding).sort((a, b) => b.memory - a.memory);
  specs.push(
    bars(
      'encodings',
      'Estimated memory by type and encoding',
      encs.map((e) => `${e.type} ${e.encoding}`),
      [{ name: 'est. memory', values: encs.map((e) => e.memory), tips: encs.map((e) => `${human(e.memory)}, ${num(e.keys)} keys`) }],
      'bytes',
      false,
    ),
  );
  const ttlLabels = ['no TTL', 'expired', ...TTL_BUCKETS];
  const ttlValues = [r.ttl.no_ttl, r.ttl.expired, ...TTL_BUCKETS.map((b) => r.ttl.buckets[b])];
  specs.push(columns('ttl', `Keys by time to live at ${new Date(r.now_ms).toISOString()}`, ttlLabels, [{ name: 'keys', values: ttlValues, tips: ttlValues.map((v) => `${num(v)} keys`) }], 'keys'));
  specs.push(histogram('sizes', 'Keys by serialized size (power-of-two buckets, from)', r.sizes.histogram));
  specs.push(histogram('memory-per-key', 'Keys by estimated memory (power-of-two buckets, from)', r.memory.per_key.histogram));
  const bigMem = r.biggest_keys_by_memory;
  specs.push(
    bars(
      'biggest-keys',
      'Biggest keys by estimated memory',
      bigMem.map((k) => `db${k.db} ${printableToDisplay(k.key)}`),
      [{ name: 'est. memory', values: bigMem.map((k) => k.memory), tips: bigMem.map((k) => `${human(k.memory)} (${k.type} ${k.encoding}, ${human(k.bytes)} serialized)`) }],
      'bytes',
    ),
  );
  specs.push(
    bars(
      'prefixes',
      'Top prefixes by keys',
      r.prefixes.map((p) => printableToDisplay(p.prefix)),
      [{ name: 'keys', values: r.prefixes.map((p) => p.keys), tips: r.prefixes.map((p) => `${num(p.keys)} keys, ${human(p.bytes)}, est. memory ${human(p.memory)}`) }],
      'keys',
    ),
  );
  if (r.by_category) {
    const cats: Array<[string, number, number]> = Object.entries(r.by_category).map(([c, s]) => [c, s.keys, s.memory]);
    if (r.unmatched) cats.push(['(unmatched)', r.unmatched.keys, r.unmatched.memory]);
    specs.push(
      bars(
        'categories',
        'Keys by rule category',
        cats.map((c) => c[0]),
        [{ name: 'keys', values: cats.map((c) => c[1]), tips: cats.map((c) => `${num(c[1])} keys, est. memory ${human(c[2])}`) }],
        'keys',
        false,
      ),
    );
  }
  // A chart with nothing to draw (an empty dump, no TTLs) would be bare axes: left out instead.
  return specs.filter((c) => (c.tree ? c.tree.some((n) => n.value > 0) : c.series.some((x) => x.values.some((v) => v > 0))));
}

function uniquePrefixes(ps: PrefixStat[]): PrefixStat[] {
  const seen = new Set<string>();
  return ps.filter((p) => {
    const k = `${p.depth}\0${typeof p.prefix === 'string' ? p.prefix : p.prefix.base64}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The report's charts as JSON inside a <script type="application/json"> (no "<" to end it early). */
function jsonScript(id: string, v: unknown): string {
  const json = JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return `<script type="application/json" id="${id}">${json}</script>`;
}

/** The whole report as one HTML document. */
export function renderHtml(r: AnalysisReport, o: HtmlOptions = {}): string {
  const t = r.totals;
  const types = Object.entries(r.by_type);
  const specs = chartSpecs(r, o);
  const charts = specs
    .map((c) => `<figure class="${c.wide ? 'wide' : ''}"><figcaption>${esc(c.title)}${c.log ? ' <span class="muted">(log scale)</span>' : ''}</figcaption><div class="chart chart-${c.kind}" id="chart-${c.id}" data-chart="${c.id}"></div></figure>`)
    .join('');

  const m = r.metadata;
  const meta: Cell[][] = [
    ['input', `${r.input.path} (${r.input.format}${r.input.gzip ? ', gzip' : ''}${r.input.size !== null ? ', ' + human(r.input.size) : ''})`],
    ['RDB version', m.rdb_version === null ? '-' : `${m.rdb_version} (${m.magic ?? ''})`],
    ['redis-ver', m.redis_ver ?? '-'],
    ['ctime', m.ctime_iso ?? '-'],
    ['used-mem', m.used_mem === null ? '-' : human(m.used_mem)],
    ['dbs', m.dbs.map((d) => String(d.db)).join(', ') || '-'],
    ['functions', m.functions.map((f) => `${f.library} (${f.engine})`).join(', ') || '-'],
    ['modules', m.modules.map((x) => x.name).join(', ') || '-'],
    ['checksum', m.checksum],
  ];
  const typeRows = types.map(([type, s]): Cell[] => [type, n(s.keys), n(s.with_ttl), h(s.bytes), h(s.memory), n(s.elements.p50), n(s.elements.p90), n(s.elements.p99), n(s.elements.max)]);
  const encRows = Object.values(r.by_encoding).map((e): Cell[] => [e.type, e.encoding, n(e.keys), h(e.bytes), h(e.memory), n(e.elements.p50), n(e.elements.max)]);
  const dbRows = Object.entries(r.by_db).map(([db, s]): Cell[] => [n(Number(db)), n(s.keys), n(s.with_ttl), n(s.expired), h(s.bytes), h(s.memory)]);
  const bigHeaders = ['#', 'db', 'key', 'type', 'encoding', 'bytes', 'elements', 'est. memory', 'expires'];
  const sections: string[] = [];
  sections.push(`<section><h2>Snapshot</h2>${tableHtml(['', ''], meta, { sortable: false })}</section>`);
  sections.push(
    `<section class="cards"><div><b>${num(t.keys)}</b>keys</div><div><b>${num(t.with_ttl)}</b>with TTL</div><div><b>${num(t.expired)}</b>expired</div><div><b>${human(t.bytes)}</b>serialized</div><div><b>${human(t.memory)}</b>est. memory</div></section>`,
  );
  sections.push(`<section><h2>Charts</h2>${charts ? `<div class="charts">${charts}</div>` : '<p class="muted">No keys to chart.</p>'}</section>`);
  sections.push(`<section><h2>By type</h2>${tableHtml(['type', 'keys', 'TTL', 'bytes', 'est. memory', 'elements p50', 'p90', 'p99', 'max'], typeRows, { id: 'table-types' })}</section>`);
  sections.push(`<section><h2>By encoding</h2>${tableHtml(['type', 'encoding', 'keys', 'bytes', 'est. memory', 'elements p50', 'max'], encRows, { id: 'table-encodings' })}</section>`);
  sections.push(`<section><h2>By db</h2>${tableHtml(['db', 'keys', 'TTL', 'expired', 'bytes', 'est. memory'], dbRows, { id: 'table-dbs' })}</section>`);
  sections.push(`<section><h2>Biggest keys by serialized bytes</h2>${tableHtml(bigHeaders, bigKeyRows(r.biggest_keys, r.now_ms), { id: 'table-biggest' })}</section>`);
  sections.push(`<section><h2>Biggest keys by estimated memory</h2>${tableHtml(bigHeaders, bigKeyRows(r.biggest_keys_by_memory, r.now_ms), { id: 'table-biggest-memory' })}</section>`);
  const up = r.prefix_tree.unprefixed;
  const prefixRows = uniquePrefixes([...r.prefixes, ...r.prefixes_by_bytes]).map((p): Cell[] => [printableToDisplay(p.prefix), n(p.depth), n(p.keys), h(p.bytes), h(p.memory)]);
  if (up.keys > 0) prefixRows.push(['(no prefix)', n(0), n(up.keys), h(up.bytes), h(up.memory)]);
  sections.push(`<section><h2>Top prefixes (by keys and by bytes)</h2>${tableHtml(['prefix', 'depth', 'keys', 'bytes', 'est. memory'], prefixRows, { id: 'table-prefixes' })}</section>`);
  if (r.by_category && r.unmatched && r.collisions && r.migration && r.rules) {
    const rows = Object.entries(r.by_category).map(([c, s]): Cell[] => [
      c,
      n(s.keys),
      h(s.bytes),
      h(s.memory),
      s.samples[0] ? `${printableToDisplay(s.samples[0].key)} → ${printableToDisplay(s.samples[0].new_key)}` : '',
    ]);
    rows.push(['(unmatched)', n(r.unmatched.keys), h(r.unmatched.bytes), h(r.unmatched.memory), r.unmatched.samples.map((k) => printableToDisplay(k.key)).join('  ')]);
    const mg = r.migration;
    sections.push(
      `<section><h2>Rules: ${esc(r.rules.path)}</h2>${tableHtml(['category', 'keys', 'bytes', 'est. memory', 'example'], rows, { id: 'table-categories' })}` +
        `<p>Collisions: <b>${num(r.collisions.keys)}</b>. Migration: <b>${num(mg.keys_to_write)}</b> keys, ${human(mg.bytes_to_write)} to write, estimated target memory <b>${human(mg.estimated_memory)}</b>; dropped: expired ${num(mg.expired_dropped)}, unmatched ${num(mg.unmatched_dropped + mg.unmatched_errors)}, collisions ${num(mg.collisions_dropped)}.</p></section>`,
    );
  }

  const lib = echarts();
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>rekey analysis: ${esc(r.input.path)}</title><style>${CSS}</style></head>
<body><h1>rekey analysis: ${esc(r.input.path)}</h1>
<div class="muted">generated ${esc(r.generated_at)} · expiry judged at ${esc(new Date(r.now_ms).toISOString())} · memory estimates model Redis 7.0 (${esc(r.memory.model)})</div>
${sections.join('\n')}
<footer class="muted">Charts drawn by Apache ECharts ${esc(lib.version)} (Apache License 2.0; it bundles ZRender and parts of d3, BSD-3-Clause), inlined in this file; the licence texts are in the script element "licences" of this page. This product includes software developed at The Apache Software Foundation (https://www.apache.org/).</footer>
<script type="text/plain" id="licences">
${lib.licences}</script>
${jsonScript('rekey-charts', specs)}
<script>${lib.code}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:20px 24px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:4px 0}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}td{max-width:60em;overflow-wrap:anywhere}
table.sortable th{cursor:pointer;user-select:none;white-space:nowrap}table.sortable th:hover{background:#f4f4f4}
th[aria-sort=ascending]::after{content:" ▲";font-size:10px}th[aria-sort=descending]::after{content:" ▼";font-size:10px}
.cards{display:flex;gap:12px;flex-wrap:wrap}.cards div{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:110px}
.cards b{display:block;font-size:20px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:20px 28px}
figure{margin:0;min-width:0}figure.wide{grid-column:1/-1}figcaption{font-weight:600;margin-bottom:4px}
.chart{width:100%;height:320px}.chart-treemap{height:560px}
.muted{color:#777;font-weight:normal}footer{margin-top:32px;font-size:12px}`;

/**
 * The page's own script (plain ES2017, no build step): chart options from the JSON, log axes where the
 * report said so, labels that give way instead of overlapping (hideOverlap, truncation), tables sorted
 * on click, and a record on <body> of how many charts drew a non-empty SVG.
 */
const PAGE_SCRIPT = `
(function(){
'use strict';
var specs=JSON.parse(document.getElementById('rekey-charts').textContent);
function num(n){var r=Math.round(n),s=String(Math.abs(r)).replace(/\\B(?=(\\d{3})+(?!\\d))/g,',');return r<0?'-'+s:s;}
function human(n){var u=['B','KiB','MiB','GiB','TiB','PiB'],i=0,v=n;while(Math.abs(v)>=1024&&i<u.length-1){v/=1024;i++;}
return i===0?num(v)+' B':v.toFixed(Math.abs(v)<10?2:1)+' '+u[i];}
function fmt(unit){return unit==='bytes'?human:unit==='percent'?function(v){return v+'%';}:num;}
// Axis ticks without trailing zeros (1 KiB, 32 KiB), as compactSize() labels the histogram buckets.
function tick(unit){return unit==='bytes'?function(v){return human(v).replace(/\\.0+ /,' ').replace(/(\\.\\d*?)0+ /,'$1 ');}:fmt(unit);}
var PALETTE=['#4e79a7','#f28e2b','#e15759','#76b7b2','#59a14f','#edc948','#b07aa1','#ff9da7','#9c755f','#bab0ac'];
function valueAxis(s){var a={type:s.log?'log':'value',logBase:s.unit==='bytes'?32:10,minInterval:s.unit==='percent'?0:1,axisLabel:{formatter:tick(s.unit),hideOverlap:true},splitLine:{lineStyle:{color:'#eee'}}};
if(s.log)a.min=1;if(s.unit==='percent'){a.max=100;}return a;}
function data(s,series){return series.values.map(function(v){return s.log&&v<=0?null:v;});}
function tooltip(s){return{trigger:'axis',axisPointer:{type:'shadow'},confine:true,formatter:function(ps){
var out=[];ps.forEach(function(p){var ser=s.series[p.seriesIndex];out.push(p.marker+ser.name+': '+ser.tips[p.dataIndex]);});
return esc(s.names?s.names[ps[0].dataIndex]:ps[0].name)+'<br>'+out.join('<br>');}};}
function esc(t){return String(t).replace(/[&<>"]/g,function(c){return{'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c];});}
function option(s,el){
if(s.kind==='treemap')return{color:PALETTE,tooltip:{confine:true,formatter:function(p){return esc(p.data.path)+'<br>'+esc(p.data.tip);}},
series:[{type:'treemap',data:s.tree,roam:false,nodeClick:'zoomToNode',visibleMin:200,top:8,left:4,right:4,bottom:36,
breadcrumb:{bottom:4},label:{show:true,formatter:'{b}',overflow:'truncate'},upperLabel:{show:true,height:20,overflow:'truncate',color:'#fff'},
levels:[{itemStyle:{borderWidth:0,gapWidth:3}},{itemStyle:{borderColor:'#555',borderWidth:2,gapWidth:1}},{colorSaturation:[0.35,0.6],itemStyle:{gapWidth:1,borderColorSaturation:0.6}}]}]};
var multi=s.series.length>1;
var series=s.series.map(function(ser,i){return{type:'bar',name:ser.name,data:data(s,ser),itemStyle:{color:PALETTE[(i+(s.id.length%7))%PALETTE.length]},barMaxWidth:48,
label:{show:s.labels.length<=24,position:s.kind==='bars'?'right':'top',formatter:function(p){return p.value==null?'':fmt(s.unit)(p.value);},fontSize:11},labelLayout:{hideOverlap:true}};});
var cat={type:'category',data:s.labels,axisTick:{alignWithLabel:true}};
var o={color:PALETTE,animation:false,tooltip:tooltip(s),legend:multi?{top:0}:undefined,series:series};
if(s.kind==='bars'){
cat.inverse=true;cat.axisLabel={interval:0};
o.grid={left:8,right:64,top:multi?28:8,bottom:8,containLabel:true};o.yAxis=cat;o.xAxis=valueAxis(s);
}else{
cat.axisLabel={hideOverlap:true,fontSize:11};
o.grid={left:8,right:16,top:multi?32:20,bottom:8,containLabel:true};o.xAxis=cat;o.yAxis=valueAxis(s);
}
return o;}
var charts=[];var drawn=0;
specs.forEach(function(s){var el=document.getElementById('chart-'+s.id);if(!el)return;
if(s.kind==='bars')el.style.height=Math.max(160,40+(s.series.length>1?28:0)+s.labels.length*s.series.length*22)+'px';
try{var c=echarts.init(el,null,{renderer:'svg'});c.setOption(option(s,el));charts.push(c);
var svg=el.querySelector('svg');var b=svg?svg.getBoundingClientRect():{width:0,height:0};
var marks=svg?svg.querySelectorAll('path').length:0;el.setAttribute('data-marks-drawn',String(marks));
if(b.width>0&&b.height>0&&marks>0)drawn++;}catch(e){el.textContent='chart failed: '+e.message;el.setAttribute('data-error',e.message);}});
// Charts follow their box (window resize, grid reflow); init may run before the final layout.
if(typeof ResizeObserver==='function'){var ro=new ResizeObserver(function(){charts.forEach(function(c){c.resize();});});charts.forEach(function(c){ro.observe(c.getDom());});}
else window.addEventListener('resize',function(){charts.forEach(function(c){c.resize();});});
document.body.setAttribute('data-charts',String(specs.length));document.body.setAttribute('data-charts-rendered',String(drawn));
// Sortable tables: numbers by data-v, text by code point; a second click reverses.
Array.prototype.forEach.call(document.querySelectorAll('table.sortable'),function(t){
var ths=t.tHead.rows[0].cells;Array.prototype.forEach.call(ths,function(th,col){
function sort(){var dir=th.getAttribute('aria-sort')==='ascending'?'descending':'ascending';
Array.prototype.forEach.call(ths,function(x){x.setAttribute('aria-sort','none');});th.setAttribute('aria-sort',dir);
var body=t.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
rows.sort(function(a,b){var x=a.cells[col],y=b.cells[col];var r;
if(x.hasAttribute('data-v')&&y.hasAttribute('data-v'))r=Number(x.getAttribute('data-v'))-Number(y.getAttribute('data-v'));
else{var p=x.textContent,q=y.textContent;r=p<q?-1:p>q?1:0;}return dir==='ascending'?r:-r;});
rows.forEach(function(r){body.appendChild(r);});}
th.addEventListener('click',sort);th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sort();}});});});
})();`;
