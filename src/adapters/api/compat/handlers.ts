// The external API's operations in tg-support-bot's dialect (docs/design.md, "Speaking
// tg-support-bot's dialect"). Writes run topicdesk's own handlers on the mapped request and retell
// their answer; the list is read here, page by page underneath, since the dialect has no maximum.
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { problem } from '../../http/problem.ts';
import type { AuthenticatedSource } from '../../sources/sources.ts';
import { conversationOf, type ExternalContext, type Handler } from '../external/context.ts';
import { deleteMessage, editMessage } from '../external/edit-delete.ts';
import { getFile } from '../external/files.ts';
import { answer } from '../external/route.ts';
import { sendMessage } from '../external/send.ts';
import {
  type ApiMessageRow,
  conversationExists,
  findMessage,
  findMessageByCursor,
  listMessages,
  type MessageResource,
  toResource,
} from '../read-model.ts';
import {
  type Captured,
  deletedAnswer,
  dialectMessage,
  failure,
  retellRefusal,
  sendJson,
  writeAnswer,
} from './answers.ts';
import { parseDate } from './dates.ts';
import { rulesOf } from './dialect.ts';
import { clientOf, type Fields, fieldsOf, listParams, numberOf } from './request.ts';

/** Rows read at a time underneath an unlimited list. */
const PAGE = 200;
const CHAT_NOT_FOUND = 'chat not found';

/** Links to a source's files: signed public ones when the server has a secret, else the API's own. */
const fileLinkOf = (ctx: ExternalContext, source: AuthenticatedSource) => (fileId: string) =>
  ctx.fileLinks ? ctx.fileLinks.url(source.code, fileId) : ctx.fileUrl(fileId);

const messageOf = (ctx: ExternalContext, source: AuthenticatedSource, m: MessageResource) =>
  dialectMessage(m, source.compat!, fileLinkOf(ctx, source));

/** A reply that only remembers what it was given, for topicdesk's own handler to answer into. */
const capturing = (real: FastifyReply) => {
  const captured: Captured = { status: 200, headers: {}, body: undefined };
  const fake = {
    raw: real.raw,
    get statusCode() {
      return captured.status;
    },
    code(status: number) {
      captured.status = status;
      return fake;
    },
    status(status: number) {
      captured.status = status;
      return fake;
    },
    header(name: string, value: string) {
      captured.headers[name] = value;
      return fake;
    },
    type(value: string) {
      captured.headers['content-type'] = value;
      return fake;
    },
    getHeader: (name: string) => captured.headers[name],
    send(body: unknown) {
      captured.body = body;
      return fake;
    },
  };
  return { fake: fake as unknown as FastifyReply, captured };
};

/** Runs topicdesk's own handler for the (mapped) request and returns what it answered. */
const runOwn = async (
  ctx: ExternalContext,
  fn: Handler,
  request: FastifyRequest,
  reply: FastifyReply,
  source: AuthenticatedSource,
): Promise<Captured> => {
  const { fake, captured } = capturing(reply);
  await answer(ctx, fn, request, fake, { code: source.code, tokenId: source.tokenId });
  return captured;
};

/** The client named, set where topicdesk's handlers read it; undefined when it is not named. */
const mapClient = (request: FastifyRequest, fields: Fields): string | undefined => {
  const externalId = clientOf(request, fields);
  if (!externalId) return undefined;
  request.params = { ...(request.params as object), externalId };
  // The path (or 3.x's field) names the client; a stray external_id does not contradict it.
  if (request.body && typeof request.body === 'object')
    request.body = { ...(request.body as object), external_id: externalId };
  return externalId;
};

/** POST …/messages and …/files: a client's message, text or `uploaded_file`. */
export const sendCompat: Handler = async (ctx, request, reply, source) => {
  const fields = await fieldsOf(request);
  if (!mapClient(request, fields)) return failure(reply, 'external_id is required');
  const own = await runOwn(ctx, sendMessage, request, reply, source);
  if (own.status >= 400) return retellRefusal(reply, own);
  return writeAnswer(reply, rulesOf(source.compat!), messageOf(ctx, source, own.body as MessageResource));
};

/** `message_id`: a cursor (what the dialect hands out), or topicdesk's own id. */
const messageNamed = async (
  ctx: ExternalContext,
  source: AuthenticatedSource,
  externalId: string | undefined,
  value: unknown,
): Promise<ApiMessageRow | undefined> => {
  const cursor = numberOf(value);
  const row =
    cursor !== undefined
      ? await findMessageByCursor(ctx.pool, source.code, cursor)
      : typeof value === 'string' && externalId
        ? await findMessage(ctx.pool, source.code, conversationOf(source, externalId), value)
        : undefined;
  return row && (externalId === undefined || row.external_id === externalId) ? row : undefined;
};

/** PUT …/messages: `message_id` and the new text (`text`, or `message` before 6.0). */
export const editCompat: Handler = async (ctx, request, reply, source) => {
  const fields = await fieldsOf(request);
  const externalId = clientOf(request, fields);
  if (!externalId) return failure(reply, 'external_id is required');
  const text = fields.text ?? fields.message;
  if (typeof text !== 'string' || !/\S/.test(text)) return failure(reply, 'text (or message) is required');
  const row = await messageNamed(ctx, source, externalId, fields.message_id);
  if (!row) return failure(reply, 'message not found');
  request.params = { externalId, messageId: row.message_id };
  request.body = { text };
  const own = await runOwn(ctx, editMessage, request, reply, source);
  if (own.status >= 400) return retellRefusal(reply, own);
  return writeAnswer(reply, rulesOf(source.compat!), messageOf(ctx, source, own.body as MessageResource));
};

