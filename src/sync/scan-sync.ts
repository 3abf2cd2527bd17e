/**
 * The fallback for a source that serves no replicas (PSYNC/SYNC renamed away, an ACL user without
 * them, managed services): subscribe to keyspace notifications first, copy every key with SCAN +
 * DUMP/PTTL → RESTORE … REPLACE under its new name, then copy again each key a notification names.
 * A key is always re-read after its notification arrived, so the target converges on the source's
 * latest value, and a vanished key (del, expired, evicted, rename_from) is deleted under its new name.
 *
 * Notifications are fire-and-forget (pubsub): one missed while the subscriber is disconnected or
 * dropped for its output buffer is lost, so this mode can miss writes. A reconnect rescans everything;
 * there is no offset, so no checkpoint either (a restart copies everything again).
 */
import { Redis } from 'ioredis';
import type { CompiledRules, UnmatchedMode } from '../rules/index.js';
import { ReplyError, tlsOptions, type Link, type Reply, type TargetSpec } from './importer-adapter.js';
import { hasTypedRules, printable } from './rename-command.js';
import type { SyncStatus } from './status.js';
import type { LogicalType } from '../records/types.js';

/** Keyspace events (K) for every class a write can touch (notify.c: g $ l s h z x e t, or A for all). */
const NEEDED_CLASSES = 'g$lshzxet';

/** Whether a notify-keyspace-events value publishes what this mode needs. */
export function notificationsCover(flags: string): boolean {
  if (!flags.includes('K')) return false;
  return flags.includes('A') || [...NEEDED_CLASSES].every((c) => flags.includes(c));
}

export interface ScanSyncContext {
  source: TargetSpec;
  rules: CompiledRules | null;
  unmatched: UnmatchedMode;
  toDb: number | null;
  status: SyncStatus;
  log: (level: 'INFO' | 'WARN' | 'ERROR', msg: string) => void;
  /** Source reads (CONFIG GET, SCAN, DUMP …) and target writes. */
  admin: Link;
  reads: Link;
  target: Link;
  /** Allow CONFIG SET notify-keyspace-events on the source (a write to its config, restored at the end). */
  enableNotifications: boolean;
  stopped: () => boolean;
  statusEvery: number;
  say: (line: string) => void;
}

export type ScanSyncResult = { ok: true } | { ok: false; failure: string; refused?: boolean };

const CHUNK = 500;

const str = (r: Reply | undefined): string => (Buffer.isBuffer(r) ? r.toString('latin1') : typeof r === 'string' ? r : '');

/** `__keyspace@<db>__:<key>` → db and key bytes. */
function parseChannel(ch: Buffer): { db: number; key: Buffer } | null {
  const prefix = '__keyspace@';
  if (ch.length < prefix.length + 4 || ch.toString('latin1', 0, prefix.length) !== prefix) return null;
  const end = ch.indexOf('__:', prefix.length);
  if (end < 0) return null;
  const db = Number(ch.toString('latin1', prefix.length, end));
  return Number.isInteger(db) && db >= 0 ? { db, key: ch.subarray(end + 3) } : null;
}

