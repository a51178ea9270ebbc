// What a CLI command needs: configuration, a logger, the database and the event log, opened the
// same way `npm start` opens them (embedded PostgreSQL included), without the HTTP server.
import pg from 'pg';
import type { Logger } from 'pino';
import { createLogger } from '../adapters/logging/logger.ts';
import { claimCheckpointLog } from '../adapters/postgres/checkpoint-log.ts';
import {
  checkpointLogMigration,
  eventLogMigrations,
  type Migration,
  migrate,
} from '../adapters/postgres/migrations.ts';
import { createPgEventLog } from '../adapters/postgres/pg-event-log.ts';
import { appendOnlyRisks, grantServiceRole } from '../adapters/postgres/roles.ts';
import { groupMembersMigration } from '../adapters/telegram/members.ts';
import { vkLongPollMigration } from '../adapters/vk/poll-position.ts';
import {
  webhookDeliveriesMigration,
  webhookRatingRequestsMigration,
} from '../adapters/webhooks/deliveries.ts';
import type { EventLog } from '../domain/event-log.ts';
import { allProjections, reactorMigration, registryMigrations } from '../projections/index.ts';
import { type Config, loadConfig } from './config.ts';
import { configuredSecrets } from './config-secrets.ts';
import { type Database, openDatabase } from './database.ts';
import { withOriginalTimes } from './log-migration/original-times.ts';
import { logCopyMigration } from './log-migration/progress.ts';

export interface Context {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  readonly log: EventLog;
  close(): Promise<void>;
}

export const openEventLog = async (config: Config, db: Database, logger?: Logger): Promise<EventLog> => {
  // Events copied from PostgreSQL by log:migrate read with the time PostgreSQL recorded them.
  if (config.EVENT_STORE === 'esdb') return withOriginalTimes(await openEsdbEventLog(config, logger));
  return createPgEventLog({ pool: db.pool, connectionString: db.url });
};

/**
 * The EventStoreDB log, once the node serves reads: a KurrentDB node answers its HTTP health check
 * before that, so start-up pings it for up to EVENTSTORE_START_TIMEOUT_MS, saying so while it waits.
 */
export const openEsdbEventLog = async (config: Config, logger?: Logger): Promise<EventLog> => {
  const { createEsdbEventLog, waitUntilServing } = await import('../adapters/eventstore/esdb-event-log.ts');
  const { describeEsdbTarget } = await import('../adapters/eventstore/connection.ts');
  const log = createEsdbEventLog({
    connectionString: config.EVENTSTORE_URL!,
    caFile: config.EVENTSTORE_CA_FILE,
    username: config.EVENTSTORE_USERNAME,
    password: config.EVENTSTORE_PASSWORD,
    timeoutMs: config.EVENTSTORE_TIMEOUT_MS,
    pingTimeoutMs: config.EVENTSTORE_PING_TIMEOUT_MS,
  });
  const target = describeEsdbTarget(config.EVENTSTORE_URL!);
  try {
    await waitUntilServing(log, {
      timeoutMs: config.EVENTSTORE_START_TIMEOUT_MS,
      onRetry: (attempt, err) =>
        logger?.warn(
          { eventStore: target, attempt, error: err instanceof Error ? err.message : String(err) },
          `event log: waiting for EventStoreDB at ${target} to serve reads`,
        ),
    });
  } catch (error) {
    await log.close().catch(() => undefined);
    throw new Error(
      `EventStoreDB at ${target} did not serve reads within EVENTSTORE_START_TIMEOUT_MS (${config.EVENTSTORE_START_TIMEOUT_MS} ms): ${(error as Error).message}`,
      { cause: error },
    );
  }
  logger?.info({ eventStore: target }, `event log: EventStoreDB at ${target} serves reads`);
  return log;
};

/** The log's size, for a rebuild's ETA: counted in the PostgreSQL log; unknown with EventStoreDB. */
export const logSizeEstimate = (config: Config, db: Database) => async (): Promise<number | undefined> => {
  if (config.EVENT_STORE !== 'postgres') return undefined;
  const { rows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM td_events');
  return Number(rows[0]!.n);
};

/** Migrations of everything topicdesk keeps in PostgreSQL, for `migrate` and start-up. */
export const allMigrations = (config: Config): Migration[] => [
  ...(config.EVENT_STORE === 'postgres' ? eventLogMigrations : []),
  ...registryMigrations,
  reactorMigration,
  webhookDeliveriesMigration,
  checkpointLogMigration,
  logCopyMigration,
  groupMembersMigration,
  webhookRatingRequestsMigration,
  vkLongPollMigration,
];

/**
 * Start-up's and `migrate`'s database work: the migrations as the owner role, then the service
 * role's grants; without DATABASE_OWNER_URL both run as the one role. Then the checkpoints must
 * belong to the configured log (`anyLog`: the log commands, which move them). Returns the
 * migrations applied.
 */
export const prepareDatabase = async (
  config: Config,
  db: Database,
  logger: Logger,
  options: { anyLog?: boolean } = {},
): Promise<string[]> => {
  const migrations = allMigrations(config);
  let applied: string[];
  if (db.ownerUrl) {
    const owner = new pg.Pool({ connectionString: db.ownerUrl, max: 1 });
    owner.on('error', () => undefined); // an idle connection dropped: the next query says so
    try {
      applied = await migrate(owner, migrations);
      const { rows } = await db.pool.query<{ role: string }>('SELECT current_user AS role');
      await grantServiceRole(owner, {
        service: rows[0]!.role,
        migrations,
        readModels: allProjections.flatMap((p) => p.tables),
      });
    } finally {
      await owner.end();
    }
  } else {
    applied = await migrate(db.pool, migrations);
  }
  if (!options.anyLog) await claimCheckpointLog(db.pool, config.EVENT_STORE);
  if (config.EVENT_STORE === 'postgres') {
    const { role, risks } = await appendOnlyRisks(db.pool);
    if (risks.length === 0) {
      logger.info(
        { role },
        `append-only: the service role ${role} can read and append events, not change or remove them`,
      );
    } else {
      logger.warn(
        { role, risks },
        `append-only: the service connects as ${role}, which ${risks.join(' and ')}: it could change or remove events. Connect with DATABASE_URL as a role without those rights and migrate with DATABASE_OWNER_URL (docs/design.md, "The append-only guarantee")`,
      );
    }
  }
  return applied;
};

export const openContext = async (
  options: { config?: Config; logger?: Logger; anyLog?: boolean } = {},
): Promise<Context> => {
  const config = options.config ?? loadConfig();
  // CLI output is for people: logs go to stderr, at warn unless LOG_LEVEL says otherwise.
  const logger =
    options.logger ??
    createLogger({
      level: process.env.LOG_LEVEL ?? 'warn',
      base: null,
      destination: 2,
      secrets: configuredSecrets(config),
    });
  const db = await openDatabase(config, logger);
  try {
    await prepareDatabase(config, db, logger, { anyLog: options.anyLog });
    const log = await openEventLog(config, db, logger);
    return {
      config,
      logger,
      db,
      log,
      async close() {
        await log.close();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
};
