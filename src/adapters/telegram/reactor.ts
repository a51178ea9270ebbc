// The Telegram reactor: carries what the log records to Telegram and records the outcomes.
// Client messages (from any channel) go into the conversation's forum topic — opening it, or a new
// one when Telegram says it is gone; managers' answers, edits and deletions go to Telegram clients.
// Each step consults the conversation's state first, so a batch replayed after a crash repeats at
// most the one call whose outcome was not yet recorded.
import { type Api, GrammyError } from 'grammy';
import type { Logger } from 'pino';
import type { CommandHandler } from '../../domain/command-handler.ts';
import type { ConversationMessage, ConversationState } from '../../domain/conversation-state.ts';
import type { Attachment, MessageContent } from '../../domain/events.ts';
import { mayArriveOutOfOrder, waitingFrom, waitingIdsFrom } from '../../domain/sender-order.ts';
import type { Reactor } from '../../projections/reactor-runner.ts';
import { reactWithTurns, type Turn } from '../reactor-kernel.ts';
import { albumMedia, resentAlbum } from './albums.ts';
import { contactCard, describeForTopic, displayName, topicTitle, truncate } from './translate.ts';

/** Telegram's limit on a text message, in characters. */
const TEXT_LIMIT = 4096;

export interface TelegramReactorOptions {
  readonly api: Api;
  readonly handler: CommandHandler;
  readonly supportChatId: string;
  readonly titleTemplate: string;
  readonly logger: Logger;
  /** Conversations handled at once within a batch; each conversation stays in order. */
  readonly concurrency?: number;
  /**
   * How long after an album's first item the reactor waits for the rest before copying them in one
   * call (Telegram sends an album as one update per item). Default 1000 ms.
   */
  readonly albumWaitMs?: number;
  /**
   * How long after a message was recorded the reactor waits for messages its sender sent before it
   * (delivered concurrently, recorded later) before carrying them all in the sender's order. Default 1000 ms.
   */
  readonly orderWaitMs?: number;
}

const isThreadGone = (e: unknown) =>
  e instanceof GrammyError && /message thread not found|TOPIC_ID_INVALID|TOPIC_DELETED/i.test(e.description);
/** 403: blocked by the user, the user is deactivated, or never started the bot. */
const isForbidden = (e: unknown) => e instanceof GrammyError && e.error_code === 403;
const isNotModified = (e: unknown) =>
  e instanceof GrammyError && /message is not modified/i.test(e.description);
const isTopicNotModified = (e: unknown) =>
  e instanceof GrammyError && /TOPIC_NOT_MODIFIED/i.test(e.description);
const wasForbidden = (outcome: { outcome: string; reason?: string } | undefined) =>
  outcome?.outcome === 'failed' && /^forbidden/i.test(outcome.reason ?? '');

/** A client message Telegram can copy from the client's chat (a Telegram conversation's own message). */
const copyable = (state: ConversationState, m: ConversationMessage) =>
  state.channel === 'telegram' && m.channelMessage !== undefined;

/** Where a client message stands in the topic: the message carrying its text, then any further ones. */
interface Placed {
  readonly main: number;
  readonly more: readonly number[];
}

const replyParameters = (messageId: string | number) => ({
  reply_parameters: { message_id: Number(messageId), allow_sending_without_reply: true },
});

