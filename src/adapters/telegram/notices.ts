// The Telegram reactor's notices: to a client (banned, conversation closed), recorded once each; and
// in the topic (the client deleted a message, a message or file could not be shown, answers cannot
// reach the client). A notice Telegram refuses is logged, never retried: it must not hold up the
// conversation.
import type { ConversationMessage } from '../../domain/conversation-state.ts';
import type { Attachment } from '../../domain/events.ts';
import type { Turn } from '../reactor-kernel.ts';
import type { TelegramFailure } from './errors.ts';
import { ignoreRefused, replyParameters, type TelegramReactorContext } from './reactor-context.ts';
import { truncate } from './translate.ts';

/** Telegram's limit on a text message, in characters. */
const TEXT_LIMIT = 4096;

/** Tells a banned client, once, that their messages are not forwarded. */
export const banNotice = async (ctx: TelegramReactorContext, turn: Turn, clientChat: string) => {
  const s = turn.state;
  if (!s.banned || s.banNoticeSent) return;
  await ctx.api
    .sendMessage(clientChat, 'Your messages are not being forwarded to support at the moment.')
    .catch((e: unknown) => ignoreRefused(ctx, e));
  await turn.record({ type: 'RecordClientNotified', notice: 'banned' }, 'ban-notice');
};

/** Tells the client, once, that support closed the conversation. */
export const closeNotice = async (ctx: TelegramReactorContext, turn: Turn, clientChat: string) => {
  if (!turn.state.closed || turn.state.closeNoticeSent) return;
  await ctx.api
    .sendMessage(clientChat, 'This conversation was closed by support. Write again any time to reopen it.')
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
  const also = more === 0 ? '' : ` and the ${more === 1 ? 'file' : `${more} files`} sent with it`;
  await ctx.api
    .sendMessage(ctx.supportChatId, `🗑 The client deleted this message${also}.`, {
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
  const notice = `⚠️ A client message could not be shown here (${failure.reason}). Its text: `;
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
      `⚠️ A file of this client message could not be shown here (${failure.reason}): ${truncate(file.fileName ?? file.kind, 256)}`,
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
      ? '⚠️ The client has blocked the bot: answers cannot reach them until they unblock it.'
      : `⚠️ Answers cannot reach the client (${failure.reason}).`;
  await ctx.api
    .sendMessage(ctx.supportChatId, text, { message_thread_id: Number(topic.topicId) })
    .catch((e: unknown) => ignoreRefused(ctx, e));
};
