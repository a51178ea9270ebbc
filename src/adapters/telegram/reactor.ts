// The Telegram reactor: carries what the log records to Telegram and records the outcomes.
// Client messages (from any channel) go into the conversation's forum topic — opening it, or a new
// one when Telegram says it is gone; managers' answers, edits and deletions go to Telegram clients.
// Each step consults the conversation's state first, so a batch replayed after a crash repeats at
// most the one call whose outcome was not yet recorded.
import { type Api, GrammyError } from 'grammy';
import type { Logger } from 'pino';
import type { CommandHandler } from '../../domain/command-handler.ts';
import type { ConversationCommand } from '../../domain/conversation-commands.ts';
import {
  type ConversationMessage,
  type ConversationState,
  foldConversation,
} from '../../domain/conversation-state.ts';
import type { EventLog, RecordedEvent } from '../../domain/event-log.ts';
import { type ConversationEvent, conversationStream, type MessageContent } from '../../domain/events.ts';
import type { Reactor } from '../../projections/reactor-runner.ts';
import { contactCard, describeForTopic, displayName, topicTitle } from './translate.ts';

export interface TelegramReactorOptions {
  readonly api: Api;
  readonly log: EventLog;
  readonly handler: CommandHandler;
  readonly supportChatId: string;
  readonly titleTemplate: string;
  readonly logger: Logger;
  /** Conversations handled at once within a batch; each conversation stays in order. */
  readonly concurrency?: number;
}

const isThreadGone = (e: unknown) =>
  e instanceof GrammyError && /message thread not found|TOPIC_ID_INVALID|TOPIC_DELETED/i.test(e.description);
const isBlocked = (e: unknown) => e instanceof GrammyError && e.error_code === 403;
const isNotModified = (e: unknown) =>
  e instanceof GrammyError && /message is not modified/i.test(e.description);
const isTopicNotModified = (e: unknown) =>
  e instanceof GrammyError && /TOPIC_NOT_MODIFIED/i.test(e.description);

const conversationOf = (stream: string) =>
  stream.startsWith('conversation-') ? stream.slice('conversation-'.length) : undefined;

