// The composition root: wires configuration, the event log, the database and the adapters,
// starts them in order and stops them in reverse.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createMetrics, type Metrics } from '../adapters/http/metrics.ts';
import { createHttpServer } from '../adapters/http/server.ts';
import { migrate } from '../adapters/postgres/migrations.ts';
import { sqlDatabase } from '../adapters/postgres/sql.ts';
import type { EventLog } from '../domain/event-log.ts';
import { allProjections } from '../projections/index.ts';
import { startProjectionRunner } from '../projections/runner.ts';
import { type Config, channelStatus } from './config.ts';
import { allMigrations, openEventLog } from './context.ts';
import { type Database, openDatabase } from './database.ts';

export interface App {
  readonly config: Config;
  readonly db: Database;
  readonly log: EventLog;
  readonly http: FastifyInstance;
  readonly metrics: Metrics;
  /** The address the HTTP server listens on, once started. */
  readonly address: () => string;
  stop(): Promise<void>;
}

export const startApp = async (config: Config, logger: Logger): Promise<App> => {
  for (const c of channelStatus(config)) {
    if (!c.configured) logger.warn({ channel: c.channel }, `${c.channel}: not configured — ${c.hint}`);
  }
  const db = await openDatabase(config, logger);
  const cleanup: Array<() => Promise<void>> = [() => db.close()];
  try {
    const applied = await migrate(db.pool, allMigrations(config));
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
    const log = await openEventLog(config, db);
    cleanup.unshift(() => log.close());
    logger.info(
      { eventStore: config.EVENT_STORE },
      `event log: ${config.EVENT_STORE === 'esdb' ? 'EventStoreDB' : 'PostgreSQL table td_events'}`,
    );

    const sql = sqlDatabase(db.pool);
    const runners = allProjections.map((projection) =>
      startProjectionRunner({ db: sql, log, projection, logger: logger.child({ component: 'projections' }) }),
    );
    cleanup.unshift(async () => {
      await Promise.all(runners.map((r) => r.stop()));
    });

    const metrics = createMetrics();
    const http = await createHttpServer({
      logger,
      metrics,
      readiness: {
        eventLog: () => log.ping(),
        database: async () => {
          await db.pool.query('SELECT 1');
        },
      },
    });
    await http.listen({ port: config.PORT, host: config.HOST });
    cleanup.unshift(() => http.close());
    const addr = http.server.address();
    const address = () => (typeof addr === 'object' && addr ? `http://127.0.0.1:${addr.port}` : String(addr));
    logger.info(`topicdesk listening on ${address()} (API docs at ${address()}/docs)`);

    let stopping: Promise<void> | undefined;
    return {
      config,
      db,
      log,
      http,
      metrics,
      address,
      stop() {
        stopping ??= (async () => {
          for (const step of cleanup)
            await step().catch((err) => logger.error({ err }, 'error while stopping'));
        })();
        return stopping;
      },
    };
  } catch (error) {
    for (const step of cleanup) await step().catch(() => undefined);
    throw error;
  }
};
