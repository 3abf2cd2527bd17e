/**
 * Where the keys of a command are, from the source's own COMMAND reply (Redis 7 key specs: begin_search
 * index|keyword, find_keys range|keynum; the same walk as db.c getKeysUsingKeySpecs), with the legacy
 * first/last/step triple for servers without key specs. Read once per sync and cached.
 */
import type { LogicalType } from '../records/types.js';

export type Reply = string | number | Buffer | null | { message: string } | Reply[];

interface KeySpec {
  incomplete: boolean;
  begin: { kind: 'index'; index: number } | { kind: 'keyword'; keyword: string; startfrom: number } | { kind: 'unknown' };
  find: { kind: 'range'; lastkey: number; step: number; limit: number } | { kind: 'keynum'; keynumidx: number; firstkey: number; step: number } | { kind: 'unknown' };
}

export interface CommandSpec {
  name: string;
  arity: number;
  flags: Set<string>;
  firstKey: number;
  lastKey: number;
  step: number;
  /** The value type the command works on, from its ACL categories (@hash, @list…), else null. */
  type: LogicalType | null;
  specs: KeySpec[] | null;
  subcommands: Map<string, CommandSpec>;
}

export type KeyPositions = { ok: true; positions: number[] } | { ok: false; reason: string };

const text = (r: Reply | undefined): string => (Buffer.isBuffer(r) ? r.toString('latin1') : typeof r === 'string' ? r : typeof r === 'number' ? String(r) : '');
const num = (r: Reply | undefined): number => (typeof r === 'number' ? r : Number(text(r)));

/** A flat RESP2 map ([k1, v1, k2, v2…]) as a Map. */
function flatMap(r: Reply | undefined): Map<string, Reply> {
  const m = new Map<string, Reply>();
  if (!Array.isArray(r)) return m;
  for (let i = 0; i + 1 < r.length; i += 2) m.set(text(r[i]).toLowerCase(), r[i + 1]!);
  return m;
}

const CATEGORY_TYPE: Record<string, LogicalType> = {
  '@string': 'string',
  '@bitmap': 'string',
  '@hyperloglog': 'string',
  '@list': 'list',
  '@set': 'set',
  '@sortedset': 'zset',
  '@geo': 'zset',
  '@hash': 'hash',
  '@stream': 'stream',
};

function parseKeySpec(r: Reply): KeySpec {
  const m = flatMap(r);
  const flags = Array.isArray(m.get('flags')) ? (m.get('flags') as Reply[]).map((f) => text(f).toLowerCase()) : [];
  const bs = flatMap(m.get('begin_search'));
  const fk = flatMap(m.get('find_keys'));
  const bspec = flatMap(bs.get('spec'));
  const fspec = flatMap(fk.get('spec'));
  let begin: KeySpec['begin'] = { kind: 'unknown' };
  if (text(bs.get('type')) === 'index') begin = { kind: 'index', index: num(bspec.get('index')) };
  else if (text(bs.get('type')) === 'keyword') begin = { kind: 'keyword', keyword: text(bspec.get('keyword')), startfrom: num(bspec.get('startfrom')) };
  let find: KeySpec['find'] = { kind: 'unknown' };
  if (text(fk.get('type')) === 'range') find = { kind: 'range', lastkey: num(fspec.get('lastkey')), step: num(fspec.get('keystep')), limit: num(fspec.get('limit')) };
  else if (text(fk.get('type')) === 'keynum') find = { kind: 'keynum', keynumidx: num(fspec.get('keynumidx')), firstkey: num(fspec.get('firstkey')), step: num(fspec.get('keystep')) };
  return { incomplete: flags.includes('incomplete'), begin, find };
}

/** One entry of the COMMAND reply. */
export function parseCommandEntry(r: Reply): CommandSpec | null {
  if (!Array.isArray(r) || r.length < 6) return null;
  const cats = Array.isArray(r[6]) ? (r[6] as Reply[]).map((c) => text(c).toLowerCase()) : [];
  // One type category names the key's type; several (SORT: @set @sortedset @list) name none.
  const types = new Set(cats.map((c) => CATEGORY_TYPE[c]).filter((t): t is LogicalType => t !== undefined));
  const type: LogicalType | null = types.size === 1 ? [...types][0]! : null;
  const spec: CommandSpec = {
    name: text(r[0]).toLowerCase(),
    arity: num(r[1]),
    flags: new Set(Array.isArray(r[2]) ? (r[2] as Reply[]).map((f) => text(f).toLowerCase()) : []),
    firstKey: num(r[3]),
    lastKey: num(r[4]),
    step: num(r[5]),
    type,
    specs: Array.isArray(r[8]) ? (r[8] as Reply[]).map(parseKeySpec) : null,
    subcommands: new Map(),
  };
  if (Array.isArray(r[9])) {
    for (const s of r[9] as Reply[]) {
      const sub = parseCommandEntry(s);
      // Subcommands are named "container|sub".
      if (sub) spec.subcommands.set(sub.name.split('|')[1] ?? sub.name, sub);
    }
  }
  return spec;
}

