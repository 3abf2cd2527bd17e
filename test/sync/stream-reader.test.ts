/** StreamReader.takeCommands over a stream cut into chunks anywhere, a large value spanning many of them. */
import { PassThrough } from 'node:stream';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { StreamReader, type StreamCommand } from '../../src/sync/stream-reader.js';
import { encodeCommand } from '../../src/encode/resp.js';

describe('StreamReader.takeCommands', () => {
  it('returns every command once, in order, with exact byte counts, however the bytes are cut', () => {
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const cmds: string[][] = [];
    for (let i = 0; i < 3000; i++) cmds.push(i === 1500 ? ['SET', 'big', 'x'.repeat(300_000)] : ['RPUSH', `k:${i % 17}`, String(i), 'y'.repeat(rnd(200))]);
    const wire = Buffer.concat(cmds.map((c) => encodeCommand(c)));
    const sock = new PassThrough();
    const reader = new StreamReader(sock as unknown as Socket, 'test');
    const got: StreamCommand[] = [];
    for (let at = 0; at < wire.length; ) {
      const n = 1 + rnd(5000);
      sock.emit('data', wire.subarray(at, at + n));
      at += n;
      if (rnd(3) === 0) got.push(...reader.takeCommands(1 + rnd(50)));
    }
    for (let more = reader.takeCommands(100); more.length > 0; more = reader.takeCommands(100)) got.push(...more);
    expect(got.length).toBe(cmds.length);
    got.forEach((g, i) => expect(g.args.map((b) => b.toString()), `command ${i}`).toEqual(cmds[i]));
    expect(got.reduce((s, g) => s + g.bytes, 0)).toBe(wire.length);
    expect(reader.consumed).toBe(wire.length);
    expect(reader.available).toBe(0);
  });
});
