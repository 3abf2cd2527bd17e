/**
 * A self-contained HTML report: inline CSS, charts drawn as inline SVG by this module (no scripts from
 * anywhere, no fonts, no network), so it opens offline in any browser and can be mailed as one file.
 * A few lines of inline script only check that the charts laid out (body[data-charts-rendered]).
 */
import type { AnalysisReport, BigKey } from './aggregator.js';
import { TTL_BUCKETS } from './aggregator.js';
import { human, num, printableToDisplay } from './render-text.js';

const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

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

interface Datum {
  label: string;
  value: number;
  /** Text shown next to the bar (default: the value with thousands separators). */
  text?: string;
  title?: string;
}

/** Vertical bars with labels under them. */
export function columnChart(id: string, title: string, data: Datum[], o: { color?: string; height?: number } = {}): string {
  const h = o.height ?? 220;
  const bw = Math.max(18, Math.min(56, Math.floor(640 / Math.max(1, data.length)) - 8));
  const gap = 8;
  const left = 10;
  const top = 20;
  const bottom = 46;
  const w = left * 2 + data.length * (bw + gap);
  const max = Math.max(1, ...data.map((d) => d.value));
  const plot = h - top - bottom;
  const bars = data
    .map((d, i) => {
      const bh = d.value === 0 ? 0 : Math.max(1, Math.round((d.value / max) * plot));
      const x = left + i * (bw + gap);
      const y = top + plot - bh;
      return (
        `<g class="mark"><rect x="${x}" y="${y}" width="${bw}" height="${bh}" fill="${o.color ?? PALETTE[0]}" data-value="${d.value}"><title>${esc(d.title ?? `${d.label}: ${num(d.value)}`)}</title></rect>` +
        `<text x="${x + bw / 2}" y="${y - 4}" text-anchor="middle" class="v">${esc(d.text ?? num(d.value))}</text>` +
        `<text x="${x + bw / 2}" y="${top + plot + 14}" text-anchor="middle" class="l">${esc(cut(d.label, 12))}</text></g>`
      );
    })
    .join('');
  return figure(id, title, `<svg class="chart" data-chart="${id}" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(title)}"><line x1="${left}" y1="${top + plot}" x2="${w - left}" y2="${top + plot}" class="axis"/>${bars}</svg>`);
}

/** Horizontal bars with a label column (long labels such as keys and prefixes). */
export function barChart(id: string, title: string, data: Datum[], o: { color?: string; labelWidth?: number } = {}): string {
  const lw = o.labelWidth ?? 300;
  const plotW = 360;
  const rowH = 22;
  const top = 6;
  const h = top * 2 + Math.max(1, data.length) * rowH;
  const w = lw + plotW + 110;
  const max = Math.max(1, ...data.map((d) => d.value));
  const bars = data
    .map((d, i) => {
      const bwid = d.value === 0 ? 0 : Math.max(1, Math.round((d.value / max) * plotW));
      const y = top + i * rowH;
      return (
        `<g class="mark"><text x="${lw - 8}" y="${y + 15}" text-anchor="end" class="l">${esc(cut(d.label, Math.floor(lw / 7)))}</text>` +
        `<rect x="${lw}" y="${y + 3}" width="${bwid}" height="${rowH - 6}" fill="${o.color ?? PALETTE[0]}" data-value="${d.value}"><title>${esc(d.title ?? `${d.label}: ${num(d.value)}`)}</title></rect>` +
        `<text x="${lw + bwid + 6}" y="${y + 15}" class="v">${esc(d.text ?? num(d.value))}</text></g>`
      );
    })
    .join('');
  const empty = data.length === 0 ? `<text x="${lw}" y="${top + 15}" class="l">no data</text>` : '';
  return figure(id, title, `<svg class="chart" data-chart="${id}" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(title)}">${bars}${empty}</svg>`);
}

