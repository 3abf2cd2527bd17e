#!/usr/bin/env node
// Lists import cycles among src/**/*.ts (static `import … from './x.js'` lines, type-only imports
// skipped: they vanish at compile time) and imports from src/sources into src/import or src/validate. Exit 1 if any.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', 'src');
const files = [];
const walk = (d) => {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (p.endsWith('.ts')) files.push(p);
  }
};
walk(root);
const edges = new Map();
for (const f of files) {
  const out = [];
  const text = readFileSync(f, 'utf8');
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+'(\.[^']+)'/gms)) {
    if (m[1]) continue;
    out.push(resolve(dirname(f), m[2].replace(/\.js$/, '.ts')));
  }
  edges.set(f, out);
}
const rel = (p) => relative(root, p);
let bad = 0;
for (const [f, to] of edges) {
  if (rel(f).startsWith('sources/')) for (const t of to) if (/^(import|validate)\//.test(rel(t))) (bad++, console.log(`layer: ${rel(f)} -> ${rel(t)}`));
}
// Tarjan's strongly connected components: any component of more than one file is a cycle.
let index = 0;
const idx = new Map(), low = new Map(), stack = [], on = new Set();
const strong = (v) => {
  idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
  for (const w of edges.get(v) ?? []) {
    if (!edges.has(w)) continue;
    if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))); }
    else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do { w = stack.pop(); on.delete(w); comp.push(w); } while (w !== v);
    if (comp.length > 1) (bad++, console.log(`cycle: ${comp.map(rel).join(' <-> ')}`));
  }
};
for (const f of edges.keys()) if (!idx.has(f)) strong(f);
process.exitCode = bad > 0 ? 1 : 0;
