/**
 * The struct-level walk of serialized values (librdb's middle level): the nodes a quicklist or a stream
 * stores, found once here for everything that reads them differently (the memory model wants each
 * node's size, element counts each node's header, big-value JSONL each node's elements). Nothing is
 * decoded here; a consumer reads a node's bytes itself or lets the walk step over them.
 */
import type { Cursor } from '../rdb/cursor.js';

/** RDB_TYPE_LIST_QUICKLIST (ziplist nodes) and RDB_TYPE_LIST_QUICKLIST_2 (container, then the node). */
const QUICKLIST = 14;
const QUICKLIST_2 = 18;
/** QUICKLIST_NODE_CONTAINER_PLAIN / _PACKED (quicklist.h). */
export const PLAIN_NODE = 1;
export const PACKED_NODE = 2;

/** One stored node: at `at` (the cursor's position when it is yielded) the RDB string that holds it. */
export interface StoredNode {
  /** PLAIN_NODE (one element, the string itself) or PACKED_NODE (a ziplist for type 14, a listpack for 18). */
  container: number;
  /** Offset of the node's RDB string in the cursor. */
  at: number;
}

/**
 * The nodes of a quicklist payload (rdbLoadObject, RDB_TYPE_LIST_QUICKLIST[_2]): node count, then per
 * node (type 18) its container and the node as an RDB string. At each yield the cursor stands on the
 * node's string; the consumer may read it (leaving the cursor past it) or not, and the walk then steps
 * over what is left. The node count is bounded by the bytes left (each node takes at least one).
 */
export function* quicklistNodes(c: Cursor, rdbType: number): Generator<StoredNode, void, void> {
  const nodes = c.count(c.len('quicklist node count'), 1, 'quicklist node count');
  for (let i = 0; i < nodes; i++) {
    let container = PACKED_NODE;
    if (rdbType === QUICKLIST_2) {
      const at = c.pos;
      container = c.len('quicklist node container');
      if (container !== PLAIN_NODE && container !== PACKED_NODE) throw c.error(`quicklist node container 1 (plain) or 2 (packed), found ${container}`, at);
    } else if (rdbType !== QUICKLIST) throw new RangeError(`type ${rdbType} is not a quicklist`);
    const at = c.pos;
    yield { container, at };
    if (c.pos === at) c.skipString('quicklist node');
  }
}

/**
 * The listpacks of a stream payload (rdbLoadObject, RDB_TYPE_STREAM_LISTPACKS*): node count, then per
 * node its master ID (an RDB string, stepped over) and its listpack, yielded as for quicklists. After the
 * walk the cursor stands on the stream's length (the stream's metadata, groups and consumers follow).
 */
export function* streamListpacks(c: Cursor): Generator<StoredNode, void, void> {
  const nodes = c.count(c.len('stream node count'), 2, 'stream node count');
  for (let i = 0; i < nodes; i++) {
    c.skipString('stream node key');
    const at = c.pos;
    yield { container: PACKED_NODE, at };
    if (c.pos === at) c.skipString('stream node listpack');
  }
}
