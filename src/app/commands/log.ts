// log:migrate --to esdb and log:reset (docs/design.md, "Moving the log to EventStoreDB").
import cliProgress from 'cli-progress';
import { createLogger } from '../../adapters/logging/logger.ts';
import { setCheckpointLog } from '../../adapters/postgres/checkpoint-log.ts';
import { createPgEventLog } from '../../adapters/postgres/pg-event-log.ts';
import { formatPosition } from '../../domain/event-log.ts';
import { rebuildLockKey } from '../../projections/rebuild.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { configuredSecrets } from '../config-secrets.ts';
import { openContext, openEventLog, prepareDatabase } from '../context.ts';
import { openDatabase } from '../database.ts';
import { holdLeaderLocks, leaderLockKeys } from '../log-migration/locks.ts';
import { migrateLog } from '../log-migration/migrate.ts';
import { rebuildProjections } from './projections.ts';

export interface LogMigrateOptions {
  readonly to: string;
  readonly eventstoreUrl?: string;
  readonly force?: boolean;
}

const ESDB_URL = /^(esdb|kurrentdb|kdb)(\+discover)?:\/\//;

/** The connection string without credentials or options, for output and td_log_copy. */
export const addressOf = (url: string): string => url.replace(/\/\/[^@/]*@/, '//').replace(/[?#].*$/, '');

/** The CLI's progress bar on stderr (a line every 2 s when it is no terminal), counting `unit`. */
export const progressBar = (label: string, unit = 'events') => {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(9)} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}`,
      stream: process.stderr,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 2000,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let startedAt = 0;
  let startValue = 0;
  return {
    start(total: number, value: number) {
      startedAt = performance.now();
      startValue = value;
      bar.start(Math.max(total, value, 1), value, { rate: 0 });
    },
    update(value: number) {
      const s = (performance.now() - startedAt) / 1000;
      bar.setTotal(Math.max(bar.getTotal(), value));
      bar.update(value, { rate: s > 0 ? Math.round((value - startValue) / s) : 0 });
    },
    stop: () => bar.stop(),
  };
};

export const logMigrateCommand = async (opts: LogMigrateOptions): Promise<void> => {
  if (opts.to !== 'esdb') throw new Error(`log:migrate --to ${opts.to}: only --to esdb is supported`);
  const config = loadConfig();
  const url = opts.eventstoreUrl ?? config.EVENTSTORE_URL;
  if (!url) throw new ConfigError('EVENTSTORE_URL (or --eventstore-url) must name the server to copy into');
  if (!ESDB_URL.test(url)) throw new ConfigError('--eventstore-url must be an esdb:// connection string');
  const logger = createLogger({
    level: process.env.LOG_LEVEL ?? 'warn',
    base: null,
    destination: 2,
    secrets: [...configuredSecrets(config), url],
  });
  const db = await openDatabase(config, logger);
  try {
    await prepareDatabase(config, db, logger, { anyLog: true });
    const { rows } = await db.pool.query<{ t: string | null }>(`SELECT to_regclass('td_events')::text AS t`);
    if (!rows[0]?.t) throw new Error('there is no PostgreSQL log (td_events) in this database to copy');
    const source = createPgEventLog({ pool: db.pool, connectionString: db.url });
    const target = await openEventLog({ ...config, EVENT_STORE: 'esdb', EVENTSTORE_URL: url }, db);
    const address = addressOf(url);
    const copyBar = progressBar('copy');
    const verifyBar = progressBar('verify');
    let total = 0;
    try {
      console.log(
        `log:migrate: copying the PostgreSQL log into EventStoreDB at ${address}. The app must stay stopped ` +
          '(no writes to the log) until this ends; every leader lock is held meanwhile, so an instance started now stands by.',
      );
      const result = await migrateLog({
        pool: db.pool,
        source,
        target,
        address,
        force: Boolean(opts.force),
        onStart: (s) => {
          total = s.total;
          if (s.busy.length > 0)
            console.log(`--force: going on although ${s.busy.join(', ')} are held by another session`);
          if (s.copied > 0)
            console.log(`resuming: ${s.copied} of ${s.total} events were copied by an earlier run`);
          copyBar.start(s.total, s.copied);
        },
        onCopied: (n) => copyBar.update(n),
        onVerifyStart: () => {
          copyBar.stop();
          verifyBar.start(total, 0);
        },
        onVerified: (n) => verifyBar.update(n),
      });
      copyBar.stop();
      verifyBar.stop();
      const v = result.verification;
      const rate = result.copyMs > 0 ? Math.round(result.copiedNow / (result.copyMs / 1000)) : 0;
      if (result.alreadyFinished)
        console.log('an earlier run finished the copy: verified it again, moved nothing');
      else
        console.log(
          `copied ${result.copiedNow} events in ${(result.copyMs / 1000).toFixed(1)} s (${rate} events/s); ${v.target.events} in all`,
        );
      console.log(
        `verified: ${v.source.events} events in ${v.source.streams} streams on both sides, per-stream counts equal, sha256 ${v.source.checksum} (${(result.verifyMs / 1000).toFixed(1)} s)`,
      );
      for (const c of result.checkpoints)
        console.log(
          `checkpoint ${c.label}: PostgreSQL ${formatPosition(c.position)} -> EventStoreDB ${c.to ? formatPosition(c.to) : 'start'}`,
        );
      console.log(
        'done: the checkpoints belong to EventStoreDB now. Set EVENT_STORE=esdb and EVENTSTORE_URL, then start the app.',
      );
    } finally {
      copyBar.stop();
      verifyBar.stop();
      await target.close();
      await source.close();
    }
  } finally {
    await db.close();
  }
};

/**
 * Starts afresh on the configured log: every projection rebuilt from it, every reactor at its head
 * (what the log holds counts as handled), the checkpoints marked as that log's.
 */
export const logResetCommand = async (opts: { yes?: boolean }): Promise<void> => {
  if (!opts.yes)
    throw new Error(
      'log:reset rebuilds every projection from the configured log and starts the reactors at its head (nothing in the log is sent again): pass --yes',
    );
  const ctx = await openContext({ anyLog: true });
  try {
    // The rebuilds take their own locks; every other leader lock is held here.
    const rebuilds = new Set(
      (await leaderLockKeys(ctx.db.pool)).filter((k) => k.startsWith(rebuildLockKey(''))),
    );
    const keys = (await leaderLockKeys(ctx.db.pool)).filter((k) => !rebuilds.has(k));
    const locks = await holdLeaderLocks(ctx.db.pool, keys, false);
    try {
      await rebuildProjections(ctx, { all: true });
      const head = await ctx.log.headPosition();
      await ctx.db.pool.query(
        'UPDATE td_reactors SET checkpoint_commit = $1, checkpoint_prepare = $2, updated_at = now()',
        [head?.commit.toString() ?? null, head?.prepare.toString() ?? null],
      );
      await setCheckpointLog(ctx.db.pool, ctx.config.EVENT_STORE);
      console.log(
        `the checkpoints belong to the ${ctx.config.EVENT_STORE} log now; reactors start at ${head ? formatPosition(head) : 'its start (it is empty)'}`,
      );
    } finally {
      await locks.release();
    }
  } finally {
    await ctx.close();
  }
};
