/**
 * The HTML report opened in a real headless Chromium (Debian's `chromium`, installed by .ci/run; skipped,
 * saying so, without it). Two ways in, both plain command-line headless modes (no CDP client needed):
 * `--screenshot` for pictures of the page at two widths, and `--dump-dom` of a copy of the report with a
 * probe script appended by this test (never shipped in the report) that measures the laid-out page
 * with getBoundingClientRect: every chart drew a non-empty SVG as wide as its box, full-width charts span
 * the page, no two visible labels of a chart overlap, none sticks out of its chart, nothing was fetched,
 * and a click on a column header sorts the table. Screenshots go to a temp dir (kept in
 * $REKEY_SCREENSHOTS when set).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { analyze } from '../../src/commands/analyze.js';
import { Analyzer } from '../../src/analyze/aggregator.js';
import { renderHtml } from '../../src/analyze/render-html.js';
import { writeFileSync } from 'node:fs';
import { hash, list, rec, str } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'fixtures', 'dump.rdb');
const RULES = join(ROOT, 'examples', 'meta-glasses.rules.yaml');

function findChromium(): string | null {
  const names = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
  for (const d of (process.env.PATH ?? '').split(delimiter).concat(['/usr/bin', '/usr/local/bin'])) {
    for (const n of names) {
      try {
        accessSync(join(d, n), constants.X_OK);
        return join(d, n);
      } catch {
        /* next */
      }
    }
  }
  return null;
}

const chromium = findChromium();
if (!chromium) {
  console.warn('SKIPPED html-chromium.test.ts: no chromium on PATH (install it with `apt-get install -y chromium`); the HTML charts were not checked in a browser');
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-html-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function chrome(extra: string[], url: string): { stdout: string; status: number | null; stderr: string } {
  const profile = mkdtempSync(join(dir, 'profile-'));
  const r = spawnSync(
    chromium!,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      // Offline: a fetch the page tried would fail here (and show in the probe's resource list).
      '--host-resolver-rules=MAP * ~NOTFOUND',
      `--user-data-dir=${profile}`,
      ...extra,
      url,
    ],
    { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
  );
  return { stdout: r.stdout ?? '', status: r.status, stderr: r.stderr ?? '' };
}

/** Decode a PNG (8-bit RGB/RGBA, non-interlaced, as Chromium writes) and count distinct colours. */
function pngStats(png: Buffer): { width: number; height: number; colours: number; nonWhite: number } {
  expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  let pos = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Buffer[] = [];
  while (pos < png.length) {
    const len = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect(data[8]).toBe(8);
      colorType = data[9]!;
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const bpp = colorType === 6 ? 4 : colorType === 2 ? 3 : 0;
  expect(bpp).toBeGreaterThan(0);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[y * stride + x - bpp]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + x]! : 0;
      const c = x >= bpp && y > 0 ? out[(y - 1) * stride + x - bpp]! : 0;
      let v = src[x]!;
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * stride + x] = v & 0xff;
    }
  }
  const colours = new Set<number>();
  let nonWhite = 0;
  for (let i = 0; i < out.length; i += bpp) {
    const rgb = (out[i]! << 16) | (out[i + 1]! << 8) | out[i + 2]!;
    colours.add(rgb);
    if (rgb !== 0xffffff) nonWhite++;
  }
  return { width, height, colours: colours.size, nonWhite };
}

/**
 * Appended to a copy of the report: after the page script and a settle delay (charts follow their box
 * through a ResizeObserver), measure what was laid out and click table headers; the result goes into an
 * attribute as base64 JSON, read back from --dump-dom.
 */
