// What every external API handler is given, built once per API by external.ts, and the small helpers
// they share: answering early by throwing, the source's conversation id, the message resource.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { CommandHandler } from '../../../domain/command-handler.ts';
import type { AutoReplies } from '../../auto-replies/auto-replies.ts';
import { badRequest, problem } from '../../http/problem.ts';
import { conversationIdOf } from '../../ids.ts';
import type { AuthenticatedSource } from '../../sources/sources.ts';
import type { Authenticator } from '../../sources/token-cache.ts';
import type { FileLinks } from '../compat/file-links.ts';
import type { HeadWatcher } from '../head-watcher.ts';
import type { InFlight, InFlightRefusal } from '../in-flight.ts';
import type { FieldError } from '../params.ts';
import type { RateLimiter } from '../rate-limit.ts';
import { type ApiMessageRow, toResource } from '../read-model.ts';
import type { FileStore } from '../telegram-files.ts';

export interface ExternalContext {
  readonly pool: pg.Pool;
  /** Writes go through it; what the log holds is read through its `reader`, never folded here. */
  readonly handler: CommandHandler;
  readonly logger: Logger;
  /** Telegram, the file store; files are refused (503) without it. */
  readonly files: FileStore | undefined;
  /** The welcome and off-hours answers a client's message calls for. */
  readonly autoReplies: AutoReplies | undefined;
  /** How long a write waits for the read model before answering without it. */
  readonly projectionWaitMs: number;
  readonly watcher: HeadWatcher;
  readonly authenticator: Authenticator;
  readonly limiter: RateLimiter;
  /** multipart/form-data requests in progress, per token and in all. */
  readonly uploads: InFlight;
  /** Long polls held, per token and in all. */
  readonly longPolls: InFlight;
  /** The source of each request that passed the guard (set before the body is read). */
  readonly sources: WeakMap<FastifyRequest, AuthenticatedSource>;
  /** Absolute file URLs when PUBLIC_URL is set, paths otherwise. */
  readonly fileUrl: (id: string) => string;
  /** Signed public file links for dialect sources (FILE_LINK_SECRET); bearer-only links without. */
  readonly fileLinks: FileLinks | undefined;
}

/** A route's work once the guard has named the source. */
export type Handler = (
  ctx: ExternalContext,
  request: FastifyRequest,
  reply: FastifyReply,
  source: AuthenticatedSource,
) => Promise<unknown>;

export type Body = Record<string, unknown>;

/** Telegram's caption limit: text sent with files travels as the file's caption. */
export const CAPTION_LIMIT = 1024;
/** How long a file may take to reach Telegram or come back from it. */
export const FILE_TIMEOUT_MS = 60_000;
export const NO_FILE_STORE =
  'files need the Telegram channel (TELEGRAM_BOT_TOKEN): Telegram is the file store';
/** What a 429 for uploads or long polls asks to wait: a slot frees when one of them ends. */
const BUSY_RETRY_AFTER_SECONDS = 5;

/** Thrown with a reply already written: the route answers with it (route.ts). */
export class Answered extends Error {
  constructor(readonly reply: FastifyReply) {
    super('answered');
  }
}

export const fail = (reply: FastifyReply): never => {
  throw new Answered(reply);
};

export const failFields = (reply: FastifyReply, errors: FieldError[]): never =>
  fail(badRequest(reply, errors));

export const conversationOf = (source: AuthenticatedSource, externalId: string) =>
  conversationIdOf('external', source.code, externalId);

export const resource = (ctx: ExternalContext, row: ApiMessageRow) => toResource(row, ctx.fileUrl);

/** tg-support-bot v3 names the client in the body or query too: it must be the one in the path. */
export const checkCompatExternalId = (
  reply: FastifyReply,
  given: unknown,
  externalId: string,
  field: string,
) => {
  if (given !== undefined && given !== externalId)
    failFields(reply, [{ field, message: 'must equal the externalId in the path' }]);
};

/** 429 when a cap on requests in progress is reached: this token's own, or everyone's. */
export const busy = (
  reply: FastifyReply,
  slots: InFlight,
  refused: InFlightRefusal,
  what: string,
  code: string,
) =>
  problem(
    reply.header('Retry-After', String(BUSY_RETRY_AFTER_SECONDS)),
    429,
    'Too Many Requests',
    refused === 'key'
      ? `this token already has ${slots.limits.perKey} ${what} in progress; retry when one has ended`
      : `${slots.limits.total} ${what} are in progress on this instance; retry in a few seconds`,
    { code },
  );
