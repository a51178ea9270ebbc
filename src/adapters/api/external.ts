// The external sources API (docs/design.md, "The external API"; `/api/external`): handlers by operationId for the routes
// openapi/openapi.yaml declares. A bearer token names the source; a source sees only its own
// conversations (channel `external`, its code as source) — anything else is simply not found.
// Writes go through the command handler (ReceiveClientMessage, EditClientMessage,
// DeleteClientMessage); reads come from the rm_messages read model.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from 'grammy';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { CommandHandler, CommandResult } from '../../domain/command-handler.ts';
import { CommandGaveUpError, DomainError, EventIdConflictError } from '../../domain/errors.ts';
import type { EventLog, LogPosition } from '../../domain/event-log.ts';
import type { Attachment } from '../../domain/events.ts';
import {
  badRequest,
  PartsRefused,
  problem,
  type RouteDefinition,
  type RouteHandler,
  refuseFileParts,
  uploadedParts,
} from '../http/server.ts';
import { apiMessageId, commandIdOf, conversationIdOf } from '../ids.ts';
import type { AuthenticatedSource } from '../sources/sources.ts';
import { createAuthenticator } from '../sources/token-cache.ts';
import { listFailedDeliveries } from '../webhooks/deliveries.ts';
import { createHeadWatcher, type HeadWatcher } from './head-watcher.ts';
import { createInFlight, type InFlight, type InFlightLimits, type InFlightRefusal } from './in-flight.ts';
import {
  cleanFileName,
  cleanMimeType,
  contentDisposition,
  type FieldError,
  parseDateFilter,
  sortOf,
  unstorableStrings,
} from './params.ts';
import { createRateLimiter } from './rate-limit.ts';
import {
  type ApiMessageRow,
  conversationExists,
  findAttachment,
  findMessage,
  type ListFilter,
  listMessages,
  type MessageResource,
  pendingResource,
  readHead,
  readMessagesCheckpoint,
  toResource,
} from './read-model.ts';
import { FileRefusedError, type FileStore } from './telegram-files.ts';

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
}

export interface ExternalApi {
  readonly handlers: Readonly<Record<string, RouteDefinition>>;
  /** Answers waiting long polls at once; call before closing the HTTP server. */
  stop(): Promise<void>;
}

/** Telegram's caption limit: text sent with files travels as the file's caption. */
const CAPTION_LIMIT = 1024;
const FILE_FIELDS = new Set(['files', 'uploaded_file']);
const UPLOAD_TIMEOUT_MS = 60_000;
/** The deepest `offset` served: beyond it the database would walk that many rows for every page. */
const MAX_OFFSET = 5000;
/** What a 429 for uploads or long polls asks to wait: a slot frees when one of them ends. */
const BUSY_RETRY_AFTER_SECONDS = 5;
const NO_FILE_STORE = 'files need the Telegram channel (TELEGRAM_BOT_TOKEN): Telegram is the file store';

class Answered extends Error {
  constructor(readonly reply: FastifyReply) {
    super('answered');
  }
}

type Params = { externalId?: string; messageId?: string; fileId?: string };
type Body = Record<string, unknown>;
type Handler = (
  request: FastifyRequest,
  reply: FastifyReply,
  source: AuthenticatedSource,
) => Promise<unknown>;