const PROBE = `
setTimeout(function(){
  function box(e){var r=e.getBoundingClientRect();return{x:r.left,y:r.top,w:r.width,h:r.height};}
  function visible(e){var r=e.getBoundingClientRect();if(r.width<=0||r.height<=0||!(e.textContent||'').trim())return false;
    for(var n=e;n&&n.nodeType===1;n=n.parentNode){var cs=getComputedStyle(n);
      if(cs.display==='none'||cs.visibility==='hidden'||Number(cs.opacity)===0||n.getAttribute('opacity')==='0'||n.getAttribute('fill-opacity')==='0')return false;}
    return true;}
  var out={content:document.body.clientWidth,charts:[],sorts:{},resources:performance.getEntriesByType('resource').map(function(r){return r.name;})};
  document.querySelectorAll('.chart').forEach(function(el){
    var svg=el.querySelector('svg'),fig=el.closest('figure');
    var c={id:el.getAttribute('data-chart'),wide:fig.classList.contains('wide'),box:box(el),figure:box(fig),svg:svg?box(svg):null,marks:0,texts:[],overlaps:[],outside:[]};
    if(svg){c.marks=svg.querySelectorAll('path').length;
      var ts=Array.prototype.filter.call(svg.querySelectorAll('text'),visible),bs=ts.map(box);
      c.texts=ts.map(function(t){return t.textContent;});
      for(var i=0;i<bs.length;i++){var a=bs[i];
        if(a.x<c.svg.x-1||a.y<c.svg.y-1||a.x+a.w>c.svg.x+c.svg.w+1||a.y+a.h>c.svg.y+c.svg.h+1)c.outside.push(ts[i].textContent);
        for(var j=i+1;j<bs.length;j++){var b=bs[j];
          var ox=Math.min(a.x+a.w,b.x+b.w)-Math.max(a.x,b.x),oy=Math.min(a.y+a.h,b.y+b.h)-Math.max(a.y,b.y);
          if(ox>0.5&&oy>0.5)c.overlaps.push([ts[i].textContent,ts[j].textContent]);}}}
    out.charts.push(c);});
  function column(t,col){return Array.prototype.map.call(t.tBodies[0].rows,function(r){var c=r.cells[col];return c.hasAttribute('data-v')?Number(c.getAttribute('data-v')):c.textContent;});}
  document.querySelectorAll('table.sortable').forEach(function(t){
    var ths=Array.prototype.slice.call(t.tHead.rows[0].cells),res={headers:ths.map(function(th){return th.textContent;}),before:[],clicks:[]};
    ths.forEach(function(th,col){res.before.push(column(t,col));});
    ths.forEach(function(th,col){th.click();var a={col:col,aria:th.getAttribute('aria-sort'),values:column(t,col)};th.click();a.again={aria:th.getAttribute('aria-sort'),values:column(t,col)};res.clicks.push(a);});
    out.sorts[t.id]=res;});
  var pre=document.createElement('pre');pre.setAttribute('data-probe',btoa(unescape(encodeURIComponent(JSON.stringify(out)))));document.body.appendChild(pre);
},400);`;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}
interface Probe {
  content: number;
  resources: string[];
  charts: Array<{ id: string; wide: boolean; box: Box; figure: Box; svg: Box | null; marks: number; texts: string[]; overlaps: string[][]; outside: string[] }>;
  sorts: Record<string, { headers: string[]; before: Array<Array<string | number>>; clicks: Array<{ col: number; aria: string; values: Array<string | number>; again: { aria: string; values: Array<string | number> } }> }>;
}

/** The report laid out at `width` CSS pixels, measured by PROBE. */
function probe(htmlPath: string, width: number): Probe {
  const html = readFileSync(htmlPath, 'utf8');
  const at = html.lastIndexOf('</body>');
  expect(at).toBeGreaterThan(0);
  const copy = join(dir, `probe-${width}.html`);
  writeFileSync(copy, html.slice(0, at) + `<script>${PROBE}</script>` + html.slice(at));
  const r = chrome([`--window-size=${width},2000`, '--hide-scrollbars', '--virtual-time-budget=10000', '--dump-dom'], pathToFileURL(copy).href);
  expect(r.status, r.stderr.slice(-2000)).toBe(0);
  const m = /data-probe="([A-Za-z0-9+/=]+)"/.exec(r.stdout);
  expect(m, 'the probe did not run').not.toBeNull();
  return JSON.parse(Buffer.from(m![1]!, 'base64').toString('utf8')) as Probe;
}

const SHOTS = process.env.REKEY_SCREENSHOTS;

const sortedAsc = (v: Array<string | number>): boolean => v.every((x, i) => i === 0 || (typeof x === 'number' ? (v[i - 1] as number) <= x : (v[i - 1] as string) <= x));

