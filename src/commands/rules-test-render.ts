/**
 * `rekey rules test`, part 3: what the operator reads — each listed key (old -> new, the rule), then
 * the report as text (tables, findings, the result line); `--json` prints the same as JSON.
 */
import { EXIT_OK } from '../errors.js';
import { displayKey, toPrintable } from '../records/printable.js';
import { formatDiagnostic } from '../rules/schema.js';
import { datasetLines } from '../dataset/outcome.js';
import type { CollisionJson, KeyMapping, Printable, RulesTestReport } from './rules-test-plan.js';

interface Style {
  ok(s: string): string;
  bad(s: string): string;
  warn(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function makeStyle(color: boolean): Style {
  const wrap = (code: string) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { ok: wrap('32'), bad: wrap('31'), warn: wrap('33'), dim: wrap('2'), bold: wrap('1') };
}

function printable(p: Printable | null): string {
  if (p === null) return '';
  return typeof p === 'string' ? displayKey(Buffer.from(p, 'utf8')) : `base64:${p.base64}`;
}

/** Left-aligned columns (numbers right-aligned), header underlined with dashes. */
export function table(headers: string[], rows: string[][], numeric: boolean[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].map((l) => `  ${l}`).join('\n');
}

function num(n: number): string {
  return n.toLocaleString('en-US');
}

function collisionLines(c: CollisionJson, st: Style, limit = 20): string[] {
  const out: string[] = [];
  for (const f of c.findings.slice(0, limit)) {
    const srcs = f.sources.map((s) => `${printable(s.key)}${s.db !== f.db ? ` (db ${s.db})` : ''}`).join(', ');
    const tag = f.confirmed ? '' : st.warn(' [digest match, unconfirmed]');
    if (f.kind === 'duplicate_target') {
      out.push(`  ${st.bad('collision')} db ${f.db} ${printable(f.new_key)} <- ${srcs}${f.existing_source ? ' (also an existing source key)' : ''}${tag}`);
    } else {
      out.push(`  ${st.bad('collision')} db ${f.db} ${printable(f.new_key)} is the new name of ${srcs || '(a key)'} and also an existing source key${tag}`);
    }
  }
  if (c.total > Math.min(limit, c.findings.length)) out.push(`  ... ${num(c.total - Math.min(limit, c.findings.length))} more`);
  return out;
}

export function formatRulesTestReport(r: RulesTestReport, color: boolean): string {
  const st = makeStyle(color);
  const out: string[] = [];
  if (!r.valid) {
    out.push(st.bad(`rules file is invalid: ${r.rules_file}`));
    for (const e of r.errors) out.push(`  ${formatDiagnostic(e)}`);
    out.push('', `result: ${st.bad('INVALID')} (exit ${r.exit_code})`);
    return out.join('\n') + '\n';
  }
  out.push(st.bold(`rules: ${r.rules_file}`) + ` (${r.rules.length} rules, unmatched: ${r.unmatched_mode})`, '');
  const withKeys = r.keys !== undefined;
  const headers = ['#', 'rule', 'category', 'match', 'rename', 'tests'];
  const numeric = [true, false, false, false, false, true];
  if (withKeys) {
    headers.push('keys', 'lost');
    numeric.push(true, true);
  }
  const rows = r.rules.map((x) => {
    const row = [
      String(x.index + 1),
      x.name,
      x.category,
      x.match ?? `regex: ${x.regex}`,
      x.rename ?? '(kept)',
      num(x.tests),
    ];
    if (withKeys) row.push(num(x.keys), num(x.lost));
    return row;
  });
  out.push(table(headers, rows, numeric), '');

  const t = r.tests;
  const testLine = `tests: ${num(t.passed)} passed, ${num(t.failed)} failed (${t.file} from the file, ${t.builtin} built-in)`;
  out.push(t.failed > 0 ? st.bad(testLine) : st.ok(testLine));
  for (const f of t.failures) {
    const where = f.line !== undefined ? `${r.rules_file}:${f.line}: ` : '';
    out.push(`  ${st.bad('FAIL')} ${where}${f.name}: key ${printable(f.key)}`);
    for (const m of f.failures) out.push(`       ${m}`);
  }
  if (r.collisions.tests.total > 0) {
    out.push(st.bad(`collisions among the test keys: ${r.collisions.tests.total}`));
    for (const l of collisionLines(r.collisions.tests, st)) out.push(l);
  }

  if (r.keys) {
    const k = r.keys;
    out.push('', st.bold(`keys: ${num(k.total)} from ${k.sources.join(', ')}`) + `: ${num(k.matched)} matched, ${num(k.unmatched)} unmatched (${r.unmatched_mode})`);
    const cats = Object.entries(k.by_category).sort((a, b) => b[1] - a[1]);
    if (cats.length > 0) out.push(table(['category', 'keys'], cats.map(([c, n]) => [c, num(n)]), [false, true]));
    if (k.unmatched_samples.length > 0) {
      out.push(`  unmatched, e.g.: ${k.unmatched_samples.map(printable).join(', ')}`);
    }
    if (k.dataset) out.push(...datasetLines(k.dataset));
    const c = r.collisions.keys!;
    const mem = `${num(c.memory_bytes)} bytes table, ${c.bytes_per_key.toFixed(1)} B/key`;
    if (c.total === 0) {
      out.push(st.ok(`collisions: none`) + st.dim(` (${num(c.candidates)} digest candidates, ${num(c.false_positives)} false; ${mem})`));
    } else {
      out.push(st.bad(`collisions: ${num(c.total)}${c.confirmed ? '' : ' (unconfirmed digest matches)'}`) + st.dim(` (${mem})`));
      for (const l of collisionLines(c, st)) out.push(l);
    }
    if (c.duplicate_sources > 0) out.push(st.warn(`  ${num(c.duplicate_sources)} duplicate key line(s) in the input`));
  }

  out.push('');
  if (r.shadowed.length === 0) out.push(st.ok('shadowed rules: none'));
  else {
    out.push(st.warn(`shadowed rules: ${r.shadowed.length}`));
    for (const s of r.shadowed) out.push(`  ${st.warn(s.how)}: ${s.message}`);
  }
  if (r.never_matched.length > 0) out.push(st.warn(`rules that matched no key: ${r.never_matched.join(', ')}`));
  if (r.overlaps.length > 0) {
    out.push(`overlaps (first match wins; informational):`);
    for (const x of r.overlaps.slice(0, 30)) {
      const ex = x.how === 'observed' ? `${num(x.count ?? 0)} key(s), e.g. ${printable(x.example)}` : `e.g. ${printable(x.example)}`;
      out.push(`  ${x.how}: "${x.rule}" takes keys "${x.also_matches}" would also match: ${ex}`);
    }
    if (r.overlaps.length > 30) out.push(`  ... ${r.overlaps.length - 30} more`);
  }
  if (r.potential_collisions.length > 0) {
    out.push(st.warn(`potential collisions: ${r.potential_collisions.length}`));
    for (const p of r.potential_collisions) out.push(`  ${p.message}, e.g. ${printable(p.example)}`);
  }
  for (const w of r.warnings) out.push(st.warn(formatDiagnostic(w)));
  for (const u of r.undecided) out.push(st.dim(`not analysed statically: "${u.rule}": ${u.reason}`));
  out.push('', `result: ${r.exit_code === EXIT_OK ? st.ok('OK') : st.bad('PROBLEMS FOUND')} (exit ${r.exit_code})`);
  return out.join('\n') + '\n';
}

/** The listing's heading (text output), printed before the first key. */
export const KEY_LISTING_HEADING = 'keys (old -> new, rule):';

/** One listed key as text: `  old -> new  (rule NAME)`, `  old  (rule NAME, name kept)`, `  old  (no rule matches: kept)`. */
export function formatKeyMapping(m: KeyMapping, color: boolean): string {
  const st = makeStyle(color);
  const old = `${m.db !== undefined ? `db ${m.db} ` : ''}${displayKey(m.key)}`;
  if (m.rule === null) {
    const fate = m.unmatched === 'drop' ? st.warn('dropped') : m.unmatched === 'error' ? st.bad('an error') : 'kept';
    return `  ${old}  ${st.dim('(no rule matches:')} ${fate}${st.dim(')')}\n`;
  }
  const moved = m.toDb !== (m.db ?? 0);
  const same = m.newKey !== null && m.newKey.equals(m.key) && !moved;
  const to = same ? '' : ` -> ${moved ? `db ${m.toDb} ` : ''}${displayKey(m.newKey!)}`;
  return `  ${old}${to}  ${st.dim(`(rule ${m.rule}${same ? ', name kept' : ''})`)}\n`;
}

/** One listed key as a JSON line (`--json`): key, new_key (null: dropped), rule and category, or unmatched. */
export function keyMappingJson(m: KeyMapping): string {
  const o: Record<string, unknown> = { key: toPrintable(m.key) };
  if (m.db !== undefined) o.db = m.db;
  o.new_key = m.newKey === null ? null : toPrintable(m.newKey);
  o.to_db = m.toDb;
  o.rule = m.rule;
  o.category = m.category;
  if (m.unmatched !== null) o.unmatched = m.unmatched;
  return JSON.stringify(o) + '\n';
}