export const createExternalApi = (options: ExternalApiOptions): ExternalApi => {
  const { pool, handler, logger } = options;
  const projectionWaitMs = options.projectionWaitMs ?? 2000;
  const limiter = createRateLimiter({ perMinute: options.rateLimitPerMinute });
  const uploads = createInFlight(options.uploads ?? { perKey: 4, total: 8 });
  const longPolls = createInFlight(options.longPolls ?? { perKey: 4, total: 100 });
  const watcher: HeadWatcher = createHeadWatcher({
    readHead: () => readHead(pool),
    readCheckpoint: () => readMessagesCheckpoint(pool),
    ...(options.listen ? { listen: options.listen } : {}),
    onError: (err) => logger.warn({ err }, 'external api: watching the read model failed; retrying'),
  });
  const authenticator = createAuthenticator({
    pool,
    ...(options.databaseUrl ? { connectionString: options.databaseUrl } : {}),
    onError: (err) => logger.warn({ err }, 'external api: listening for token revocations failed; retrying'),
  });
  const sources = new WeakMap<FastifyRequest, AuthenticatedSource>();
  const base = options.publicUrl?.replace(/\/+$/, '') ?? '';
  const fileUrl = (id: string) => `${base}/api/external/files/${id}`;
  const resource = (row: ApiMessageRow) => toResource(row, fileUrl);

  /** 429 when a cap on requests in progress is reached: this token's own, or everyone's. */
  const busy = (reply: FastifyReply, slots: InFlight, refused: InFlightRefusal, what: string, code: string) =>
    problem(
      reply.header('Retry-After', String(BUSY_RETRY_AFTER_SECONDS)),
      429,
      'Too Many Requests',
      refused === 'key'
        ? `this token already has ${slots.limits.perKey} ${what} in progress; retry when one has ended`
        : `${slots.limits.total} ${what} are in progress on this instance; retry in a few seconds`,
      { code },
    );

  /**
   * Uploads: a slot per multipart request for as long as it lasts (its parts are spooled to disk and
   * sent on to Telegram); without a file store its file parts are refused before they are read.
   */
  const uploadGuard: RouteHandler = async (request, reply) => {
    const source = sources.get(request);
    if (!source || request.headers['content-type']?.toLowerCase().startsWith('multipart/') !== true)
      return undefined;
    if (!options.files) {
      refuseFileParts(request, new PartsRefused(503, NO_FILE_STORE));
      return undefined;
    }
    const slot = uploads.take(source.tokenId);
    if ('refused' in slot) return busy(reply, uploads, slot.refused, 'uploads', 'too_many_uploads');
    reply.raw.once('close', slot.release);
    return undefined;
  };

  // ---- authentication and rate limit: before the body is read ----------------------------------
  const guard: RouteHandler = async (request, reply) => {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(request.headers.authorization ?? '');
    let source: AuthenticatedSource | undefined;
    try {
      source = m ? await authenticator.authenticate(m[1]) : undefined;
    } catch (error) {
      if ((error as { code?: string }).code !== '42P01') throw error;
      return problem(
        reply.header('Retry-After', '1'),
        503,
        'Service Unavailable',
        'sources are not loaded yet',
      );
    }
    if (!source) {
      return problem(
        reply.header('WWW-Authenticate', 'Bearer realm="topicdesk"'),
        401,
        'Unauthorized',
        'missing, wrong or revoked bearer token',
      );
    }
    const verdict = limiter.take(source.tokenId);
    reply.header('RateLimit-Limit', String(limiter.limit));
    if (!verdict.allowed) {
      return problem(
        reply.header('Retry-After', String(verdict.retryAfterSeconds)).header('RateLimit-Remaining', '0'),
        429,
        'Too Many Requests',
        `rate limit of ${limiter.limit} requests a minute exceeded; retry in ${verdict.retryAfterSeconds} s`,
      );
    }
    reply.header('RateLimit-Remaining', String(verdict.remaining));
    sources.set(request, source);
    return undefined;
  };

  /** Every route: the guard first; strings PostgreSQL cannot store are a 400; domain refusals map to problems. */
  const route = (fn: Handler, guards: RouteHandler[] = []): RouteDefinition => ({
    onRequest: [guard, ...guards],
    async handler(request, reply) {
      const source = sources.get(request);
      if (!source) return problem(reply, 401, 'Unauthorized', 'missing, wrong or revoked bearer token');
      const bad = [
        ...unstorableStrings(request.params, 'params'),
        ...unstorableStrings(request.query, 'query'),
        ...unstorableStrings(request.body, 'body'),
      ];
      if (bad.length > 0) return badRequest(reply, bad);
      try {
        return await fn(request, reply, source);
      } catch (error) {
        if (error instanceof Answered) return error.reply;
        if (error instanceof DomainError) return domainProblem(reply, error);
        if (error instanceof EventIdConflictError) {
          logger.error({ err: error }, 'external api: a command was given event ids another stream holds');
          return problem(reply, 409, 'Conflict', 'this request collides with another recorded command', {
            code: error.code,
          });
        }
        if (error instanceof CommandGaveUpError) {
          logger.warn({ err: error }, 'external api: a command was given up');
          return problem(
            reply.header('Retry-After', '1'),
            503,
            'Service Unavailable',
            'the conversation is too busy to record this now; nothing was recorded — retry',
            { code: error.code },
          );
        }
        throw error;
      }
    },
  });

  const fail = (reply: FastifyReply): never => {
    throw new Answered(reply);
  };
  const failFields = (reply: FastifyReply, errors: FieldError[]): never => fail(badRequest(reply, errors));

  const domainProblem = (reply: FastifyReply, error: DomainError) => {
    switch (error.code) {
      case 'message_not_found':
      case 'conversation_not_started':
        return problem(reply, 404, 'Not Found', error.message, { code: error.code });
      case 'message_deleted':
      case 'message_exists':
        return problem(reply, 409, 'Conflict', error.message, { code: error.code });
      case 'not_a_client_message':
        return problem(
          reply,
          409,
          'Conflict',
          `${error.message}; a source changes only its client's messages`,
          { code: error.code },
        );
      default:
        return problem(reply, 422, 'Unprocessable Content', error.message, { code: error.code });
    }
  };

  /** The message as the log has it (recorded, perhaps not listed yet). */
  const recordedMessage = async (conversationId: string, messageId: string) =>
    (await handler.reader.read(conversationId, { messageIds: [messageId], fresh: true })).state.messages.get(
      messageId,
    );

  const notFound = (reply: FastifyReply, externalId: string, messageId: string): never =>
    fail(problem(reply, 404, 'Not Found', `no message ${messageId} for ${externalId}`));

  const conversationOf = (source: AuthenticatedSource, externalId: string) =>
    conversationIdOf('external', source.code, externalId);

  const requireOwnMessage = async (
    reply: FastifyReply,
    source: AuthenticatedSource,
    externalId: string,
    messageId: string,
  ): Promise<ApiMessageRow> => {
    const row = await findMessage(pool, source.code, conversationOf(source, externalId), messageId);
    return row ?? notFound(reply, externalId, messageId);
  };

  const checkCompatExternalId = (reply: FastifyReply, given: unknown, externalId: string, field: string) => {
    if (given !== undefined && given !== externalId)
      failFields(reply, [{ field, message: 'must equal the externalId in the path' }]);
  };

  /**
   * Waits (up to projectionWaitMs) until the read model shows the message at `revision` or later.
   * With the log position of the write, it waits for the projection's checkpoint to pass it and
   * looks the row up once; without, it looks again whenever the read model moves on.
   */
  const awaitRow = async (
    source: AuthenticatedSource,
    conversationId: string,
    messageId: string,
    revision: number,
    position?: LogPosition,
  ): Promise<ApiMessageRow | undefined> => {
    const deadline = Date.now() + projectionWaitMs;
    watcher.poke();
    if (position && (await watcher.waitApplied(position, projectionWaitMs))) {
      const row = await findMessage(pool, source.code, conversationId, messageId);
      if (row && Number(row.revision) >= revision) {
        watcher.seen(BigInt(row.cursor));
        return row;
      }
    }
    for (;;) {
      // What the watcher last saw is below or at the head as the row is looked up, so waiting beyond
      // it cannot miss the row's arrival; asking for the head each time would cost a query.
      const head = watcher.known();
      const row = await findMessage(pool, source.code, conversationId, messageId);
      if (row && Number(row.revision) >= revision) {
        watcher.seen(BigInt(row.cursor));
        return row;
      }
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      // New rows move the head; edits and deletions do not, so those are re-read on a short timer.
      if (row) await new Promise((r) => setTimeout(r, Math.min(10, left)));
      else await watcher.waitBeyond(head, left);
    }
  };

  const created = (reply: FastifyReply, status: number, body: MessageResource, externalId: string) =>
    reply
      .code(status)
      .header(
        'Location',
        `/api/external/${encodeURIComponent(externalId)}/messages/${encodeURIComponent(body.id)}`,
      )
      .send(body);

  // ---- POST /{externalId}/messages ---------------------------------------------------------------
  const sendMessage: Handler = async (request, reply, source) => {
    const { externalId } = request.params as Params as { externalId: string };
    const body = (request.body ?? {}) as Body;
    checkCompatExternalId(reply, body.external_id, externalId, 'body.external_id');
    const parts = uploadedParts(request).filter((p) => FILE_FIELDS.has(p.field));
    for (const field of FILE_FIELDS) {
      const named = body[field] === undefined ? 0 : Array.isArray(body[field]) ? body[field].length : 1;
      if (named !== parts.filter((p) => p.field === field).length)
        failFields(reply, [{ field: `body.${field}`, message: 'must be file parts' }]);
    }
    const text = typeof body.text === 'string' ? body.text : '';
    const replyTo = typeof body.reply_to === 'string' ? body.reply_to : undefined;
    if (parts.length === 0 && !/\S/.test(text))
      failFields(reply, [{ field: 'body.text', message: 'is required (or send files)' }]);
    if (parts.length > 0 && text.length > CAPTION_LIMIT)
      failFields(reply, [
        {
          field: 'body.text',
          message: `must be at most ${CAPTION_LIMIT} characters with files (it becomes their caption)`,
        },
      ]);

    const conversationId = conversationOf(source, externalId);
    if (replyTo !== undefined && !(await findMessage(pool, source.code, conversationId, replyTo))) {
      fail(
        problem(reply, 422, 'Unprocessable Content', 'the request cannot be carried out as it is', {
          errors: [{ field: 'body.reply_to', message: 'no message with this id in the conversation' }],
        }),
      );
    }

    const key = request.headers['idempotency-key'] as string | undefined;
    const messageId = key === undefined ? randomUUID() : apiMessageId(source.code, externalId, key);
    const commandId = commandIdOf('api', messageId);

    /** 202: recorded, not listed yet (no cursor). */
    const accepted = (m: {
      text: string;
      attachments: readonly Attachment[];
      createdAt: string;
      replyTo?: string | undefined;
    }) =>
      created(
        reply,
        202,
        pendingResource(
          {
            messageId,
            externalId,
            text: m.text,
            attachments: m.attachments,
            createdAt: m.createdAt,
            ...(m.replyTo !== undefined ? { replyTo: m.replyTo } : {}),
          },
          fileUrl,
        ),
        externalId,
      );

    const replay = async (recordedText: string | undefined) => {
      if (recordedText !== undefined && recordedText !== text) {
        fail(
          problem(reply, 409, 'Conflict', 'this Idempotency-Key was used for a different message', {
            code: 'idempotency_key_reused',
          }),
        );
      }
      const row = await awaitRow(source, conversationId, messageId, 0);
      if (!row) {
        const m = await recordedMessage(conversationId, messageId);
        return accepted({
          text: m?.content.text ?? text,
          attachments: m?.content.attachments ?? [],
          createdAt: new Date().toISOString(),
          replyTo: m?.replyTo,
        });
      }
      return reply.code(200).header('Idempotent-Replayed', 'true').send(resource(row));
    };

    if (key !== undefined) {
      const existing = await findMessage(pool, source.code, conversationId, messageId);
      if (existing) return replay(existing.text);
      // Recorded but not listed yet: no second upload of the files.
      if (parts.length > 0) {
        const m = await recordedMessage(conversationId, messageId);
        if (m) return replay(m.content.text);
      }
    }

    const attachments: Attachment[] = [];
    if (parts.length > 0) {
      const files = options.files;
      if (!files) {
        return problem(reply, 503, 'Service Unavailable', NO_FILE_STORE);
      }
      const signal = AbortSignal.timeout(UPLOAD_TIMEOUT_MS);
      for (const part of parts) {
        try {
          attachments.push(
            await files.store(
              {
                fileName: cleanFileName(part.fileName),
                mimeType: cleanMimeType(part.mimeType),
                path: part.path,
                size: part.size,
              },
              `📎 ${source.code} · ${externalId} (upload; removed automatically)`,
              signal,
            ),
          );
        } catch (error) {
          if (error instanceof FileRefusedError) return problem(reply, 502, 'Bad Gateway', error.message);
          if (signal.aborted || error instanceof HttpError) {
            logger.warn({ err: error }, 'external api: a file upload to Telegram failed');
            return problem(
              reply.header('Retry-After', '5'),
              503,
              'Service Unavailable',
              'Telegram (the file store) did not take the file in time; nothing was recorded — retry',
            );
          }
          throw error;
        }
      }
    }

    const result: CommandResult = await handler.execute(
      conversationId,
      {
        type: 'ReceiveClientMessage',
        conversationId,
        channel: 'external',
        source: source.code,
        clientId: externalId,
        profile: {},
        messageId,
        content: { text, attachments },
        ...(replyTo !== undefined ? { replyTo } : {}),
      },
      { commandId, actor: { kind: 'source', id: source.code } },
    );
    if (result.events.length === 0) return replay(result.state.messages.get(messageId)?.content.text);

    const row = await awaitRow(source, conversationId, messageId, 0, result.position);
    if (row) return created(reply, 201, resource(row), externalId);
    return accepted({
      text,
      attachments,
      createdAt: result.events.at(-1)?.metadata.occurredAt ?? new Date().toISOString(),
      replyTo,
    });
  };

  // ---- GET /{externalId}/messages and GET /messages ----------------------------------------------
  type ListQuery = {
    direction?: 'incoming' | 'outgoing';
    after_id?: number;
    before_id?: number;
    date_start?: string;
    date_end?: string;
    sort?: string;
    type_sort?: string;
    limit?: number;
    offset?: number;
    include_deleted?: boolean;
    external_id?: string;
    wait?: number;
  };

  const page = (rows: ApiMessageRow[], hasMore: boolean, sort: 'asc' | 'desc', afterId?: number) => {
    const last = rows.at(-1);
    const next =
      sort === 'asc'
        ? last
          ? Number(last.cursor)
          : (afterId ?? 0)
        : hasMore && last
          ? Number(last.cursor)
          : null;
    return { messages: rows.map(resource), next_cursor: next, has_more: hasMore };
  };

  const listConversation: Handler = async (request, reply, source) => {
    const { externalId } = request.params as { externalId: string };
    const q = request.query as ListQuery;
    checkCompatExternalId(reply, q.external_id, externalId, 'query.external_id');
    const bad: FieldError[] = [];
    const from = q.date_start === undefined ? undefined : parseDateFilter(q.date_start, 'start');
    const until = q.date_end === undefined ? undefined : parseDateFilter(q.date_end, 'end');
    if (q.date_start !== undefined && !from)
      bad.push({ field: 'query.date_start', message: 'is not a valid date' });
    if (q.date_end !== undefined && !until)
      bad.push({ field: 'query.date_end', message: 'is not a valid date' });
    if (q.offset !== undefined && q.offset > MAX_OFFSET)
      bad.push({
        field: 'query.offset',
        message: `must be at most ${MAX_OFFSET}; page further with after_id (the last page's next_cursor)`,
      });
    if (bad.length > 0) failFields(reply, bad);
    const sort = sortOf(q.sort, q.type_sort);
    const filter: ListFilter = {
      source: source.code,
      conversationId: conversationOf(source, externalId),
      ...(q.direction ? { direction: q.direction } : {}),
      ...(q.after_id !== undefined ? { afterId: q.after_id } : {}),
      ...(q.before_id !== undefined ? { beforeId: q.before_id } : {}),
      ...(from ? { from: from.at } : {}),
      ...(until ? { until: until.at, untilExclusive: until.exclusive } : {}),
      sort,
      limit: q.limit ?? 50,
      ...(q.offset !== undefined ? { offset: q.offset } : {}),
      includeDeleted: q.include_deleted ?? false,
    };
    const { rows, hasMore } = await listMessages(pool, filter);
    // Another source's client (or one who never wrote) is not found, like any other unknown thing.
    if (rows.length === 0 && !(await conversationExists(pool, source.code, filter.conversationId!)))
      return problem(reply, 404, 'Not Found', `no conversation with ${externalId}`);
    return reply.send(page(rows, hasMore, sort, q.after_id));
  };

  const listFeed: Handler = async (request, reply, source) => {
    const q = request.query as ListQuery;
    const filter: ListFilter = {
      source: source.code,
      ...(q.external_id !== undefined ? { externalId: q.external_id } : {}),
      ...(q.direction ? { direction: q.direction } : {}),
      ...(q.after_id !== undefined ? { afterId: q.after_id } : {}),
      sort: 'asc',
      limit: q.limit ?? 50,
      includeDeleted: q.include_deleted ?? false,
    };
    const wait = q.wait ?? 0;
    let slot: { release: () => void } | undefined;
    if (wait > 0) {
      const taken = longPolls.take(source.tokenId);
      if ('refused' in taken)
        return busy(reply, longPolls, taken.refused, 'long polls', 'too_many_long_polls');
      slot = taken;
    }
    const deadline = Date.now() + wait * 1000;
    // The client went away: a response that closes before it was written ends the wait.
    const gone = new AbortController();
    const onClose = () => gone.abort();
    reply.raw.once('close', onClose);
    try {
      for (;;) {
        const head = await watcher.head();
        const result = await listMessages(pool, filter);
        const left = deadline - Date.now();
        if (result.rows.length > 0 || left <= 0 || gone.signal.aborted)
          return reply.send(page(result.rows, result.hasMore, 'asc', q.after_id));
        await watcher.waitBeyond(head, left, gone.signal);
      }
    } finally {
      reply.raw.off('close', onClose);
      slot?.release();
    }
  };

  // ---- one message ------------------------------------------------------------------------------
  const getMessage: Handler = async (request, reply, source) => {
    const { externalId, messageId } = request.params as { externalId: string; messageId: string };
    return reply.send(resource(await requireOwnMessage(reply, source, externalId, messageId)));
  };

  const edit = async (
    reply: FastifyReply,
    source: AuthenticatedSource,
    externalId: string,
    messageId: string,
    text: string,
  ) => {
    const row = await requireOwnMessage(reply, source, externalId, messageId);
    if (row.direction !== 'incoming')
      throw new DomainError('not_a_client_message', `message ${messageId} was written by a manager`);
    if (row.deleted_at !== null) throw new DomainError('message_deleted', `message ${messageId} is deleted`);
    if (row.attachments.some((a) => a.fileRef) && text.length > CAPTION_LIMIT) {
      failFields(reply, [
        {
          field: 'body.text',
          message: `must be at most ${CAPTION_LIMIT} characters for a message with files (its caption)`,
        },
      ]);
    }
    const conversationId = conversationOf(source, externalId);
    const result = await handler.execute(
      conversationId,
      { type: 'EditClientMessage', messageId, content: { text, attachments: row.attachments } },
      { commandId: commandIdOf('api', 'edit', randomUUID()), actor: { kind: 'source', id: source.code } },
    );
    if (result.events.length === 0) return reply.send(resource(row));
    const after = await awaitRow(source, conversationId, messageId, result.revision, result.position);
    return reply.send(
      after ? resource(after) : { ...resource(row), text, edited_at: result.events[0]!.metadata.occurredAt },
    );
  };

  const remove = async (
    reply: FastifyReply,
    source: AuthenticatedSource,
    externalId: string,
    messageId: string,
  ) => {
    const row = await requireOwnMessage(reply, source, externalId, messageId);
    if (row.direction !== 'incoming')
      throw new DomainError('not_a_client_message', `message ${messageId} was written by a manager`);
    if (row.deleted_at !== null) return reply.send(resource(row));
    const conversationId = conversationOf(source, externalId);
    let result: CommandResult;
    try {
      result = await handler.execute(
        conversationId,
        { type: 'DeleteClientMessage', messageId },
        { commandId: commandIdOf('api', 'delete', randomUUID()), actor: { kind: 'source', id: source.code } },
      );
    } catch (error) {
      // Deleted meanwhile by a concurrent request: the same answer as deleting it again.
      if (!(error instanceof DomainError && error.code === 'message_deleted')) throw error;
      const now = await awaitRow(source, conversationId, messageId, 0);
      return reply.send(resource(now ?? row));
    }
    const after = await awaitRow(source, conversationId, messageId, result.revision, result.position);
    return reply.send(
      after ? resource(after) : { ...resource(row), deleted_at: result.events[0]!.metadata.occurredAt },
    );
  };

  const messageIdOf = (value: unknown) => (typeof value === 'number' ? String(value) : (value as string));

  const editMessage: Handler = async (request, reply, source) => {
    const { externalId, messageId } = request.params as { externalId: string; messageId: string };
    return edit(reply, source, externalId, messageId, (request.body as { text: string }).text);
  };

  const editMessageCompat: Handler = async (request, reply, source) => {
    const { externalId } = request.params as { externalId: string };
    const body = request.body as Body;
    checkCompatExternalId(reply, body.external_id, externalId, 'body.external_id');
    const text = (body.text ?? body.message) as string | undefined;
    if (text === undefined)
      failFields(reply, [{ field: 'body.text', message: "is required (or tg-support-bot v3's message)" }]);
    if (body.text !== undefined && body.message !== undefined && body.text !== body.message)
      failFields(reply, [{ field: 'body.message', message: 'must equal text when both are given' }]);
    return edit(reply, source, externalId, messageIdOf(body.message_id), text!);
  };

  const deleteMessage: Handler = async (request, reply, source) => {
    const { externalId, messageId } = request.params as { externalId: string; messageId: string };
    return remove(reply, source, externalId, messageId);
  };

  const deleteMessageCompat: Handler = async (request, reply, source) => {
    const { externalId } = request.params as { externalId: string };
    const body = request.body as Body;
    checkCompatExternalId(reply, body.external_id, externalId, 'body.external_id');
    return remove(reply, source, externalId, messageIdOf(body.message_id));
  };

  // ---- GET /files/{fileId} ----------------------------------------------------------------------
  const getFile: Handler = async (request, reply, source) => {
    const { fileId } = request.params as { fileId: string };
    const attachment = await findAttachment(pool, source.code, fileId);
    if (!attachment?.fileRef) return problem(reply, 404, 'Not Found', 'no such file');
    if (!options.files) return problem(reply, 503, 'Service Unavailable', NO_FILE_STORE);
    let download: Awaited<ReturnType<FileStore['open']>>;
    try {
      download = await options.files.open(attachment.fileRef, AbortSignal.timeout(UPLOAD_TIMEOUT_MS));
    } catch (error) {
      if (error instanceof FileRefusedError) return problem(reply, 502, 'Bad Gateway', error.message);
      logger.warn({ err: error }, 'external api: a file download from Telegram failed');
      return problem(
        reply.header('Retry-After', '5'),
        503,
        'Service Unavailable',
        'Telegram (the file store) did not answer; retry',
      );
    }
    reply
      .type(cleanMimeType(attachment.mimeType))
      .header('X-Content-Type-Options', 'nosniff')
      .header('Content-Disposition', contentDisposition(attachment.fileName));
    if (download.size !== undefined) reply.header('Content-Length', String(download.size));
    return reply.send(Readable.fromWeb(download.body as never));
  };

  // ---- GET /webhooks/failed ---------------------------------------------------------------------
  const listFailedWebhookDeliveries: Handler = async (request, reply, source) => {
    const q = request.query as { limit?: number; after?: string; include_retrying?: boolean };
    const limit = q.limit ?? 50;
    const deliveries = await listFailedDeliveries(pool, source.code, {
      limit,
      ...(q.after !== undefined ? { after: q.after } : {}),
      ...(q.include_retrying !== undefined ? { includeRetrying: q.include_retrying } : {}),
    });
    const last = deliveries.at(-1);
    return reply.send({
      deliveries,
      next_cursor: deliveries.length === limit && last ? last.delivery_id : null,
    });
  };

  return {
    handlers: {
      sendMessage: route(sendMessage, [uploadGuard]),
      listMessages: route(listConversation),
      editMessageCompat: route(editMessageCompat),
      deleteMessageCompat: route(deleteMessageCompat),
      getMessage: route(getMessage),
      editMessage: route(editMessage),
      deleteMessage: route(deleteMessage),
      listSourceMessages: route(listFeed),
      getFile: route(getFile),
      listFailedWebhookDeliveries: route(listFailedWebhookDeliveries),
    },
    stop: async () => {
      await Promise.all([watcher.stop(), authenticator.stop()]);
    },
  };
};