/** A donut with a legend. */
export function donutChart(id: string, title: string, data: Datum[]): string {
  const total = data.reduce((a, d) => a + d.value, 0);
  const r = 80;
  const ir = 48;
  const cx = 100;
  const cy = 100;
  let angle = -Math.PI / 2;
  const arcs: string[] = [];
  const pt = (a: number, rad: number): string => `${(cx + rad * Math.cos(a)).toFixed(2)} ${(cy + rad * Math.sin(a)).toFixed(2)}`;
  data.forEach((d, i) => {
    if (d.value <= 0 || total === 0) return;
    const color = PALETTE[i % PALETTE.length];
    const tip = `<title>${esc(`${d.label}: ${num(d.value)} (${((100 * d.value) / total).toFixed(1)}%)`)}</title>`;
    if (d.value === total) {
      arcs.push(`<g class="mark"><circle cx="${cx}" cy="${cy}" r="${(r + ir) / 2}" fill="none" stroke="${color}" stroke-width="${r - ir}" data-value="${d.value}">${tip}</circle></g>`);
      return;
    }
    const a2 = angle + (2 * Math.PI * d.value) / total;
    const large = a2 - angle > Math.PI ? 1 : 0;
    arcs.push(
      `<g class="mark"><path d="M ${pt(angle, r)} A ${r} ${r} 0 ${large} 1 ${pt(a2, r)} L ${pt(a2, ir)} A ${ir} ${ir} 0 ${large} 0 ${pt(angle, ir)} Z" fill="${color}" data-value="${d.value}">${tip}</path></g>`,
    );
    angle = a2;
  });
  const legend = data
    .map(
      (d, i) =>
        `<rect x="220" y="${20 + i * 22}" width="14" height="14" fill="${PALETTE[i % PALETTE.length]}"/><text x="240" y="${32 + i * 22}" class="l">${esc(d.label)} — ${esc(d.text ?? num(d.value))} (${total ? ((100 * d.value) / total).toFixed(1) : '0'}%)</text>`,
    )
    .join('');
  const h = Math.max(200, 30 + data.length * 22);
  return figure(
    id,
    title,
    `<svg class="chart" data-chart="${id}" width="520" height="${h}" viewBox="0 0 520 ${h}" role="img" aria-label="${esc(title)}">${arcs.join('')}<text x="${cx}" y="${cy + 5}" text-anchor="middle" class="c">${esc(num(total))}</text>${legend}</svg>`,
  );
}

function figure(id: string, title: string, svg: string): string {
  return `<figure id="fig-${id}"><figcaption>${esc(title)}</figcaption>${svg}</figure>`;
}

