// Telegram updates → conversation commands. Private chats are clients; messages inside forum topics
// of the support group are managers. The caller answers the webhook only after this resolves, i.e.
// after the events are durably appended (or the update was judged irrelevant).
import type { Api } from 'grammy';
import type { CallbackQuery, Message, Update } from 'grammy/types';
import type { Logger } from 'pino';
import type { CommandHandler, CommandResult } from '../../domain/command-handler.ts';
import type { ConversationCommand } from '../../domain/conversation-commands.ts';
import { findByChannelMessage, findByGroupMessage } from '../../domain/conversation-core.ts';
import { DomainError } from '../../domain/errors.ts';
import { comparePositions, type LogPosition } from '../../domain/event-log.ts';
import type { Actor, MessageContent } from '../../domain/events.ts';
import { channelKey, groupKey } from '../../domain/message-window.ts';
import type { TemplatesState } from '../../domain/settings/templates.ts';
import type { TextKey } from '../../texts/catalogue.ts';
import { shippedTexts, type Texts } from '../../texts/texts.ts';
import type { AutoReplies } from '../auto-replies/auto-replies.ts';
import { CSAT_OFF, type CsatOptions, recordRatingComment } from '../csat.ts';
import { runAssignment } from './assignment.ts';
import type { CallbackAnswer, CallbackRouter, ClientCallbackHandler } from './callbacks.ts';
import { postContactCard } from './card.ts';
import {
  commandLine,
  commandList,
  entitiesFrom,
  type ManagerCommandName,
  readTopicInput,
} from './commands.ts';
import {
  type ComposedAnswerDeps,
  type ComposedAnswerOrigin,
  type ComposedAnswerResult,
  sendComposedAnswer,
  sendTemplateAnswer,
  templateKeyboard,
} from './composed-answers.ts';
import type { MemberDirectory } from './members.ts';
import { TELEGRAM_SOURCE, telegramConversationId, telegramMessageId, updateCommandId } from './refs.ts';
import { contentOf, isServiceMessage, profileOf } from './translate.ts';
import { checkUpdate } from './update-schema.ts';
import { type WaitingPage, waitingText } from './waiting.ts';

export type InboundOutcome = 'recorded' | 'duplicate' | 'ignored';

/** A command's entities as content carries them (plain data, like every event's). */
const withEntities = (entities: ReturnType<typeof entitiesFrom>): Pick<MessageContent, 'entities'> =>
  entities ? { entities: JSON.parse(JSON.stringify(entities)) as MessageContent['entities'] } : {};

/** The update refers to a topic the read model does not know yet: let Telegram deliver it again. */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
  readonly code = 'retry_later';
}

export interface TelegramInboundOptions {
  readonly handler: CommandHandler;
  readonly api: Api;
  readonly botId: number;
  readonly botUsername: string;
  readonly supportChatId: string;
  /** Topic → conversation, from the conversations read model. */
  readonly findConversationByTopic: (chatId: string, topicId: string) => Promise<string | undefined>;
  /** The log's newest committed event (null: the log is empty). */
  readonly logHead: () => Promise<LogPosition | null>;
  /** How far the conversations read model has applied the log (null: not at all yet). */
  readonly readModelPosition: () => Promise<LogPosition | null>;
  /** Handlers of inline-button presses, by callback_data prefix. */
  readonly callbacks: CallbackRouter;
  /** Handlers of a client's presses in their private chat (the rating's buttons), by prefix. */
  readonly clientCallbacks?: CallbackRouter<ClientCallbackHandler>;
  /** Satisfaction (CSAT): a client's next message after rating may be its comment. Default off. */
  readonly csat?: CsatOptions;
  /** Whether a user is a member of the support group (asked for every press; cached by the caller). */
  readonly isMember: (userId: number) => Promise<boolean>;
  readonly logger: Logger;
  /** The saved answers as the log has them now (`/t`). */
  readonly templates: () => Promise<TemplatesState>;
  /** A topic message starting with this is an internal note (NOTE_PREFIX); '' turns it off. Default `//`. */
  readonly notePrefix?: string;
  /**
   * What the bot answers managers in the topic (LOCALE's language, also the one saved answers fall
   * back to); the shipped English by default.
   */
  readonly texts?: Texts;
  /** The welcome and off-hours answers a client's message calls for; none by default. */
  readonly autoReplies?: AutoReplies;
  /** The members seen writing in the group (`/assign @username`); without it, a reply names the member. */
  readonly members?: MemberDirectory;
  /** The conversations whose client waits, oldest first (`/waiting`); without it the command says none. */
  readonly waiting?: () => Promise<WaitingPage>;
}

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

