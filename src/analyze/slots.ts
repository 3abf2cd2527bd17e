/**
 * Cluster slot coverage of a dataset made of several files (one RDB per master): which of the 16384
 * slots each file holds, which slots no file holds (a missing shard), which files overlap, and which keys
 * sit in a file whose slot ranges do not own them.
 *
 * A file "holds" a slot when one of its keys hashes to it (keySlot: CRC16 with hash tags, cluster.c
 * keyHashSlot) or when it carries a slot-info record for it (rdb.c rdbSaveDb writes RDB_OPCODE_SLOT_INFO
 * for each non-empty slot of a cluster node). Keys are sparse: a shard owning 0-5460 with 1000 keys
 * holds about 1000 of those slots. So runs of unheld slots are judged against a tolerance derived from
 * the key density (README "Cluster backups"): shorter gaps are filled (they belong to the file
 * on both sides, or to the boundary between two files), longer ones are missing slots.
 */
import { SLOT_COUNT } from '../redis/slot.js';

/** Per-file holdings: keys per slot, and the slots named by slot-info records. */
export class SlotHoldings {
  readonly keys = new Uint32Array(SLOT_COUNT);
  /** Slots named by slot-info records (null: the file had none). */
  info: Uint8Array | null = null;

  addKey(slot: number): void {
    this.keys[slot]!++;
  }

  addInfo(slot: number): void {
    if (slot < 0 || slot >= SLOT_COUNT) return;
    (this.info ??= new Uint8Array(SLOT_COUNT))[slot] = 1;
  }

  holds(slot: number): boolean {
    return this.keys[slot]! > 0 || (this.info !== null && this.info[slot] === 1);
  }

  /** Compact state for merging: [slot, keys] pairs of non-empty slots, and slot-info slots. */
  toState(): { keys: number[]; info: number[] | null } {
    const keys: number[] = [];
    for (let s = 0; s < SLOT_COUNT; s++) if (this.keys[s]! > 0) keys.push(s, this.keys[s]!);
    let info: number[] | null = null;
    if (this.info !== null) {
      info = [];
      for (let s = 0; s < SLOT_COUNT; s++) if (this.info[s] === 1) info.push(s);
    }
    return { keys, info };
  }

  static fromState(st: { keys: number[]; info: number[] | null }): SlotHoldings {
    const h = new SlotHoldings();
    for (let i = 0; i + 1 < st.keys.length; i += 2) {
      const s = st.keys[i]!;
      if (s >= 0 && s < SLOT_COUNT) h.keys[s] = st.keys[i + 1]!;
    }
    if (st.info !== null) for (const s of st.info) h.addInfo(s);
    return h;
  }
}

export type SlotRange = [number, number];

/** "0-5460,5462,5470-5480" */
export function formatRanges(ranges: readonly SlotRange[]): string {
  return ranges.map(([a, b]) => (a === b ? String(a) : `${a}-${b}`)).join(',');
}

function slotsIn(ranges: readonly SlotRange[]): number {
  let n = 0;
  for (const [a, b] of ranges) n += b - a + 1;
  return n;
}

/** Ranges of the slots for which `pred` holds. */
function rangesWhere(pred: (s: number) => boolean): SlotRange[] {
  const out: SlotRange[] = [];
  let start = -1;
  for (let s = 0; s <= SLOT_COUNT; s++) {
    const on = s < SLOT_COUNT && pred(s);
    if (on && start < 0) start = s;
    else if (!on && start >= 0) {
      out.push([start, s - 1]);
      start = -1;
    }
  }
  return out;
}

export interface FileSlots {
  /** Slots holding at least one key of the file (or named by its slot-info). */
  slots_held: number;
  /** The file's slot ranges: held slots joined over short gaps no other file holds. */
  ranges: string;
  from_slot_info: boolean;
}

