/** The stream side of sync without a network: RESP command framing, and planning batches for the target. */
import { describe, expect, it } from 'vitest';
import { parseCommand, ReplicationProtocolError } from '../../src/sync/stream-reader.js';
import { StreamApplier } from '../../src/sync/stream-applier.js';
import { SyncStatus } from '../../src/sync/status.js';
import { CommandTable } from '../../src/sync/key-specs.js';
import { compileRules } from '../../src/rules/index.js';
import { encodeCommand } from '../../src/encode/resp.js';

const cmd = (...a: string[]): { args: Buffer[]; bytes: number } => ({ args: a.map((s) => Buffer.from(s)), bytes: encodeCommand(a).length });

// A COMMAND table as a Redis 7 server returns it (RESP2 shape), for the few commands used here.
const idx = (i: number, last = 0, step = 1) => ['flags', ['RW'], 'begin_search', ['type', 'index', 'spec', ['index', i]], 'find_keys', ['type', 'range', 'spec', ['lastkey', last, 'keystep', step, 'limit', 0]]];
const table = new CommandTable([
  ['set', -3, ['write'], 1, 1, 1, ['@write', '@string'], [], [idx(1)], []],
  ['incr', 2, ['write'], 1, 1, 1, ['@write', '@string'], [], [idx(1)], []],
  ['del', -2, ['write'], 1, -1, 1, ['@write', '@keyspace'], [], [idx(1, -1)], []],
  ['rename', 3, ['write'], 1, 2, 1, ['@write', '@keyspace'], [], [idx(1), idx(2)], []],
  ['hset', -4, ['write'], 1, 1, 1, ['@write', '@hash'], [], [idx(1)], []],
  ['pexpireat', -3, ['write'], 1, 1, 1, ['@write', '@keyspace'], [], [idx(1)], []],
  ['flushdb', -1, ['write'], 0, 0, 0, ['@write', '@keyspace'], [], [], []],
  ['function', -2, [], 0, 0, 0, [], [], [], [['function|load', -3, ['write'], 0, 0, 0, ['@write', '@scripting'], [], [], []]]],
]);

const rules = compileRules({
  version: 1,
  unmatched: 'keep',
  rules: [
    { name: 'a', category: 'a', match: 'old:{id}', rename: 'new:{id}' },
    { name: 'moved', category: 'm', match: 'far:{id}', rename: 'near:{id}', to_db: 5 },
    { name: 'nottl', category: 'n', match: 'nottl:{id}', rename: 'plain:{id}', ttl: 'drop' },
  ],
});

function applier(opts: { toDb?: number | null; unmatched?: 'keep' | 'drop' | 'error' } = {}): { a: StreamApplier; st: SyncStatus } {
  const st = new SyncStatus();
  const a = new StreamApplier({ table, rules, unmatched: opts.unmatched ?? 'keep', toDb: opts.toDb ?? null }, st, { offset: 100, db: 0 });
  return { a, st };
}
const text = (out: Buffer[][]): string[] => out.map((c) => c.map((b) => b.toString()).join(' '));

describe('parseCommand', () => {
  it('reads a multibulk command and says where it ends', () => {
    const b = Buffer.concat([encodeCommand(['SET', 'k', 'v']), encodeCommand(['PING'])]);
    const r = parseCommand(b, 0, 's', 0)!;
    expect(r.args.map(String)).toEqual(['SET', 'k', 'v']);
    expect(parseCommand(b, r.end, 's', 0)!.args.map(String)).toEqual(['PING']);
  });
  it('waits for a command cut anywhere', () => {
    const b = encodeCommand(['SET', 'key', 'value']);
    for (let i = 0; i < b.length; i++) expect(parseCommand(b.subarray(0, i), 0, 's', 0)).toBeNull();
  });
  it('names the offset of bad framing and refuses huge declared lengths', () => {
    expect(() => parseCommand(Buffer.from('+OK\r\n'), 0, 'src', 42)).toThrow(/offset 42: expected a command array/);
    expect(() => parseCommand(Buffer.from('*1\r\n$999999999999\r\n'), 0, 'src', 0)).toThrow(ReplicationProtocolError);
    expect(() => parseCommand(Buffer.from('*x\r\n'), 0, 'src', 0)).toThrow(/expected a length/);
  });
});

