// The external sources API (docs/design.md, "The external API"; `/api/external`): handlers by operationId for the routes
// openapi/openapi.yaml declares. A bearer token names the source; a source sees only its own
// conversations (channel `external`, its code as source) — anything else is simply not found.
// Writes go through the command handler (ReceiveClientMessage, EditClientMessage,
// DeleteClientMessage); reads come from the rm_messages read model.
// This file builds what the handlers share (external/context.ts) and names each operation's handler.
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { CommandHandler } from '../../domain/command-handler.ts';
import type { EventLog, LogPosition } from '../../domain/event-log.ts';
import type { AutoReplies } from '../auto-replies/auto-replies.ts';
import type { RouteDefinition } from '../http/routes.ts';
import type { AuthenticatedSource } from '../sources/sources.ts';
import { createAuthenticator } from '../sources/token-cache.ts';
import type { FileLinks } from './compat/file-links.ts';
import { publicFile } from './compat/handlers.ts';
import { pickDialect } from './compat/routes.ts';
import type { ExternalContext, Handler } from './external/context.ts';
import {
  deleteMessage,
  deleteMessageCompat,
  editMessage,
  editMessageCompat,
} from './external/edit-delete.ts';
import { listFailedWebhookDeliveries } from './external/failed-deliveries.ts';
import { getFile, uploadGuard } from './external/files.ts';
import { getRating, rateConversation } from './external/rating.ts';
import { getMessage, listConversation, listFeed } from './external/read.ts';
import { type Gate, route } from './external/route.ts';
import { sendMessage } from './external/send.ts';
import { createHeadWatcher, type ListedRows } from './head-watcher.ts';
import { createInFlight, type InFlightLimits } from './in-flight.ts';
import { createRateLimiter } from './rate-limit.ts';
import { readHead, readMessagesCheckpoint } from './read-model.ts';
import type { FileStore } from './telegram-files.ts';

export interface ExternalApiOptions {
  readonly pool: pg.Pool;
  /** The read models' database: its LISTEN connection lets tokens be remembered (token-cache.ts). */
  readonly databaseUrl?: string;
  readonly log: EventLog;
  readonly handler: CommandHandler;
  readonly logger: Logger;
  readonly rateLimitPerMinute: number;
  /** Absolute file URLs in messages when set (e.g. https://support.example.com); paths otherwise. */
  readonly publicUrl?: string;
  /** Telegram, the file store; files are refused (503) without it. */
  readonly files?: FileStore;
  /** The event log's NOTIFY channel, heard to wake long polls promptly across instances. */
  readonly listen?: { readonly connectionString: string; readonly channel: string };
  /** How long a write waits for the read model before answering without it. Default 2000 ms. */
  readonly projectionWaitMs?: number;
  /** multipart/form-data requests in progress at once, per token and in all. Default 4 and 8. */
  readonly uploads?: InFlightLimits;
  /** Long polls (`wait` > 0) held at once, per token and in all. Default 4 and 100. */
  readonly longPolls?: InFlightLimits;
  /** Reports of the messages projection's commits when its runner runs in this process. */
  readonly messagesCommitted?: (listener: (position: LogPosition, listed: ListedRows) => void) => () => void;
  /** The welcome and off-hours answers a client's message calls for; none by default. */
  readonly autoReplies?: AutoReplies;
  /** Signed public file links for dialect sources (compat/file-links.ts). */
  readonly fileLinks?: FileLinks;
}

export interface ExternalApi {
  readonly handlers: Readonly<Record<string, RouteDefinition>>;
  /** Answers waiting long polls at once; call before closing the HTTP server. */
  stop(): Promise<void>;
}

export const createExternalApi = (options: ExternalApiOptions): ExternalApi => {
  const ctx = externalContext(options);
  // Every operation asks pickDialect which handler answers the source (compat/routes.ts); those
  // without one of topicdesk's own exist only in a dialect.
  const op = (operationId: string, own: Handler | undefined, gates: Gate[] = []) =>
    route(ctx, own, gates, pickDialect(operationId));
  return {
    handlers: {
      sendMessage: op('sendMessage', sendMessage, [uploadGuard]),
      listMessages: op('listMessages', listConversation),
      editMessageCompat: op('editMessageCompat', editMessageCompat),
      deleteMessageCompat: op('deleteMessageCompat', deleteMessageCompat),
      getMessage: op('getMessage', getMessage),
      editMessage: op('editMessage', editMessage),
      deleteMessage: op('deleteMessage', deleteMessage),
      listSourceMessages: op('listSourceMessages', listFeed),
      getFile: op('getFile', getFile),
      listFailedWebhookDeliveries: op('listFailedWebhookDeliveries', listFailedWebhookDeliveries),
      rateConversation: op('rateConversation', rateConversation),
      getRating: op('getRating', getRating),
      // tg-support-bot's own paths (docs/design.md, "Speaking tg-support-bot's dialect").
      compatSendFile: op('compatSendFile', undefined, [uploadGuard]),
      compatSendMessageV3: op('compatSendMessageV3', undefined, [uploadGuard]),
      compatEditMessageV3: op('compatEditMessageV3', undefined),
      compatDeleteMessageV3: op('compatDeleteMessageV3', undefined),
      compatGetMessageV3: op('compatGetMessageV3', undefined),
      compatGetFile: { handler: (request, reply) => publicFile(ctx, request, reply) },
    },
    stop: async () => {
      await Promise.all([ctx.watcher.stop(), ctx.authenticator.stop()]);
    },
  };
};

/** What the handlers share, built once: the watcher and the token cache hold a LISTEN connection each. */
const externalContext = (options: ExternalApiOptions): ExternalContext => {
  const { pool, handler, logger } = options;
  const base = options.publicUrl?.replace(/\/+$/, '') ?? '';
  return {
    pool,
    handler,
    logger,
    files: options.files,
    autoReplies: options.autoReplies,
    projectionWaitMs: options.projectionWaitMs ?? 2000,
    watcher: createHeadWatcher({
      readHead: () => readHead(pool),
      readCheckpoint: () => readMessagesCheckpoint(pool),
      ...(options.messagesCommitted ? { committedHere: options.messagesCommitted } : {}),
      ...(options.listen ? { listen: options.listen } : {}),
      onError: (err) => logger.warn({ err }, 'external api: watching the read model failed; retrying'),
    }),
    authenticator: createAuthenticator({
      pool,
      ...(options.databaseUrl ? { connectionString: options.databaseUrl } : {}),
      onError: (err) =>
        logger.warn({ err }, 'external api: listening for token revocations failed; retrying'),
    }),
    limiter: createRateLimiter({ perMinute: options.rateLimitPerMinute }),
    uploads: createInFlight(options.uploads ?? { perKey: 4, total: 8 }),
    longPolls: createInFlight(options.longPolls ?? { perKey: 4, total: 100 }),
    sources: new WeakMap<FastifyRequest, AuthenticatedSource>(),
    fileUrl: (id) => `${base}/api/external/files/${id}`,
    fileLinks: options.fileLinks,
  };
};
