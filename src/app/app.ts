// The composition root: wires configuration, the event log, the database and the adapters,
// starts them in order and stops them in reverse.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { auditPage } from '../adapters/admin-page/audit-page.ts';
import { createAdminApi } from '../adapters/api/admin.ts';
import { createFileLinks } from '../adapters/api/compat/file-links.ts';
import { dialectWebhook } from '../adapters/api/compat/webhook.ts';
import { createExternalApi } from '../adapters/api/external.ts';
import { listedRows } from '../adapters/api/read-model.ts';
import { createTelegramFileStore, type FileStore } from '../adapters/api/telegram-files.ts';
import { createAutoReplies } from '../adapters/auto-replies/auto-replies.ts';
import { decodeConversationEvent } from '../adapters/event-codec.ts';
import { problem } from '../adapters/http/problem.ts';
import type { RouteDefinition, RouteHandler } from '../adapters/http/routes.ts';
import { createHttpServer } from '../adapters/http/server.ts';
import { commandEventId } from '../adapters/ids.ts';
import { createRedactor } from '../adapters/logging/redact.ts';
import { timedCommands } from '../adapters/metrics/commands.ts';
import { countingEventLog } from '../adapters/metrics/counting-event-log.ts';
import { createLagSource } from '../adapters/metrics/lag.ts';
import { createMetrics, type Metrics } from '../adapters/metrics/registry.ts';
import { createReportSource } from '../adapters/metrics/reports.ts';
import { createPgConversationStore } from '../adapters/postgres/conversation-store.ts';
import { sqlDatabase } from '../adapters/postgres/sql.ts';
import { reportingDeliveries } from '../adapters/reactor-outcomes.ts';
import type { Reminders } from '../adapters/reminders/service.ts';
import { createTelegramChannel } from '../adapters/telegram/channel.ts';
import { createTelegramFiles } from '../adapters/telegram/file-store.ts';
import { createVkChannel } from '../adapters/vk/channel.ts';
import { pgLongPollPosition } from '../adapters/vk/poll-position.ts';
import { createWebhookReactor } from '../adapters/webhooks/reactor.ts';
import { startWebhookScheduler } from '../adapters/webhooks/scheduler.ts';
import { createCommandHandler } from '../domain/command-handler.ts';
import { createConversationReader } from '../domain/conversation-reader.ts';
import type { EventLog } from '../domain/event-log.ts';
import { groupAppends } from '../domain/grouped-appends.ts';
import { allProjections } from '../projections/index.ts';
import { createProjectionProgress } from '../projections/progress.ts';
import { startReactorRunner } from '../projections/reactor-runner.ts';
import {
  conversationStateProjection,
  type StoredNote,
} from '../projections/read-models/conversation-state.ts';
import { type MessageRow, messagesProjection } from '../projections/read-models/messages.ts';
import { ensureActiveGeneration } from '../projections/registry.ts';
import { startProjectionRunner } from '../projections/runner.ts';
import { type Config, channelStatus } from './config.ts';
import { configuredSecrets } from './config-secrets.ts';
import { logSizeEstimate, openEventLog, prepareDatabase } from './context.ts';
import { type Database, openDatabase } from './database.ts';
import { groupPoster, startRemindersIfConfigured } from './reminders.ts';
import { openSettings } from './settings.ts';

export interface App {
  readonly config: Config;
  readonly db: Database;
  readonly log: EventLog;
  readonly http: FastifyInstance;
  readonly metrics: Metrics;
  /** The address the HTTP server listens on, once started. */
  readonly address: () => string;
  /** Route handlers by operationId (what the OpenAPI glue serves). */
  readonly handlers: Readonly<Record<string, RouteHandler | RouteDefinition>>;
  /** Reminders and the daily digest, when configured (with the Telegram channel). */
  readonly reminders?: Reminders;
  stop(): Promise<void>;
}

/** What a test may set that no configuration does. */
export interface AppOverrides {
  /** The clock reminders and the digest judge time by (tests move it). */
  readonly now?: () => Date;
}