function tableHtml(headers: string[], rows: string[][], numeric: boolean[]): string {
  const th = headers.map((h, i) => `<th${numeric[i] ? ' class="n"' : ''}>${esc(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric[i] ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${trs}</tbody></table>`;
}

function bigKeyRows(keys: BigKey[], nowMs: number): string[][] {
  return keys.map((k, i) => [
    String(i + 1),
    String(k.db),
    cut(printableToDisplay(k.key), 120),
    k.type,
    k.encoding,
    human(k.bytes),
    k.elements === null ? '-' : num(k.elements),
    human(k.memory),
    k.expire_at_ms === null ? '' : k.expire_at_ms <= nowMs ? 'expired' : new Date(k.expire_at_ms).toISOString(),
  ]);
}

/** The whole report as one HTML document. */
export function renderHtml(r: AnalysisReport): string {
  const t = r.totals;
  const types = Object.entries(r.by_type);
  const charts: string[] = [];
  charts.push(donutChart('type-mix', 'Keys by type', types.map(([type, s]) => ({ label: type, value: s.keys }))));
  charts.push(
    barChart(
      'memory-by-type',
      'Estimated memory by type',
      types.map(([type, s]) => ({ label: type, value: s.memory, text: human(s.memory) })),
      { color: PALETTE[1]!, labelWidth: 120 },
    ),
  );
  charts.push(
    columnChart(
      'ttl',
      `TTL at ${new Date(r.now_ms).toISOString()}`,
      [
        { label: 'no TTL', value: r.ttl.no_ttl },
        { label: 'expired', value: r.ttl.expired },
        ...TTL_BUCKETS.map((b) => ({ label: b, value: r.ttl.buckets[b] })),
      ],
      { color: PALETTE[4]! },
    ),
  );
  charts.push(
    columnChart(
      'sizes',
      'Serialized size per key',
      r.sizes.histogram.map((b) => ({ label: b.from === b.to ? human(b.from) : `≥${human(b.from)}`, value: b.count, title: `${human(b.from)}–${human(b.to)}: ${num(b.count)} keys` })),
      { color: PALETTE[3]! },
    ),
  );
  charts.push(
    barChart(
      'prefixes',
      'Top prefixes by keys',
      r.prefixes.map((p) => ({ label: printableToDisplay(p.prefix), value: p.keys, text: `${num(p.keys)} keys, ${human(p.bytes)}` })),
      { color: PALETTE[6]! },
    ),
  );
  charts.push(
    barChart(
      'biggest-keys',
      'Biggest keys by serialized bytes',
      r.biggest_keys.map((k) => ({ label: `${k.db}: ${printableToDisplay(k.key)}`, value: k.bytes, text: `${human(k.bytes)} (${k.type})` })),
      { color: PALETTE[2]! },
    ),
  );
  if (r.by_category) {
    const cats = Object.entries(r.by_category).map(([c, s]) => ({ label: c, value: s.keys }));
    if (r.unmatched) cats.push({ label: '(unmatched)', value: r.unmatched.keys });
    charts.push(barChart('categories', 'Keys by rule category', cats, { color: PALETTE[5]!, labelWidth: 200 }));
  }

  const m = r.metadata;
  const meta: string[][] = [
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
  const typeRows = types.map(([type, s]) => [type, num(s.keys), num(s.with_ttl), human(s.bytes), human(s.memory), num(s.elements.p50), num(s.elements.p90), num(s.elements.p99), num(s.elements.max)]);
  const dbRows = Object.entries(r.by_db).map(([db, s]) => [db, num(s.keys), num(s.with_ttl), num(s.expired), human(s.bytes), human(s.memory)]);
  const sections: string[] = [];
  sections.push(`<section><h2>Snapshot</h2>${tableHtml(['', ''], meta, [false, false])}</section>`);
  sections.push(
    `<section class="cards"><div><b>${num(t.keys)}</b>keys</div><div><b>${num(t.with_ttl)}</b>with TTL</div><div><b>${num(t.expired)}</b>expired</div><div><b>${human(t.bytes)}</b>serialized</div><div><b>${human(t.memory)}</b>est. memory</div></section>`,
  );
  sections.push(`<section><h2>Charts</h2><div class="charts">${charts.join('')}</div></section>`);
  sections.push(
    `<section><h2>By type</h2>${tableHtml(['type', 'keys', 'TTL', 'bytes', 'est. memory', 'elements p50', 'p90', 'p99', 'max'], typeRows, [false, true, true, true, true, true, true, true, true])}</section>`,
  );
  sections.push(`<section><h2>By db</h2>${tableHtml(['db', 'keys', 'TTL', 'expired', 'bytes', 'est. memory'], dbRows, [false, true, true, true, true, true])}</section>`);
  sections.push(
    `<section><h2>Biggest keys</h2>${tableHtml(['#', 'db', 'key', 'type', 'encoding', 'bytes', 'elements', 'est. memory', 'expires'], bigKeyRows(r.biggest_keys, r.now_ms), [true, true, false, false, false, true, true, true, false])}</section>`,
  );
  sections.push(
    `<section><h2>Top prefixes</h2>${tableHtml(
      ['prefix', 'depth', 'keys', 'bytes', 'est. memory'],
      r.prefixes.map((p) => [printableToDisplay(p.prefix), String(p.depth), num(p.keys), human(p.bytes), human(p.memory)]),
      [false, true, true, true, true],
    )}</section>`,
  );
  if (r.by_category && r.unmatched && r.collisions && r.migration && r.rules) {
    const rows = Object.entries(r.by_category).map(([c, s]) => [
      c,
      num(s.keys),
      human(s.bytes),
      human(s.memory),
      s.samples[0] ? `${printableToDisplay(s.samples[0].key)} → ${printableToDisplay(s.samples[0].new_key)}` : '',
    ]);
    rows.push(['(unmatched)', num(r.unmatched.keys), human(r.unmatched.bytes), human(r.unmatched.memory), r.unmatched.samples.map((k) => printableToDisplay(k.key)).join('  ')]);
    const mg = r.migration;
    sections.push(
      `<section><h2>Rules: ${esc(r.rules.path)}</h2>${tableHtml(['category', 'keys', 'bytes', 'est. memory', 'example'], rows, [false, true, true, true, false])}` +
        `<p>Collisions: <b>${num(r.collisions.keys)}</b>. Migration: <b>${num(mg.keys_to_write)}</b> keys, ${human(mg.bytes_to_write)} to write, estimated target memory <b>${human(mg.estimated_memory)}</b>; dropped: expired ${num(mg.expired_dropped)}, unmatched ${num(mg.unmatched_dropped + mg.unmatched_errors)}, collisions ${num(mg.collisions_dropped)}.</p></section>`,
    );
  }

  const css = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:4px 0}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}td{max-width:60em;overflow-wrap:anywhere}
.cards{display:flex;gap:12px;flex-wrap:wrap}.cards div{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:110px}
.cards b{display:block;font-size:20px}
.charts{display:flex;flex-wrap:wrap;gap:24px}figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}
svg text{font:11px system-ui,sans-serif;fill:#333}svg text.c{font-size:20px;font-weight:600}svg .axis{stroke:#999}
.muted{color:#777}`;
  const script = `
(function(){var n=0;var svgs=document.querySelectorAll('svg.chart');
for(var i=0;i<svgs.length;i++){var s=svgs[i];var b=s.getBBox?s.getBBox():{width:0,height:0};
var marks=s.querySelectorAll('[data-value]');var drawn=0;for(var j=0;j<marks.length;j++){var r=marks[j].getBoundingClientRect();if(r.width>0&&r.height>0)drawn++;}
s.setAttribute('data-marks-drawn',String(drawn));if(b.width>0&&b.height>0&&drawn>0)n++;}
document.body.setAttribute('data-charts',String(svgs.length));document.body.setAttribute('data-charts-rendered',String(n));})();`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>rekey analysis: ${esc(r.input.path)}</title><style>${css}</style></head>
<body><h1>rekey analysis: ${esc(r.input.path)}</h1>
<div class="muted">generated ${esc(r.generated_at)} · expiry judged at ${esc(new Date(r.now_ms).toISOString())} · memory estimates model Redis 7.0 (${esc(r.memory.model)})</div>
${sections.join('\n')}
<script>${script}</script>
</body></html>
`;
}
