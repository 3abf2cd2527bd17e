/**
 * Which master owns each of the 16384 slots, for `transform --split-by-slots <N | nodes file | URL>`:
 * - N: N masters with the ranges `redis-cli --cluster create` gives them (redis-cli.c
 *   clusterManagerCommandCreate: slotsPerNode = 16384 / N as a real number, each master's last slot
 *   lround(cursor + slotsPerNode - 1), the last master up to 16383);
 * - a nodes file: the text of `CLUSTER NODES` (or a node's nodes.conf): every master's slot ranges;
 * - a cluster URL (redis://host:port of any node): its `CLUSTER NODES`, read once.
 */
import { readFile, stat } from 'node:fs/promises';
import { RekeyInputError, RekeyUsageError } from '../errors.js';
import { SLOT_COUNT } from '../redis/slot.js';
import { connectClient, parseTargetUrl, standaloneClient } from '../redis/connect.js';
import { formatRanges, type SlotRange } from '../analyze/slots.js';

export const NO_OWNER = 0xffff;

export interface SlotOwner {
  /** Position in slot order (0 owns the lowest slot), used in the output file name. */
  index: number;
  /** `host:port` of the master, or `master-<i>` for a count. */
  name: string;
  /** The node id when read from CLUSTER NODES. */
  id: string | null;
  ranges: SlotRange[];
}

export interface SplitPlan {
  /** Where the plan came from (for the report). */
  source: string;
  owners: SlotOwner[];
  /** slot → owner index, NO_OWNER for a slot no master serves. */
  ownerOf: Uint16Array;
}

function rangesOf(ownerOf: Uint16Array, i: number): SlotRange[] {
  const out: SlotRange[] = [];
  let start = -1;
  for (let s = 0; s <= SLOT_COUNT; s++) {
    const on = s < SLOT_COUNT && ownerOf[s] === i;
    if (on && start < 0) start = s;
    else if (!on && start >= 0) {
      out.push([start, s - 1]);
      start = -1;
    }
  }
  return out;
}

/** N masters as `redis-cli --cluster create` assigns slots. */
export function planEven(n: number): SplitPlan {
  if (!Number.isInteger(n) || n < 1 || n > SLOT_COUNT) throw new RekeyUsageError(`--split-by-slots ${n}: expected 1 to ${SLOT_COUNT} masters`);
  const ownerOf = new Uint16Array(SLOT_COUNT);
  const per = SLOT_COUNT / n;
  let first = 0;
  let cursor = 0;
  for (let i = 0; i < n; i++) {
    let last = Math.round(cursor + per - 1);
    if (last > SLOT_COUNT - 1 || i === n - 1) last = SLOT_COUNT - 1;
    if (last < first) last = first;
    ownerOf.fill(i, first, last + 1);
    first = last + 1;
    cursor += per;
  }
  return { source: `${n} masters (redis-cli --cluster create ranges)`, owners: Array.from({ length: n }, (_, i) => ({ index: i, name: `master-${i}`, id: null, ranges: rangesOf(ownerOf, i) })), ownerOf };
}

/** Masters and their slots from `CLUSTER NODES` text. Throws (naming `where`) on a slot claimed twice or no master. */
export function planFromClusterNodes(text: string, where: string): SplitPlan {
  const found: Array<{ name: string; id: string; ranges: SlotRange[] }> = [];
  const lines = text.split('\n');
  for (const line of lines) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[0] === 'vars') continue;
    const flags = (f[2] ?? '').split(',');
    if (!flags.includes('master') || flags.some((x) => x === 'fail' || x === 'noaddr' || x === 'handshake')) continue;
    const addr = (f[1] ?? '').split('@')[0]!.split(',')[0]!;
    const ranges: SlotRange[] = [];
    for (const tok of f.slice(8)) {
      if (tok.startsWith('[')) continue; // a slot being migrated or imported: still served by its owner
      const m = /^(\d+)(?:-(\d+))?$/.exec(tok);
      if (!m) throw new RekeyInputError(where, 0, `expected CLUSTER NODES slot ranges, found "${tok}" for node ${f[0]}`);
      const a = Number(m[1]);
      const b = m[2] === undefined ? a : Number(m[2]);
      if (a > b || b >= SLOT_COUNT) throw new RekeyInputError(where, 0, `expected slots 0-16383, found "${tok}" for node ${f[0]}`);
      ranges.push([a, b]);
    }
    if (ranges.length > 0) found.push({ name: addr, id: f[0]!, ranges });
  }
  if (found.length === 0) throw new RekeyInputError(where, 0, 'expected CLUSTER NODES output naming at least one master with slots');
  found.sort((x, y) => x.ranges[0]![0] - y.ranges[0]![0]);
  const ownerOf = new Uint16Array(SLOT_COUNT).fill(NO_OWNER);
  found.forEach((m, i) => {
    for (const [a, b] of m.ranges) {
      for (let s = a; s <= b; s++) {
        if (ownerOf[s] !== NO_OWNER) throw new RekeyInputError(where, 0, `expected each slot on one master; slot ${s} is on ${found[ownerOf[s]!]!.name} and ${m.name}`);
        ownerOf[s] = i;
      }
    }
  });
  return { source: where, owners: found.map((m, i) => ({ index: i, name: m.name, id: m.id, ranges: rangesOf(ownerOf, i) })), ownerOf };
}

/** Nodes files are small; anything bigger is not one. */
const MAX_NODES_FILE = 16 * 1024 * 1024;

/** The plan `--split-by-slots` names: a count, a redis:// URL, or a nodes file. */
export async function splitPlan(given: string): Promise<SplitPlan> {
  const text = String(given).trim();
  if (/^\d+$/.test(text)) return planEven(Number(text));
  if (/^rediss?:\/\//i.test(text)) {
    const spec = parseTargetUrl(text);
    const client = await connectClient(standaloneClient(spec), spec);
    try {
      const nodes = String(await client.call('CLUSTER', 'NODES'));
      const plan = planFromClusterNodes(nodes, spec.display);
      // An address the node reports as empty (":0" before it knows its IP) means the seed itself.
      for (const o of plan.owners) if (o.name.startsWith(':')) o.name = `${spec.host}${o.name}`;
      return plan;
    } catch (e) {
      if (e instanceof RekeyInputError) throw e;
      throw new RekeyUsageError(`--split-by-slots ${spec.display}: cannot read CLUSTER NODES (${spec.redactor.message(e)}); is it a cluster node?`);
    } finally {
      client.disconnect();
    }
  }
  let size: number;
  try {
    size = (await stat(text)).size;
  } catch (e) {
    throw new RekeyUsageError(`--split-by-slots ${text}: not a number of masters, a redis:// URL or a readable nodes file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (size > MAX_NODES_FILE) throw new RekeyInputError(text, 0, `expected a CLUSTER NODES file of at most ${MAX_NODES_FILE} bytes, found ${size}`);
  return planFromClusterNodes(await readFile(text, 'utf8'), text);
}

/** The plan as the report shows it. */
export function planJson(p: SplitPlan): { source: string; masters: Array<{ index: number; name: string; id: string | null; slots: string }> } {
  return { source: p.source, masters: p.owners.map((o) => ({ index: o.index, name: o.name, id: o.id, slots: formatRanges(o.ranges) })) };
}