describe.skipIf(!chromium || !existsSync(FIXTURE))('HTML report in headless Chromium', () => {
  let htmlPath = '';
  beforeAll(async () => {
    const r = await analyze({
      input: FIXTURE,
      rules: RULES,
      top: 10,
      samples: 3,
      html: true,
      json: false,
      'prefix-depth': 3,
      'out-dir': dir,
      'ignore-checksum': false,
      'allow-future-version': false,
    });
    htmlPath = r.htmlPath!;
  });

  it('renders every chart (checked in the DOM after the page script ran)', () => {
    const r = chrome(['--virtual-time-budget=5000', '--dump-dom'], pathToFileURL(htmlPath).href);
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const dom = r.stdout;
    const body = /<body[^>]*data-charts="(\d+)"[^>]*data-charts-rendered="(\d+)"/.exec(dom);
    expect(body, 'the page script did not run').not.toBeNull();
    const [, charts, rendered] = body!;
    expect(Number(charts)).toBeGreaterThanOrEqual(9); // treemap, types, encodings, TTL, two size histograms, biggest keys, prefixes, categories
    expect(Number(rendered)).toBe(Number(charts));
    for (const id of ['prefix-treemap', 'types', 'encodings', 'ttl', 'sizes', 'memory-per-key', 'prefixes', 'biggest-keys', 'categories']) {
      const m = new RegExp(`<div[^>]*data-chart="${id}"[^>]*data-marks-drawn="(\\d+)"`).exec(dom);
      expect(m, `chart ${id}`).not.toBeNull();
      expect(Number(m![1]), `marks drawn in ${id}`).toBeGreaterThan(0);
    }
    expect(dom).not.toContain('data-error=');
    expect(dom).toMatch(/<path d="M/);
  });

  for (const width of [1280, 820]) {
    it(`lays the charts out at ${width} px: non-empty, as wide as their boxes, no overlapping labels, nothing fetched`, () => {
      const p = probe(htmlPath, width);
      expect(p.resources).toEqual([]);
      expect(p.charts.length).toBeGreaterThanOrEqual(9);
      for (const c of p.charts) {
        expect(c.svg, `chart ${c.id} has an SVG`).not.toBeNull();
        expect(c.box.w, c.id).toBeGreaterThan(0);
        expect(c.box.h, c.id).toBeGreaterThan(100);
        expect(Math.abs(c.svg!.w - c.box.w), `${c.id}: SVG ${c.svg!.w} px wide in a ${c.box.w} px box`).toBeLessThanOrEqual(2);
        expect(Math.abs(c.svg!.h - c.box.h), c.id).toBeLessThanOrEqual(2);
        expect(c.marks, c.id).toBeGreaterThan(0);
        expect(c.texts.length, `${c.id} shows labels`).toBeGreaterThan(2);
        expect(c.overlaps, `${c.id}: labels overlapping at ${width} px`).toEqual([]);
        expect(c.outside, `${c.id}: labels outside the chart at ${width} px`).toEqual([]);
        // full-width layout: wide charts span the page; at 820 px every chart does (one column)
        if (c.wide || width < 1000) expect(c.figure.w, c.id).toBeGreaterThan(0.95 * p.content - 48);
        else expect(c.figure.w, c.id).toBeGreaterThan(0.4 * p.content);
      }
      const byId = new Map(p.charts.map((c) => [c.id, c]));
      // axes carry the formats of the text report; the treemap names the top prefixes
      expect(byId.get('ttl')!.texts).toEqual(expect.arrayContaining(['no TTL', '>=30d']));
      expect(byId.get('prefix-treemap')!.texts.some((t) => t.startsWith('josancamon'))).toBe(true);
      expect(byId.get('sizes')!.texts.some((t) => / (B|KiB)$/.test(t))).toBe(true);
    });
  }

  it('sorts a table on a click of its column header: numbers by value, text in order, a second click reverses', () => {
    const p = probe(htmlPath, 1280);
    const big = p.sorts['table-biggest'];
    expect(big, 'biggest-keys table').toBeDefined();
    const col = (name: string): number => big!.headers.indexOf(name);
    const bytes = big!.clicks.find((c) => c.col === col('bytes'))!;
    expect(bytes.aria).toBe('ascending');
    expect(bytes.values.every((v) => typeof v === 'number')).toBe(true);
    expect(sortedAsc(bytes.values)).toBe(true);
    expect(bytes.values).not.toEqual(big!.before[col('bytes')]); // it was biggest first: the click changed the order
    expect(bytes.again.aria).toBe('descending');
    expect(sortedAsc([...bytes.again.values].reverse())).toBe(true);
    const keys = big!.clicks.find((c) => c.col === col('key'))!;
    expect(sortedAsc(keys.values)).toBe(true);
    expect([...keys.values].sort()).toEqual([...(big!.before[col('key')] as string[])].sort()); // same rows, reordered
    // every sortable table sorts every column
    for (const [id, t] of Object.entries(p.sorts)) {
      for (const c of t.clicks) {
        expect(c.aria, `${id} ${t.headers[c.col]}`).toBe('ascending');
        expect(sortedAsc(c.values), `${id} ${t.headers[c.col]}`).toBe(true);
      }
    }
    expect(Object.keys(p.sorts)).toEqual(expect.arrayContaining(['table-types', 'table-dbs', 'table-prefixes', 'table-categories']));
  });

  it('paints non-blank screenshots at two widths', () => {
    const shots = SHOTS ?? join(dir, 'shots');
    mkdirSync(shots, { recursive: true });
    for (const [w, h] of [
      [1280, 2400],
      [820, 3200],
    ] as const) {
      const shot = join(shots, `report-${w}.png`);
      const r = chrome([`--window-size=${w},${h}`, '--hide-scrollbars', '--virtual-time-budget=5000', `--screenshot=${shot}`], pathToFileURL(htmlPath).href);
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      const s = pngStats(readFileSync(shot));
      expect(s.width).toBe(w);
      expect(s.colours).toBeGreaterThan(20); // palette colours, text antialiasing
      expect(s.nonWhite / (s.width * s.height)).toBeGreaterThan(0.05);
    }
    if (SHOTS) console.log(`screenshots of the HTML report in ${SHOTS}`);
  });

  it('keeps labels apart with many prefixes, very long and binary keys, and counts over orders of magnitude', () => {
    const a = new Analyzer({ now: 0, top: 25 });
    const long = 'x'.repeat(180);
    const recs = [];
    for (let t = 0; t < 40; t++) {
      for (let i = 0; i < 1 + ((t * 37) % 60); i++) recs.push(rec(`tenant-${t}-${long}:cache:${i % 7}:item:${i}`, str('v'.repeat(1 + ((i * 131) % 3000)))));
    }
    for (let i = 0; i < 3000; i++) recs.push(rec(`hot:${i}`, str('1')));
    recs.push(rec(Buffer.from([0xff, 0xfe, 0x00, 0x3a, 0x62]), list(Array.from({ length: 5000 }, (_, i) => `e${i}`))));
    a.addBatch(recs);
    const p = join(dir, 'crowded.html');
    writeFileSync(p, renderHtml(a.report({ path: 'crowded.rdb', format: 'rdb' }), { prefixTree: a.prefixList() }));
    for (const width of [1280, 820]) {
      const pr = probe(p, width);
      for (const c of pr.charts) {
        expect(c.marks, c.id).toBeGreaterThan(0);
        expect(Math.abs(c.svg!.w - c.box.w), `${c.id}: SVG ${c.svg!.w} px wide in a ${c.box.w} px box`).toBeLessThanOrEqual(2);
        expect(c.overlaps, `${c.id}: labels overlapping at ${width} px`).toEqual([]);
        expect(c.outside, `${c.id}: labels outside the chart at ${width} px`).toEqual([]);
      }
    }
  });

  it('renders an almost empty analysis without errors', () => {
    const a = new Analyzer({ now: 0 });
    a.addBatch([rec('one', str('x')), rec('two:2', list(['a'])), rec('three:3:3', hash([['f', 'v']]))]);
    const p = join(dir, 'small.html');
    writeFileSync(p, renderHtml(a.report({ path: '<tiny> & "quoted"', format: 'jsonl' })));
    const r = chrome(['--virtual-time-budget=5000', '--dump-dom'], pathToFileURL(p).href);
    expect(r.status).toBe(0);
    const m = /data-charts="(\d+)" data-charts-rendered="(\d+)"/.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(m![2]).toBe(m![1]);
    expect(r.stdout).toContain('&lt;tiny&gt; &amp; "quoted"');
  });
});