const managerActor = (m: Pick<Message, 'from'>): Actor => ({
  kind: 'manager',
  id: String(m.from?.id ?? 'unknown'),
  name: [m.from?.first_name, m.from?.last_name].filter(Boolean).join(' ') || 'manager',
});

const commandTexts: Record<string, TextKey> = {
  ban: 'topic.command.ban',
  unban: 'topic.command.unban',
  close: 'topic.command.close',
  reopen: 'topic.command.reopen',
  delete: 'topic.command.delete',
};

/** Telegram's /start (with a deep-link parameter or addressed to the bot, too). */
const isStart = (m: Message) => /^\/start(@\w+)?(\s|$)/i.test(m.text ?? '');

const outcomeOf = (result: CommandResult): InboundOutcome =>
  result.alreadyHandled ? 'duplicate' : result.events.length > 0 ? 'recorded' : 'ignored';

/** The mark the bot puts on a note: one of the emoji Telegram lets bots react with. */
export const NOTE_REACTION = '✍';

export const createTelegramInbound = (options: TelegramInboundOptions): TelegramInbound => {
  const { handler, api, botId, supportChatId, logger } = options;
  const texts = options.texts ?? shippedTexts();
  const notePrefix = options.notePrefix ?? '//';
  const csat = options.csat ?? CSAT_OFF;
  /** What the bot writes into a topic, from the catalogue, in the managers' language. */
  const topicText = (key: TextKey, vars: Record<string, string | number> = {}) => texts.topic(key, vars);
  const composing: ComposedAnswerDeps = {
    handler,
    api,
    supportChatId,
    logger,
    templates: options.templates,
    texts,
  };

  /** The conversation as the stream has it, with `refs` (a reply's target) looked up. */
  const stateOf = async (conversationId: string, refs: readonly string[] = []) =>
    (await handler.reader.read(conversationId, { refs, fresh: true })).state;

  const run = async (
    conversationId: string,
    command: ConversationCommand,
    commandId: string,
    actor: Actor,
    occurredAt: Date,
  ): Promise<InboundOutcome> => {
    const result = await handler.execute(conversationId, command, {
      commandId,
      actor,
      occurredAt: occurredAt.toISOString(),
    });
    return outcomeOf(result);
  };

  /** Refusals by the domain (an edit of a deleted message…) are answers, not failures. */
  const tolerant = async (work: () => Promise<InboundOutcome>): Promise<InboundOutcome> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof DomainError) {
        logger.info({ code: error.code }, `telegram update ignored: ${error.message}`);
        return 'ignored';
      }
      throw error;
    }
  };

  const fromClient = async (update: Update, m: Message, edited: boolean): Promise<InboundOutcome> => {
    // Service messages in the private chat (the client pinned a message, ...) are nobody's words.
    if (!m.from || m.from.is_bot || isServiceMessage(m)) return 'ignored';
    const conversationId = telegramConversationId(m.from.id);
    const messageId = telegramMessageId(m.chat.id, m.message_id);
    const commandId = updateCommandId(botId, update.update_id);
    const actor: Actor = { kind: 'client', id: String(m.from.id) };
    const at = new Date((m.edit_date ?? m.date) * 1000);
    if (edited) {
      return tolerant(() =>
        run(
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
      const state = await stateOf(conversationId, [channelKey(target)]);
      replyTo = findByChannelMessage(state, target.chatId, target.messageId)?.messageId;
    }
    // Just after rating, the client's next text is the rating's comment (docs/design.md,
    // "Satisfaction (CSAT)"): recorded as such, not a message that reopens the conversation.
    const comment = await recordRatingComment(handler, csat, conversationId, contentOf(m), at, {
      commandId,
      actor,
    });
    if (comment) return comment;
    return tolerant(async () => {
      const result = await handler.execute(
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
      await options.autoReplies?.afterReceived(
        { conversationId, messageId, sentAt: at, start: isStart(m) },
        result,
      );
      return outcomeOf(result);
    });
  };

  const say = async (m: Message, text: string) => {
    await api
      .sendMessage(m.chat.id, text, {
        message_thread_id: m.message_thread_id,
        reply_parameters: { message_id: m.message_id, allow_sending_without_reply: true },
      })
      .catch((err: unknown) => logger.warn({ err }, 'could not answer a manager command'));
  };

  /** Marks a note so the manager sees it stayed in the topic. */
  const markNote = async (m: Message) => {
    await api
      .setMessageReaction(m.chat.id, m.message_id, [{ type: 'emoji', emoji: NOTE_REACTION }])
      .catch((err: unknown) => logger.warn({ err }, 'could not mark a note'));
  };

  const usage = async (m: Message, command: ManagerCommandName) =>
    say(m, await topicText('topic.command.not_done', { reason: await commandLine(topicText, command) }));

  const addNote = async (
    update: Update,
    m: Message,
    conversationId: string,
    text: string,
    command: ManagerCommandName,
  ): Promise<InboundOutcome> => {
    if (text.trim() === '') {
      await usage(m, command);
      return 'ignored';
    }
    const actor = managerActor(m);
    const outcome = await tolerant(() =>
      run(
        conversationId,
        {
          type: 'AddNote',
          noteId: telegramMessageId(m.chat.id, m.message_id),
          text,
          managerId: actor.id,
          managerName: actor.name ?? 'manager',
          groupMessage: { chatId: String(m.chat.id), messageId: String(m.message_id) },
        },
        updateCommandId(botId, update.update_id),
        actor,
        new Date(m.date * 1000),
      ),
    );
    if (outcome === 'recorded') await markNote(m);
    return outcome;
  };

  /** The answer a command composes replies to the client's message the command replied to. */
  const composedOrigin = async (
    update: Update,
    m: Message,
    conversationId: string,
  ): Promise<ComposedAnswerOrigin> => {
    let answerReplyTo: string | undefined;
    if (m.reply_to_message && m.reply_to_message.message_id !== m.message_thread_id) {
      const target = { chatId: m.chat.id, messageId: m.reply_to_message.message_id };
      const state = await stateOf(conversationId, [groupKey(target)]);
      answerReplyTo = findByGroupMessage(state, target.chatId, target.messageId)?.messageId;
    }
    return {
      conversationId,
      actor: managerActor(m),
      commandId: updateCommandId(botId, update.update_id),
      topicId: m.message_thread_id!,
      replyToMessageId: m.message_id,
      ...(answerReplyTo ? { answerReplyTo } : {}),
      at: new Date(m.date * 1000),
    };
  };

  const composedOutcome = async (m: Message, result: ComposedAnswerResult): Promise<InboundOutcome> => {
    if (result.outcome !== 'refused') return result.outcome;
    await say(m, result.notice);
    return 'ignored';
  };

  const showTemplates = async (m: Message): Promise<InboundOutcome> => {
    const { rows, more } = templateKeyboard(await options.templates());
    if (rows.length === 0) {
      await say(m, await topicText('topic.templates_none'));
      return 'ignored';
    }
    const text = [
      await topicText('topic.templates_pick'),
      ...(more > 0 ? [await topicText('topic.templates_more', { count: more })] : []),
    ].join('\n');
    await api
      .sendMessage(m.chat.id, text, {
        message_thread_id: m.message_thread_id,
        reply_parameters: { message_id: m.message_id, allow_sending_without_reply: true },
        reply_markup: { inline_keyboard: rows },
      })
      .catch((err: unknown) => logger.warn({ err }, 'could not show the saved answers'));
    return 'ignored';
  };

  const showCard = async (m: Message, conversationId: string): Promise<InboundOutcome> => {
    const state = await stateOf(conversationId);
    if (!state.started || m.message_thread_id === undefined) return 'ignored';
    await postContactCard(
      { api, texts, supportChatId },
      m.message_thread_id,
      conversationId,
      state,
      true,
    ).catch((err: unknown) => logger.warn({ err }, 'could not post the contact card'));
    return 'ignored';
  };

  const showWaiting = async (m: Message): Promise<InboundOutcome> => {
    const page = options.waiting ? await options.waiting() : { conversations: [], total: 0, unassigned: 0 };
    await say(m, await waitingText(texts, page));
    return 'ignored';
  };

  const managerCommand = async (
    update: Update,
    m: Message,
    conversationId: string,
    command: ManagerCommandName,
    args: string,
    argsOffset: number,
  ): Promise<InboundOutcome> => {
    const commandId = updateCommandId(botId, update.update_id);
    const actor = managerActor(m);
    const at = new Date(m.date * 1000);
    let domainCommand: ConversationCommand;
    let done: string | undefined;
    switch (command) {
      case 'info':
        return showCard(m, conversationId);
      case 'waiting':
        return showWaiting(m);
      case 'take':
      case 'assign':
      case 'unassign': {
        const result = await runAssignment(
          {
            handler,
            texts,
            isMember: options.isMember,
            ...(options.members ? { members: options.members } : {}),
          },
          { command, message: m, args, conversationId, commandId, actor, at },
          async () => topicText('topic.command.not_done', { reason: await commandLine(topicText, command) }),
        );
        if (result.say !== undefined) await say(m, result.say);
        return result.outcome;
      }
      case 'note':
        return addNote(update, m, conversationId, args, command);
      case 'send':
        if (args === '') {
          await usage(m, command);
          return 'ignored';
        }
        return composedOutcome(
          m,
          await sendComposedAnswer(composing, await composedOrigin(update, m, conversationId), {
            text: args,
            ...withEntities(entitiesFrom(m.entities, argsOffset, args.length)),
            attachments: [],
          }),
        );
      case 't':
        if (args === '') return showTemplates(m);
        return composedOutcome(
          m,
          await sendTemplateAnswer(composing, await composedOrigin(update, m, conversationId), args),
        );
      case 'pin':
        if (args === '') {
          await usage(m, command);
          return 'ignored';
        }
        domainCommand = {
          type: 'PinNote',
          text: args,
          managerId: actor.id,
          managerName: actor.name ?? 'manager',
        };
        done = await topicText('topic.pinned');
        break;
      case 'unpin':
        domainCommand = { type: 'UnpinNote' };
        done = await topicText('topic.unpinned');
        break;
      case 'ban':
        domainCommand = { type: 'BanClient', ...(args ? { reason: args } : {}) };
        break;
      case 'unban':
        domainCommand = { type: 'UnbanClient' };
        break;
      case 'close':
        domainCommand = { type: 'CloseConversation' };
        break;
      case 'reopen':
        domainCommand = { type: 'ReopenConversation' };
        break;
      case 'delete': {
        const target = m.reply_to_message;
        if (!target || target.message_id === m.message_thread_id) {
          await say(m, await topicText('topic.command.delete_usage'));
          return 'ignored';
        }
        // The answer that topic message stands for: the manager's own message, or the bot's post of
        // an answer it composed (/send, /t).
        const ref = { chatId: m.chat.id, messageId: target.message_id };
        const state = await stateOf(conversationId, [groupKey(ref)]);
        domainCommand = {
          type: 'DeleteManagerReply',
          messageId:
            findByGroupMessage(state, ref.chatId, ref.messageId)?.messageId ??
            telegramMessageId(m.chat.id, target.message_id),
        };
        break;
      }
      default: {
        const never: never = command;
        return never;
      }
    }
    try {
      const outcome = await run(conversationId, domainCommand, commandId, actor, at);
      // A pin of the text already pinned records nothing and is still what the manager asked for.
      if (outcome === 'recorded' || (outcome === 'ignored' && command === 'pin'))
        await say(m, done ?? (await topicText(commandTexts[command]!)));
      return outcome;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      await say(
        m,
        await (error.code === 'no_pinned_note'
          ? topicText('topic.no_pinned_note')
          : topicText('topic.command.not_done', { reason: error.message })),
      );
      return 'ignored';
    }
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
  const topicConversation = async (m: Message): Promise<string | undefined> => {
    const chatId = String(m.chat.id);
    const topicId = String(m.message_thread_id);
    const creation =
      m.reply_to_message?.message_id === m.message_thread_id && m.reply_to_message?.forum_topic_created
        ? m.reply_to_message
        : undefined;
    const openedByBot = creation ? creation.from?.id === botId : undefined;
    const deadline = Date.now() + 2000;
    for (;;) {
      const found = await options.findConversationByTopic(chatId, topicId);
      if (found) return found;
      if (openedByBot === false) return undefined;
      if (Date.now() > deadline) {
        if (openedByBot) throw new RetryLaterError('the topic is not in the read model yet');
        // Unknown creator: a topic the read model does not know once it has applied the whole log
        // was not opened by the bot; if it still trails, let Telegram deliver the update again.
        const head = await options.logHead();
        const applied = await options.readModelPosition();
        const caughtUp = head === null || (applied !== null && comparePositions(applied, head) >= 0);
        if (caughtUp && !(await options.findConversationByTopic(chatId, topicId))) return undefined;
        throw new RetryLaterError('the topic is not in the read model yet');
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const fromManager = async (update: Update, m: Message, edited: boolean): Promise<InboundOutcome> => {
    // Other bots, service messages and the General topic are not answers to anyone.
    if (!m.from || m.from.is_bot || isServiceMessage(m)) return 'ignored';
    // Remembered for `/assign @username`: a convenience, never a reason to refuse the update.
    await options.members
      ?.seen(m.from)
      .catch((err: unknown) => logger.warn({ err }, 'could not remember a member'));
    if (!m.is_topic_message || m.message_thread_id === undefined) {
      // In General only `/waiting` is ours.
      const input = edited ? undefined : readTopicInput(m, options.botUsername, '');
      return input?.kind === 'command' && input.command === 'waiting' ? showWaiting(m) : 'ignored';
    }
    const conversationId = await topicConversation(m);
    if (!conversationId) return 'ignored'; // a topic managers opened by hand
    const commandId = updateCommandId(botId, update.update_id);
    const messageId = telegramMessageId(m.chat.id, m.message_id);
    const input = readTopicInput(m, options.botUsername, notePrefix);
    if (edited) {
      // An edit that turns an answer into a command or a note is not carried: the client keeps
      // what was sent (and a command's or a note's own edit has no answer to change).
      if (input.kind !== 'answer') return 'ignored';
      return tolerant(() =>
        run(
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
        return managerCommand(update, m, conversationId, input.command, input.args, input.argsOffset);
      case 'note':
        return addNote(update, m, conversationId, input.text, 'note');
      case 'unknown':
        // Never sent: a typo (`/clsoe`) must not reach the client. The manager gets the list.
        await say(
          m,
          await topicText('topic.unknown_command', {
            command: input.command,
            commands: await commandList(topicText, notePrefix),
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
      const state = await stateOf(conversationId, [groupKey(target)]);
      replyTo = findByGroupMessage(state, target.chatId, target.messageId)?.messageId;
    }
    const actor = managerActor(m);
    return tolerant(() =>
      run(
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

  /**
   * A press of an inline button (docs/design.md, "Callbacks"). Every press is answered
   * (answerCallbackQuery: Telegram shows a spinner until then); only members of the support group may
   * press, and the press goes to the handler of its callback_data's prefix.
   */
  const fromPress = async (update: Update, q: CallbackQuery): Promise<InboundOutcome> => {
    const answer = async (a: Omit<CallbackAnswer, 'outcome'>) => {
      await api
        .answerCallbackQuery(q.id, {
          ...(a.text ? { text: a.text } : {}),
          ...(a.showAlert ? { show_alert: true } : {}),
        })
        // Answered already (a re-delivered press), or too late: the press itself is what counts.
        .catch((err: unknown) => logger.info({ err }, 'a button press could not be answered'));
    };
    // A client's press in their private chat with the bot: the rating's buttons.
    if (q.message?.chat.type === 'private' && q.message.chat.id === q.from.id && !q.from.is_bot) {
      return fromClientPress(update, q, answer);
    }
    // Buttons elsewhere are not the bot's to act on.
    if (!q.message || String(q.message.chat.id) !== supportChatId) {
      await answer({});
      return 'ignored';
    }
    const pressed = options.callbacks.find(q.data ?? '');
    try {
      if (!(await options.isMember(q.from.id))) {
        logger.info({ user: q.from.id }, 'a button press by someone outside the support group was refused');
        await answer({ text: await topicText('topic.press.not_member'), showAlert: true });
        return 'ignored';
      }
      if (!pressed) {
        await answer({ text: await topicText('topic.press.unknown') });
        return 'ignored';
      }
      const message = q.message;
      const result = await pressed.handler({
        query: q,
        args: pressed.args,
        actor: managerActor(q),
        commandId: updateCommandId(botId, update.update_id),
        at: new Date(),
        conversationOfTopic: async () =>
          'message_thread_id' in message && message.message_thread_id !== undefined
            ? options.findConversationByTopic(supportChatId, String(message.message_thread_id))
            : undefined,
      });
      await answer(result);
      return result.outcome;
    } catch (error) {
      // Not recorded: the update fails, so Telegram delivers it again; the manager is told meanwhile.
      await answer({ text: await topicText('topic.press.failed') });
      throw error;
    }
  };

  /** A client's press: no membership to check; the presser's own chat names the conversation. */
  const fromClientPress = async (
    update: Update,
    q: CallbackQuery,
    answer: (a: Omit<CallbackAnswer, 'outcome'>) => Promise<void>,
  ): Promise<InboundOutcome> => {
    const pressed = options.clientCallbacks?.find(q.data ?? '');
    if (!pressed) {
      await answer({});
      return 'ignored';
    }
    try {
      const result = await pressed.handler({
        query: q,
        args: pressed.args,
        actor: { kind: 'client', id: String(q.from.id) },
        conversationId: telegramConversationId(q.from.id),
        commandId: updateCommandId(botId, update.update_id),
        at: new Date(),
      });
      await answer(result);
      return result.outcome;
    } catch (error) {
      // Not recorded: Telegram delivers the press again; the spinner ends meanwhile.
      await answer({});
      throw error;
    }
  };

  return {
    sendTemplateAnswer: (origin, name) => sendTemplateAnswer(composing, origin, name),
    async handleUpdate(update) {
      checkUpdate(update);
      if (update.callback_query) return fromPress(update, update.callback_query);
      const m = update.message ?? update.edited_message;
      if (!m) return 'ignored';
      const edited = update.edited_message !== undefined;
      if (m.chat.type === 'private') return fromClient(update, m, edited);
      if (String(m.chat.id) === supportChatId) return fromManager(update, m, edited);
      return 'ignored';
    },
  };
};
