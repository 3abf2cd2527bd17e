/**
 * Option groups: each flag is defined once, here, with its default from DEFAULTS; a command builder
 * composes the groups it needs (`withOutput(withFilters(withInput(y)))…`) and adds only its own flags.
 */
import type { Argv, Options } from 'yargs';
import { DEFAULTS } from './defaults.js';
import { withTargetEndpoint, type EndpointFlagArgs } from './endpoint.js';

/** Cast helper: yargs' inferred types do not survive composition through generics. */
function add<T, U>(y: Argv<T>, opts: Record<string, Options>): Argv<T & U> {
  return y.options(opts) as unknown as Argv<T & U>;
}

export interface InputArgs {
  'ignore-checksum': boolean;
  'allow-future-version': boolean;
}

/** How a dump is read (RDB header and checksum). */
export function withInput<T>(y: Argv<T>): Argv<T & InputArgs> {
  return add<T, InputArgs>(y, {
    'ignore-checksum': { type: 'boolean', default: DEFAULTS.ignoreChecksum, describe: 'do not verify the RDB CRC64' },
    'allow-future-version': { type: 'boolean', default: DEFAULTS.allowFutureVersion, describe: 'read RDB headers newer than rekey knows' },
  });
}

export interface BadLinesArgs {
  'skip-bad-lines'?: boolean;
}

/** JSONL input: skip and count lines that do not parse. */
export function withBadLines<T>(y: Argv<T>): Argv<T & BadLinesArgs> {
  return add<T, BadLinesArgs>(y, { 'skip-bad-lines': { type: 'boolean', default: DEFAULTS.skipBadLines, describe: 'JSONL input: skip and count bad lines' } });
}

export interface FilterArgs {
  db?: number[];
  type?: string[];
  match?: string;
  'key-regex'?: string;
  'exclude-regex'?: string;
}

/** Which keys of the input take part. */
export function withFilters<T>(y: Argv<T>): Argv<T & FilterArgs> {
  return add<T, FilterArgs>(y, {
    db: { type: 'number', array: true, describe: 'only keys of this db (repeatable)' },
    type: { type: 'string', array: true, describe: 'only keys of this type: string list set zset hash stream module (repeatable)' },
    match: { type: 'string', describe: 'only keys matching this Redis glob' },
    'key-regex': { type: 'string', describe: 'only keys matching this regular expression' },
    'exclude-regex': { type: 'string', describe: 'skip keys matching this regular expression' },
  });
}

export interface RulesArgs {
  rules?: string;
  unmatched?: 'keep' | 'drop';
  'on-collision'?: 'keep-first' | 'fail';
}

/**
 * The rules file; with `unmatched`, the override of its unmatched setting; with `collision`, what to
 * do when two keys land on one name ('no-default': leave it unset, so a command can tell an explicit
 * `keep-first` from none).
 */
export function withRules<T>(y: Argv<T>, o: { describe?: string; unmatched?: boolean; collision?: boolean | 'no-default' } = {}): Argv<T & RulesArgs> {
  return add<T, RulesArgs>(y, {
    rules: { type: 'string', describe: o.describe ?? 'rules file (YAML or JSON)' },
    ...(o.unmatched !== false ? { unmatched: { choices: ['keep', 'drop'], describe: "keys no rule matches (default: the rules file's setting)" } } : {}),
    ...(o.collision ? { 'on-collision': { choices: ['keep-first', 'fail'], ...(o.collision === 'no-default' ? {} : { default: DEFAULTS.onCollision }), describe: `two keys renamed to one name: keep the first, or stop (default: ${DEFAULTS.onCollision})` } } : {}),
  });
}

export interface ExpiryArgs {
  expired?: 'drop' | 'keep';
  now?: number;
}

/** Keys already expired, judged at one instant. */
export function withExpiry<T>(y: Argv<T>, o: { expired?: boolean } = {}): Argv<T & ExpiryArgs> {
  return add<T, ExpiryArgs>(y, {
    ...(o.expired !== false ? { expired: { choices: ['drop', 'keep'], default: DEFAULTS.expired, describe: 'keys already expired at --now' } } : {}),
    now: { type: 'number', describe: 'judge expiry (and rule TTLs) at this epoch ms (default: now)' },
  });
}

