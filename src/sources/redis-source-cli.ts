/**
 * CLI glue for a live `redis://` source, shared by analyze, transform, import and validate:
 *
 *   builder:  withLiveSource(withCommon(y)).positional(…)…
 *   openInput(input, { …, ...liveSourceOptions(a, { rules, unmatched, stats, log, target: a.target }) })
 *
 * liveSourceOptions returns nothing for file inputs, so the same line serves every input.
 */
import type { Argv } from 'yargs';
import { RekeyUsageError } from '../errors.js';
import type { CompiledRules, UnmatchedMode } from '../rules/index.js';
import type { MigrationStats } from '../pipeline/stats.js';
import type { OperationLog } from '../report/files.js';
import { displayKey } from '../records/printable.js';
import type { OpenOptions } from './open.js';
import { matchPrefixFor } from './scan-match.js';

export interface LiveSourceArgs {
  'scan-count'?: number;
  'max-ops-per-sec'?: number;
  /** `auto` (default), `none`, or a glob. */
  'scan-match'?: string;
  'source-tls-ca'?: string;
}

/** The flags of a live source (harmless for file inputs). */
export function withLiveSource<T>(y: Argv<T>): Argv<T & LiveSourceArgs> {
  return y
    .option('scan-count', { type: 'number', default: 1000, describe: 'redis:// input: SCAN COUNT hint (keys per SCAN call)' })
    .option('max-ops-per-sec', { type: 'number', describe: 'redis:// input: at most this many commands per second (SCAN, DUMP, PEXPIRETIME each count); default unlimited' })
    .option('scan-match', {
      type: 'string',
      default: 'auto',
      describe: "redis:// input: SCAN MATCH glob. auto: from --match, and from the rules' common literal prefix when keys no rule matches are not needed (unmatched: drop, or an in-place import); none: scan everything",
    })
    .option('source-tls-ca', { type: 'string', describe: 'CA certificate file for a rediss:// input (default: --tls-ca)' }) as unknown as Argv<T & LiveSourceArgs>;
}

export interface LiveSourceContext {
  rules?: CompiledRules | null;
  /** The effective unmatched mode of the run (the flag, else the rules file's, else keep). */
  unmatched?: UnmatchedMode;
  /** vanished keys are counted in `stats.vanished`; DUMP errors as errors of their key. */
  stats?: MigrationStats;
  log?: OperationLog;
  /** import / validate: the target URL. An import into the source server itself is "in place". */
  target?: string;
  /** import / validate: --to-db. */
  toDb?: number | null;
}

type LiveOpenOptions = Pick<OpenOptions, 'scanCount' | 'maxOpsPerSec' | 'tlsCa' | 'onVanished' | 'onKeyError' | 'db' | 'match'>;

interface ArgsSeen extends LiveSourceArgs {
  input?: string | undefined;
  db?: number[] | undefined;
  match?: string | undefined;
  'tls-ca'?: string | undefined;
  target?: string | undefined;
  'to-db'?: number | undefined;
  resume?: string | undefined;
}

export function isLiveUrl(input: string | undefined): boolean {
  return input !== undefined && /^rediss?:\/\//i.test(input);
}

function hostPortDb(url: string): { host: string; port: number; db: number | null } | null {
  try {
    const u = new URL(url);
    let host = u.hostname.toLowerCase();
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    if (host === '' || host === 'localhost' || host === '::1') host = '127.0.0.1';
    const path = u.pathname.replace(/^\/+/, '').replace(/\/+$/, '');
    return { host, port: u.port ? Number(u.port) : 6379, db: /^\d+$/.test(path) ? Number(path) : null };
  } catch {
    return null;
  }
}

/**
 * True when an import from `source` into `target` writes into the very dbs it reads: the same
 * host:port and either no target db (every key stays in its own db) or exactly the one db read.
 * Then a kept unmatched key would only be written onto itself (and skipped as existing).
 */
export function isInPlace(source: string, target: string, o: { db?: number[]; toDb?: number | null } = {}): boolean {
  const s = hostPortDb(source);
  const t = hostPortDb(target);
  if (s === null || t === null || s.host !== t.host || s.port !== t.port) return false;
  const targetDb = o.toDb ?? t.db;
  if (targetDb === null || targetDb === undefined) return true;
  const read = s.db !== null ? [s.db] : o.db && o.db.length > 0 ? [...new Set(o.db)] : null;
  return read !== null && read.length === 1 && read[0] === targetDb;
}

const MAX_LOGGED = 100;

/**
 * OpenOptions for a live source from the parsed flags (an empty object for file inputs): SCAN COUNT,
 * rate limit, TLS CA, --db, the pushed-down SCAN MATCH, and the vanished / DUMP-error callbacks
 * wired to the run's stats and log.
 */
export function liveSourceOptions(a: ArgsSeen, ctx: LiveSourceContext = {}): LiveOpenOptions {
  if (!isLiveUrl(a.input)) return {};
  if (a.resume !== undefined) {
    // The ledger resumes by input offset; a live keyspace has no stable order (SCAN order changes as
    // keys come and go, and an in-place import adds keys), so skipping by offset would skip wrong keys.
    throw new RekeyUsageError('--resume works with dump files only: a live redis:// input has no stable key order. Run the import again instead (keys already there are skipped)');
  }
  const o: LiveOpenOptions = {};
  if (a['scan-count'] !== undefined) o.scanCount = a['scan-count'];
  if (a['max-ops-per-sec'] !== undefined) o.maxOpsPerSec = a['max-ops-per-sec'];
  const ca = a['source-tls-ca'] ?? a['tls-ca'];
  if (ca !== undefined && /^rediss:/i.test(a.input!)) o.tlsCa = ca;
  if (a.db && a.db.length > 0) o.db = a.db;

  const mode = a['scan-match'] ?? 'auto';
  if (mode === 'auto') {
    const target = ctx.target ?? a.target;
    const toDb = ctx.toDb !== undefined ? ctx.toDb : (a['to-db'] ?? null);
    const inPlace = target !== undefined && isInPlace(a.input!, target, { ...(a.db ? { db: a.db } : {}), toDb });
    const unmatched = ctx.unmatched ?? ctx.rules?.unmatched ?? 'keep';
    const useRules = unmatched === 'drop' || (unmatched === 'keep' && inPlace);
    const glob = matchPrefixFor(ctx.rules ?? null, a.match, { useRules });
    if (glob !== null) o.match = glob;
    if (glob !== null) ctx.log?.log('INFO', `source: SCAN MATCH ${JSON.stringify(glob)}${useRules && ctx.rules ? ' (the rules\' common prefix' + (inPlace ? ', in-place import' : '') + ')' : ''}`);
  } else if (mode !== 'none') {
    if (mode === '') throw new RekeyUsageError('--scan-match: give auto, none or a glob');
    o.match = mode;
  }

  let vanishedLogged = 0;
  o.onVanished = (db, key) => {
    if (ctx.stats) ctx.stats.vanished++;
    if (!ctx.log) return;
    if (vanishedLogged < MAX_LOGGED) ctx.log.log('WARN', `db ${db} ${displayKey(key)}: vanished between SCAN and DUMP (deleted or expired meanwhile)`);
    else if (vanishedLogged === MAX_LOGGED) ctx.log.log('WARN', `more keys vanished between SCAN and DUMP; only counted from here on`);
    vanishedLogged++;
  };
  o.onKeyError = (db, key, message) => {
    ctx.stats?.error(db, key, `source DUMP failed: ${message}`);
    ctx.log?.log('ERROR', `db ${db} ${displayKey(key)}: source DUMP failed: ${message}`);
  };
  return o;
}