export const startApp = async (
  config: Config,
  logger: Logger,
  overrides: AppOverrides = {},
): Promise<App> => {
  for (const c of channelStatus(config)) {
    if (!c.configured) logger.warn({ channel: c.channel }, `${c.channel}: not configured — ${c.hint}`);
  }
  const db = await openDatabase(config, logger);
  const cleanup: Array<() => Promise<void>> = [() => db.close()];
  try {
    const applied = await prepareDatabase(config, db, logger);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
    const stored = await openEventLog(config, db, logger);
    cleanup.unshift(() => stored.close());
    logger.info(
      { eventStore: config.EVENT_STORE },
      `event log: ${config.EVENT_STORE === 'esdb' ? 'EventStoreDB' : 'PostgreSQL table td_events'}`,
    );

    const sql = sqlDatabase(db.pool);
    const metrics = createMetrics({
      lag: { source: createLagSource({ sql, log: stored }), logger: logger.child({ component: 'metrics' }) },
      reports: { source: createReportSource(db.pool), logger: logger.child({ component: 'metrics' }) },
    });
    // Every writer in this process appends through this one, so the count covers them all.
    const log = countingEventLog(stored, metrics.onAppended);
    // Read models exist (empty at worst) before anything can query them.
    for (const projection of allProjections) await ensureActiveGeneration(sql, projection);
    const progress = createProjectionProgress();
    // Two runners (docs/design.md, "Projections and rebuilds"): `messages` alone, since a POST waits for its
    // commit, and the others sharing one transaction per batch.
    const runners = [[messagesProjection], allProjections.filter((p) => p !== messagesProjection)].map(
      (projections) =>
        startProjectionRunner({
          db: sql,
          log,
          projections,
          logger: logger.child({ component: 'projections' }),
          onBatch: ({ name, position, written }) => progress.committed(name, position, written),
        }),
    );
    cleanup.unshift(async () => {
      await Promise.all(runners.map((r) => r.stop()));
    });

    // One reader of conversations for everything in this process: the command handler, the
    // reactors, the inbound adapters and the API (docs/design.md, "The conversation's state").
    const reader = createConversationReader({
      log,
      store: createPgConversationStore({ pool: db.pool }),
      decode: decodeConversationEvent,
    });
    // What the conversation-state runner of this process stored, the reader lets go of.
    progress.on(conversationStateProjection.name, (_position, written) => {
      for (const note of written as readonly StoredNote[]) reader.stored(note.conversationId, note.revision);
    });
    const handler = timedCommands(
      createCommandHandler({
        log: groupAppends(log),
        eventId: commandEventId,
        decode: decodeConversationEvent,
        reader,
      }),
      metrics.onCommand,
    );
    // Texts and working hours live in the log (settings-texts, settings-hours); each instance holds
    // them and looks for changes every SETTINGS_REFRESH_MS.
    const settings = openSettings(log, config, logger);
    const autoReplies = createAutoReplies({
      handler,
      texts: settings.texts,
      hours: settings.hours,
      welcome: config.WELCOME === 'on',
      logger: logger.child({ component: 'auto-replies' }),
    });
    // Satisfaction (CSAT): whether clients are asked to rate after a closing, and how long a comment is taken.
    const csatOn = config.CSAT === 'on';
    const csat = { enabled: csatOn, commentWindowMs: csatOn ? config.CSAT_COMMENT_MINUTES * 60_000 : 0 };
    let files: FileStore | undefined;
    let reminders: Reminders | undefined;
    const handlers: Record<string, RouteHandler | RouteDefinition> = {
      telegramWebhook: async (_request, reply) =>
        problem(reply, 404, 'Not Found', 'the telegram channel is not configured (TELEGRAM_BOT_TOKEN)'),
      vkWebhook: async (_request, reply) =>
        problem(reply, 404, 'Not Found', 'the VK channel is not configured (VK_TOKEN)'),
    };
    if (config.TELEGRAM_BOT_TOKEN && config.TELEGRAM_SUPPORT_CHAT_ID) {
      const telegram = await createTelegramChannel({
        token: config.TELEGRAM_BOT_TOKEN,
        apiRoot: config.TELEGRAM_API_ROOT,
        supportChatId: config.TELEGRAM_SUPPORT_CHAT_ID,
        ...(config.TELEGRAM_WEBHOOK_SECRET ? { webhookSecret: config.TELEGRAM_WEBHOOK_SECRET } : {}),
        mode: config.TELEGRAM_MODE,
        timeoutSeconds: config.TELEGRAM_TIMEOUT_SECONDS,
        reactorConcurrency: config.REACTOR_CONCURRENCY,
        orderWaitMs: config.ORDER_WAIT_MS,
        titleTemplate: config.TOPIC_TITLE_TEMPLATE,
        topicStatus: config.TOPIC_STATUS,
        notePrefix: config.NOTE_PREFIX,
        templates: settings.templates,
        limits: {
          perChatPerSecond: config.TELEGRAM_LIMIT_PER_CHAT_PER_SECOND,
          groupPerMinute: config.TELEGRAM_LIMIT_GROUP_PER_MINUTE,
          globalPerSecond: config.TELEGRAM_LIMIT_PER_SECOND,
        },
        handler,
        log,
        pool: db.pool,
        texts: settings.texts,
        autoReplies,
        csat,
        logger: logger.child({ component: 'telegram' }),
        onRetry: metrics.onTelegramRetry,
        onDelivery: metrics.onDelivery,
      });
      handlers.telegramWebhook = telegram.webhook;
      files = createTelegramFileStore(
        createTelegramFiles({
          api: telegram.api,
          token: config.TELEGRAM_BOT_TOKEN,
          apiRoot: config.TELEGRAM_API_ROOT,
          supportChatId: config.TELEGRAM_SUPPORT_CHAT_ID,
          logger: logger.child({ component: 'api' }),
        }),
      );
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
      reminders = startRemindersIfConfigured(config, {
        pool: db.pool,
        log,
        reader,
        handler,
        texts: settings.texts,
        poster: groupPoster(telegram, config.TELEGRAM_SUPPORT_CHAT_ID),
        hours: async () => (await settings.hours.current()).state.hours,
        logger: logger.child({ component: 'reminders' }),
        ...(overrides.now ? { now: overrides.now } : {}),
      });
      const started = reminders;
      // Before the channel stops: a pass waiting for a quiet moment ends with the lead.
      if (started) cleanup.unshift(() => started.stop());

      // VK community messages: Telegram is the file store and managers answer in its topics.
      if (config.VK_TOKEN && config.VK_GROUP_ID) {
        const vk = createVkChannel({
          token: config.VK_TOKEN,
          reactorConcurrency: config.REACTOR_CONCURRENCY,
          orderWaitMs: config.ORDER_WAIT_MS,
          groupId: Number(config.VK_GROUP_ID),
          ...(config.VK_CONFIRMATION ? { confirmation: config.VK_CONFIRMATION } : {}),
          ...(config.VK_SECRET ? { secret: config.VK_SECRET } : {}),
          apiBaseUrl: config.VK_API_BASE_URL,
          mode: config.VK_MODE,
          pollPosition: pgLongPollPosition(db.pool, Number(config.VK_GROUP_ID)),
          apiLimit: config.VK_API_LIMIT,
          retry: { baseMs: config.VK_RETRY_INITIAL_MS },
          fileHosts: config.VK_FILE_HOSTS,
          handler,
          log,
          telegram: {
            api: telegram.api,
            token: config.TELEGRAM_BOT_TOKEN,
            apiRoot: config.TELEGRAM_API_ROOT,
            supportChatId: config.TELEGRAM_SUPPORT_CHAT_ID,
          },
          texts: settings.texts,
          autoReplies,
          csat,
          logger: logger.child({ component: 'vk' }),
          onRetry: metrics.onVkRetry,
          onDelivery: metrics.onDelivery,
        });
        handlers.vkWebhook = vk.webhook;
        const vkReactor = startReactorRunner({
          db: sql,
          log,
          reactor: vk.reactor,
          logger: logger.child({ component: 'reactors' }),
        });
        if (config.VK_MODE === 'longpoll') vk.startLongPoll();
        cleanup.unshift(async () => {
          // The reactor first: its waits end on the abort, and its VK calls still have their agents.
          await vkReactor.stop();
          await vk.stop();
        });
      }
    }

    if (!reminders && (config.REMIND_AFTER_MINUTES !== undefined || config.DIGEST_HOUR !== undefined))
      logger.warn(
        'REMIND_AFTER_MINUTES / DIGEST_HOUR are set, but reminders and the digest need the Telegram channel',
      );

    // tg-support-bot's dialect: signed public file links (FILE_LINK_SECRET) for its sources' messages.
    const fileLinks = config.FILE_LINK_SECRET
      ? createFileLinks({
          secret: config.FILE_LINK_SECRET,
          ttlSeconds: config.FILE_LINK_TTL_SECONDS,
          ...(config.PUBLIC_URL ? { publicUrl: config.PUBLIC_URL } : {}),
        })
      : undefined;
    const apiFileUrl = (id: string) =>
      `${config.PUBLIC_URL?.replace(/\/+$/, '') ?? ''}/api/external/files/${id}`;
    // Webhooks to sources: the reactor queues each answer, edit and deletion of an external
    // conversation; the scheduler posts them and retries (one instance at a time each).
    const webhooks = startWebhookScheduler({
      dialect: (compat, source, payload) =>
        dialectWebhook(compat, payload, (id) => fileLinks?.url(source, id) ?? apiFileUrl(id)),
      pool: db.pool,
      log,
      handler: reportingDeliveries(handler, metrics.onDelivery),
      logger: logger.child({ component: 'webhooks' }),
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      concurrency: config.WEBHOOK_CONCURRENCY,
      retry: {
        initialMs: config.WEBHOOK_RETRY_INITIAL_MS,
        maxMs: config.WEBHOOK_RETRY_MAX_MS,
        forMs: config.WEBHOOK_RETRY_FOR_HOURS * 3_600_000,
      },
      onOutcome: metrics.onWebhookOutcome,
      allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
    });
    const webhookReactor = startReactorRunner({
      db: sql,
      log,
      reactor: createWebhookReactor({
        pool: db.pool,
        log,
        reader,
        ...(csat.enabled ? { ratings: handler } : {}),
        onEnqueued: webhooks.wake,
        orderWaitMs: config.ORDER_WAIT_MS,
        ...(config.PUBLIC_URL ? { publicUrl: config.PUBLIC_URL } : {}),
        logger: logger.child({ component: 'webhooks' }),
      }),
      logger: logger.child({ component: 'reactors' }),
    });
    cleanup.unshift(async () => {
      await webhookReactor.stop();
      await webhooks.stop();
    });
    const external = createExternalApi({
      pool: db.pool,
      log,
      handler,
      logger: logger.child({ component: 'api' }),
      rateLimitPerMinute: config.API_RATE_LIMIT_PER_MINUTE,
      projectionWaitMs: config.API_WRITE_WAIT_MS,
      uploads: { perKey: config.API_MAX_UPLOADS_PER_TOKEN, total: config.API_MAX_UPLOADS },
      longPolls: { perKey: config.API_MAX_LONG_POLLS_PER_TOKEN, total: config.API_MAX_LONG_POLLS },
      databaseUrl: db.url,
      autoReplies,
      messagesCommitted: (listener) =>
        progress.on('messages', (position, written) =>
          listener(position, listedRows(written as readonly MessageRow[])),
        ),
      ...(config.PUBLIC_URL ? { publicUrl: config.PUBLIC_URL } : {}),
      ...(files ? { files } : {}),
      ...(fileLinks ? { fileLinks } : {}),
      // The PostgreSQL event log NOTIFYs td_events on every append, from any instance.
      ...(config.EVENT_STORE === 'postgres'
        ? { listen: { connectionString: db.url, channel: 'td_events' } }
        : {}),
    });
    Object.assign(handlers, external.handlers);
    // The admin and audit API, and the audit page on top of it.
    const admin = createAdminApi({
      templates: settings.templates,
      pool: db.pool,
      sql,
      log,
      decode: decodeConversationEvent,
      logger: logger.child({ component: 'admin' }),
      ...(config.ADMIN_TOKEN ? { adminToken: config.ADMIN_TOKEN } : {}),
      allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
      estimateLogSize: logSizeEstimate(config, db),
      settings: { textSettings: settings.textSettings, hours: settings.hours, defaultLocale: config.LOCALE },
    });
    Object.assign(handlers, admin.handlers, { auditPage });
    // tg-support-bot's webhook addresses, served as ours (docs/design.md, "Settings under tg-support-bot's names").
    handlers.telegramWebhookOldPath = handlers.telegramWebhook!;
    handlers.vkWebhookOldPath = handlers.vkWebhook!;
    cleanup.unshift(() => admin.stop());
    const http = await createHttpServer({
      logger,
      metrics,
      handlers,
      redact: createRedactor(configuredSecrets(config)),
      multipart: { maxFileBytes: config.API_MAX_FILE_BYTES, maxFiles: config.API_MAX_FILES },
      requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
      readiness: {
        eventLog: () => log.ping(),
        database: async () => {
          await db.pool.query('SELECT 1');
        },
      },
    });
    await http.listen({ port: config.PORT, host: config.HOST });
    cleanup.unshift(() => http.close());
    // Before the server closes: waiting long polls answer now instead of holding the close.
    cleanup.unshift(() => external.stop());
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
      handlers,
      ...(reminders ? { reminders } : {}),
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
