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
import type { ExternalContext } from './external/context.ts';
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
import { route } from './external/route.ts';
import { sendMessage } from './external/send.ts';
import { createHeadWatcher } from './head-watcher.ts';
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
  readonly messagesCommitted?: (listener: (position: LogPosition) => void) => () => void;
  /** The welcome and off-hours answers a client's message calls for; none by default. */
  readonly autoReplies?: AutoReplies;
}

export interface ExternalApi {
  readonly handlers: Readonly<Record<string, RouteDefinition>>;
  /** Answers waiting long polls at once; call before closing the HTTP server. */
  stop(): Promise<void>;
}

export const createExternalApi = (options: ExternalApiOptions): ExternalApi => {
  const ctx = externalContext(options);
  return {
    handlers: {
      sendMessage: route(ctx, sendMessage, [uploadGuard]),
      listMessages: route(ctx, listConversation),
      editMessageCompat: route(ctx, editMessageCompat),
      deleteMessageCompat: route(ctx, deleteMessageCompat),
      getMessage: route(ctx, getMessage),
      editMessage: route(ctx, editMessage),
      deleteMessage: route(ctx, deleteMessage),
      listSourceMessages: route(ctx, listFeed),
      getFile: route(ctx, getFile),
      listFailedWebhookDeliveries: route(ctx, listFailedWebhookDeliveries),
      rateConversation: route(ctx, rateConversation),
      getRating: route(ctx, getRating),
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
  };
};