export const createTelegramReactor = (options: TelegramReactorOptions): Reactor => {
  const { api, log, handler, supportChatId, logger, concurrency = 16 } = options;

  const readState = async (conversationId: string): Promise<ConversationState> =>
    foldConversation(
      (await log.readStream(conversationStream(conversationId))).map(
        (e) => ({ type: e.type, data: e.data }) as ConversationEvent,
      ),
    );

  const react = async (conversationId: string, events: readonly RecordedEvent[]) => {
    let state = await readState(conversationId);
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as ConversationEvent;
      const record = async (command: ConversationCommand, step: string) => {
        const result = await handler.execute(conversationId, command, {
          commandId: `reactor:telegram:${recorded.id}:${step}`,
          actor: { kind: 'system', id: 'telegram-reactor' },
          causationId: recorded.id,
          correlationId: recorded.metadata.correlationId,
        });
        state = result.state;
      };
      state = await step(conversationId, event, state, record);
    }
  };

  type RecordFn = (command: ConversationCommand, step: string) => Promise<void>;

  const openTopic = async (
    conversationId: string,
    state: ConversationState,
    record: RecordFn,
    step: string,
  ) => {
    const profile = state.profile ?? {};
    const title = topicTitle(options.titleTemplate, {
      name: displayName(profile, state.clientId ?? ''),
      ...(profile.username ? { username: profile.username } : {}),
      id: state.clientId ?? '',
      source: state.source ?? '',
      channel: state.channel ?? '',
    });
    const topic = await api.createForumTopic(supportChatId, title);
    await record(
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

  /** Puts a client message into the topic: a copy for Telegram, a re-send for other channels. */
  const intoTopic = async (state: ConversationState, m: ConversationMessage, threadId: number) => {
    const replyRef = groupRefOf(state, m.replyTo);
    const common = {
      message_thread_id: threadId,
      ...(replyRef
        ? { reply_parameters: { message_id: Number(replyRef.messageId), allow_sending_without_reply: true } }
        : {}),
    };
    if (state.channel === 'telegram' && m.channelMessage) {
      return api.copyMessage(
        supportChatId,
        m.channelMessage.chatId,
        Number(m.channelMessage.messageId),
        common,
      );
    }
    return sendContent(supportChatId, m.content, common);
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

  const forward = async (
    conversationId: string,
    state0: ConversationState,
    messageId: string,
    record: RecordFn,
    step: string,
  ) => {
    let state = state0;
    for (let attempt = 0; attempt < 3; attempt++) {
      const m = state.messages.get(messageId);
      if (!m || m.forwarded || m.suppressed) return;
      if (!state.topic) {
        await openTopic(conversationId, state, record, `${step}:${attempt}`);
        state = await readState(conversationId);
        continue;
      }
      const topic = state.topic;
      try {
        const sent = await intoTopic(state, m, Number(topic.topicId));
        await record(
          {
            type: 'RecordForwarded',
            messageId,
            topicId: topic.topicId,
            groupMessage: { chatId: supportChatId, messageId: String(sent.message_id) },
          },
          `forwarded:${topic.topicId}`,
        );
        return;
      } catch (error) {
        if (!isThreadGone(error)) {
          if (error instanceof GrammyError) {
            // Telegram refuses this message for good (e.g. the client deleted it before the copy):
            // say so in the topic rather than retrying forever; the log keeps the message.
            logger.warn(
              { err: error, conversationId, messageId },
              'client message could not be carried to the topic',
            );
            await api.sendMessage(
              supportChatId,
              `⚠️ A client message could not be shown here (${error.description}). Its text: ${m.content.text || '(none)'}`,
              {
                message_thread_id: Number(topic.topicId),
              },
            );
            return;
          }
          throw error;
        }
        await record(
          { type: 'RecordTopicLost', topicId: topic.topicId, reason: (error as GrammyError).description },
          `lost:${topic.topicId}`,
        );
        state = await readState(conversationId);
      }
    }
  };

  const step = async (
    conversationId: string,
    event: ConversationEvent,
    state: ConversationState,
    record: RecordFn,
  ): Promise<ConversationState> => {
    const clientChat = state.channel === 'telegram' ? state.clientId : undefined;
    switch (event.type) {
      case 'ClientMessageReceived': {
        const m = state.messages.get(event.data.messageId);
        if (m?.suppressed) {
          if (state.banned && !state.banNoticeSent && clientChat) {
            await api
              .sendMessage(clientChat, 'Your messages are not being forwarded to support at the moment.')
              .catch(ignoreBlocked);
            await record({ type: 'RecordClientNotified', notice: 'banned' }, 'ban-notice');
          }
          return state;
        }
        await forward(conversationId, state, event.data.messageId, record, event.data.messageId);
        return readState(conversationId);
      }
      case 'ConversationReopened':
        if (state.topic)
          await api.reopenForumTopic(supportChatId, Number(state.topic.topicId)).catch(ignoreTopicGone);
        return state;
      case 'ConversationClosed':
        if (state.topic)
          await api.closeForumTopic(supportChatId, Number(state.topic.topicId)).catch(ignoreTopicGone);
        if (clientChat && state.closed && !state.closeNoticeSent) {
          await api
            .sendMessage(
              clientChat,
              'This conversation was closed by support. Write again any time to reopen it.',
            )
            .catch(ignoreBlocked);
          await record({ type: 'RecordClientNotified', notice: 'closed' }, 'close-notice');
        }
        return state;
      case 'ClientMessageEdited': {
        const m = state.messages.get(event.data.messageId);
        if (!m?.forwarded || !m.groupMessage || m.deleted) return state;
        await editCopy(supportChatId, Number(m.groupMessage.messageId), m.content).catch(ignoreGone);
        return state;
      }
      case 'ClientMessageDeleted': {
        const m = state.messages.get(event.data.messageId);
        if (m?.forwarded && m.groupMessage && state.topic) {
          await api
            .sendMessage(supportChatId, '🗑 The client deleted this message.', {
              message_thread_id: Number(state.topic.topicId),
              reply_parameters: {
                message_id: Number(m.groupMessage.messageId),
                allow_sending_without_reply: true,
              },
            })
            .catch(ignoreGone);
        }
        return state;
      }
      case 'ManagerReplied':
        if (!clientChat) return state; // other channels have their own reactors
        await deliver(state, event.data.messageId, record, clientChat);
        return state;
      case 'ManagerReplyEdited': {
        const m = state.messages.get(event.data.messageId);
        if (!clientChat || !m?.channelMessage || m.deliveries.edit || m.deleted) return state;
        try {
          await editCopy(m.channelMessage.chatId, Number(m.channelMessage.messageId), m.content);
          await record(
            { type: 'RecordDelivered', messageId: m.messageId, operation: 'edit' },
            `edit:${m.editCount}`,
          );
        } catch (error) {
          if (!(error instanceof GrammyError)) throw error;
          await record(
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
        return state;
      }
      case 'ManagerReplyDeleted': {
        const m = state.messages.get(event.data.messageId);
        if (!clientChat || !m?.channelMessage || m.deliveries.delete) return state;
        try {
          await api.deleteMessage(m.channelMessage.chatId, Number(m.channelMessage.messageId));
          await record({ type: 'RecordDelivered', messageId: m.messageId, operation: 'delete' }, 'delete');
        } catch (error) {
          if (!(error instanceof GrammyError)) throw error;
          await record(
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
        return state;
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
        return state;
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

  const deliver = async (
    state: ConversationState,
    messageId: string,
    record: RecordFn,
    clientChat: string,
  ) => {
    const m = state.messages.get(messageId);
    if (
      !m ||
      m.deleted ||
      m.deliveries.send?.outcome === 'delivered' ||
      m.deliveries.send?.outcome === 'failed'
    )
      return;
    if (!m.groupMessage) return;
    const replyRef = m.replyTo ? state.messages.get(m.replyTo)?.channelMessage : undefined;
    try {
      const sent = await api.copyMessage(
        clientChat,
        m.groupMessage.chatId,
        Number(m.groupMessage.messageId),
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
      await record(
        {
          type: 'RecordDelivered',
          messageId,
          operation: 'send',
          channelMessage: { chatId: clientChat, messageId: String(sent.message_id) },
        },
        'send',
      );
    } catch (error) {
      if (!(error instanceof GrammyError)) throw error;
      const blockedBefore = [...state.messages.values()].some(
        (x) => x.deliveries.send?.outcome === 'failed' && /blocked/i.test(x.deliveries.send.reason),
      );
      await record(
        {
          type: 'RecordDeliveryFailed',
          messageId,
          operation: 'send',
          reason: error.description,
          permanent: true,
          attempt: 1,
        },
        'send-failed',
      );
      if (isBlocked(error) && !blockedBefore && state.topic) {
        await api
          .sendMessage(
            supportChatId,
            '⚠️ The client has blocked the bot: answers cannot reach them until they unblock it.',
            {
              message_thread_id: Number(state.topic.topicId),
            },
          )
          .catch(ignoreGone);
      }
    }
  };

  const ignoreGone = (error: unknown) => {
    if (!(error instanceof GrammyError)) throw error;
    logger.info({ err: error }, 'telegram refused a follow-up call');
  };
  const ignoreBlocked = ignoreGone;
  const ignoreTopicGone = (error: unknown) => {
    if (isTopicNotModified(error)) return;
    ignoreGone(error);
  };

  return {
    name: 'telegram',
    async handle(events, signal) {
      const byConversation = new Map<string, RecordedEvent[]>();
      for (const e of events) {
        const id = conversationOf(e.stream);
        if (!id) continue;
        byConversation.set(id, [...(byConversation.get(id) ?? []), e]);
      }
      const queue = [...byConversation.entries()];
      const workers = Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
        for (let next = queue.shift(); next && !signal.aborted; next = queue.shift())
          await react(next[0], next[1]);
      });
      await Promise.all(workers);
    },
  };
};
