// Client messages (from any channel) into the conversation's forum topic: a copy of a Telegram
// client's message, a re-send of another channel's; an album in one call; the topic opened first
// when there is none, and a new one when Telegram says it is gone. Also the topic's own changes:
// a client's edit of a copied message, the topic closed and reopened with the conversation.
import {
  type ConversationMessage,
  type ConversationState,
  topicStatusOf,
} from '../../domain/conversation-core.ts';
import type { Attachment } from '../../domain/events.ts';
import { mayArriveOutOfOrder, waitingFrom, waitingIdsFrom } from '../../domain/sender-order.ts';
import type { Turn } from '../reactor-kernel.ts';
import { albumMedia, resentAlbum, runsOf } from './albums.ts';
import { postContactCard } from './card.ts';
import { refusal } from './errors.ts';
import { fileNotShownNotice, messageNotShownNotice } from './notices.ts';
import {
  ignoreRefused,
  rememberRefused,
  replyParameters,
  type TelegramReactorContext,
} from './reactor-context.ts';
import { editContent, sendContent } from './send-content.ts';
import { lookFields } from './topic-status.ts';
import { topicTitle } from './topic-title.ts';
import { displayName } from './translate.ts';

/** A client message Telegram can copy from the client's chat (a Telegram conversation's own message). */
const copyable = (state: ConversationState, m: ConversationMessage) =>
  state.channel === 'telegram' && m.channelMessage !== undefined;

/** Where a client message stands in the topic: the message carrying its text, then any further ones. */
interface Placed {
  readonly main: number;
  readonly more: readonly number[];
}

const groupRefOf = (state: ConversationState, messageId: string | undefined) =>
  messageId ? state.messages.get(messageId)?.groupMessage : undefined;

/**
 * Carries a client message that is not in the topic yet, with whatever the client sent around it,
 * in the client's order (an album's items together).
 */
export const carryClientMessages = async (
  ctx: TelegramReactorContext,
  turn: Turn,
  m: ConversationMessage,
) => {
  const isAlbumItem = (x: ConversationMessage) => x.mediaGroupId !== undefined && copyable(turn.state, x);
  await turn.settle(
    Math.max(
      mayArriveOutOfOrder(turn.state, 'incoming') ? ctx.orderWaitMs : 0,
      isAlbumItem(m) ? ctx.albumWaitMs : 0,
    ),
  );
  await turn.need(waitingIdsFrom(turn.state, m));
  const waiting = waitingFrom(
    turn.state,
    m,
    (x) => !x.forwarded && !x.suppressed && !ctx.refusedMessages.has(x.messageId),
  );
  for (const run of runsOf(waiting, isAlbumItem))
    await forward(
      ctx,
      turn,
      run.map((x) => x.messageId),
    );
};

const openTopic = async (ctx: TelegramReactorContext, turn: Turn, step: string) => {
  const { api, supportChatId } = ctx;
  const { state, conversationId } = turn;
  const profile = state.profile ?? {};
  const title = topicTitle(ctx.titleTemplate, {
    name: displayName(profile, state.clientId ?? ''),
    ...(profile.firstName ? { firstName: profile.firstName } : {}),
    ...(profile.lastName ? { lastName: profile.lastName } : {}),
    ...(profile.username ? { username: profile.username } : {}),
    id: state.clientId ?? '',
    source: state.source ?? '',
    channel: state.channel ?? '',
  });
  // A new topic shows its status from the start: no edit of its own for the first one.
  const status = topicStatusOf(state);
  const look = ctx.statusLook ? lookFields(ctx.statusLook, title, status) : {};
  const topic = await api.createForumTopic(supportChatId, look.name ?? title, {
    ...(look.icon_custom_emoji_id ? { icon_custom_emoji_id: look.icon_custom_emoji_id } : {}),
  });
  const topicId = String(topic.message_thread_id);
  await turn.record({ type: 'RecordTopicOpened', topicId, chatId: supportChatId, title }, `topic:${step}`);
  if (ctx.statusLook)
    await turn.record({ type: 'RecordTopicStatus', topicId, status }, `topic-status:${topicId}:${status}`);
  const card = await postContactCard(ctx, topic.message_thread_id, conversationId, turn.state);
  await turn.record(
    {
      type: 'RecordContactCard',
      topicId,
      groupMessage: { chatId: supportChatId, messageId: String(card.message_id) },
    },
    `card:${topicId}`,
  );
};

/**
 * Puts client messages (one, or the items of one album) into the conversation's topic, opening a
 * topic first when there is none, and a new one when Telegram says the topic is gone.
 */
