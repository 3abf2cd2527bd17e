/** Key positions from a real redis-server's COMMAND reply (Redis 7 key specs). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '../helpers/redis-server.js';
import { CommandTable, keyPositions, type Reply } from '../../src/sync/key-specs.js';

let srv: RedisHandle;
let table: CommandTable;

beforeAll(async () => {
  srv = await startRedis();
  const c = srv.client();
  table = new CommandTable((await c.callBuffer('COMMAND')) as Reply[]);
});
afterAll(async () => {
  await srv?.stop();
});

function keys(...a: string[]): string[] | string {
  const args = a.map((s) => Buffer.from(s));
  const spec = table.lookup(args);
  if (!spec) return 'unknown';
  const r = keyPositions(spec, args);
  return r.ok ? r.positions.map((p) => a[p]!) : `refused: ${r.reason}`;
}

describe('keyPositions over the server’s key specs', () => {
  it('single, ranged and stepped keys', () => {
    expect(keys('SET', 'k', 'v', 'PXAT', '1')).toEqual(['k']);
    expect(keys('DEL', 'a', 'b', 'c')).toEqual(['a', 'b', 'c']);
    expect(keys('MSET', 'a', '1', 'b', '2')).toEqual(['a', 'b']);
    expect(keys('RENAME', 'a', 'b')).toEqual(['a', 'b']);
    expect(keys('LMOVE', 'src', 'dst', 'LEFT', 'RIGHT')).toEqual(['src', 'dst']);
  });
  it('keys in several categories: a destination and numkeys sources', () => {
    expect(keys('ZUNIONSTORE', 'dst', '2', 'a', 'b', 'WEIGHTS', '1', '2')).toEqual(['dst', 'a', 'b']);
    expect(keys('GEORADIUS', 'src', '0', '0', '1', 'km', 'STORE', 'dst')).toEqual(['src', 'dst']);
    expect(keys('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's1', 's2', '>', '>')).toEqual(['s1', 's2']);
  });
  it('scripts and functions: the declared keys only', () => {
    expect(keys('EVAL', 'return 1', '2', 'k1', 'k2', 'arg')).toEqual(['k1', 'k2']);
    expect(keys('EVALSHA', 'abc', '1', 'k1', 'arg')).toEqual(['k1']);
    expect(keys('FCALL', 'f', '1', 'k1', 'arg')).toEqual(['k1']);
  });
  it('a command of several types names none', () => {
    expect(table.lookup([Buffer.from('SORT')])!.type).toBeNull();
    expect(table.lookup([Buffer.from('HSET')])!.type).toBe('hash');
    expect(table.lookup([Buffer.from('DEL')])!.type).toBeNull();
  });
  it('subcommands and keyless commands', () => {
    expect(keys('XGROUP', 'CREATE', 's', 'g', '$')).toEqual(['s']);
    expect(keys('FUNCTION', 'FLUSH')).toEqual([]);
    expect(keys('SELECT', '1')).toEqual([]);
  });
  it('refuses commands whose key specs are incomplete', () => {
    expect(keys('SORT', 'k', 'BY', 'w_*', 'STORE', 'd')).toMatch(/refused: sort: the source does not declare/);
    expect(keys('MIGRATE', 'h', '1', '', '0', '5', 'KEYS', 'a')).toMatch(/refused/);
  });
});
