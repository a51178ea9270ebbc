// Managers' answers to a Telegram client: copied from the topic (an album in one call), in the order
// they were written; their edits and deletions carried after them. Every outcome is recorded
// (ReplyDelivered / DeliveryFailed); what Telegram refuses is refused for good.
import { BUTTON_ROW_LIMIT } from '../../domain/answer-buttons.ts';
import type { ConversationMessage } from '../../domain/conversation-core.ts';
import { waitingFrom, waitingIdsFrom } from '../../domain/sender-order.ts';
import type { Turn } from '../reactor-kernel.ts';
import { resentAlbum, runsOf } from './albums.ts';
import { answerKeyboard } from './contact-card.ts';
import { isUnreachable, isUnreachableReason, refusal, type TelegramFailure } from './errors.ts';
import { unreachableNotice } from './notices.ts';
import { ignoreRefused, replyParameters, type TelegramReactorContext } from './reactor-context.ts';
import { editContent } from './send-content.ts';

/**
 * An answer still to be carried to the client (not delivered, not given up on, not deleted): a
 * manager's, copied from the group, or an automatic one, sent as its text.
 */
const undelivered = (m: ConversationMessage) =>
  m.direction === 'outgoing' &&
  !m.deleted &&
  (m.groupMessage !== undefined || m.automatic !== undefined) &&
  m.deliveries.send?.outcome !== 'delivered' &&
  m.deliveries.send?.outcome !== 'failed';

/** Carries an answer, and the ones the manager sent around it, in the order they were written. */
export const carryAnswers = async (
  ctx: TelegramReactorContext,
  turn: Turn,
  m: ConversationMessage,
  clientChat: string,
) => {
  if (!undelivered(m)) return;
  const isAlbumItem = (x: ConversationMessage) => x.mediaGroupId !== undefined;
  await turn.settle(Math.max(ctx.orderWaitMs, isAlbumItem(m) ? ctx.albumWaitMs : 0));
  await turn.need(waitingIdsFrom(turn.state, m));
  for (const run of runsOf(waitingFrom(turn.state, m, undelivered), isAlbumItem)) {
    if (run.length > 1) await deliverAlbum(ctx, turn, run, clientChat);
    else await deliver(ctx, turn, run[0]!.messageId, clientChat);
  }
};

const deliver = async (ctx: TelegramReactorContext, turn: Turn, messageId: string, clientChat: string) => {
  await turn.need([messageId]);
  const m = turn.state.messages.get(messageId);
  if (!m || !undelivered(m)) return;
  await turn.need([m.replyTo]);
  const replyRef = m.replyTo ? turn.state.messages.get(m.replyTo)?.channelMessage : undefined;
  try {
    const sent = await sendAnswer(ctx, m, clientChat, replyRef ? replyParameters(replyRef.messageId) : {});
    await turn.record(
      {
        type: 'RecordDelivered',
        messageId,
        operation: 'send',
        channelMessage: { chatId: clientChat, messageId: String(sent.message_id) },
      },
      // Named by the answer: one event may carry several (a burst), each recorded on its own.
      `send:${messageId}`,
    );
  } catch (error) {
    const refused = refusal(error);
    if (!refused) throw error;
    await deliveryRefused(ctx, turn, [m], refused);
  }
};

/**
 * An answer is copied from the topic, so it looks as the manager wrote it. One with buttons is not
 * the manager's message as it stands (the markup is taken out of its text): its text is sent anew
 * with the buttons, or its file copied with the text as the caption and the buttons under it. An
 * automatic reply has no original in the group to copy: it is sent as the text it recorded.
 */
const sendAnswer = async (
  ctx: TelegramReactorContext,
  m: ConversationMessage,
  clientChat: string,
  reply: Record<string, unknown>,
): Promise<{ message_id: number }> => {
  const keyboard = answerKeyboard(m.content.buttons);
  const from = m.groupMessage;
  const { text, entities } = m.content;
  if (!from)
    return ctx.api.sendMessage(clientChat, text, {
      ...reply,
      ...(entities ? { entities: entities as never } : {}),
      ...(keyboard ? { reply_markup: keyboard } : {}),
    });
  if (!keyboard) return ctx.api.copyMessage(clientChat, from.chatId, Number(from.messageId), reply);
  if (m.content.attachments.some((a) => a.fileRef)) {
    return ctx.api.copyMessage(clientChat, from.chatId, Number(from.messageId), {
      ...reply,
      caption: text,
      ...(entities ? { caption_entities: entities as never } : {}),
      reply_markup: keyboard,
    });
  }
  return ctx.api.sendMessage(clientChat, text, {
    ...reply,
    ...(entities ? { entities: entities as never } : {}),
    reply_markup: keyboard,
  });
};

/**
 * A manager's album goes to the client in one call, so the client sees one album: copyMessages,
 * or sendMediaGroup with the items' files when it replies to a message the client has.
 */
