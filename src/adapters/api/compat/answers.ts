// What a tg-support-bot client is answered (docs/design.md, "Speaking tg-support-bot's dialect"):
// its message object, each version's answer to a write, and its error conventions — a refused token
// is 403 `{"message": "Access is forbidden"}`; anything the request itself got wrong (no such chat,
// no text) is a 200 with `{status: false, error}`; overload and outages keep their status.
import type { FastifyReply } from 'fastify';
import type { SourceCompat } from '../../../domain/source.ts';
import { formatDate } from './dates.ts';
import type { DialectRules } from './dialect.ts';

/** The parts of topicdesk's message resource (API or webhook) a dialect message is made from. */
export interface NativeMessage {
  readonly direction: 'incoming' | 'outgoing';
  readonly text: string;
  readonly attachments: ReadonlyArray<{
    readonly id: string;
    readonly kind: string;
    readonly file_name: string | null;
    readonly url: string | null;
  }>;
  readonly created_at: string;
  readonly cursor: number | null;
}

/** tg-support-bot's message object: fields without a value are left out, as it leaves them out. */
export type DialectMessage = Record<string, string | number | unknown[]>;

/**
 * The message as tg-support-bot lists it. Both of its message ids (`to_id`, `from_id`) are the
 * message's cursor: the one number that names it here (edits and deletions take it as `message_id`,
 * `after_id` pages by it). One file per message in the dialect: the first attachment.
 */
export const dialectMessage = (
  m: NativeMessage,
  compat: SourceCompat,
  fileLink: (fileId: string) => string,
): DialectMessage => {
  const id = m.cursor ?? 0;
  const file = m.attachments[0];
  const out: DialectMessage = {
    message_type: m.direction,
    to_id: id,
    from_id: id,
    ...(m.text ? { text: m.text } : {}),
    date: formatDate(m.created_at, compat.timeZone),
    content_type: file ? 'file' : 'text',
  };
  if (file) {
    out.file_id = file.id;
    if (file.url) out.file_url = fileLink(file.id);
    out.file_type = file.kind === 'photo' ? 'photo' : file.kind;
    if (file.file_name) out.file_name = file.file_name;
  }
  return out;
};

/**
 * JSON written as is: the contract's response schemas describe topicdesk's shapes, and Fastify's
 * serializer would drop (or refuse) every field of the dialect's.
 */
export const sendJson = (reply: FastifyReply, status: number, body: unknown) =>
  reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(body));

/** 403 as tg-support-bot refuses a missing or wrong token. */
export const forbidden = (reply: FastifyReply) => sendJson(reply, 403, { message: 'Access is forbidden' });

/** A request it could not carry out: `{status: false, error}`, with 200 unless `status` says otherwise. */
export const failure = (reply: FastifyReply, error: string, status = 200) =>
  sendJson(reply, status, { status: false, error });

/** Bad fields (what topicdesk's own API answers 400 for), as one error sentence. */
export const refusedFields = (
  reply: FastifyReply,
  errors: ReadonlyArray<{ field: string; message: string }>,
) =>
  failure(
    reply,
    errors.map((e) => `${e.field.replace(/^(body|query|params)\./, '')} ${e.message}`).join('; '),
  );

/** The answer to a sent or edited message, as the version gives it. */
export const writeAnswer = (reply: FastifyReply, rules: DialectRules, message: DialectMessage) => {
  switch (rules.writeAnswer) {
    case 'message_id':
      return sendJson(reply, 200, { status: true, message_id: message.from_id });
    case 'result':
      return sendJson(reply, 200, { status: true, result: message });
    default:
      return reply.code(200).send();
  }
};

/** The answer to a deletion: the message's id before 6.0, an empty 200 since. */
export const deletedAnswer = (reply: FastifyReply, rules: DialectRules, id: number) =>
  rules.writeAnswer === 'empty'
    ? reply.code(200).send()
    : sendJson(reply, 200, { status: true, message_id: id });

/** What topicdesk's own handler answered, caught to be retold in the dialect (handlers.ts). */
export interface Captured {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * A refusal of topicdesk's own handler retold: the request's own faults (400, 404, 409, 422) as a
 * 200 `{status: false, error}`; anything else (413, 415, 429, 502, 503) keeps its status and headers.
 */
export const retellRefusal = (reply: FastifyReply, captured: Captured) => {
  const p = (captured.body ?? {}) as {
    detail?: string;
    title?: string;
    errors?: Array<{ field: string; message: string }>;
  };
  const error =
    p.errors && p.errors.length > 0
      ? p.errors.map((e) => `${e.field.replace(/^(body|query|params)\./, '')} ${e.message}`).join('; ')
      : (p.detail ?? p.title ?? 'the request failed');
  const own = [400, 404, 409, 422].includes(captured.status);
  for (const [name, value] of Object.entries(captured.headers))
    if (name.toLowerCase() === 'retry-after') reply.header(name, value);
  return failure(reply, error, own ? 200 : captured.status);
};