const forward = async (
  ctx: TelegramReactorContext,
  turn: Turn,
  messageIds: readonly string[],
): Promise<void> => {
  const stepKey = messageIds[0]!;
  // At worst: open a topic, find it deleted on the copy, open another, copy.
  for (let attempt = 0; attempt < 4; attempt++) {
    // The messages, and those they reply to (their copies in the topic thread the copy).
    await turn.need(messageIds);
    await turn.need(messageIds.map((id) => turn.state.messages.get(id)?.replyTo));
    const state = turn.state;
    const pending = messageIds
      .map((id) => state.messages.get(id))
      .filter((x): x is ConversationMessage => x !== undefined && !x.forwarded && !x.suppressed);
    if (pending.length === 0) return;
    if (!state.topic) {
      await openTopic(ctx, turn, `${stepKey}:${attempt}`);
      continue;
    }
    const topicId = state.topic.topicId;
    let current = pending[0]!;
    try {
      if (pending.length > 1 && pending.every((x) => copyable(state, x))) {
        if ((await albumIntoTopic(ctx, turn, pending, topicId)) === 'done') return;
        for (const x of pending) await forward(ctx, turn, [x.messageId]);
        return;
      }
      const ref = (id: number) => ({ chatId: ctx.supportChatId, messageId: String(id) });
      for (const x of pending) {
        current = x;
        const placed = await intoTopic(ctx, turn.state, x, Number(topicId));
        await turn.record(
          {
            type: 'RecordForwarded',
            messageId: x.messageId,
            topicId,
            groupMessage: ref(placed.main),
            ...(placed.more.length > 0 ? { moreGroupMessages: placed.more.map(ref) } : {}),
          },
          `forwarded:${topicId}:${x.messageId}`,
        );
      }
      return;
    } catch (error) {
      const refused = refusal(error);
      if (!refused) throw error;
      if (refused.kind === 'topic-gone') {
        await turn.record({ type: 'RecordTopicLost', topicId, reason: refused.reason }, `lost:${topicId}`);
        continue;
      }
      // Telegram refuses this message for good (e.g. the client deleted it before the copy): say
      // so in the topic rather than retrying forever.
      ctx.logger.warn(
        { err: error, conversationId: turn.conversationId, messageId: current.messageId },
        'client message could not be carried to the topic',
      );
      await messageNotShownNotice(ctx, topicId, current, refused);
      rememberRefused(ctx, current.messageId);
      return;
    }
  }
  // Never dropped: the batch is retried from the checkpoint.
  throw new Error(`client message ${stepKey} could not be put into a topic; retrying`);
};

/** Puts one client message into the topic: a copy for Telegram, a re-send for other channels. */
const intoTopic = async (
  ctx: TelegramReactorContext,
  state: ConversationState,
  m: ConversationMessage,
  threadId: number,
): Promise<Placed> => {
  const replyRef = groupRefOf(state, m.replyTo);
  const common = {
    message_thread_id: threadId,
    ...(replyRef ? replyParameters(replyRef.messageId) : {}),
  };
  if (copyable(state, m)) {
    const copy = await ctx.api.copyMessage(
      ctx.supportChatId,
      m.channelMessage!.chatId,
      Number(m.channelMessage!.messageId),
      common,
    );
    return { main: copy.message_id, more: [] };
  }
  const files = m.content.attachments.filter((a) => a.fileRef);
  if (files.length > 1) return filesIntoTopic(ctx, m, files, threadId, common);
  return { main: (await sendContent(ctx.api, ctx.supportChatId, m.content, common)).message_id, more: [] };
};

/**
 * A message with several files (a source's upload): one album when Telegram takes them as one,
 * else one topic message per file. Either way the text is the first file's caption, so an edit of
 * the text edits that one message.
 */
const filesIntoTopic = async (
  ctx: TelegramReactorContext,
  m: ConversationMessage,
  files: readonly Attachment[],
  threadId: number,
  common: Record<string, unknown>,
): Promise<Placed> => {
  const { api, supportChatId, logger } = ctx;
  const media = albumMedia(files.map((file, i) => ({ file, ...(i === 0 ? { caption: m.content } : {}) })));
  if (media) {
    try {
      const sent = await api.sendMediaGroup(supportChatId, media, common);
      return { main: sent[0]!.message_id, more: sent.slice(1).map((x) => x.message_id) };
    } catch (error) {
      const refused = refusal(error);
      if (!refused || refused.kind === 'topic-gone') throw error;
      logger.warn(
        { err: error, messageId: m.messageId },
        'files refused as one album; sending them one by one',
      );
    }
  }
  // The first file carries the text: if Telegram refuses it, the message as a whole is refused
  // (the caller says so in the topic). A later file refused gets its own notice beside the rest.
  // Several calls: a crash between them repeats the earlier ones when the batch is retried.
  const main = (await sendContent(api, supportChatId, { ...m.content, attachments: [files[0]!] }, common))
    .message_id;
  const more: number[] = [];
  for (const file of files.slice(1)) {
    try {
      const sent = await sendContent(
        api,
        supportChatId,
        { text: '', attachments: [file] },
        { message_thread_id: threadId },
      );
      more.push(sent.message_id);
    } catch (error) {
      const refused = refusal(error);
      if (!refused || refused.kind === 'topic-gone') throw error;
      logger.warn({ err: error, messageId: m.messageId }, 'a file of a client message could not be carried');
      await fileNotShownNotice(ctx, threadId, main, file, refused);
    }
  }
  return { main, more };
};

