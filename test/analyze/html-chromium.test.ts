/**
 * The HTML report opened in a real headless Chromium: the charts must lay out (every chart SVG has a
 * non-empty box and drawn marks, checked by the page's own script after load), and a screenshot must not
 * be blank. Needs Debian's `chromium` (apt-get install -y chromium); skipped, saying so, without it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

  it('paints a non-blank page', () => {
    const shot = join(dir, 'shot.png');
    const r = chrome(['--window-size=1280,1800', '--hide-scrollbars', `--screenshot=${shot}`], pathToFileURL(htmlPath).href);
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const s = pngStats(readFileSync(shot));
    expect(s.width).toBe(1280);
    expect(s.colours).toBeGreaterThan(20); // palette colours, text antialiasing
    expect(s.nonWhite / (s.width * s.height)).toBeGreaterThan(0.03);
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