export interface TargetArgs extends EndpointFlagArgs {
  /** Always set by the time a handler runs: given, or built from -h/-p/… (options/endpoint.ts). */
  target: string;
  cluster?: boolean;
  'tls-ca'?: string;
  'to-db'?: number;
}

/** The Redis (or cluster) written to or compared with: a URL, or redis-cli's flags (endpoint.ts). */
export function withTarget<T>(y: Argv<T>, o: { toDb?: string | false; cluster?: boolean } = {}): Argv<T & TargetArgs> {
  return add<T, TargetArgs>(withTargetEndpoint(y), {
    target: { type: 'string', describe: 'redis://[user:pass@]host:port[/db] or rediss://…, or -h/-p/… below (password also from REKEY_TARGET_PASSWORD, REDISCLI_AUTH)' },
    ...(o.cluster !== false ? { cluster: { type: 'boolean', default: DEFAULTS.cluster, describe: 'the target is a Redis Cluster (detected anyway)' } } : {}),
    'tls-ca': { type: 'string', describe: 'CA certificate file for rediss://' },
    ...(o.toDb !== false ? { 'to-db': { type: 'number', describe: o.toDb ?? 'put every key into this db (0 for a cluster)' } } : {}),
  });
}

export interface LiveArgs {
  live?: boolean;
  yes?: boolean;
}

/** Dry run unless --live; the terminal confirmation. */
export function withLive<T>(y: Argv<T>, what = 'write'): Argv<T & LiveArgs> {
  return add<T, LiveArgs>(y, {
    live: { type: 'boolean', default: DEFAULTS.live, describe: `really ${what} (without it: a dry run that only reads the target)` },
    yes: { type: 'boolean', default: DEFAULTS.yes, describe: 'do not ask for confirmation on a terminal' },
  });
}

export interface ValidationArgs {
  sample?: number;
  'ttl-tolerance'?: number;
}

/** How a target is compared with the input. */
export function withValidation<T>(y: Argv<T>): Argv<T & ValidationArgs> {
  return add<T, ValidationArgs>(y, {
    sample: { type: 'number', default: DEFAULTS.sample, describe: 'validation: fraction of keys to compare (0–1]' },
    'ttl-tolerance': { type: 'number', default: DEFAULTS.ttlTolerance, describe: 'validation: allowed TTL difference in ms' },
  });
}

export interface LossyArgs {
  lossy: boolean;
}

/** Accept counted losses (what the target cannot carry) with exit 0. */
export function withLossy<T>(y: Argv<T>, describe: string): Argv<T & LossyArgs> {
  return add<T, LossyArgs>(y, { lossy: { type: 'boolean', default: DEFAULTS.lossy, describe } });
}

export interface OutputArgs {
  'out-dir': string;
  json: boolean;
}

/** Where report files go, and the machine-readable result on stdout. */
export function withOutput<T>(y: Argv<T>, o: { outDir?: string; json?: string } = {}): Argv<T & OutputArgs> {
  return add<T, OutputArgs>(y, {
    'out-dir': { type: 'string', default: DEFAULTS.outDir, describe: o.outDir ?? 'directory for report files' },
    json: { type: 'boolean', default: DEFAULTS.json, describe: o.json ?? 'print the machine-readable result on stdout' },
  });
}

export interface ProgressArgs {
  progress?: boolean;
}

/** The progress bar (default: on for large inputs on a terminal, or `on` for the import's lines). */
export function withProgress<T>(y: Argv<T>, o: { default?: boolean; describe?: string } = {}): Argv<T & ProgressArgs> {
  return add<T, ProgressArgs>(y, {
    progress: {
      type: 'boolean',
      ...(o.default !== undefined ? { default: o.default } : {}),
      describe: o.describe ?? 'force the progress bar on or off (default: on for large inputs on a terminal)',
    },
  });
}