export interface SlotCoverage {
  /** false for one input: coverage of a single dump says nothing about missing shards. */
  checked: boolean;
  files: number;
  /** Slots held by at least one file. */
  slots_held: number;
  /** Longest run of unheld slots still treated as a sparse part of a range (see the module comment). */
  gap_tolerance: number;
  /** Slots in runs longer than the tolerance that no file holds: a missing shard or an empty range. */
  missing: { slots: number; ranges: string };
  /** Pairs of files whose ranges overlap. */
  overlaps: Array<{ files: [string, string]; slots: number; ranges: string }>;
  /** Keys in a file whose ranges (or slot-info) do not own their slot, per file. */
  misplaced: { keys: number; by_file: Array<{ file: string; keys: number; ranges: string }> };
}

/**
 * The gap tolerance for `distinct` held slots: with keys spread uniformly, the mean gap is
 * 16384/distinct and the longest one about ln(distinct) times that; twice that (at least 8 mean gaps)
 * keeps false "missing" reports rare while a whole missing shard (thousands of slots) stands out.
 */
export function gapTolerance(distinct: number): number {
  if (distinct <= 0) return SLOT_COUNT;
  if (distinct >= SLOT_COUNT) return 0;
  const mean = SLOT_COUNT / distinct;
  return Math.min(SLOT_COUNT, Math.ceil(mean * Math.max(8, 2 * Math.log(distinct))));
}

/** A file's ranges: its held slots, joined across gaps ≤ tol in which no other file holds a slot. */
function fileRanges(holds: (s: number) => boolean, heldByOther: (s: number) => boolean, tol: number): SlotRange[] {
  const out: SlotRange[] = [];
  let cur: SlotRange | null = null;
  for (let s = 0; s < SLOT_COUNT; s++) {
    if (!holds(s)) continue;
    if (cur !== null && s - cur[1] - 1 <= tol) {
      let clean = true;
      for (let g = cur[1] + 1; g < s; g++) {
        if (heldByOther(g)) {
          clean = false;
          break;
        }
      }
      if (clean) {
        cur[1] = s;
        continue;
      }
    }
    if (cur !== null) out.push(cur);
    cur = [s, s];
  }
  if (cur !== null) out.push(cur);
  return out;
}

function intersect(a: readonly SlotRange[], b: readonly SlotRange[]): SlotRange[] {
  const out: SlotRange[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const lo = Math.max(a[i]![0], b[j]![0]);
    const hi = Math.min(a[i]![1], b[j]![1]);
    if (lo <= hi) out.push([lo, hi]);
    if (a[i]![1] < b[j]![1]) i++;
    else j++;
  }
  return out;
}

/**
 * Per-file slot summaries and the dataset's coverage. `names[i]` labels `holdings[i]`.
 *
 * Two passes. The first finds strays: a short run of a file's slots (≤ the tolerance) that sits inside
 * another file's wide range, or in a gap of another file's slots that only the stray keeps from being
 * joined (the stray splits the owner's range in two). The second computes every file's ranges with the
 * strays left out, so an owner's range runs across them, and overlaps compare those ranges. A file with
 * slot-info records owns exactly the slots they name: its keys elsewhere are strays.
 */