/** DELETE …/messages: `message_id`. */
export const deleteCompat: Handler = async (ctx, request, reply, source) => {
  const fields = await fieldsOf(request);
  const externalId = clientOf(request, fields);
  if (!externalId) return failure(reply, 'external_id is required');
  const row = await messageNamed(ctx, source, externalId, fields.message_id);
  if (!row) return failure(reply, 'message not found');
  request.params = { externalId, messageId: row.message_id };
  request.body = undefined;
  const own = await runOwn(ctx, deleteMessage, request, reply, source);
  if (own.status >= 400) return retellRefusal(reply, own);
  return deletedAnswer(reply, rulesOf(source.compat!), Number(row.cursor));
};

/** GET …/messages/{id}: one message by its number, with it (`id`). */
export const showCompat: Handler = async (ctx, request, reply, source) => {
  const { externalId, messageId } = request.params as { externalId?: string; messageId: string };
  const row = await messageNamed(ctx, source, externalId, messageId);
  if (!row) return failure(reply, 'message not found');
  return sendJson(reply, 200, {
    id: Number(row.cursor),
    ...messageOf(ctx, source, toResource(row, ctx.fileUrl)),
  });
};

/**
 * GET …/messages: `{status, source, external_id, messages}`. Without a maximum on `limit` or
 * `offset`, rows are read a page at a time by cursor and written out as they come: neither memory
 * nor the database's OFFSET grows with what a client asks for.
 */
export const listCompat: Handler = async (ctx, request, reply, source) => {
  const compat = source.compat!;
  const fields = await fieldsOf(request);
  const externalId = clientOf(request, fields);
  if (!externalId) return failure(reply, 'external_id is required');
  const p = listParams(fields);
  const from = p.dateStart === undefined ? undefined : parseDate(p.dateStart, compat.timeZone);
  const until = p.dateEnd === undefined ? undefined : parseDate(p.dateEnd, compat.timeZone);
  if ((p.dateStart !== undefined && !from) || (p.dateEnd !== undefined && !until))
    return failure(reply, 'date_start and date_end must be dates such as 2026-05-01 10:00:00');
  const conversationId = conversationOf(source, externalId);
  if (!(await conversationExists(ctx.pool, source.code, conversationId)))
    return failure(reply, CHAT_NOT_FOUND);

  const pages = async function* () {
    let skip = p.offset;
    let left = p.limit ?? Number.POSITIVE_INFINITY;
    let keyset: number | undefined;
    let first = true;
    yield `{"status":true,"source":${JSON.stringify(source.code)},"external_id":${JSON.stringify(externalId)},"messages":[`;
    while (left > 0) {
      const page = await listMessages(ctx.pool, {
        source: source.code,
        conversationId,
        ...(p.afterId !== undefined ? { afterId: p.afterId } : {}),
        ...(keyset !== undefined ? (p.sort === 'asc' ? { afterId: keyset } : { beforeId: keyset }) : {}),
        ...(from ? { from } : {}),
        ...(until ? { until } : {}),
        sort: p.sort,
        limit: PAGE,
        includeDeleted: false,
      });
      for (const row of page.rows) {
        if (skip > 0) {
          skip--;
          continue;
        }
        if (left <= 0) break;
        left--;
        yield `${first ? '' : ','}${JSON.stringify(messageOf(ctx, source, toResource(row, ctx.fileUrl)))}`;
        first = false;
      }
      const last = page.rows.at(-1);
      if (!page.hasMore || !last) break;
      keyset = Number(last.cursor);
    }
    yield ']}';
  };
  return reply.type('application/json').send(Readable.from(pages()));
};

/** The handlers a dialect source is given instead of topicdesk's own, by operationId. */
export const DIALECT_HANDLERS: Readonly<Record<string, Handler>> = {
  sendMessage: sendCompat,
  compatSendFile: sendCompat,
  listMessages: listCompat,
  editMessageCompat: editCompat,
  deleteMessageCompat: deleteCompat,
  getMessage: showCompat,
  compatSendMessageV3: sendCompat,
  compatEditMessageV3: editCompat,
  compatDeleteMessageV3: deleteCompat,
  compatGetMessageV3: showCompat,
};

/** GET /api/files/{fileId}: a signed link's file, streamed like the API's own download; no token. */
export const publicFile = async (ctx: ExternalContext, request: FastifyRequest, reply: FastifyReply) => {
  const { fileId } = request.params as { fileId: string };
  const q = request.query as { source: string; expires: string; signature: string };
  if (!ctx.fileLinks?.verify({ source: q.source, fileId, expires: q.expires, signature: q.signature }))
    return problemNotFound(reply);
  return getFile(ctx, request, reply, { code: q.source, tokenId: '' });
};

const problemNotFound = (reply: FastifyReply) =>
  problem(reply, 404, 'Not Found', 'no such file, or the link expired');