/**
 * Puts an album's items into the topic in one call, so the topic shows one album: copyMessages,
 * or, when the album replies to a message that has a copy in the topic, sendMediaGroup with the
 * items' files (copyMessages cannot reply).
 */
const albumIntoTopic = async (
  ctx: TelegramReactorContext,
  turn: Turn,
  items: readonly ConversationMessage[],
  topicId: string,
): Promise<'done' | 'one-by-one'> => {
  const { api, supportChatId, logger } = ctx;
  const from = items[0]!.channelMessage!.chatId;
  const replyRef = items.map((x) => groupRefOf(turn.state, x.replyTo)).find((ref) => ref !== undefined);
  // An album Telegram made can always be rebuilt; should one not be, it is copied without the reply.
  const media = replyRef ? resentAlbum(items) : undefined;
  let sent: { message_id: number }[];
  try {
    sent =
      media && replyRef
        ? await api.sendMediaGroup(supportChatId, media, {
            message_thread_id: Number(topicId),
            ...replyParameters(replyRef.messageId),
          })
        : await api.copyMessages(
            supportChatId,
            from,
            items.map((x) => Number(x.channelMessage!.messageId)),
            { message_thread_id: Number(topicId) },
          );
  } catch (error) {
    // A topic that is gone is the caller's to handle; any other refusal is judged item by item.
    const refused = refusal(error);
    if (!refused || refused.kind === 'topic-gone') throw error;
    logger.warn(
      { err: error, conversationId: turn.conversationId },
      'album refused; carrying its items one by one',
    );
    return 'one-by-one';
  }
  if (sent.length !== items.length) {
    // Telegram skips items it can no longer find, and then which copy is which is unknown: take the
    // partial album back and carry the items one by one (a missing one gets its own notice).
    logger.warn(
      { conversationId: turn.conversationId, items: items.length, copied: sent.length },
      'album partly copied; carrying its items one by one',
    );
    await api
      .deleteMessages(
        supportChatId,
        sent.map((s) => s.message_id),
      )
      .catch((e: unknown) => ignoreRefused(ctx, e));
    return 'one-by-one';
  }
  for (const [i, item] of items.entries()) {
    await turn.record(
      {
        type: 'RecordForwarded',
        messageId: item.messageId,
        topicId,
        groupMessage: { chatId: supportChatId, messageId: String(sent[i]!.message_id) },
      },
      `forwarded:${topicId}:${item.messageId}`,
    );
  }
  return 'done';
};

/** A client's edit of a message already in the topic edits its copy there. */
export const editTopicCopy = async (ctx: TelegramReactorContext, m: ConversationMessage) => {
  if (!m.forwarded || !m.groupMessage || m.deleted) return;
  await editContent(ctx.api, ctx.supportChatId, Number(m.groupMessage.messageId), m.content).catch(
    (e: unknown) => ignoreRefused(ctx, e),
  );
};

/** The topic follows the conversation: closed with it, reopened with it (already so, or gone: logged). */
export const closeTopic = async (ctx: TelegramReactorContext, turn: Turn) => {
  const { topic } = turn.state;
  if (topic)
    await ctx.api
      .closeForumTopic(ctx.supportChatId, Number(topic.topicId))
      .catch((e: unknown) => ignoreTopicUnchanged(ctx, e));
};

export const reopenTopic = async (ctx: TelegramReactorContext, turn: Turn) => {
  const { topic } = turn.state;
  if (topic)
    await ctx.api
      .reopenForumTopic(ctx.supportChatId, Number(topic.topicId))
      .catch((e: unknown) => ignoreTopicUnchanged(ctx, e));
};

const ignoreTopicUnchanged = (ctx: TelegramReactorContext, error: unknown) => {
  if (refusal(error)?.kind === 'not-modified') return;
  ignoreRefused(ctx, error);
};