export class CommandTable {
  private readonly byName = new Map<string, CommandSpec>();

  constructor(entries: Reply[]) {
    for (const e of entries) {
      const c = parseCommandEntry(e);
      if (c) this.byName.set(c.name, c);
    }
  }

  get size(): number {
    return this.byName.size;
  }

  /** The command (or subcommand) that `args` invokes, or null when the source does not know it. */
  lookup(args: readonly Buffer[]): CommandSpec | null {
    const c = this.byName.get(args[0]!.toString('latin1').toLowerCase());
    if (!c) return null;
    if (c.subcommands.size > 0 && args.length > 1) return c.subcommands.get(args[1]!.toString('latin1').toLowerCase()) ?? c;
    return c;
  }
}

/** Positions of the key arguments of `args` (argv[0] is the command name). */
export function keyPositions(c: CommandSpec, args: readonly Buffer[]): KeyPositions {
  const argc = args.length;
  if (c.specs !== null) {
    const seen = new Set<number>();
    for (const s of c.specs) {
      if (s.incomplete) return { ok: false, reason: `${c.name}: the key positions are not fully declared (key spec "incomplete")` };
      let first = 0;
      if (s.begin.kind === 'index') first = s.begin.index;
      else if (s.begin.kind === 'keyword') {
        const kw = s.begin.keyword.toLowerCase();
        const from = s.begin.startfrom;
        const start = from > 0 ? from : argc + from;
        const end = from > 0 ? argc - 1 : 0;
        for (let i = start; i !== end; i = start <= end ? i + 1 : i - 1) {
          if (i >= argc || i < 1) break;
          if (args[i]!.toString('latin1').toLowerCase() === kw) {
            first = i + 1;
            break;
          }
        }
        if (first === 0) continue; // the keyword is absent: this spec names no key
      } else return { ok: false, reason: `${c.name}: the source does not declare where these keys are (a key spec of type "unknown": the server finds them itself)` };
      let last: number;
      let step: number;
      if (s.find.kind === 'range') {
        step = s.find.step;
        if (s.find.lastkey >= 0) last = first + s.find.lastkey;
        else if (s.find.limit === 0) last = argc + s.find.lastkey;
        else last = first + (Math.floor((argc - first) / s.find.limit) + s.find.lastkey);
      } else if (s.find.kind === 'keynum') {
        step = s.find.step;
        const at = first + s.find.keynumidx;
        if (at >= argc) return { ok: false, reason: `${c.name}: the key count argument is missing` };
        const t = args[at]!.toString('latin1');
        if (!/^\d+$/.test(t)) return { ok: false, reason: `${c.name}: the key count "${t.slice(0, 20)}" is not a number` };
        first += s.find.firstkey;
        last = first + Number(t) - 1;
      } else return { ok: false, reason: `${c.name}: a key spec of unknown kind` };
      if (step < 1) step = 1;
      for (let i = first; i <= last; i += step) {
        if (i >= argc) return { ok: false, reason: `${c.name}: fewer arguments than the key spec declares` };
        seen.add(i);
      }
    }
    return { ok: true, positions: [...seen].sort((a, b) => a - b) };
  }
  // Servers before 7.0: the legacy triple, and the two numkeys families we know by name.
  if (c.name === 'eval' || c.name === 'evalsha' || c.name === 'eval_ro' || c.name === 'evalsha_ro' || c.name === 'fcall' || c.name === 'fcall_ro') {
    const t = args[2]?.toString('latin1') ?? '';
    if (!/^\d+$/.test(t) || 3 + Number(t) > argc) return { ok: false, reason: `${c.name}: bad numkeys` };
    return { ok: true, positions: Array.from({ length: Number(t) }, (_, i) => 3 + i) };
  }
  if (c.flags.has('movablekeys')) return { ok: false, reason: `${c.name}: the source (before Redis 7) does not describe where this command's keys are` };
  if (c.firstKey <= 0) return { ok: true, positions: [] };
  const last = c.lastKey < 0 ? argc + c.lastKey : c.lastKey;
  const out: number[] = [];
  for (let i = c.firstKey; i <= last && i < argc; i += Math.max(1, c.step)) out.push(i);
  return { ok: true, positions: out };
}
