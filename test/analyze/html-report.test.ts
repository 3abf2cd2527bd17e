/**
 * The HTML report as a file (the browser checks are in html-chromium.test.ts): one self-contained page
 * with ECharts inlined and nothing fetched, the chart data it embeds (log scales where counts differ by
 * orders of magnitude, a prefix treemap whose areas add up), and tables whose numeric cells sort by value.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Analyzer, TTL_BUCKETS } from '../../src/analyze/aggregator.js';
import { prefixTreemap, renderHtml, wantsLogScale } from '../../src/analyze/render-html.js';
import { hash, list, range, rec, str } from './helpers.js';

interface Node {
  name: string;
  path: string;
  value: number;
  children?: Node[];
}
interface Spec {
  id: string;
  kind: string;
  log: boolean;
  labels: string[];
  series: Array<{ values: number[] }>;
  tree?: Node[];
}

function analysis(): { a: Analyzer; html: string } {
  const a = new Analyzer({ now: 0 });
  const recs = [
    ...range(400, (i) => `user:${i}:profile`).map((k) => rec(k, str('x'.repeat(20)))),
    ...range(30, (i) => `session:${i}`).map((k) => rec(k, hash(range(20, (j) => `f${j}`).map((f) => [f, 'v'.repeat(40)] as [string, string])), { expireAtMs: 3_600_000 + 1 })),
    rec('queue:jobs', list(range(2000, (i) => `job-${i}`))),
    rec('lonely', str('no prefix here')),
    rec(Buffer.from([0xff, 0xfe, 0x3a, 0x61, 0x3a]), str('binary prefix')),
  ];
  a.addBatch(recs);
  return { a, html: renderHtml(a.report({ path: 'mem <test>.rdb', format: 'rdb' }), { prefixTree: a.prefixList() }) };
}

function specs(html: string): Spec[] {
  const m = /<script type="application\/json" id="rekey-charts">([^<]*)<\/script>/.exec(html);
  expect(m, 'chart data script').not.toBeNull();
  return JSON.parse(m![1]!) as Spec[];
}

describe('HTML report', () => {
  const { a, html } = analysis();

  it('is one file: ECharts inlined, no external resource of any kind', () => {
    const lib = readFileSync(createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'), 'utf8');
    expect(html.length).toBeGreaterThan(lib.length);
    expect(html).toContain(lib.slice(0, 2000)); // the published build (licence header first)
    expect(html).toMatch(/Apache ECharts \d+\.\d+\.\d+ \(Apache License 2\.0;/);
    const tags = html.replace(/(<script[^>]*>)[\s\S]*?<\/script>/g, '$1</script>'); // markup only, not the library's code
    expect(tags).not.toMatch(/<(link|img|iframe|object|embed)\b/i);
    expect(tags).not.toMatch(/\ssrc\s*=|url\(|@import/i);
    expect(tags).not.toMatch(/https?:\/\/(?!www\.apache\.org\/\))/); // only the NOTICE's text names a site
    expect((html.match(/<script[\s>]/g) ?? []).length).toBe(4); // licences, data, library, page script
    const licences = /<script type="text\/plain" id="licences">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(licences).toContain('Apache License');
    expect(licences).toContain('==== ZRender (bundled in ECharts) LICENSE ====\nBSD 3-Clause License');
    expect(licences).toContain('Copyright 2017-'); // ECharts NOTICE
  });

  it('escapes the input path and keys; the embedded JSON cannot end its script element', () => {
    expect(html).toContain('<title>rekey analysis: mem &lt;test&gt;.rdb</title>');
    const data = /<script type="application\/json" id="rekey-charts">([^<]*)<\/script>/.exec(html)![1]!;
    expect(data).not.toContain('</');
    const tree = specs(html).find((x) => x.id === 'prefix-treemap')!.tree!;
    expect(tree.map((n) => n.path)).toContain('"\\xff\\xfe:"'); // a binary prefix shown escaped, as in the terminal
  });

  it('uses a log scale exactly where counts differ by two orders of magnitude or more', () => {
    expect(wantsLogScale([1, 50, 99])).toBe(false);
    expect(wantsLogScale([0, 1, 100])).toBe(true);
    expect(wantsLogScale([0, 0])).toBe(false);
    const s = specs(html);
    const sizes = s.find((x) => x.id === 'sizes')!;
    expect(sizes.kind).toBe('columns');
    expect(sizes.log).toBe(wantsLogScale(sizes.series[0]!.values));
    const ttl = s.find((x) => x.id === 'ttl')!;
    expect(ttl.labels.slice(0, 2)).toEqual(['no TTL', 'expired']);
    expect(ttl.series[0]!.values[0]).toBe(403); // 400 profiles, queue, lonely, binary: no TTL
    expect(ttl.series[0]!.values[TTL_BUCKETS.indexOf('<1d') + 2]).toBe(30);
    expect(ttl.log).toBe(false); // 403 against 30: one order of magnitude, linear
    const prefixes = s.find((x) => x.id === 'prefixes')!;
    expect(prefixes.log).toBe(true); // 400 user: keys against 1 queue: key
    for (const id of ['prefix-treemap', 'types', 'encodings', 'memory-per-key', 'biggest-keys']) expect(s.some((x) => x.id === id), id).toBe(true);
  });

  it('draws the prefix treemap by memory, every parent the sum of its children, "(no prefix)" included', () => {
    const tree = specs(html).find((x) => x.id === 'prefix-treemap')!.tree!;
    const pl = a.prefixList();
    const top = new Map(pl.prefixes.filter((p) => p.depth === 1).map((p) => [typeof p.prefix === 'string' ? p.prefix : 'bin', Math.round(p.memory)]));
    expect(tree.map((n) => n.name).sort()).toEqual(['(no prefix)', 'queue:', 'session:', 'user:', '"\\xff\\xfe:"'].sort());
    expect(tree.find((n) => n.name === 'user:')!.value).toBe(top.get('user:'));
    expect(tree.find((n) => n.name === '(no prefix)')!.value).toBe(Math.round(pl.unprefixed.memory));
    const check = (n: Node): void => {
      if (!n.children) return;
      expect(n.children.reduce((x, c) => x + c.value, 0), n.path).toBe(n.value);
      n.children.forEach(check);
    };
    tree.forEach(check);
    // children are named by their own segment, under the parent's path
    const user = tree.find((n) => n.name === 'user:')!;
    expect(user.children!.some((c) => c.name === '0:' && c.path === 'user:0:')).toBe(true);
  });

  it('caps the treemap at the biggest prefixes, keeping every drawn node under a drawn parent', () => {
    const pl = a.prefixList();
    const tree = prefixTreemap(pl.prefixes, pl.unprefixed, 10);
    let count = 0;
    const walk = (n: Node): void => {
      if (n.name !== '(other keys)' && n.name !== '(no prefix)') count++;
      n.children?.forEach(walk);
    };
    tree.forEach(walk);
    expect(count).toBe(10);
    const user = tree.find((n) => n.name === 'user:')!;
    expect(user.children!.at(-1)!.name).toBe('(other keys)'); // the 400 profiles cannot all be drawn
    expect(user.children!.reduce((x, c) => x + c.value, 0)).toBe(user.value);
  });

  it('leaves out charts with nothing to draw (an empty dump: a note, no bare axes)', () => {
    const empty = new Analyzer({ now: 0 });
    const page = renderHtml(empty.report({ path: 'empty.jsonl', format: 'jsonl' }), { prefixTree: empty.prefixList() });
    expect(specs(page)).toEqual([]);
    expect(page).toContain('No keys to chart.');
    expect(page).not.toContain('class="chart ');
    // with keys but no TTL at all, the TTL chart still shows the "no TTL" column
    expect(specs(html).map((x) => x.id)).toContain('ttl');
  });

  it('writes numeric cells with the value they sort by, shown with the text report\'s formats', () => {
    const table = /<table id="table-types" class="sortable">([\s\S]*?)<\/table>/.exec(html);
    expect(table).not.toBeNull();
    expect(table![1]).toMatch(/<th class="n" tabindex="0" aria-sort="none">keys<\/th>/);
    expect(table![1]).toContain('<td class="n" data-v="402">402</td>'); // strings: 400 profiles, lonely, binary
    expect(table![1]).toContain('data-v="2000">2,000</td>'); // the queue's elements, separators shown
    expect(html).toMatch(/<td class="n" data-v="\d+">\d+(\.\d+)? (B|KiB)<\/td>/);
    expect(html).toContain('<td>(no prefix)</td>');
  });
});
