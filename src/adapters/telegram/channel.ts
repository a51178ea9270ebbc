// The Telegram channel assembled: the Bot API client behind the limiter, the inbound translator,
// the webhook handler or the long-polling loop, and the reactor.
import { timingSafeEqual } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { Api, type Transformer } from 'grammy';
import type { Update } from 'grammy/types';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { CommandHandler } from '../../domain/command-handler.ts';
import type { EventLog, LogPosition } from '../../domain/event-log.ts';
import type { Reactor } from '../../projections/reactor-runner.ts';
import { readGeneration } from '../../projections/registry.ts';
import { shippedTexts, type Texts } from '../../texts/texts.ts';
import type { AutoReplies } from '../auto-replies/auto-replies.ts';
import { CSAT_OFF, type CsatOptions } from '../csat.ts';
import { problem } from '../http/problem.ts';
import type { RouteDefinition } from '../http/routes.ts';
import { sqlDatabase } from '../postgres/sql.ts';
import { type DeliveryReport, reportingDeliveries } from '../reactor-outcomes.ts';
import { createTemplatesStore, type TemplatesStore } from '../settings/templates.ts';
import {
  type CallbackRegistry,
  type ClientCallbackHandler,
  createCallbackRouter,
  createMembership,
} from './callbacks.ts';
import { cardButtons } from './card.ts';
import { TEMPLATE_CALLBACK, templateButtons } from './composed-answers.ts';
import { CARD_PREFIX } from './contact-card.ts';
import { createTelegramInbound, type TelegramInbound } from './inbound.ts';
import { RetryLaterError } from './inbound-context.ts';
import { createOutgoingLimiter, type OutgoingLimiter, type RetryInfo } from './limiter.ts';
import { createMemberDirectory } from './members.ts';
import { RATING_CALLBACK, ratingButtons } from './rating.ts';
import { createTelegramReactor } from './reactor.ts';
import { type StatusLook, statusIcons, type TopicStatusMode } from './topic-status.ts';
import { ALLOWED_UPDATES, MalformedUpdateError } from './update-schema.ts';
import { waitingConversations } from './waiting.ts';

export interface TelegramChannelOptions {
  readonly token: string;
  readonly apiRoot: string;
  readonly supportChatId: string;
  readonly webhookSecret?: string;
  readonly mode: 'webhook' | 'polling';
  /**
   * How long a Bot API call may go unanswered before it is abandoned (and retried by the limiter).
   * Default 60 s; grammY's own default, 500 s, would hold a chat's queue that long behind one call
   * whose answer never comes.
   */
  readonly timeoutSeconds?: number;
  readonly titleTemplate: string;
  /** How topics show their status (TOPIC_STATUS): not at all, a title prefix, or the topic's icon. Default off. */
  readonly topicStatus?: TopicStatusMode;
  /** A topic message starting with this is an internal note (NOTE_PREFIX); '' turns it off. */
  readonly notePrefix?: string;
  /** The saved answers (shared with the admin API, so a change there is seen at once). */
  readonly templates?: TemplatesStore;
  /** Conversations the reactor carries at once (REACTOR_CONCURRENCY). Default 16. */
  readonly reactorConcurrency?: number;
  /** How long the reactor lets a burst of messages settle to carry it in the sender's order. */
  readonly orderWaitMs?: number;
  readonly handler: CommandHandler;
  readonly log: EventLog;
  readonly pool: pg.Pool;
  readonly logger: Logger;
  /** Metrics hooks: each outgoing call retried (a 429, a 5xx, the network), each delivery outcome recorded. */
  readonly onRetry?: (info: RetryInfo) => void;
  readonly onDelivery?: (report: DeliveryReport) => void;
  readonly limits?: { perChatPerSecond: number; groupPerMinute: number; globalPerSecond: number };
  /** The texts as operators set them (client's language, LOCALE in the topic). */
  readonly texts?: Texts;
  /** The welcome and off-hours answers a client's message calls for. */
  readonly autoReplies?: AutoReplies;
  /** Satisfaction (CSAT, CSAT_COMMENT_MINUTES). Default off. */
  readonly csat?: CsatOptions;
}

export interface TelegramChannel {
  readonly api: Api;
  readonly inbound: TelegramInbound;
  /**
   * Where handlers of inline-button presses are registered by callback_data prefix (`card` is the
   * contact card's): `callbacks.register('tpl', handler)` (docs/design.md, "Callbacks").
   */
  readonly callbacks: CallbackRegistry;
  readonly reactor: Reactor;
  /** The outgoing limiter every call goes through: low-priority posts ask it for a quiet moment. */
  readonly limiter: OutgoingLimiter;
  /** The webhook: the mode and the secret are checked before the body is read. */
  readonly webhook: RouteDefinition;
  /** Starts long polling when TELEGRAM_MODE=polling. */
  startPolling(): void;
  stop(): Promise<void>;
}

