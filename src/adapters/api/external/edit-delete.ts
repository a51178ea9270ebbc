// Editing and deleting a client's message: by path (PUT/DELETE /{externalId}/messages/{messageId})
// and tg-support-bot v3's way (PUT/DELETE /{externalId}/messages, the id in the body). A source
// changes only its client's messages; deleting a deleted message answers it as it is.
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { CommandResult } from '../../../domain/command-handler.ts';
import { DomainError } from '../../../domain/errors.ts';
import { commandIdOf } from '../../ids.ts';
import type { AuthenticatedSource } from '../../sources/sources.ts';
import {
  type Body,
  CAPTION_LIMIT,
  checkCompatExternalId,
  conversationOf,
  type ExternalContext,
  failFields,
  type Handler,
  resource,
} from './context.ts';
import { atRevision, awaitRow, recordedMessage, requireOwnMessage } from './message-lookup.ts';

export const editMessage: Handler = async (ctx, request, reply, source) => {
  const { externalId, messageId } = request.params as { externalId: string; messageId: string };
  return edit(ctx, reply, source, externalId, messageId, (request.body as { text: string }).text);
};

export const editMessageCompat: Handler = async (ctx, request, reply, source) => {
  const { externalId } = request.params as { externalId: string };
  const body = request.body as Body;
  checkCompatExternalId(reply, body.external_id, externalId, 'body.external_id');
  const text = (body.text ?? body.message) as string | undefined;
  if (text === undefined)
    failFields(reply, [{ field: 'body.text', message: "is required (or tg-support-bot v3's message)" }]);
  if (body.text !== undefined && body.message !== undefined && body.text !== body.message)
    failFields(reply, [{ field: 'body.message', message: 'must equal text when both are given' }]);
  return edit(ctx, reply, source, externalId, messageIdOf(body.message_id), text!);
};

export const deleteMessage: Handler = async (ctx, request, reply, source) => {
  const { externalId, messageId } = request.params as { externalId: string; messageId: string };
  return remove(ctx, reply, source, externalId, messageId);
};

export const deleteMessageCompat: Handler = async (ctx, request, reply, source) => {
  const { externalId } = request.params as { externalId: string };
  const body = request.body as Body;
  checkCompatExternalId(reply, body.external_id, externalId, 'body.external_id');
  return remove(ctx, reply, source, externalId, messageIdOf(body.message_id));
};

/** tg-support-bot v3 sends message ids as numbers. */
const messageIdOf = (value: unknown) => (typeof value === 'number' ? String(value) : (value as string));

const edit = async (
  ctx: ExternalContext,
  reply: FastifyReply,
  source: AuthenticatedSource,
  externalId: string,
  messageId: string,
  text: string,
) => {
  const row = await requireOwnMessage(ctx, reply, source, externalId, messageId);
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
  const result = await ctx.handler.execute(
    conversationId,
    { type: 'EditClientMessage', messageId, content: { text, attachments: row.attachments } },
    { commandId: commandIdOf('api', 'edit', randomUUID()), actor: { kind: 'source', id: source.code } },
  );
  if (result.events.length === 0) return reply.send(resource(ctx, row));
  return sendOnceListed(ctx, reply, source, conversationId, messageId, row, result, (at) => ({
    text,
    edited_at: at,
  }));
};

/**
 * Answers with the message as listed once the listing has the command's events; if it lags past the
 * wait, with the row as it was plus what the command changed (`changed` gets the events' time).
 */
const sendOnceListed = async (
  ctx: ExternalContext,
  reply: FastifyReply,
  source: AuthenticatedSource,
  conversationId: string,
  messageId: string,
  row: Parameters<typeof resource>[1],
  result: CommandResult,
  changed: (at: string) => Record<string, unknown>,
) => {
  const after = await awaitRow(
    ctx,
    source,
    conversationId,
    messageId,
    atRevision(result.revision),
    result.position,
  );
  return reply.send(
    after
      ? resource(ctx, after)
      : { ...resource(ctx, row), ...changed(result.events[0]!.metadata.occurredAt) },
  );
};

const remove = async (
  ctx: ExternalContext,
  reply: FastifyReply,
  source: AuthenticatedSource,
  externalId: string,
  messageId: string,
) => {
  const row = await requireOwnMessage(ctx, reply, source, externalId, messageId);
  if (row.direction !== 'incoming')
    throw new DomainError('not_a_client_message', `message ${messageId} was written by a manager`);
  if (row.deleted_at !== null) return reply.send(resource(ctx, row));
  const conversationId = conversationOf(source, externalId);
  let result: CommandResult;
  try {
    result = await ctx.handler.execute(
      conversationId,
      { type: 'DeleteClientMessage', messageId },
      { commandId: commandIdOf('api', 'delete', randomUUID()), actor: { kind: 'source', id: source.code } },
    );
  } catch (error) {
    // Deleted meanwhile by a concurrent request: the same answer as deleting it again, once the
    // listing shows the deletion, or with the log's time of it.
    if (!(error instanceof DomainError && error.code === 'message_deleted')) throw error;
    const now = await awaitRow(ctx, source, conversationId, messageId, (r) => r.deleted_at !== null);
    if (now) return reply.send(resource(ctx, now));
    const recorded = await recordedMessage(ctx, conversationId, messageId);
    return reply.send({ ...resource(ctx, row), deleted_at: recorded?.deletedAt ?? null });
  }
  return sendOnceListed(ctx, reply, source, conversationId, messageId, row, result, (at) => ({
    deleted_at: at,
  }));
};
