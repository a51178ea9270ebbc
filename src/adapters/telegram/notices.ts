// The Telegram reactor's notices: to a client (banned, conversation closed), recorded once each, in
// the client's language; and in the topic, in LOCALE's (the client deleted a message, a message or
// file could not be shown, answers cannot reach the client, an automatic reply was sent). A notice
// Telegram refuses is logged, never retried: it must not hold up the conversation.
import type { ConversationMessage } from '../../domain/conversation-core.ts';
import type { Attachment } from '../../domain/events.ts';
import type { Turn } from '../reactor-kernel.ts';
import type { TelegramFailure } from './errors.ts';
import { ignoreRefused, replyParameters, type TelegramReactorContext } from './reactor-context.ts';
import { truncate } from './topic-title.ts';

/** Telegram's limit on a text message, in characters. */
const TEXT_LIMIT = 4096;

/** Tells a banned client, once, that their messages are not forwarded. */
export const banNotice = async (ctx: TelegramReactorContext, turn: Turn, clientChat: string) => {
  const s = turn.state;
  if (!s.banned || s.banNoticeSent) return;
  await ctx.api
    .sendMessage(clientChat, await ctx.texts.client('client.banned', s.language))
    .catch((e: unknown) => ignoreRefused(ctx, e));
  await turn.record({ type: 'RecordClientNotified', notice: 'banned' }, 'ban-notice');
};

/** Tells the client, once, that support closed the conversation. */
export const closeNotice = async (ctx: TelegramReactorContext, turn: Turn, clientChat: string) => {
  if (!turn.state.closed || turn.state.closeNoticeSent) return;
  await ctx.api
    .sendMessage(clientChat, await ctx.texts.client('client.closed', turn.state.language))
    .catch((e: unknown) => ignoreRefused(ctx, e));
  await turn.record({ type: 'RecordClientNotified', notice: 'closed' }, 'close-notice');
};

/**
 * Says in the topic that the client deleted a message. The copies stay (what the client said is part
 * of the case); one notice, on the message that carries the text, covers the files sent with it.
 */
export const clientDeletedNotice = async (
  ctx: TelegramReactorContext,
  turn: Turn,
  m: ConversationMessage,
) => {
  const { topic } = turn.state;
  if (!m.forwarded || !m.groupMessage || !topic) return;
  const more = m.moreGroupMessages?.length ?? 0;
  const also =
    more === 0
      ? ''
      : more === 1
        ? await ctx.texts.topic('topic.client_deleted.also_file')
        : await ctx.texts.topic('topic.client_deleted.also_files', { count: more });
  await ctx.api
    .sendMessage(ctx.supportChatId, await ctx.texts.topic('topic.client_deleted', { also }), {
      message_thread_id: Number(topic.topicId),
      ...replyParameters(m.groupMessage.messageId),
    })
    .catch((e: unknown) => ignoreRefused(ctx, e));
};

/**
 * Says in the topic that Telegram refused a client message for good, quoting its text: the log keeps
 * the message. The quote is cut to fit Telegram's limit, so the notice itself goes through.
 */
export const messageNotShownNotice = async (
  ctx: TelegramReactorContext,
  topicId: string,
  m: ConversationMessage,
  failure: TelegramFailure,
) => {
  const notice = await ctx.texts.topic('topic.message_not_shown', { reason: failure.reason });
  await ctx.api
    .sendMessage(
      ctx.supportChatId,
      notice + truncate(m.content.text || '(none)', TEXT_LIMIT - notice.length),
      { message_thread_id: Number(topicId) },
    )
    .catch((e: unknown) => ignoreRefused(ctx, e));
};

/** Says in the topic, beside the message's first file, that a further file of it was refused. */
export const fileNotShownNotice = async (
  ctx: TelegramReactorContext,
  threadId: number,
  main: number,
  file: Attachment,
  failure: TelegramFailure,
) => {
  await ctx.api
    .sendMessage(
      ctx.supportChatId,
      await ctx.texts.topic('topic.file_not_shown', {
        reason: failure.reason,
        file: truncate(file.fileName ?? file.kind, 256),
      }),
      { message_thread_id: threadId, ...replyParameters(main) },
    )
    .catch((e: unknown) => ignoreRefused(ctx, e));
};

/** Says in the topic that answers cannot reach the client (blocked the bot, deactivated, no such chat). */
export const unreachableNotice = async (
  ctx: TelegramReactorContext,
  turn: Turn,
  failure: TelegramFailure,
) => {
  const { topic } = turn.state;
  if (!topic) return;
  const text =
    failure.kind === 'blocked'
      ? await ctx.texts.topic('topic.bot_blocked')
      : await ctx.texts.topic('topic.answers_cannot_reach', { reason: failure.reason });
  await ctx.api
    .sendMessage(ctx.supportChatId, text, { message_thread_id: Number(topic.topicId) })
    .catch((e: unknown) => ignoreRefused(ctx, e));
};

/**
 * Shows in the topic an answer topicdesk gave by itself (a welcome, an off-hours answer), so the
 * managers see what the client was told. Posted when its event is handled, for every channel; a
 * batch replayed after a crash may post it again, as any notice.
 */
export const automaticReplyNotice = async (
  ctx: TelegramReactorContext,
  turn: Turn,
  m: ConversationMessage,
) => {
  const { topic } = turn.state;
  if (!topic || !m.automatic) return;
  const key = m.automatic.reason === 'welcome' ? 'topic.auto_reply.welcome' : 'topic.auto_reply.off_hours';
  const notice = await ctx.texts.topic(key, { text: m.content.text });
  await ctx.api
    .sendMessage(ctx.supportChatId, truncate(notice, TEXT_LIMIT), {
      message_thread_id: Number(topic.topicId),
      disable_notification: true,
    })
    .catch((e: unknown) => ignoreRefused(ctx, e));
};