export async function runScanSync(c: ScanSyncContext): Promise<ScanSyncResult> {
  const { status, log } = c;
  // 1. notifications: read what the source publishes; change it only when allowed, and say so
  const got = await c.admin.call(['CONFIG', 'GET', 'notify-keyspace-events']);
  const readable = Array.isArray(got) && got.length >= 2;
  const before = readable ? str(got[1]) : null;
  let restore: string | null = null;
  if (before === null || !notificationsCover(before)) {
    const why = before === null ? `its notify-keyspace-events cannot be read (${got instanceof ReplyError ? got.message : 'no reply'})` : `it publishes notify-keyspace-events "${before}", which lacks K and ${NEEDED_CLASSES} (or A)`;
    if (!c.enableNotifications) {
      return { ok: false, refused: true, failure: `the SCAN fallback follows writes through keyspace notifications and ${why}: set notify-keyspace-events KA on the source yourself, or pass --enable-notifications to let rekey do it (CONFIG SET on the source: a write to its config, restored when the sync stops)` };
    }
    const want = 'KA' + (before ?? '').replace(/[KA]/g, '');
    const r = await c.admin.call(['CONFIG', 'SET', 'notify-keyspace-events', want]);
    if (r instanceof ReplyError) return { ok: false, refused: true, failure: `--enable-notifications: CONFIG SET notify-keyspace-events ${want} on the source was refused (${r.message})` };
    restore = before;
    log('WARN', `wrote to the source's config: CONFIG SET notify-keyspace-events ${want} (was "${before ?? '?'}"; --enable-notifications); it is set back when the sync stops`);
  } else log('INFO', `the source already publishes keyspace notifications (notify-keyspace-events "${before}")`);
  log('WARN', 'SCAN+DUMP mode: keys are copied with SCAN and DUMP, then followed through keyspace notifications, which are fire-and-forget: a write whose notification is lost (a dropped subscriber connection, its output buffer limit) is missed. There is no checkpoint: a restart copies every key again. Check the target with rekey validate before cutting over.');

  // 2. subscribe before the copy, so a write during it is copied again afterwards
  const dirty = new Map<number, Map<string, Buffer>>();
  let rescan = true;
  let lost = 0;
  const sub = new Redis({
    host: c.source.host,
    port: c.source.port,
    ...(c.source.username !== null ? { username: c.source.username } : {}),
    ...(c.source.password !== null ? { password: c.source.password } : {}),
    ...(c.source.tls ? { tls: tlsOptions(c.source) ?? {} } : {}),
    connectionName: 'rekey-sync-notifications',
    lazyConnect: true,
    maxRetriesPerRequest: null,
  });
  sub.on('error', () => undefined);
  let ready = 0;
  sub.on('ready', () => {
    // ioredis re-subscribes after a reconnect; what was published in between is gone: copy all again
    if (ready++ > 0) {
      lost++;
      rescan = true;
      log('WARN', 'the notification connection to the source was lost and is back: notifications in between are gone, every key is copied again');
    }
  });
  sub.on('pmessageBuffer', (_p: Buffer, ch: Buffer) => {
    const k = parseChannel(ch);
    if (!k) return;
    let m = dirty.get(k.db);
    if (!m) dirty.set(k.db, (m = new Map()));
    m.set(k.key.toString('latin1'), k.key);
  });
  try {
    await sub.connect();
    await sub.psubscribe('__keyspace@*__:*');
  } catch (e) {
    sub.disconnect();
    return { ok: false, failure: `cannot subscribe to the source's keyspace notifications: ${(e as Error).message}` };
  }

  const typed = hasTypedRules(c.rules);
  let failure: string | null = null;
  let lastStatus = Date.now();
  const copy = new KeyCopier(c, typed);
  try {
    while (!c.stopped() && failure === null) {
      if (rescan) {
        rescan = false;
        status.phase = 'scan-copy';
        failure = await scanAll(c, copy, () => c.stopped());
        if (failure === null && !c.stopped()) {
          status.phase = 'notifications';
          log('INFO', `SCAN copy done (${status.commandsApplied} keys written); following keyspace notifications`);
        }
        continue;
      }
      const batch = takeDirty(dirty, CHUNK);
      status.pendingKeys = [...dirty.values()].reduce((s, m) => s + m.size, 0);
      if (batch) {
        try {
          await copy.keys(batch.db, batch.keys);
        } catch (e) {
          failure = (e as Error).message;
        }
      } else await new Promise((r) => setTimeout(r, 50));
      const now = Date.now();
      if (c.statusEvery > 0 && now - lastStatus >= c.statusEvery * 1000) {
        c.say(status.line(now));
        lastStatus = now;
      }
    }
  } finally {
    sub.disconnect();
    if (restore !== null) {
      const r = await c.admin.call(['CONFIG', 'SET', 'notify-keyspace-events', restore]).catch((e: Error) => new ReplyError(e.message));
      if (r instanceof ReplyError) log('WARN', `could not set the source's notify-keyspace-events back to "${restore}": ${r.message}`);
      else log('INFO', `the source's notify-keyspace-events is "${restore}" again`);
    }
  }
  if (lost > 0) status.count(status.errors, 'notifications lost', `the notification connection dropped ${lost} time(s); every key was copied again`);
  return failure === null ? { ok: true } : { ok: false, failure };
}

function takeDirty(dirty: Map<number, Map<string, Buffer>>, n: number): { db: number; keys: Buffer[] } | null {
  for (const [db, m] of dirty) {
    const keys: Buffer[] = [];
    for (const [s, k] of m) {
      keys.push(k);
      m.delete(s);
      if (keys.length >= n) break;
    }
    if (m.size === 0) dirty.delete(db);
    if (keys.length > 0) return { db, keys };
  }
  return null;
}

