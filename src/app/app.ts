// The composition root: wires configuration, the event log, the database and the adapters,
// starts them in order and stops them in reverse.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { decodeConversationEvent } from '../adapters/event-codec.ts';
import { createMetrics, type Metrics } from '../adapters/http/metrics.ts';
import { createHttpServer, problem, type RouteHandler } from '../adapters/http/server.ts';
import { eventIdOf } from '../adapters/ids.ts';
import { migrate } from '../adapters/postgres/migrations.ts';
import { sqlDatabase } from '../adapters/postgres/sql.ts';
import { createTelegramChannel } from '../adapters/telegram/channel.ts';
import { createCommandHandler } from '../domain/command-handler.ts';
import type { EventLog } from '../domain/event-log.ts';
import { allProjections } from '../projections/index.ts';
import { startReactorRunner } from '../projections/reactor-runner.ts';
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

    const handler = createCommandHandler({ log, eventId: eventIdOf, decode: decodeConversationEvent });
    const handlers: Record<string, RouteHandler> = {
      telegramWebhook: async (_request, reply) =>
        problem(reply, 404, 'Not Found', 'the telegram channel is not configured (TELEGRAM_BOT_TOKEN)'),
    };
    if (config.TELEGRAM_BOT_TOKEN && config.TELEGRAM_SUPPORT_CHAT_ID) {
      const telegram = await createTelegramChannel({
        token: config.TELEGRAM_BOT_TOKEN,
        apiRoot: config.TELEGRAM_API_ROOT,
        supportChatId: config.TELEGRAM_SUPPORT_CHAT_ID,
        ...(config.TELEGRAM_WEBHOOK_SECRET ? { webhookSecret: config.TELEGRAM_WEBHOOK_SECRET } : {}),
        mode: config.TELEGRAM_MODE,
        titleTemplate: config.TOPIC_TITLE_TEMPLATE,
        limits: {
          perChatPerSecond: config.TELEGRAM_LIMIT_PER_CHAT_PER_SECOND,
          groupPerMinute: config.TELEGRAM_LIMIT_GROUP_PER_MINUTE,
          globalPerSecond: config.TELEGRAM_LIMIT_PER_SECOND,
        },
        handler,
        log,
        pool: db.pool,
        logger: logger.child({ component: 'telegram' }),
      });
      handlers.telegramWebhook = telegram.webhook;
      const reactor = startReactorRunner({
        db: sql,
        log,
        reactor: telegram.reactor,
        logger: logger.child({ component: 'reactors' }),
      });
      if (config.TELEGRAM_MODE === 'polling') telegram.startPolling();
      cleanup.unshift(async () => {
        await telegram.stop();
        await reactor.stop();
      });
    }

    const metrics = createMetrics();
    const http = await createHttpServer({
      logger,
      metrics,
      handlers,
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
