import { describe, expect, it } from 'vitest';
import { Cursor } from '../../src/rdb/cursor.js';
import { RekeyInputError } from '../../src/errors.js';
import { PACKED_NODE, PLAIN_NODE, quicklistNodes, streamListpacks } from '../../src/codec/value-walk.js';

// RDB strings of 6-bit lengths: one length byte, then the bytes.
const str = (s: string): number[] => [s.length, ...Buffer.from(s, 'latin1')];

describe('the struct-level walk of stored nodes', () => {
  // quicklist 2: 2 nodes; a plain node "ab", a packed node (3 opaque bytes the walk never reads)
  const ql2 = Buffer.from([2, PLAIN_NODE, ...str('ab'), PACKED_NODE, ...str('xyz')]);

  it('yields each quicklist node at its string and steps over what the consumer leaves', () => {
    const c = new Cursor('payload', ql2);
    expect([...quicklistNodes(c, 18)]).toEqual([{ container: PLAIN_NODE, at: 2 }, { container: PACKED_NODE, at: 6 }]);
    expect(c.pos).toBe(ql2.length);
  });

  it('a consumer that reads a node leaves the walk where it read to', () => {
    const c = new Cursor('payload', ql2);
    const read: string[] = [];
    for (const n of quicklistNodes(c, 18)) if (n.container === PLAIN_NODE) read.push(c.string('plain node').toString());
    expect(read).toEqual(['ab']);
    expect(c.pos).toBe(ql2.length);
  });

  it('quicklist 1 nodes are all packed, with no container', () => {
    const c = new Cursor('payload', Buffer.from([1, ...str('zl')]));
    expect([...quicklistNodes(c, 14)]).toEqual([{ container: PACKED_NODE, at: 1 }]);
  });

  it('refuses an unknown container and a node count the bytes cannot hold, naming the offset', () => {
    expect(() => [...quicklistNodes(new Cursor('payload', Buffer.from([1, 3, ...str('a')])), 18)]).toThrow(/at byte 1: expected quicklist node container 1 \(plain\) or 2 \(packed\), found 3/);
    expect(() => [...quicklistNodes(new Cursor('payload', Buffer.from([9, 1, ...str('a')])), 18)]).toThrow(RekeyInputError);
    expect(() => [...quicklistNodes(new Cursor('payload', Buffer.from([9, 1, ...str('a')])), 18)]).toThrow(/quicklist node count that fits in the 3 bytes left, found 9/);
  });

  it('yields stream listpacks past their master IDs and stops on the stream length', () => {
    const c = new Cursor('payload', Buffer.from([2, ...str('id1'), ...str('lp1'), ...str('id2'), ...str('lp2'), 7]));
    expect([...streamListpacks(c)].map((n) => n.at)).toEqual([5, 13]);
    expect(c.len('stream length')).toBe(7);
  });
});