/** Every key of every db the source lists in INFO keyspace. Returns a failure message or null. */
async function scanAll(c: ScanSyncContext, copy: KeyCopier, stopped: () => boolean): Promise<string | null> {
  const info = str(await c.admin.call(['INFO', 'keyspace']));
  const dbs = [...info.matchAll(/^db(\d+):keys=/gm)].map((m) => Number(m[1]));
  for (const db of dbs) {
    let cursor = '0';
    do {
      if (stopped()) return null;
      const r = await c.reads.send([['SELECT', String(db)], ['SCAN', cursor, 'COUNT', String(CHUNK)]]);
      const scan = r[1];
      if (!Array.isArray(scan) || scan.length < 2 || !Array.isArray(scan[1])) return `SCAN on the source db ${db}: ${scan instanceof ReplyError ? scan.message : 'unexpected reply'}`;
      cursor = str(scan[0]);
      const keys = (scan[1] as Reply[]).filter((k): k is Buffer => Buffer.isBuffer(k));
      try {
        await copy.keys(db, keys);
      } catch (e) {
        return (e as Error).message;
      }
    } while (cursor !== '0');
  }
  return null;
}

/** Read keys (TYPE when the rules need it, PTTL, DUMP) and write them under their new names. */
class KeyCopier {
  constructor(
    private readonly c: ScanSyncContext,
    private readonly typed: boolean,
  ) {}

  async keys(db: number, keys: Buffer[]): Promise<void> {
    if (keys.length === 0) return;
    const per = this.typed ? 3 : 2;
    const reads: Buffer[][] = [[Buffer.from('SELECT'), Buffer.from(String(db))]];
    for (const k of keys) {
      if (this.typed) reads.push([Buffer.from('TYPE'), k]);
      reads.push([Buffer.from('PTTL'), k], [Buffer.from('DUMP'), k]);
    }
    const r = await this.c.reads.send(reads);
    const st = this.c.status;
    const writes: Buffer[][] = [];
    const what: string[] = [];
    let at = -1;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const base = 1 + i * per;
      const type = this.typed ? str(r[base]) : '';
      const pttl = r[base + per - 2];
      const dump = r[base + per - 1];
      if (dump instanceof ReplyError || pttl instanceof ReplyError) {
        st.count(st.errors, 'source read', `DUMP ${printable(key)} (db ${db}): ${(dump instanceof ReplyError ? dump : (pttl as ReplyError)).message}`);
        continue;
      }
      const c = this.c.rules ? this.c.rules.classify(key, this.typed && type !== 'none' ? (type as LogicalType) : undefined, db) : null;
      if (this.c.rules && c === null) {
        if (this.c.unmatched === 'drop') {
          st.count(st.dropped, 'unmatched (dropped by the rules)');
          continue;
        }
        if (this.c.unmatched === 'error') {
          st.count(st.refused, 'unmatched key', `${printable(key)} (db ${db}): no rule matches and the rules say unmatched: error`);
          continue;
        }
      }
      const newKey = c ? c.newKey : key;
      const tdb = this.c.toDb ?? c?.toDb ?? db;
      if (tdb !== at) {
        writes.push([Buffer.from('SELECT'), Buffer.from(String(tdb))]);
        what.push('');
        at = tdb;
      }
      if (!Buffer.isBuffer(dump)) writes.push([Buffer.from('DEL'), newKey]);
      else {
        const ms = typeof pttl === 'number' ? pttl : -1;
        const ttl = c?.ttl === 'drop' ? 0 : typeof c?.ttl === 'number' ? c.ttl : ms > 0 ? ms : 0;
        writes.push([Buffer.from('RESTORE'), newKey, Buffer.from(String(ttl)), dump, Buffer.from('REPLACE')]);
      }
      what.push(`${writes[writes.length - 1]![0]!.toString()} ${printable(newKey)}`);
    }
    if (writes.length === 0) return;
    writes.push([Buffer.from('SELECT'), Buffer.from('0')]);
    what.push('');
    let replies: Reply[];
    try {
      replies = await this.c.target.send(writes);
    } catch (e) {
      throw new Error(`the target ${this.c.target.display} failed: ${(e as Error).message}`);
    }
    for (let i = 0; i < replies.length; i++) {
      const rep = replies[i];
      if (what[i] === '') continue;
      if (rep instanceof ReplyError) st.count(st.errors, rep.code, `${what[i]}: ${rep.message}`);
      else st.commandsApplied++;
    }
  }
}
