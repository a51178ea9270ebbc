// How a tg-support-bot client's request is read: its fields may come in the query, the body, or
// (Laravel reads it) a GET request's body; the client is named in the path (4.0+) or by
// `external_id` (3.x); list parameters keep its meaning (docs/design.md, "Speaking tg-support-bot's dialect").
import type { FastifyRequest } from 'fastify';
import { hasBody, mediaTypeOf } from '../../http/validation.ts';

/** The most a GET body may hold: a handful of filters. */
const GET_BODY_LIMIT = 16 * 1024;

export type Fields = Record<string, unknown>;

/** A GET request's body (JSON or a form), which Fastify leaves unread; {} without one. */
const getBody = async (request: FastifyRequest): Promise<Fields> => {
  if (!hasBody(request) || request.raw.readableEnded) return {};
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw) {
    size += (chunk as Buffer).length;
    if (size > GET_BODY_LIMIT) return {};
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    if (mediaTypeOf(request) === 'application/json') {
      const parsed: unknown = JSON.parse(text);
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Fields) : {};
    }
    return Object.fromEntries(new URLSearchParams(text));
  } catch {
    return {};
  }
};

/** Every field the request carries: the query, then the body over it (as Laravel merges them). */
export const fieldsOf = async (request: FastifyRequest): Promise<Fields> => {
  const body =
    request.method === 'GET' || request.method === 'HEAD'
      ? await getBody(request)
      : ((request.body ?? {}) as Fields);
  return { ...((request.query ?? {}) as Fields), ...body };
};

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;

/** The client: the path's (4.0+) or the fields' `external_id` (3.x; 4.0+ ignore it). */
export const clientOf = (request: FastifyRequest, fields: Fields): string | undefined => {
  const inPath = (request.params as { externalId?: string }).externalId;
  const id = inPath ?? text(fields.external_id);
  return id && /^[^\s/]{1,128}$/.test(id) ? id : undefined;
};

/** A message's number (`message_id`, a path's id): a cursor, or undefined when it is not one. */
export const numberOf = (value: unknown): number | undefined => {
  const t = text(value)?.trim();
  return t && /^\d{1,15}$/.test(t) ? Number(t) : undefined;
};

export interface ListParams {
  readonly sort: 'asc' | 'desc';
  /** Undefined: every message. */
  readonly limit?: number;
  readonly offset: number;
  readonly afterId?: number;
  readonly dateStart?: string;
  readonly dateEnd?: string;
}

/**
 * The list parameters with tg-support-bot's meaning: `type_sort` asc by default, anything else
 * than asc/desc is desc; `limit` and `offset` without a maximum (0 or none: all, none skipped).
 */
export const listParams = (fields: Fields): ListParams => {
  const typeSort = text(fields.type_sort);
  const sort = typeSort === undefined ? 'asc' : typeSort.toLowerCase() === 'asc' ? 'asc' : 'desc';
  const limit = numberOf(fields.limit);
  const afterId = numberOf(fields.after_id);
  const dateStart = text(fields.date_start);
  const dateEnd = text(fields.date_end);
  return {
    sort,
    ...(limit ? { limit } : {}),
    offset: numberOf(fields.offset) ?? 0,
    ...(afterId ? { afterId } : {}),
    ...(dateStart ? { dateStart } : {}),
    ...(dateEnd ? { dateEnd } : {}),
  };
};