const deliverAlbum = async (
  ctx: TelegramReactorContext,
  turn: Turn,
  items: readonly ConversationMessage[],
  clientChat: string,
) => {
  const { api, logger } = ctx;
  await turn.need(items.map((x) => x.replyTo));
  const replyRef = items
    .map((x) => (x.replyTo ? turn.state.messages.get(x.replyTo)?.channelMessage : undefined))
    .find((ref) => ref !== undefined);
  // Buttons cannot hang under an album: its captions go without the markup, the buttons after it.
  const buttons = items.flatMap((x) => x.content.buttons ?? []);
  const media = replyRef || buttons.length > 0 ? resentAlbum(items) : undefined;
  let sent: { message_id: number }[];
  try {
    sent =
      media && (replyRef || buttons.length > 0)
        ? await api.sendMediaGroup(clientChat, media, replyRef ? replyParameters(replyRef.messageId) : {})
        : await api.copyMessages(
            clientChat,
            items[0]!.groupMessage!.chatId,
            items.map((x) => Number(x.groupMessage!.messageId)),
          );
  } catch (error) {
    const refused = refusal(error);
    if (!refused) throw error;
    if (isUnreachable(refused)) {
      await deliveryRefused(ctx, turn, items, refused);
      return;
    }
    // Some item Telegram will not copy: judge them one by one.
    for (const item of items) await deliver(ctx, turn, item.messageId, clientChat);
    return;
  }
  if (sent.length !== items.length) {
    logger.warn(
      { conversationId: turn.conversationId, items: items.length, copied: sent.length },
      'album partly delivered; delivering its items one by one',
    );
    await api
      .deleteMessages(
        clientChat,
        sent.map((s) => s.message_id),
      )
      .catch((e: unknown) => ignoreRefused(ctx, e));
    for (const item of items) await deliver(ctx, turn, item.messageId, clientChat);
    return;
  }
  for (const [i, item] of items.entries()) {
    await turn.record(
      {
        type: 'RecordDelivered',
        messageId: item.messageId,
        operation: 'send',
        channelMessage: { chatId: clientChat, messageId: String(sent[i]!.message_id) },
      },
      `send:${item.messageId}`,
    );
  }
  if (buttons.length > 0) {
    // Sent after the album is recorded: a repeat after a crash repeats at most this message.
    await api
      .sendMessage(
        clientChat,
        buttons
          .flat()
          .map((b) => b.text)
          .join(' · '),
        {
          reply_markup: answerKeyboard(buttons.slice(0, BUTTON_ROW_LIMIT))!,
        },
      )
      .catch((e: unknown) => ignoreRefused(ctx, e));
  }
};

/**
 * Records a refused delivery. A client who cannot be reached is reported in the topic once: not again
 * while later answers fail the same way, again only after an answer got through in between.
 */
const deliveryRefused = async (
  ctx: TelegramReactorContext,
  turn: Turn,
  items: readonly ConversationMessage[],
  refused: TelegramFailure,
) => {
  const ids = new Set(items.map((x) => x.messageId));
  const previous = turn.state.sendOutcomes.findLast((o) => !ids.has(o.messageId))?.outcome;
  for (const item of items) {
    await turn.record(
      {
        type: 'RecordDeliveryFailed',
        messageId: item.messageId,
        operation: 'send',
        reason: refused.reason,
        permanent: true,
        attempt: 1,
      },
      `send-failed:${item.messageId}`,
    );
  }
  const toldAlready = previous?.outcome === 'failed' && isUnreachableReason(previous.reason);
  if (isUnreachable(refused) && !toldAlready) await unreachableNotice(ctx, turn, refused);
};

/** A manager's edit of an answer the client has edits the client's copy. */
export const editAnswer = async (ctx: TelegramReactorContext, turn: Turn, m: ConversationMessage) => {
  if (!m.channelMessage || m.deliveries.edit || m.deleted) return;
  try {
    // An album item's buttons stand in a message of their own (see deliverAlbum): its edit is the caption's.
    const keyboard = m.mediaGroupId === undefined ? answerKeyboard(m.content.buttons) : undefined;
    await editContent(
      ctx.api,
      m.channelMessage.chatId,
      Number(m.channelMessage.messageId),
      m.content,
      keyboard,
    );
    await turn.record(
      { type: 'RecordDelivered', messageId: m.messageId, operation: 'edit' },
      `edit:${m.editCount}`,
    );
  } catch (error) {
    const refused = refusal(error);
    if (!refused) throw error;
    await turn.record(
      {
        type: 'RecordDeliveryFailed',
        messageId: m.messageId,
        operation: 'edit',
        reason: refused.reason,
        permanent: true,
        attempt: 1,
      },
      `edit-failed:${m.editCount}`,
    );
  }
};

/** A manager's /delete of an answer removes it from the client's chat. */
export const deleteAnswer = async (ctx: TelegramReactorContext, turn: Turn, m: ConversationMessage) => {
  if (!m.channelMessage || m.deliveries.delete) return;
  try {
    await ctx.api.deleteMessage(m.channelMessage.chatId, Number(m.channelMessage.messageId));
    await turn.record({ type: 'RecordDelivered', messageId: m.messageId, operation: 'delete' }, 'delete');
  } catch (error) {
    const refused = refusal(error);
    if (!refused) throw error;
    await turn.record(
      {
        type: 'RecordDeliveryFailed',
        messageId: m.messageId,
        operation: 'delete',
        reason: refused.reason,
        permanent: true,
        attempt: 1,
      },
      'delete-failed',
    );
  }
};
