// Telegram updates → conversation commands. Private chats are clients; messages inside forum topics
// of the support group are managers (their commands: inbound-commands.ts; button presses:
// inbound-presses.ts). The caller answers the webhook only after this resolves, i.e. after the
// events are durably appended (or the update was judged irrelevant).
import type { Message, Update } from 'grammy/types';
import { findByChannelMessage, findByGroupMessage } from '../../domain/conversation-core.ts';
import { comparePositions } from '../../domain/event-log.ts';
import type { Actor } from '../../domain/events.ts';
import { channelKey, groupKey } from '../../domain/message-window.ts';
import { recordRatingComment } from '../csat.ts';
import { commandList, readTopicInput } from './commands.ts';
import {
  type ComposedAnswerOrigin,
  type ComposedAnswerResult,
  sendTemplateAnswer,
} from './composed-answers.ts';
import { addNote, managerCommand, showWaiting } from './inbound-commands.ts';
import {
  type InboundContext,
  type InboundOutcome,
  inboundContext,
  managerActor,
  outcomeOf,
  RetryLaterError,
  run,
  say,
  stateOf,
  type TelegramInboundOptions,
  tolerant,
} from './inbound-context.ts';
import { fromPress } from './inbound-presses.ts';
import { TELEGRAM_SOURCE, telegramConversationId, telegramMessageId, updateCommandId } from './refs.ts';
import { contentOf, isServiceMessage, profileOf } from './translate.ts';
import { checkUpdate } from './update-schema.ts';

export interface TelegramInbound {
  /** Throws MalformedUpdateError, before anything is recorded, for an update of the wrong shape. */
  handleUpdate(update: Update): Promise<InboundOutcome>;
  /**
   * Sends saved answer `name` as `origin.actor`'s answer, as `/t <name>` does: for a press on a
   * `tpl:<name>` button (composed-answers.ts, templateOfCallback). A refusal's notice is for the
   * manager (the callback's answer, or the topic).
   */
  sendTemplateAnswer(origin: ComposedAnswerOrigin, name: string): Promise<ComposedAnswerResult>;
}

/** Telegram's /start (with a deep-link parameter or addressed to the bot, too). */
const isStart = (m: Message) => /^\/start(@\w+)?(\s|$)/i.test(m.text ?? '');

const fromClient = async (
  ctx: InboundContext,
  update: Update,
  m: Message,
  edited: boolean,
): Promise<InboundOutcome> => {
  // Service messages in the private chat (the client pinned a message, ...) are nobody's words.
  if (!m.from || m.from.is_bot || isServiceMessage(m)) return 'ignored';
  const conversationId = telegramConversationId(m.from.id);
  const messageId = telegramMessageId(m.chat.id, m.message_id);
  const commandId = updateCommandId(ctx.options.botId, update.update_id);
  const actor: Actor = { kind: 'client', id: String(m.from.id) };
  const at = new Date((m.edit_date ?? m.date) * 1000);
  if (edited) {
    return tolerant(ctx, () =>
      run(
        ctx,
        conversationId,
        { type: 'EditClientMessage', messageId, content: contentOf(m) },
        commandId,
        actor,
        at,
      ),
    );
  }
  let replyTo: string | undefined;
  if (m.reply_to_message) {
    // A reply to the client's own message names it directly; a reply to one of our answers needs the state.
    const target = { chatId: m.chat.id, messageId: m.reply_to_message.message_id };
    const state = await stateOf(ctx, conversationId, [channelKey(target)]);
    replyTo = findByChannelMessage(state, target.chatId, target.messageId)?.messageId;
  }
  // Just after rating, the client's next text is the rating's comment (docs/design.md,
  // "Satisfaction (CSAT)"): recorded as such, not a message that reopens the conversation.
  const comment = await recordRatingComment(ctx.options.handler, ctx.csat, conversationId, contentOf(m), at, {
    commandId,
    actor,
  });
  if (comment) return comment;
  return tolerant(ctx, async () => {
    const result = await ctx.options.handler.execute(
      conversationId,
      {
        type: 'ReceiveClientMessage',
        conversationId,
        channel: 'telegram',
        source: TELEGRAM_SOURCE,
        clientId: String(m.from!.id),
        profile: profileOf(m.from!),
        messageId,
        content: contentOf(m),
        channelMessage: { chatId: String(m.chat.id), messageId: String(m.message_id) },
        ...(replyTo ? { replyTo } : {}),
        ...(m.media_group_id ? { mediaGroupId: m.media_group_id } : {}),
      },
      { commandId, actor, occurredAt: at.toISOString() },
    );
    // Before Telegram is answered: a crash in between is repaired by its re-delivery.
    await ctx.options.autoReplies?.afterReceived(
      { conversationId, messageId, sentAt: at, start: isStart(m) },
      result,
    );
    return outcomeOf(result);
  });
};

/**
 * The read model trails the log by milliseconds: a topic opened a moment ago may not be in it yet,
 * and the bot records TopicOpened only after Telegram has created the topic, so a manager can write
 * in a topic whose opening is not in the log at all yet. Telegram tells who opened the topic: a
 * message in a topic that is not an explicit reply carries the topic's creation message as
 * `reply_to_message`. A topic the bot opened is waited for (and, after a while, Telegram is asked to
 * deliver the update again); one a person opened is not ours. With no word on the creator (an
 * explicit reply), a topic still unknown after a short wait is taken for a hand-made one.
 */
