import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { RekeyUsageError } from '../errors.js';
import { runSync } from '../sync/run.js';
import { info } from '../report/verbosity.js';
import { DEFAULTS, withLossy, withOutput, withRules, withTarget } from './options/index.js';

export interface SyncArgs {
  source: string;
  target: string;
  rules?: string;
  checkpoint?: string;
  'checkpoint-key'?: string;
  'out-dir': string;
  'to-db'?: number;
  unmatched?: 'keep' | 'drop';
  'on-conflict'?: 'skip' | 'replace' | 'fail';
  'tls-ca'?: string;
  'source-tls-ca'?: string;
  lossy?: boolean;
  'status-interval'?: number;
  batch?: number;
  'status-port'?: number;
  'enable-notifications'?: boolean;
  json?: boolean;
}

export const syncCommand: CommandModule<object, SyncArgs> = {
  command: 'sync <source>',
  describe: 'Keep renamed keys live: replicate a source (PSYNC) into the target, renaming every key by the rules',
  builder: (y: Argv) =>
    withOutput(
      withLossy(withRules(withTarget(y, { cluster: false, toDb: 'put every key into this db' })), 'exit 0 even when some commands could not be applied (they are still counted and named)'),
      { outDir: 'directory for the checkpoint, reports and log', json: 'print the final report as JSON on stdout' },
    )
      .positional('source', { type: 'string', demandOption: true, describe: 'redis://[user:pass@]host:port of the source (read as a replica, never written)' })
      .option('checkpoint', { type: 'string', describe: 'checkpoint file (default: <out-dir>/rekey-sync.checkpoint.json); an existing one is continued with PSYNC' })
      .option('checkpoint-key', { type: 'string', describe: 'target key (in the db of --to-db, else 0) set with each applied batch to the offset it ends at, so a killed sync resumes exactly; deleted on a clean stop (default: rekey-sync:checkpoint)' })
      .option('on-conflict', { choices: ['skip', 'replace', 'fail'] as const, default: DEFAULTS.onConflict.sync, describe: 'full sync: keys already in the target (the source is the truth: replace)' })
      .option('source-tls-ca', { type: 'string', describe: 'CA certificate file for a rediss:// source (default: --tls-ca)' })
      .option('status-interval', { type: 'number', default: 5, describe: 'seconds between status lines on stderr (0: none); SIGUSR1 prints the JSON status' })
      .option('enable-notifications', { type: 'boolean', describe: 'a source that refuses PSYNC is followed by SCAN+DUMP and keyspace notifications: let rekey CONFIG SET notify-keyspace-events KA on it (a write to its config, set back at the end)' })
      .option('status-port', { type: 'number', describe: 'serve GET /status (the JSON status) on 127.0.0.1 at this port (0: any free port, printed)' })
      .option('batch', { type: 'number', default: 5000, describe: 'stream commands per target round trip at most' }) as unknown as Argv<SyncArgs>,
  handler: async (a: ArgumentsCamelCase<SyncArgs>) => {
    if (a['to-db'] !== undefined && !(Number.isInteger(a['to-db']) && a['to-db'] >= 0)) throw new RekeyUsageError(`--to-db ${a['to-db']}: expected a db number`);
    if (a.batch !== undefined && !(Number.isInteger(a.batch) && a.batch >= 1)) throw new RekeyUsageError(`--batch ${a.batch}: expected a whole number ≥ 1`);
    if (a['status-interval'] !== undefined && !(a['status-interval'] >= 0)) throw new RekeyUsageError(`--status-interval ${a['status-interval']}: expected seconds ≥ 0`);
    if (a['status-port'] !== undefined && !(Number.isInteger(a['status-port']) && a['status-port'] >= 0 && a['status-port'] <= 65535)) throw new RekeyUsageError(`--status-port ${a['status-port']}: expected a port number 0-65535`);
    if (!/^rediss?:\/\//i.test(a.source)) throw new RekeyUsageError(`${a.source}: sync reads a live redis:// or rediss:// source`);
    const r = await runSync({
      source: a.source,
      target: a.target,
      ...(a.rules !== undefined ? { rules: a.rules } : {}),
      ...(a.checkpoint !== undefined ? { checkpoint: a.checkpoint } : {}),
      ...(a['checkpoint-key'] !== undefined ? { checkpointKey: a['checkpoint-key'] } : {}),
      outDir: a['out-dir'],
      ...(a['to-db'] !== undefined ? { toDb: a['to-db'] } : {}),
      ...(a.unmatched !== undefined ? { unmatched: a.unmatched } : {}),
      ...(a['on-conflict'] !== undefined ? { onConflict: a['on-conflict'] } : {}),
      ...(a['tls-ca'] !== undefined ? { tlsCa: a['tls-ca'] } : {}),
      ...(a['source-tls-ca'] !== undefined ? { sourceTlsCa: a['source-tls-ca'] } : {}),
      lossy: a.lossy === true,
      ...(a['status-interval'] !== undefined ? { statusInterval: a['status-interval'] } : {}),
      ...(a.batch !== undefined ? { batch: a.batch } : {}),
      ...(a['status-port'] !== undefined ? { statusPort: a['status-port'] } : {}),
      enableNotifications: a['enable-notifications'] === true,
      json: a.json === true,
      signals: true,
      // --quiet: status lines held back (the last one is the final line), warnings and errors always shown
      say: info,
      warn: (l: string) => process.stderr.write(l + '\n'),
    });
    process.exitCode = r.exitCode;
  },
};