export function slotCoverage(names: readonly string[], holdings: readonly SlotHoldings[]): { files: FileSlots[]; coverage: SlotCoverage } {
  const n = holdings.length;
  const heldBy = new Uint16Array(SLOT_COUNT); // how many files hold each slot (capped)
  for (const h of holdings) for (let s = 0; s < SLOT_COUNT; s++) if (h.holds(s) && heldBy[s]! < 65535) heldBy[s]!++;
  let distinct = 0;
  for (let s = 0; s < SLOT_COUNT; s++) if (heldBy[s]! > 0) distinct++;
  const tol = gapTolerance(distinct);

  // Pass 1: strays per file.
  const stray = holdings.map(() => new Uint8Array(SLOT_COUNT));
  if (n > 1) {
    const first = holdings.map((h) => fileRanges((s) => h.holds(s), (s) => heldBy[s]! > (h.holds(s) ? 1 : 0), tol));
    const wide = first.map((rs) => rs.filter(([a, b]) => b - a + 1 > tol));
    for (let i = 0; i < n; i++) {
      const h = holdings[i]!;
      if (h.info !== null) {
        for (let s = 0; s < SLOT_COUNT; s++) if (h.keys[s]! > 0 && h.info[s] !== 1) stray[i]![s] = 1;
        continue;
      }
      for (const [a, b] of first[i]!) {
        if (b - a + 1 > tol) continue;
        const inside = wide.some((rs, j) => j !== i && rs.some(([c, d]) => c <= a && b <= d));
        if (!inside && !sandwiched(holdings, i, a, b, tol)) continue;
        for (let s = a; s <= b; s++) if (h.keys[s]! > 0) stray[i]![s] = 1;
      }
    }
  }

  // Pass 2: ranges without the strays.
  const heldClean = new Uint16Array(SLOT_COUNT);
  const holdsClean = holdings.map((h, i) => (s: number): boolean => h.holds(s) && stray[i]![s] !== 1);
  for (const hc of holdsClean) for (let s = 0; s < SLOT_COUNT; s++) if (hc(s) && heldClean[s]! < 65535) heldClean[s]!++;
  const per = holdsClean.map((hc) => fileRanges(hc, (s) => heldClean[s]! > (hc(s) ? 1 : 0), tol));
  const files: FileSlots[] = holdings.map((h, i) => {
    let held = 0;
    for (let s = 0; s < SLOT_COUNT; s++) if (h.holds(s)) held++;
    return { slots_held: held, ranges: formatRanges(per[i]!), from_slot_info: h.info !== null };
  });

  const clear = per.map((rs) => rs.filter(([a, b]) => b - a + 1 > tol));
  const overlaps: SlotCoverage['overlaps'] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const x = intersect(clear[i]!, clear[j]!);
      if (x.length > 0) overlaps.push({ files: [names[i]!, names[j]!], slots: slotsIn(x), ranges: formatRanges(x) });
    }
  }

  const byFile: SlotCoverage['misplaced']['by_file'] = [];
  let misplacedKeys = 0;
  for (let i = 0; i < n; i++) {
    const h = holdings[i]!;
    const bad = stray[i]!;
    let keys = 0;
    for (let s = 0; s < SLOT_COUNT; s++) if (bad[s] === 1) keys += h.keys[s]!;
    if (keys > 0) {
      misplacedKeys += keys;
      byFile.push({ file: names[i]!, keys, ranges: formatRanges(rangesWhere((s) => bad[s] === 1)) });
    }
  }

  // Missing: runs of slots no file holds that are longer than the tolerance.
  const missing = rangesWhere((s) => heldBy[s] === 0).filter(([a, b]) => b - a + 1 > tol);
  return {
    files,
    coverage: {
      checked: n > 1,
      files: n,
      slots_held: distinct,
      gap_tolerance: tol,
      missing: { slots: slotsIn(missing), ranges: formatRanges(missing) },
      overlaps,
      misplaced: { keys: misplacedKeys, by_file: byFile },
    },
  };
}

/**
 * Whether file i's short run [a, b] lies in another file j's territory: within the tolerance around the
 * run, j holds slots on both sides (so the run is not at a boundary between two files) and more of them
 * than i does. A stray of i splits j's range in two without that; a piece of j's range between two
 * strays of i is still j's.
 */
function sandwiched(holdings: readonly SlotHoldings[], i: number, a: number, b: number, tol: number): boolean {
  const lo = Math.max(0, a - tol);
  const hi = Math.min(SLOT_COUNT - 1, b + tol);
  const count = (h: SlotHoldings, from: number, to: number): number => {
    let c = 0;
    for (let s = from; s <= to; s++) if (h.holds(s)) c++;
    return c;
  };
  const own = count(holdings[i]!, lo, hi);
  for (let j = 0; j < holdings.length; j++) {
    if (j === i) continue;
    const h = holdings[j]!;
    if (count(h, lo, a - 1) > 0 && count(h, b + 1, hi) > 0 && count(h, lo, hi) > own) return true;
  }
  return false;
}
