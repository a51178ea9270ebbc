// What a CLI command needs: configuration, a logger, the database and the event log, opened the
// same way `npm start` opens them (embedded PostgreSQL included), without the HTTP server.
import type { Logger } from 'pino';
import { createLogger } from '../adapters/logging/logger.ts';
import { eventLogMigrations, migrate } from '../adapters/postgres/migrations.ts';
import { createPgEventLog } from '../adapters/postgres/pg-event-log.ts';
import { webhookDeliveriesMigration } from '../adapters/webhooks/deliveries.ts';
import type { EventLog } from '../domain/event-log.ts';
import { reactorMigration, registryMigration } from '../projections/index.ts';
import { type Config, configuredSecrets, loadConfig } from './config.ts';
import { type Database, openDatabase } from './database.ts';

export interface Context {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  readonly log: EventLog;
  close(): Promise<void>;
}

export const openEventLog = async (config: Config, db: Database): Promise<EventLog> => {
  if (config.EVENT_STORE === 'esdb') {
    const { createEsdbEventLog } = await import('../adapters/eventstore/esdb-event-log.ts');
    return createEsdbEventLog({ connectionString: config.EVENTSTORE_URL! });
  }
  return createPgEventLog({ pool: db.pool, connectionString: db.url });
};

/** The log's size, for a rebuild's ETA: counted in the PostgreSQL log; unknown with EventStoreDB. */
export const logSizeEstimate = (config: Config, db: Database) => async (): Promise<number | undefined> => {
  if (config.EVENT_STORE !== 'postgres') return undefined;
  const { rows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM td_events');
  return Number(rows[0]!.n);
};

/** Migrations of everything topicdesk keeps in PostgreSQL, for `migrate` and start-up. */
export const allMigrations = (config: Config) => [
  ...(config.EVENT_STORE === 'postgres' ? eventLogMigrations : []),
  registryMigration,
  reactorMigration,
  webhookDeliveriesMigration,
];

export const openContext = async (options: { config?: Config; logger?: Logger } = {}): Promise<Context> => {
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
    await migrate(db.pool, allMigrations(config));
    const log = await openEventLog(config, db);
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