describe('StreamApplier.plan', () => {
  it('renames every key, consumes PING and GETACK, and counts every byte in the offset', () => {
    const { a, st } = applier();
    const cmds = [cmd('PING'), cmd('SET', 'old:1', 'x'), cmd('RENAME', 'old:1', 'old:2'), cmd('DEL', 'other', 'old:3'), cmd('REPLCONF', 'GETACK', '*')];
    const p = a.plan(cmds);
    expect(text(p.out)).toEqual(['SET new:1 x', 'RENAME new:1 new:2', 'DEL other new:3']);
    expect(p.offset).toBe(100 + cmds.reduce((s, c) => s + c.bytes, 0));
    expect(p.getack).toBe(true);
    expect(st.pings).toBe(1);
  });

  it('holds a transaction until its EXEC, and the safe offset stays before MULTI', () => {
    const { a } = applier();
    const first = [cmd('SET', 'old:a', '1'), cmd('MULTI'), cmd('INCR', 'old:b')];
    const p1 = a.plan(first);
    expect(text(p1.out)).toEqual(['SET new:a 1']);
    expect(p1.offset).toBe(100 + first[0]!.bytes);
    const second = [cmd('INCR', 'old:c'), cmd('EXEC'), cmd('SET', 'x', 'y')];
    const p2 = a.plan(second);
    expect(text(p2.out)).toEqual(['MULTI', 'INCR new:b', 'INCR new:c', 'EXEC', 'SET x y']);
    expect(p2.offset).toBe(100 + [...first, ...second].reduce((s, c) => s + c.bytes, 0));
  });

  it('follows SELECT, and maps dbs through to_db and --to-db', () => {
    const { a } = applier();
    const p = a.plan([cmd('SELECT', '2'), cmd('SET', 'old:a', '1'), cmd('SET', 'far:b', '1'), cmd('SET', 'old:c', '1')]);
    expect(text(p.out)).toEqual(['SELECT 2', 'SET new:a 1', 'SELECT 5', 'SET near:b 1', 'SELECT 2', 'SET new:c 1']);
    expect(p.db).toBe(2);
    const { a: b } = applier({ toDb: 7 });
    expect(text(b.plan([cmd('SELECT', '2'), cmd('SET', 'far:b', '1')]).out)).toEqual(['SELECT 7', 'SET near:b 1']);
  });

  it('refuses what it cannot carry, with a reason and the key, and drops per the rules', () => {
    const { a, st } = applier({ unmatched: 'drop' });
    const p = a.plan([cmd('FLUSHDB'), cmd('SET', 'zzz', '1'), cmd('DEL', 'zzz', 'old:1'), cmd('RENAME', 'old:1', 'far:1'), cmd('NOSUCH', 'k'), cmd('PEXPIREAT', 'nottl:1', '99999999999999'), cmd('FUNCTION', 'LOAD', 'code')]);
    expect(text(p.out)).toEqual(['FUNCTION LOAD code']);
    expect(Object.fromEntries(st.refused)).toEqual({ 'whole-db command': 1, 'partly unmatched': 1, 'keys in several dbs': 1, 'unknown command': 1 });
    expect(Object.fromEntries(st.dropped)).toEqual({ 'unmatched (dropped by the rules)': 1, 'ttl dropped by a rule': 1 });
    expect(st.samples.join('\n')).toMatch(/RENAME: its keys map to db 0 and db 5/);
  });

  it('refuses a keyless-type command when the rules rename by type', () => {
    const typed = compileRules({ version: 1, rules: [{ name: 'h', category: 'h', match: 'u:{id}', rename: 'hash:{id}', type: 'hash' }] });
    const st = new SyncStatus();
    const a = new StreamApplier({ table, rules: typed, unmatched: 'keep', toDb: null }, st, { offset: 0, db: 0 });
    const p = a.plan([cmd('HSET', 'u:1', 'f', 'v'), cmd('DEL', 'u:1'), cmd('DEL', 'v:1')]);
    expect(text(p.out)).toEqual(['HSET hash:1 f v', 'DEL v:1']);
    expect(Object.fromEntries(st.refused)).toEqual({ 'type-dependent rename': 1 });
  });
});

describe('SyncStatus', () => {
  it('lag in seconds is how long ago the source passed the applied offset', () => {
    const s = new SyncStatus();
    s.appliedOffset = 100;
    s.sourceAt(100, 1000);
    s.sourceAt(150, 2000);
    s.sourceAt(200, 3000);
    expect(s.lagBytes()).toBe(100);
    expect(s.lagSeconds(5000)).toBe(3);
    s.appliedOffset = 200;
    expect(s.lagSeconds(5000)).toBe(0);
  });
});