const topicConversation = async (ctx: InboundContext, m: Message): Promise<string | undefined> => {
  const chatId = String(m.chat.id);
  const topicId = String(m.message_thread_id);
  const creation =
    m.reply_to_message?.message_id === m.message_thread_id && m.reply_to_message?.forum_topic_created
      ? m.reply_to_message
      : undefined;
  const openedByBot = creation ? creation.from?.id === ctx.options.botId : undefined;
  const deadline = Date.now() + 2000;
  for (;;) {
    const found = await ctx.options.findConversationByTopic(chatId, topicId);
    if (found) return found;
    if (openedByBot === false) return undefined;
    if (Date.now() > deadline) {
      if (openedByBot) throw new RetryLaterError('the topic is not in the read model yet');
      // Unknown creator: a topic the read model does not know once it has applied the whole log
      // was not opened by the bot; if it still trails, let Telegram deliver the update again.
      const head = await ctx.options.logHead();
      const applied = await ctx.options.readModelPosition();
      const caughtUp = head === null || (applied !== null && comparePositions(applied, head) >= 0);
      if (caughtUp && !(await ctx.options.findConversationByTopic(chatId, topicId))) return undefined;
      throw new RetryLaterError('the topic is not in the read model yet');
    }
    await new Promise((r) => setTimeout(r, 20));
  }
};

const fromManager = async (
  ctx: InboundContext,
  update: Update,
  m: Message,
  edited: boolean,
): Promise<InboundOutcome> => {
  // Other bots, service messages and the General topic are not answers to anyone.
  if (!m.from || m.from.is_bot || isServiceMessage(m)) return 'ignored';
  // Remembered for `/assign @username`: a convenience, never a reason to refuse the update.
  await ctx.options.members
    ?.seen(m.from)
    .catch((err: unknown) => ctx.options.logger.warn({ err }, 'could not remember a member'));
  if (!m.is_topic_message || m.message_thread_id === undefined) {
    // In General only `/waiting` is ours.
    const input = edited ? undefined : readTopicInput(m, ctx.options.botUsername, '');
    return input?.kind === 'command' && input.command === 'waiting' ? showWaiting(ctx, m) : 'ignored';
  }
  const conversationId = await topicConversation(ctx, m);
  if (!conversationId) return 'ignored'; // a topic managers opened by hand
  const commandId = updateCommandId(ctx.options.botId, update.update_id);
  const messageId = telegramMessageId(m.chat.id, m.message_id);
  const input = readTopicInput(m, ctx.options.botUsername, ctx.notePrefix);
  if (edited) {
    // An edit that turns an answer into a command or a note is not carried: the client keeps
    // what was sent (and a command's or a note's own edit has no answer to change).
    if (input.kind !== 'answer') return 'ignored';
    return tolerant(ctx, () =>
      run(
        ctx,
        conversationId,
        { type: 'EditManagerReply', messageId, content: contentOf(m) },
        commandId,
        managerActor(m),
        new Date((m.edit_date ?? m.date) * 1000),
      ),
    );
  }
  switch (input.kind) {
    case 'command':
      return managerCommand(ctx, update, m, conversationId, input.command, input.args, input.argsOffset);
    case 'note':
      return addNote(ctx, update, m, conversationId, input.text, 'note');
    case 'unknown':
      // Never sent: a typo (`/clsoe`) must not reach the client. The manager gets the list.
      await say(
        ctx,
        m,
        await ctx.topicText('topic.unknown_command', {
          command: input.command,
          commands: await commandList(ctx.topicText, ctx.notePrefix),
        }),
      );
      return 'ignored';
    case 'other-bot':
      return 'ignored';
    case 'answer':
      break;
  }
  let replyTo: string | undefined;
  if (m.reply_to_message && m.reply_to_message.message_id !== m.message_thread_id) {
    const target = { chatId: m.chat.id, messageId: m.reply_to_message.message_id };
    const state = await stateOf(ctx, conversationId, [groupKey(target)]);
    replyTo = findByGroupMessage(state, target.chatId, target.messageId)?.messageId;
  }
  const actor = managerActor(m);
  return tolerant(ctx, () =>
    run(
      ctx,
      conversationId,
      {
        type: 'ReplyAsManager',
        messageId,
        managerId: actor.id,
        managerName: actor.name ?? 'manager',
        content: contentOf(m),
        groupMessage: { chatId: String(m.chat.id), messageId: String(m.message_id) },
        ...(replyTo ? { replyTo } : {}),
        ...(m.media_group_id ? { mediaGroupId: m.media_group_id } : {}),
      },
      commandId,
      actor,
      new Date(m.date * 1000),
    ),
  );
};

export const createTelegramInbound = (options: TelegramInboundOptions): TelegramInbound => {
  const ctx = inboundContext(options);
  return {
    sendTemplateAnswer: (origin, name) => sendTemplateAnswer(ctx.composing, origin, name),
    async handleUpdate(update) {
      checkUpdate(update);
      if (update.callback_query) return fromPress(ctx, update, update.callback_query);
      const m = update.message ?? update.edited_message;
      if (!m) return 'ignored';
      const edited = update.edited_message !== undefined;
      if (m.chat.type === 'private') return fromClient(ctx, update, m, edited);
      if (String(m.chat.id) === options.supportChatId) return fromManager(ctx, update, m, edited);
      return 'ignored';
    },
  };
};