/**
 * How topics show their status. Icon mode needs the three status icons among the stickers Telegram
 * allows as topic icons; without them (or without an answer) titles are prefixed instead.
 */
const statusLook = async (
  api: Api,
  mode: TopicStatusMode,
  logger: Logger,
): Promise<StatusLook | undefined> => {
  if (mode === 'off') return undefined;
  if (mode === 'title') return { mode: 'title' };
  const icons = statusIcons(
    await api.getForumTopicIconStickers().catch((err: unknown) => {
      logger.warn({ err }, 'getForumTopicIconStickers failed');
      return [];
    }),
  );
  if (icons) return { mode: 'icon', icons };
  logger.warn('TOPIC_STATUS=icon: Telegram offers no icon for a status; topic titles show it instead');
  return { mode: 'title' };
};

const sameSecret = (given: string | undefined, expected: string) => {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

export const createTelegramChannel = async (options: TelegramChannelOptions): Promise<TelegramChannel> => {
  const { logger } = options;
  const timeoutSeconds = options.timeoutSeconds ?? 60;
  const api = new Api(options.token, { apiRoot: options.apiRoot, timeoutSeconds });
  const limiter = createOutgoingLimiter({
    ...options.limits,
    onRetry: (info) => {
      logger.warn(info, 'telegram call retried');
      options.onRetry?.(info);
    },
  });
  api.config.use(limiter.transformer);
  // Stopping the channel aborts the calls still in flight (a hung connection would otherwise hold
  // the app's shutdown for grammY's 500 s timeout). An aborted call's outcome is not recorded, so the
  // reactor repeats it after the restart: at least once, never lost. Installed after the limiter so
  // that it runs first and the limiter's waits end too.
  const abort = new AbortController();
  // Every call in flight (and every wait in the limiter) listens on this one signal, each removing
  // its listener when done: many at once is normal, not the leak Node's warning at 11 suspects.
  setMaxListeners(0, abort.signal);
  // (grammY types its signal as the abort-controller polyfill's; any AbortSignal works at run time.)
  const stopSignal = abort.signal as unknown as Parameters<Transformer>[3];
  api.config.use((prev, method, payload, signal) => prev(method, payload, signal ?? stopSignal));
  const me = await api.getMe();
  logger.info(
    { bot: me.username },
    `telegram: bot @${me.username} serving support group ${options.supportChatId}`,
  );

  const sql = sqlDatabase(options.pool);
  const templates = options.templates ?? createTemplatesStore(options.log);

  // The newest committed event. The PostgreSQL log's readers (and its headPosition()) hold back events
  // committed after an older transaction that is still open, so a read model level with that head
  // may still lack a topic opened a moment ago — and a manager's answer in it would be taken for a
  // message in a hand-made topic and dropped. Whether the log is that table is found out once: its
  // head is one of td_events' rows (EventStoreDB positions never are).
  let pgLog: boolean | undefined;
  const committedHead = async (): Promise<LogPosition | null> => {
    const visible = await options.log.headPosition();
    if (!visible || pgLog === false) return visible;
    if (pgLog === undefined) {
      const { rows } = await options.pool
        .query<{ found: boolean }>(
          'SELECT EXISTS (SELECT 1 FROM td_events WHERE transaction_id = $1::xid8 AND position = $2) AS found',
          [visible.commit.toString(), visible.prepare.toString()],
        )
        .catch((error: { code?: string }) => {
          // No such table, or a position that is no transaction id: EventStoreDB.
          if (error.code === '42P01' || error.code?.startsWith('22')) return { rows: [{ found: false }] };
          throw error;
        });
      pgLog = rows[0]?.found === true;
      if (!pgLog) return visible;
    }
    const { rows } = await options.pool.query<{ transaction_id: string; position: string }>(
      'SELECT transaction_id, position FROM td_events ORDER BY transaction_id DESC, position DESC LIMIT 1',
    );
    const last = rows[0];
    return last ? { commit: BigInt(last.transaction_id), prepare: BigInt(last.position) } : visible;
  };

  const texts = options.texts ?? shippedTexts();
  const csat = options.csat ?? CSAT_OFF;
  const callbacks = createCallbackRouter();
  // A client's presses: the rating's buttons (answered even with CSAT off, for a prompt sent before).
  const clientCallbacks = createCallbackRouter<ClientCallbackHandler>();
  clientCallbacks.register(
    RATING_CALLBACK,
    ratingButtons({
      handler: options.handler,
      texts,
      csat,
      logger,
      editPrompt: (chatId, messageId, text) => api.editMessageText(chatId, messageId, text),
    }),
  );
  callbacks.register(
    CARD_PREFIX,
    cardButtons({ api, texts, handler: options.handler, supportChatId: options.supportChatId, logger }),
  );
  const inbound = createTelegramInbound({
    handler: options.handler,
    api,
    callbacks,
    clientCallbacks,
    csat,
    isMember: createMembership({ api, supportChatId: options.supportChatId }),
    botId: me.id,
    botUsername: me.username,
    supportChatId: options.supportChatId,
    logger,
    texts,
    ...(options.autoReplies ? { autoReplies: options.autoReplies } : {}),
    members: createMemberDirectory(options.pool),
    waiting: () => waitingConversations(options.pool),
    async findConversationByTopic(chatId, topicId) {
      const { rows } = await options.pool
        .query<{ conversation_id: string }>(
          'SELECT conversation_id FROM rm_conversations WHERE topic_chat_id = $1 AND topic_id = $2',
          [chatId, topicId],
        )
        .catch((error: { code?: string }) => {
          if (error.code === '42P01') return { rows: [] }; // the read model is not built yet
          throw error;
        });
      return rows[0]?.conversation_id;
    },
    logHead: committedHead,
    templates: async () => (await templates.current()).state,
    ...(options.notePrefix !== undefined ? { notePrefix: options.notePrefix } : {}),
    async readModelPosition() {
      return (await readGeneration(sql, 'conversations', { status: 'active' }))?.checkpoint ?? null;
    },
  });
  // The saved answers' buttons under `/t`: a press sends that answer, as `/t <name>` does.
  callbacks.register(TEMPLATE_CALLBACK, templateButtons(inbound.sendTemplateAnswer, texts));
  const look = await statusLook(api, options.topicStatus ?? 'off', logger);
  const reactor = createTelegramReactor({
    api,
    ...(look ? { topicStatus: { look, limiter } } : {}),
    limiter,
    ...(options.reactorConcurrency ? { concurrency: options.reactorConcurrency } : {}),
    ...(options.orderWaitMs !== undefined ? { orderWaitMs: options.orderWaitMs } : {}),
    handler: options.onDelivery ? reportingDeliveries(options.handler, options.onDelivery) : options.handler,
    supportChatId: options.supportChatId,
    titleTemplate: options.titleTemplate,
    logger,
    texts,
    csat,
  });

  let polling: Promise<void> | undefined;

  return {
    api,
    inbound,
    callbacks,
    reactor,
    limiter,
    webhook: {
      onRequest: [
        async (request, reply) => {
          if (options.mode !== 'webhook' || !options.webhookSecret) {
            return problem(reply, 404, 'Not Found', 'the telegram webhook is off (TELEGRAM_MODE=polling)');
          }
          const given = request.headers['x-telegram-bot-api-secret-token'];
          if (!sameSecret(typeof given === 'string' ? given : undefined, options.webhookSecret)) {
            return problem(reply, 401, 'Unauthorized', 'wrong or missing secret token');
          }
          return undefined;
        },
      ],
      async handler(request, reply) {
        try {
          const outcome = await inbound.handleUpdate(request.body as Update);
          return reply.send({ ok: true, outcome });
        } catch (error) {
          if (error instanceof RetryLaterError) {
            return problem(reply.header('Retry-After', '1'), 503, 'Service Unavailable', error.message);
          }
          if (error instanceof MalformedUpdateError) return problem(reply, 400, 'Bad Request', error.message);
          throw error;
        }
      },
    },
    startPolling() {
      // Our own loop rather than bot.start(): an update is confirmed (offset moved past it) only after
      // it is recorded, so a failure retries it instead of dropping it.
      polling = (async () => {
        await api
          .deleteWebhook()
          .catch((err: unknown) => logger.warn({ err }, 'could not delete the webhook'));
        let offset = 0;
        while (!abort.signal.aborted) {
          try {
            const updates = await api.getUpdates(
              {
                offset,
                // The long poll ends before the call's own timeout does.
                timeout: Math.max(0, Math.min(25, timeoutSeconds - 5)),
                allowed_updates: [...ALLOWED_UPDATES],
              },
              abort.signal as never,
            );
            for (const update of updates) {
              for (;;) {
                try {
                  await inbound.handleUpdate(update);
                  break;
                } catch (error) {
                  if (abort.signal.aborted) return;
                  if (error instanceof MalformedUpdateError) {
                    // It would be refused every time: skipped, not retried for ever.
                    logger.warn({ err: error, update: update.update_id }, 'malformed update skipped');
                    break;
                  }
                  logger.warn({ err: error, update: update.update_id }, 'update not recorded yet; retrying');
                  await new Promise((r) => setTimeout(r, 1000));
                }
              }
              offset = update.update_id + 1;
            }
          } catch (error) {
            if (abort.signal.aborted) return;
            logger.warn({ err: error }, 'getUpdates failed; retrying');
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
      })();
    },
    async stop() {
      abort.abort();
      limiter.stop();
      await polling?.catch(() => undefined);
    },
  };
};
