// The reads: one conversation's messages (filters, both sort orders, offset or cursor pages), the
// source's feed across its conversations (a long poll with `wait`), and one message.
import type { FastifyReply } from 'fastify';
import { problem } from '../../http/problem.ts';
import { type FieldError, parseDateFilter, sortOf } from '../params.ts';
import { type ApiMessageRow, conversationExists, type ListFilter, listMessages } from '../read-model.ts';
import {
  busy,
  checkCompatExternalId,
  conversationOf,
  type ExternalContext,
  failFields,
  type Handler,
  resource,
} from './context.ts';
import { requireOwnMessage } from './message-lookup.ts';

/** The deepest `offset` served: beyond it the database would walk that many rows for every page. */
const MAX_OFFSET = 5000;

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

/** A page; ascending, its cursor is where to go on from (the same when nothing came, to poll again). */
const page = (
  ctx: ExternalContext,
  rows: ApiMessageRow[],
  hasMore: boolean,
  sort: 'asc' | 'desc',
  afterId?: number,
) => {
  const last = rows.at(-1);
  const next =
    sort === 'asc'
      ? last
        ? Number(last.cursor)
        : (afterId ?? 0)
      : hasMore && last
        ? Number(last.cursor)
        : null;
  return { messages: rows.map((row) => resource(ctx, row)), next_cursor: next, has_more: hasMore };
};

/** GET /{externalId}/messages. */
export const listConversation: Handler = async (ctx, request, reply, source) => {
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
  const { rows, hasMore } = await listMessages(ctx.pool, filter);
  // Another source's client (or one who never wrote) is not found, like any other unknown thing.
  if (rows.length === 0 && !(await conversationExists(ctx.pool, source.code, filter.conversationId!)))
    return problem(reply, 404, 'Not Found', `no conversation with ${externalId}`);
  return reply.send(page(ctx, rows, hasMore, sort, q.after_id));
};

/** GET /messages: the source's feed; with `wait`, held until something new is listed or it runs out. */
export const listFeed: Handler = async (ctx, request, reply, source) => {
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
    const taken = ctx.longPolls.take(source.tokenId);
    if ('refused' in taken)
      return busy(reply, ctx.longPolls, taken.refused, 'long polls', 'too_many_long_polls');
    slot = taken;
  }
  try {
    return await poll(ctx, reply, filter, wait, q.after_id);
  } finally {
    slot?.release();
  }
};

const poll = async (
  ctx: ExternalContext,
  reply: FastifyReply,
  filter: ListFilter,
  wait: number,
  afterId: number | undefined,
) => {
  const deadline = Date.now() + wait * 1000;
  // The client went away: a response that closes before it was written ends the wait.
  const gone = new AbortController();
  const onClose = () => gone.abort();
  reply.raw.once('close', onClose);
  try {
    for (;;) {
      const head = await ctx.watcher.head();
      const result = await listMessages(ctx.pool, filter);
      const left = deadline - Date.now();
      if (result.rows.length > 0 || left <= 0 || gone.signal.aborted)
        return reply.send(page(ctx, result.rows, result.hasMore, 'asc', afterId));
      await ctx.watcher.waitBeyond(head, left, gone.signal);
    }
  } finally {
    reply.raw.off('close', onClose);
  }
};

/** GET /{externalId}/messages/{messageId}. */
export const getMessage: Handler = async (ctx, request, reply, source) => {
  const { externalId, messageId } = request.params as { externalId: string; messageId: string };
  return reply.send(resource(ctx, await requireOwnMessage(ctx, reply, source, externalId, messageId)));
};
