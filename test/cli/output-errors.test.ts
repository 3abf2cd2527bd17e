import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, linkSync, mkdtempSync, readdirSync, rmSync, symlinkSync, copyFileSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli } from '../helpers/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'fixtures', 'dump.rdb');
const dir = mkdtempSync(join(tmpdir(), 'rekey-cli-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hidden = (d: string) => readdirSync(d).filter((n) => n.startsWith('.'));

describe('transform outputs end cleanly', () => {
  it('a missing output folder is a clear exit-2 error, no stack trace', async () => {
    const r = await runCli(['transform', FIXTURE, '-o', join(dir, 'no', 'such', 'x.rdb'), '--out-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('does not exist');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown extension is refused without --format, accepted with it', async () => {
    const r = await runCli(['transform', FIXTURE, '-o', join(dir, 'x.txt'), '--out-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--format');
    expect(existsSync(join(dir, 'x.txt'))).toBe(false);
    const ok = await runCli(['transform', FIXTURE, '-o', join(dir, 'x.txt'), '--format', 'resp', '--out-dir', dir]);
    expect(ok.code).toBe(0);
    expect(existsSync(join(dir, 'x.txt'))).toBe(true);
  });

  it('refuses to overwrite the input: same name, a hard link, a symlink', async () => {
    const input = join(dir, 'backup.rdb');
    copyFileSync(FIXTURE, input);
    const before = statSync(input);
    linkSync(input, join(dir, 'hard.rdb'));
    symlinkSync(input, join(dir, 'sym.rdb'));
    for (const out of [input, join(dir, 'hard.rdb'), join(dir, 'sym.rdb')]) {
      const r = await runCli(['transform', input, '-o', out, '--out-dir', dir]);
      expect(r.code, out).toBe(2);
      expect(r.stderr).toContain('refusing to overwrite the input');
    }
    const after = statSync(input);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
  });

  it('a full device (ENOSPC) is an exit-2 error naming the file, and the device stays a device', async () => {
    if (!existsSync('/dev/full')) {
      console.log('skipped: /dev/full is not available here');
      return;
    }
    const r = await runCli(['transform', FIXTURE, '-o', '/dev/full', '--format', 'rdb', '--out-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('/dev/full');
    expect(r.stderr).toContain('ENOSPC');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
  });

  it('a reader closing stdout early ends quietly with exit 0', async () => {
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn('sh', ['-c', `"${process.execPath}" "${CLI}" transform "${FIXTURE}" -o - --format jsonl --out-dir "${dir}" 2>"${join(dir, 'pipe.err')}" | head -c 10 >/dev/null; exit \${PIPESTATUS:-0}`], { stdio: 'ignore' });
      child.on('error', reject);
      child.on('close', (c) => resolve(c ?? -1));
    });
    expect(code).toBe(0);
    // sh has no PIPESTATUS: ask the CLI's own status through a second run with a FIFO-free check.
    const r = await new Promise<{ code: number; err: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'transform', FIXTURE, '-o', '-', '--format', 'jsonl', '--out-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout.once('data', () => child.stdout.destroy());
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c ?? -1, err }));
    });
    expect(r.err).not.toContain('internal error');
    expect(r.code).toBe(0);
  });
});

describe('interrupts', () => {
  it('SIGINT during a transform: a message, no temp file left, exit 130', async () => {
    const out = join(dir, 'int');
    rmSync(out, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(out);
    const child = spawn(process.execPath, [CLI, 'transform', '-', '-o', join(out, 'x.rdb'), '--out-dir', out], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // Half a dump on stdin, then wait for the temp file to exist: the run is in progress.
    child.stdin.on('error', () => {}); // the child is killed with writes still queued: EPIPE is expected
    for (let i = 0; i < 2000; i++) child.stdin.write(`{"db":0,"key":"k${i}","type":"string","value":"${'v'.repeat(200)}"}\n`);
    for (let t = 0; t < 200 && hidden(out).length === 0; t++) await new Promise((r) => setTimeout(r, 50));
    expect(hidden(out).length).toBe(1);
    const closed = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    child.kill('SIGINT');
    expect(await closed).toBe(130);
    expect(err).toContain('interrupted (SIGINT)');
    expect(readdirSync(out)).toEqual([]);
  });

  it('a temp file left by a killed run (dead pid) is removed by the next run into that folder', async () => {
    const out = join(dir, 'stale');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(out, { recursive: true });
    const child = spawn(process.execPath, [CLI, 'transform', '-', '-o', join(out, 'x.rdb'), '--out-dir', out], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => {}); // the child is killed with writes still queued: EPIPE is expected
    for (let i = 0; i < 2000; i++) child.stdin.write(`{"db":0,"key":"k${i}","type":"string","value":"${'v'.repeat(200)}"}\n`);
    for (let t = 0; t < 200 && hidden(out).length === 0; t++) await new Promise((r) => setTimeout(r, 50));
    const stale = hidden(out);
    expect(stale.length).toBe(1);
    const closed = new Promise((r) => child.on('close', r));
    child.kill('SIGKILL');
    await closed;
    expect(hidden(out)).toEqual(stale); // SIGKILL cannot clean up
    // Someone else's file that only looks similar is left alone.
    writeFileSync(join(out, '.notes.txt'), 'x');
    const r = await runCli(['transform', FIXTURE, '-o', join(out, 'y.rdb'), '--out-dir', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`removed ${join(out, stale[0]!)}`);
    expect(hidden(out)).toEqual(['.notes.txt']);
  });
});