export const createTelegramReactor = (options: TelegramReactorOptions): Reactor => {
  const { api, handler, supportChatId, logger, concurrency = 16 } = options;
  const { albumWaitMs = 1000, orderWaitMs = 1000 } = options;

  const openTopic = async (turn: Turn, step: string) => {
    const { state, conversationId } = turn;
    const profile = state.profile ?? {};
    const title = topicTitle(options.titleTemplate, {
      name: displayName(profile, state.clientId ?? ''),
      ...(profile.username ? { username: profile.username } : {}),
      id: state.clientId ?? '',
      source: state.source ?? '',
      channel: state.channel ?? '',
    });
    const topic = await api.createForumTopic(supportChatId, title);
    await turn.record(
      { type: 'RecordTopicOpened', topicId: String(topic.message_thread_id), chatId: supportChatId, title },
      `topic:${step}`,
    );
    const card = contactCard({
      channel: state.channel ?? 'telegram',
      source: state.source ?? '',
      clientId: state.clientId ?? '',
      profile,
      conversationId,
    });
    await api.sendMessage(supportChatId, card.text, {
      message_thread_id: topic.message_thread_id,
      entities: card.entities,
    });
  };

  const groupRefOf = (state: ConversationState, messageId: string | undefined) =>
    messageId ? state.messages.get(messageId)?.groupMessage : undefined;

  /** Puts one client message into the topic: a copy for Telegram, a re-send for other channels. */
  const intoTopic = async (
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
      const copy = await api.copyMessage(
        supportChatId,
        m.channelMessage!.chatId,
        Number(m.channelMessage!.messageId),
        common,
      );
      return { main: copy.message_id, more: [] };
    }
    const files = m.content.attachments.filter((a) => a.fileRef);
    if (files.length > 1) return filesIntoTopic(m, files, threadId, common);
    return { main: (await sendContent(supportChatId, m.content, common)).message_id, more: [] };
  };

  /**
   * A message with several files (a source's upload): one album when Telegram takes them as one,
   * else one topic message per file. Either way the text is the first file's caption, so an edit of
   * the text edits that one message.
   */
  const filesIntoTopic = async (
    m: ConversationMessage,
    files: readonly Attachment[],
    threadId: number,
    common: Record<string, unknown>,
  ): Promise<Placed> => {
    const media = albumMedia(files.map((file, i) => ({ file, ...(i === 0 ? { caption: m.content } : {}) })));
    if (media) {
      try {
        const sent = await api.sendMediaGroup(supportChatId, media, common);
        return { main: sent[0]!.message_id, more: sent.slice(1).map((x) => x.message_id) };
      } catch (error) {
        if (isThreadGone(error) || !(error instanceof GrammyError)) throw error;
        logger.warn(
          { err: error, messageId: m.messageId },
          'files refused as one album; sending them one by one',
        );
      }
    }
    // The first file carries the text: if Telegram refuses it, the message as a whole is refused
    // (the caller says so in the topic). A later file refused gets its own notice beside the rest.
    // Several calls: a crash between them repeats the earlier ones when the batch is retried.
    const main = (await sendContent(supportChatId, { ...m.content, attachments: [files[0]!] }, common))
      .message_id;
    const more: number[] = [];
    for (const file of files.slice(1)) {
      try {
        const sent = await sendContent(
          supportChatId,
          { text: '', attachments: [file] },
          { message_thread_id: threadId },
        );
        more.push(sent.message_id);
      } catch (error) {
        if (isThreadGone(error) || !(error instanceof GrammyError)) throw error;
        logger.warn(
          { err: error, messageId: m.messageId },
          'a file of a client message could not be carried',
        );
        await api
          .sendMessage(
            supportChatId,
            `⚠️ A file of this client message could not be shown here (${error.description}): ${truncate(file.fileName ?? file.kind, 256)}`,
            { message_thread_id: threadId, ...replyParameters(main) },
          )
          .catch(ignoreRefused);
      }
    }
    return { main, more };
  };

  const sendContent = async (
    chatId: string,
    content: MessageContent,
    common: Record<string, unknown>,
  ): Promise<{ message_id: number }> => {
    const file = content.attachments.find((a) => a.fileRef);
    const caption = content.text
      ? {
          caption: content.text,
          ...(content.entities ? { caption_entities: content.entities as never } : {}),
        }
      : {};
    if (file?.fileRef) {
      switch (file.kind) {
        case 'photo':
          return api.sendPhoto(chatId, file.fileRef, { ...common, ...caption });
        case 'video':
          return api.sendVideo(chatId, file.fileRef, { ...common, ...caption });
        case 'audio':
          return api.sendAudio(chatId, file.fileRef, { ...common, ...caption });
        case 'voice':
          return api.sendVoice(chatId, file.fileRef, { ...common, ...caption });
        case 'animation':
          return api.sendAnimation(chatId, file.fileRef, { ...common, ...caption });
        case 'sticker':
          return api.sendSticker(chatId, file.fileRef, common);
        default:
          return api.sendDocument(chatId, file.fileRef, { ...common, ...caption });
      }
    }
    const text = [content.text, describeForTopic(content)].filter(Boolean).join('\n') || '(empty message)';
    return api.sendMessage(chatId, text, {
      ...common,
      ...(content.entities && text === content.text ? { entities: content.entities as never } : {}),
    });
  };

  /**
   * Waits until `ms` after the event was recorded, then reads the conversation again: what the sender
   * sent before it (an album's other items, a burst's earlier messages) has been recorded by then.
   */

  /** Consecutive items of one album (as `album` tells them) go in one call; anything else alone. */
  const runsOf = (
    messages: readonly ConversationMessage[],
    album: (x: ConversationMessage) => boolean,
  ): ConversationMessage[][] => {
    const runs: ConversationMessage[][] = [];
    for (const x of messages) {
      const last = runs.at(-1);
      const head = last?.[0];
      if (head && album(x) && album(head) && x.mediaGroupId === head.mediaGroupId) last!.push(x);
      else runs.push([x]);
    }
    return runs;
  };

  /**
   * Puts an album's items into the topic in one call, so the topic shows one album: copyMessages,
   * or, when the album replies to a message that has a copy in the topic, sendMediaGroup with the
   * items' files (copyMessages cannot reply).
   */
  const albumIntoTopic = async (
    turn: Turn,
    items: readonly ConversationMessage[],
    topicId: string,
  ): Promise<'done' | 'one-by-one'> => {
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
      if (isThreadGone(error) || !(error instanceof GrammyError)) throw error;
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
        .catch(ignoreRefused);
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

  /**
   * Puts client messages (one, or the items of one album) into the conversation's topic, opening a
   * topic first when there is none, and a new one when Telegram says the topic is gone.
   */
  const forward = async (turn: Turn, messageIds: readonly string[]): Promise<void> => {
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
        await openTopic(turn, `${stepKey}:${attempt}`);
        continue;
      }
      const topicId = state.topic.topicId;
      let current = pending[0]!;
      try {
        if (pending.length > 1 && pending.every((x) => copyable(state, x))) {
          if ((await albumIntoTopic(turn, pending, topicId)) === 'done') return;
          for (const x of pending) await forward(turn, [x.messageId]);
          return;
        }
        const ref = (id: number) => ({ chatId: supportChatId, messageId: String(id) });
        for (const x of pending) {
          current = x;
          const placed = await intoTopic(turn.state, x, Number(topicId));
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
        if (isThreadGone(error)) {
          await turn.record(
            { type: 'RecordTopicLost', topicId, reason: (error as GrammyError).description },
            `lost:${topicId}`,
          );
          continue;
        }
        if (!(error instanceof GrammyError)) throw error;
        // Telegram refuses this message for good (e.g. the client deleted it before the copy): say
        // so in the topic rather than retrying forever; the log keeps the message.
        logger.warn(
          { err: error, conversationId: turn.conversationId, messageId: current.messageId },
          'client message could not be carried to the topic',
        );
        // The notice itself must go through: the text it quotes is cut to fit Telegram's limit, and
        // a refusal of the notice is logged, not retried (that would hold the conversation for ever).
        const notice = `⚠️ A client message could not be shown here (${error.description}). Its text: `;
        await api
          .sendMessage(
            supportChatId,
            notice + truncate(current.content.text || '(none)', TEXT_LIMIT - notice.length),
            { message_thread_id: Number(topicId) },
          )
          .catch(ignoreRefused);
        return;
      }
    }
    // Never dropped: the batch is retried from the checkpoint.
    throw new Error(`client message ${stepKey} could not be put into a topic; retrying`);
  };

  const telegramClientChat = (state: ConversationState) =>
    state.channel === 'telegram' ? state.clientId : undefined;

  const step = async (turn: Turn): Promise<void> => {
    const { event } = turn;
    const clientChat = telegramClientChat(turn.state);
    switch (event.type) {
      case 'ClientMessageReceived': {
        const m = turn.state.messages.get(event.data.messageId);
        if (!m) return;
        if (m.suppressed) {
          const s = turn.state;
          if (s.banned && !s.banNoticeSent && clientChat) {
            await api
              .sendMessage(clientChat, 'Your messages are not being forwarded to support at the moment.')
              .catch(ignoreRefused);
            await turn.record({ type: 'RecordClientNotified', notice: 'banned' }, 'ban-notice');
          }
          return;
        }
        if (m.forwarded) return;
        // This message and whatever the client sent around it, in the client's order.
        const isAlbumItem = (x: ConversationMessage) =>
          x.mediaGroupId !== undefined && copyable(turn.state, x);
        await turn.settle(
          Math.max(
            mayArriveOutOfOrder(turn.state, 'incoming') ? orderWaitMs : 0,
            isAlbumItem(m) ? albumWaitMs : 0,
          ),
        );
        await turn.need(waitingIdsFrom(turn.state, m));
        const waiting = waitingFrom(turn.state, m, (x) => !x.forwarded && !x.suppressed);
        for (const run of runsOf(waiting, isAlbumItem))
          await forward(
            turn,
            run.map((x) => x.messageId),
          );
        return;
      }
      case 'ConversationReopened': {
        const { topic } = turn.state;
        if (topic) await api.reopenForumTopic(supportChatId, Number(topic.topicId)).catch(ignoreTopicGone);
        return;
      }
      case 'ConversationClosed': {
        const { topic } = turn.state;
        if (topic) await api.closeForumTopic(supportChatId, Number(topic.topicId)).catch(ignoreTopicGone);
        if (clientChat && turn.state.closed && !turn.state.closeNoticeSent) {
          await api
            .sendMessage(
              clientChat,
              'This conversation was closed by support. Write again any time to reopen it.',
            )
            .catch(ignoreRefused);
          await turn.record({ type: 'RecordClientNotified', notice: 'closed' }, 'close-notice');
        }
        return;
      }
      case 'ClientMessageEdited': {
        const m = turn.state.messages.get(event.data.messageId);
        if (!m?.forwarded || !m.groupMessage || m.deleted) return;
        await editCopy(supportChatId, Number(m.groupMessage.messageId), m.content).catch(ignoreRefused);
        return;
      }
      case 'ClientMessageDeleted': {
        const m = turn.state.messages.get(event.data.messageId);
        const { topic } = turn.state;
        if (m?.forwarded && m.groupMessage && topic) {
          // The copies stay (what the client said is part of the case); one notice, on the message
          // that carries the text, covers the files that went with it.
          const more = m.moreGroupMessages?.length ?? 0;
          const also = more === 0 ? '' : ` and the ${more === 1 ? 'file' : `${more} files`} sent with it`;
          await api
            .sendMessage(supportChatId, `🗑 The client deleted this message${also}.`, {
              message_thread_id: Number(topic.topicId),
              ...replyParameters(m.groupMessage.messageId),
            })
            .catch(ignoreRefused);
        }
        return;
      }
      case 'ManagerReplied': {
        if (!clientChat) return; // other channels have their own reactors
        const m = turn.state.messages.get(event.data.messageId);
        if (!m || !undelivered(m)) return;
        // This answer and the ones the manager sent around it, in the order they were written.
        const isAlbumItem = (x: ConversationMessage) => x.mediaGroupId !== undefined;
        await turn.settle(Math.max(orderWaitMs, isAlbumItem(m) ? albumWaitMs : 0));
        await turn.need(waitingIdsFrom(turn.state, m));
        for (const run of runsOf(waitingFrom(turn.state, m, undelivered), isAlbumItem)) {
          if (run.length > 1) await deliverAlbum(turn, run, clientChat);
          else await deliver(turn, run[0]!.messageId, clientChat);
        }
        return;
      }
      case 'ManagerReplyEdited': {
        const m = turn.state.messages.get(event.data.messageId);
        if (!clientChat || !m?.channelMessage || m.deliveries.edit || m.deleted) return;
        try {
          await editCopy(m.channelMessage.chatId, Number(m.channelMessage.messageId), m.content);
          await turn.record(
            { type: 'RecordDelivered', messageId: m.messageId, operation: 'edit' },
            `edit:${m.editCount}`,
          );
        } catch (error) {
          if (!(error instanceof GrammyError)) throw error;
          await turn.record(
            {
              type: 'RecordDeliveryFailed',
              messageId: m.messageId,
              operation: 'edit',
              reason: error.description,
              permanent: true,
              attempt: 1,
            },
            `edit-failed:${m.editCount}`,
          );
        }
        return;
      }
      case 'ManagerReplyDeleted': {
        const m = turn.state.messages.get(event.data.messageId);
        if (!clientChat || !m?.channelMessage || m.deliveries.delete) return;
        try {
          await api.deleteMessage(m.channelMessage.chatId, Number(m.channelMessage.messageId));
          await turn.record(
            { type: 'RecordDelivered', messageId: m.messageId, operation: 'delete' },
            'delete',
          );
        } catch (error) {
          if (!(error instanceof GrammyError)) throw error;
          await turn.record(
            {
              type: 'RecordDeliveryFailed',
              messageId: m.messageId,
              operation: 'delete',
              reason: error.description,
              permanent: true,
              attempt: 1,
            },
            'delete-failed',
          );
        }
        return;
      }
      case 'ConversationStarted':
      case 'TopicOpened':
      case 'TopicLost':
      case 'ClientMessageForwarded':
      case 'ReplyDelivered':
      case 'DeliveryFailed':
      case 'ClientBanned':
      case 'ClientUnbanned':
      case 'ClientNotified':
        return;
      default: {
        const never: never = event;
        return never;
      }
    }
  };

  const editCopy = async (chatId: string, messageId: number, content: MessageContent) => {
    try {
      if (content.attachments.some((a) => a.fileRef)) {
        await api.editMessageCaption(chatId, messageId, {
          caption: content.text,
          ...(content.entities ? { caption_entities: content.entities as never } : {}),
        });
      } else {
        await api.editMessageText(chatId, messageId, content.text || '(empty message)', {
          ...(content.entities ? { entities: content.entities as never } : {}),
        });
      }
    } catch (error) {
      if (!isNotModified(error)) throw error;
    }
  };

  /** An answer still to be carried to the client (not delivered, not given up on, not deleted). */
  const undelivered = (m: ConversationMessage) =>
    m.direction === 'outgoing' &&
    !m.deleted &&
    m.groupMessage !== undefined &&
    m.deliveries.send?.outcome !== 'delivered' &&
    m.deliveries.send?.outcome !== 'failed';

  /**
   * Records a refused delivery. A client who blocked the bot is reported in the topic once: not again
   * while later answers fail the same way, again only after an answer got through in between.
   */
  const deliveryRefused = async (turn: Turn, items: readonly ConversationMessage[], error: GrammyError) => {
    const ids = new Set(items.map((x) => x.messageId));
    const previous = turn.state.sendOutcomes.findLast((o) => !ids.has(o.messageId))?.outcome;
    for (const item of items) {
      await turn.record(
        {
          type: 'RecordDeliveryFailed',
          messageId: item.messageId,
          operation: 'send',
          reason: error.description,
          permanent: true,
          attempt: 1,
        },
        `send-failed:${item.messageId}`,
      );
    }
    const { topic } = turn.state;
    if (isForbidden(error) && !wasForbidden(previous) && topic) {
      const text = /blocked/i.test(error.description)
        ? '⚠️ The client has blocked the bot: answers cannot reach them until they unblock it.'
        : `⚠️ Answers cannot reach the client (${error.description}).`;
      await api
        .sendMessage(supportChatId, text, { message_thread_id: Number(topic.topicId) })
        .catch(ignoreRefused);
    }
  };

  const deliver = async (turn: Turn, messageId: string, clientChat: string) => {
    await turn.need([messageId]);
    const m = turn.state.messages.get(messageId);
    if (!m || !undelivered(m)) return;
    await turn.need([m.replyTo]);
    const replyRef = m.replyTo ? turn.state.messages.get(m.replyTo)?.channelMessage : undefined;
    try {
      const sent = await api.copyMessage(
        clientChat,
        m.groupMessage!.chatId,
        Number(m.groupMessage!.messageId),
        {
          ...(replyRef
            ? {
                reply_parameters: {
                  message_id: Number(replyRef.messageId),
                  allow_sending_without_reply: true,
                },
              }
            : {}),
        },
      );
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
      if (!(error instanceof GrammyError)) throw error;
      await deliveryRefused(turn, [m], error);
    }
  };

  /**
   * A manager's album goes to the client in one call, so the client sees one album: copyMessages,
   * or sendMediaGroup with the items' files when it replies to a message the client has.
   */
  const deliverAlbum = async (turn: Turn, items: readonly ConversationMessage[], clientChat: string) => {
    await turn.need(items.map((x) => x.replyTo));
    const replyRef = items
      .map((x) => (x.replyTo ? turn.state.messages.get(x.replyTo)?.channelMessage : undefined))
      .find((ref) => ref !== undefined);
    const media = replyRef ? resentAlbum(items) : undefined;
    let sent: { message_id: number }[];
    try {
      sent =
        media && replyRef
          ? await api.sendMediaGroup(clientChat, media, replyParameters(replyRef.messageId))
          : await api.copyMessages(
              clientChat,
              items[0]!.groupMessage!.chatId,
              items.map((x) => Number(x.groupMessage!.messageId)),
            );
    } catch (error) {
      if (!(error instanceof GrammyError)) throw error;
      if (isForbidden(error)) {
        await deliveryRefused(turn, items, error);
        return;
      }
      // Some item Telegram will not copy: judge them one by one.
      for (const item of items) await deliver(turn, item.messageId, clientChat);
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
        .catch(ignoreRefused);
      for (const item of items) await deliver(turn, item.messageId, clientChat);
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
  };

  /** Follow-up calls Telegram refuses (a message since deleted, a chat that blocked the bot) are logged. */
  const ignoreRefused = (error: unknown) => {
    if (!(error instanceof GrammyError)) throw error;
    logger.info({ err: error }, 'telegram refused a follow-up call');
  };
  const ignoreTopicGone = (error: unknown) => {
    if (isTopicNotModified(error)) return;
    ignoreRefused(error);
  };

  return {
    name: 'telegram',
    handle: reactWithTurns({ name: 'telegram', handler, reader: handler.reader, concurrency, step }),
  };
};
