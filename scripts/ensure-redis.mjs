#!/usr/bin/env node
// Run by `npm test` before vitest: the tests start real redis-server processes.
// redis-server on PATH → exit 0. Otherwise, as root with apt-get, install Debian's redis-server
// (redis-tools comes with it). Otherwise print how to get it and exit 1.
import { accessSync, constants } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';

const HINT = 'rekey tests need redis-server: apt-get install redis-server';

function onPath(cmd) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    console.error(`ensure-redis: \`${cmd} ${args.join(' ')}\` failed (${r.error?.message ?? `exit ${r.status}`})\n${out}`);
    return false;
  }
  return true;
}

if (onPath('redis-server')) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !onPath('apt-get')) {
  console.error(HINT);
  process.exit(1);
}

console.error('ensure-redis: redis-server not found; installing Debian package redis-server with apt-get...');
const env = { DEBIAN_FRONTEND: 'noninteractive' };
if (!run('apt-get', ['update'], env) || !run('apt-get', ['install', '-y', 'redis-server'], env)) {
  console.error(HINT);
  process.exit(1);
}
if (!onPath('redis-server')) {
  console.error(`ensure-redis: apt-get finished but redis-server is still not on PATH. ${HINT}`);
  process.exit(1);
}
process.exit(0);
