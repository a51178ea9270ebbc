// POST /{externalId}/messages: a client's message from a source, JSON or multipart with files. An
// Idempotency-Key names the message, so a retry is answered with the one recorded (200, or 202 while
// it is not listed yet) and never uploads its files twice; another text under the same key is a 409.
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { CommandResult } from '../../../domain/command-handler.ts';
import type { Attachment } from '../../../domain/events.ts';
import { problem } from '../../http/problem.ts';
import { uploadedParts } from '../../http/uploads.ts';
import { apiMessageId, commandIdOf } from '../../ids.ts';
import type { AuthenticatedSource } from '../../sources/sources.ts';
import { findMessage, type MessageResource, pendingResource } from '../read-model.ts';
import {
  type Body,
  CAPTION_LIMIT,
  checkCompatExternalId,
  conversationOf,
  type ExternalContext,
  fail,
  failFields,
  type Handler,
  resource,
} from './context.ts';
import { FILE_FIELDS, storeUploads } from './files.ts';
import { atRevision, awaitRow, recordedMessage } from './message-lookup.ts';

/** The message being posted, as the replies below need it. */
interface Posting {
  readonly reply: FastifyReply;
  readonly source: AuthenticatedSource;
  readonly externalId: string;
  readonly conversationId: string;
  readonly messageId: string;
  readonly text: string;
}

export const sendMessage: Handler = async (ctx, request, reply, source) => {
  const { externalId } = request.params as { externalId: string };
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
  // The client's language (an IETF tag, checked by the schema): the latest decides what the bot writes in.
  const language = typeof body.language === 'string' ? body.language : undefined;
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
  if (replyTo !== undefined && !(await findMessage(ctx.pool, source.code, conversationId, replyTo))) {
    fail(
      problem(reply, 422, 'Unprocessable Content', 'the request cannot be carried out as it is', {
        errors: [{ field: 'body.reply_to', message: 'no message with this id in the conversation' }],
      }),
    );
  }

  const key = request.headers['idempotency-key'] as string | undefined;
  const messageId = key === undefined ? randomUUID() : apiMessageId(source.code, externalId, key);
  const commandId = commandIdOf('api', messageId);
  const posting: Posting = { reply, source, externalId, conversationId, messageId, text };

  if (key !== undefined) {
    const existing = await findMessage(ctx.pool, source.code, conversationId, messageId);
    if (existing) return replay(ctx, posting, existing.text, true);
    // Recorded but not listed yet: no second upload of the files.
    if (parts.length > 0) {
      const m = await recordedMessage(ctx, conversationId, messageId);
      if (m) return replay(ctx, posting, m.content.text, true);
    }
  }

  const attachments = await storeUploads(ctx, reply, source, externalId, parts);
  const sentAt = new Date();
  const result: CommandResult = await ctx.handler.execute(
    conversationId,
    {
      type: 'ReceiveClientMessage',
      conversationId,
      channel: 'external',
      source: source.code,
      clientId: externalId,
      profile: language ? { languageCode: language } : {},
      messageId,
      content: { text, attachments },
      ...(replyTo !== undefined ? { replyTo } : {}),
    },
    {
      commandId,
      actor: { kind: 'source', id: source.code },
      occurredAt: sentAt.toISOString(),
      newMessageId: key === undefined,
    },
  );
  // Before the source is answered: its retry with the same Idempotency-Key repairs a crash in between.
  await ctx.autoReplies?.afterReceived({ conversationId, messageId, sentAt }, result);
  if (result.events.length === 0)
    return replay(ctx, posting, result.state.messages.get(messageId)?.content.text);

  const row = await awaitRow(ctx, source, conversationId, messageId, atRevision(0), result.position);
  if (row) return created(reply, 201, resource(ctx, row), externalId);
  return accepted(ctx, posting, {
    text,
    attachments,
    createdAt: result.events.at(-1)?.metadata.occurredAt ?? new Date().toISOString(),
    replyTo,
  });
};

/**
 * The same key again: the recorded message, unless its text differs (then the key was reused). A
 * retry also records the automatic replies a crash may have kept the first request from recording
 * (their ids come from the message: never twice).
 */
const replay = async (
  ctx: ExternalContext,
  posting: Posting,
  recordedText: string | undefined,
  repair = false,
) => {
  const { reply, source, conversationId, messageId, text } = posting;
  if (recordedText !== undefined && recordedText !== text) {
    fail(
      problem(reply, 409, 'Conflict', 'this Idempotency-Key was used for a different message', {
        code: 'idempotency_key_reused',
      }),
    );
  }
  if (repair && ctx.autoReplies) {
    const read = await ctx.handler.reader.read(conversationId, { messageIds: [messageId], fresh: true });
    await ctx.autoReplies.afterReceived(
      { conversationId, messageId, sentAt: new Date() },
      { state: read.state, events: [] },
    );
  }
  const row = await awaitRow(ctx, source, conversationId, messageId, atRevision(0));
  if (!row) {
    const m = await recordedMessage(ctx, conversationId, messageId);
    return accepted(ctx, posting, {
      text: m?.content.text ?? text,
      attachments: m?.content.attachments ?? [],
      // When it was first posted, as the first answer said: a retry does not make it newer.
      createdAt: m?.sentAt ?? new Date().toISOString(),
      replyTo: m?.replyTo,
    });
  }
  return reply.code(200).header('Idempotent-Replayed', 'true').send(resource(ctx, row));
};

/** 202: recorded, not listed yet (no cursor). */
const accepted = (
  ctx: ExternalContext,
  posting: Posting,
  m: { text: string; attachments: readonly Attachment[]; createdAt: string; replyTo?: string | undefined },
) =>
  created(
    posting.reply,
    202,
    pendingResource(
      {
        messageId: posting.messageId,
        externalId: posting.externalId,
        text: m.text,
        attachments: m.attachments,
        createdAt: m.createdAt,
        ...(m.replyTo !== undefined ? { replyTo: m.replyTo } : {}),
      },
      ctx.fileUrl,
    ),
    posting.externalId,
  );

const created = (reply: FastifyReply, status: number, body: MessageResource, externalId: string) =>
  reply
    .code(status)
    .header(
      'Location',
      `/api/external/${encodeURIComponent(externalId)}/messages/${encodeURIComponent(body.id)}`,
    )
    .send(body);
