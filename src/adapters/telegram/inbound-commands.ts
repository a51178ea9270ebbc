// Manager commands in a topic (docs/design.md, "Notes and saved answers", "Assignment", "Bans,
// closing and reopening"): `/note`, `/send`, `/t`, `/pin`, `/info`, `/take`, `/close`, … each run
// as a conversation command or answered in the topic.
import type { Message, Update } from 'grammy/types';
import type { ConversationCommand } from '../../domain/conversation-commands.ts';
import { findByGroupMessage } from '../../domain/conversation-core.ts';
import { DomainError } from '../../domain/errors.ts';
import type { MessageContent } from '../../domain/events.ts';
import { groupKey } from '../../domain/message-window.ts';
import type { TextKey } from '../../texts/catalogue.ts';
import { runAssignment } from './assignment.ts';
import { postContactCard } from './card.ts';
import { commandLine, entitiesFrom, type ManagerCommandName } from './commands.ts';
import {
  type ComposedAnswerOrigin,
  type ComposedAnswerResult,
  sendComposedAnswer,
  sendTemplateAnswer,
  templateKeyboard,
} from './composed-answers.ts';
import {
  type InboundContext,
  type InboundOutcome,
  managerActor,
  run,
  say,
  stateOf,
  tolerant,
} from './inbound-context.ts';
import { telegramMessageId, updateCommandId } from './refs.ts';
import { waitingText } from './waiting.ts';

/** The mark the bot puts on a note: one of the emoji Telegram lets bots react with. */
export const NOTE_REACTION = '✍';

/** A command's entities as content carries them (plain data, like every event's). */
const withEntities = (entities: ReturnType<typeof entitiesFrom>): Pick<MessageContent, 'entities'> =>
  entities ? { entities: JSON.parse(JSON.stringify(entities)) as MessageContent['entities'] } : {};

const commandTexts: Record<string, TextKey> = {
  ban: 'topic.command.ban',
  unban: 'topic.command.unban',
  close: 'topic.command.close',
  reopen: 'topic.command.reopen',
  delete: 'topic.command.delete',
};

/** Marks a note so the manager sees it stayed in the topic. */
export const markNote = async (ctx: InboundContext, m: Message) => {
  await ctx.options.api
    .setMessageReaction(m.chat.id, m.message_id, [{ type: 'emoji', emoji: NOTE_REACTION }])
    .catch((err: unknown) => ctx.options.logger.warn({ err }, 'could not mark a note'));
};

export const usage = async (ctx: InboundContext, m: Message, command: ManagerCommandName) =>
  say(
    ctx,
    m,
    await ctx.topicText('topic.command.not_done', { reason: await commandLine(ctx.topicText, command) }),
  );

export const addNote = async (
  ctx: InboundContext,
  update: Update,
  m: Message,
  conversationId: string,
  text: string,
  command: ManagerCommandName,
): Promise<InboundOutcome> => {
  if (text.trim() === '') {
    await usage(ctx, m, command);
    return 'ignored';
  }
  const actor = managerActor(m);
  const outcome = await tolerant(ctx, () =>
    run(
      ctx,
      conversationId,
      {
        type: 'AddNote',
        noteId: telegramMessageId(m.chat.id, m.message_id),
        text,
        managerId: actor.id,
        managerName: actor.name ?? 'manager',
        groupMessage: { chatId: String(m.chat.id), messageId: String(m.message_id) },
      },
      updateCommandId(ctx.options.botId, update.update_id),
      actor,
      new Date(m.date * 1000),
    ),
  );
  if (outcome === 'recorded') await markNote(ctx, m);
  return outcome;
};

/** The answer a command composes replies to the client's message the command replied to. */
export const composedOrigin = async (
  ctx: InboundContext,
  update: Update,
  m: Message,
  conversationId: string,
): Promise<ComposedAnswerOrigin> => {
  let answerReplyTo: string | undefined;
  if (m.reply_to_message && m.reply_to_message.message_id !== m.message_thread_id) {
    const target = { chatId: m.chat.id, messageId: m.reply_to_message.message_id };
    const state = await stateOf(ctx, conversationId, [groupKey(target)]);
    answerReplyTo = findByGroupMessage(state, target.chatId, target.messageId)?.messageId;
  }
  return {
    conversationId,
    actor: managerActor(m),
    commandId: updateCommandId(ctx.options.botId, update.update_id),
    topicId: m.message_thread_id!,
    replyToMessageId: m.message_id,
    ...(answerReplyTo ? { answerReplyTo } : {}),
    at: new Date(m.date * 1000),
  };
};

export const composedOutcome = async (
  ctx: InboundContext,
  m: Message,
  result: ComposedAnswerResult,
): Promise<InboundOutcome> => {
  if (result.outcome !== 'refused') return result.outcome;
  await say(ctx, m, result.notice);
  return 'ignored';
};

export const showTemplates = async (ctx: InboundContext, m: Message): Promise<InboundOutcome> => {
  const { rows, more } = templateKeyboard(await ctx.options.templates());
  if (rows.length === 0) {
    await say(ctx, m, await ctx.topicText('topic.templates_none'));
    return 'ignored';
  }
  const text = [
    await ctx.topicText('topic.templates_pick'),
    ...(more > 0 ? [await ctx.topicText('topic.templates_more', { count: more })] : []),
  ].join('\n');
  await ctx.options.api
    .sendMessage(m.chat.id, text, {
      message_thread_id: m.message_thread_id,
      reply_parameters: { message_id: m.message_id, allow_sending_without_reply: true },
      reply_markup: { inline_keyboard: rows },
    })
    .catch((err: unknown) => ctx.options.logger.warn({ err }, 'could not show the saved answers'));
  return 'ignored';
};

export const showCard = async (
  ctx: InboundContext,
  m: Message,
  conversationId: string,
): Promise<InboundOutcome> => {
  const state = await stateOf(ctx, conversationId);
  if (!state.started || m.message_thread_id === undefined) return 'ignored';
  await postContactCard(
    { api: ctx.options.api, texts: ctx.texts, supportChatId: ctx.options.supportChatId },
    m.message_thread_id,
    conversationId,
    state,
    true,
  ).catch((err: unknown) => ctx.options.logger.warn({ err }, 'could not post the contact card'));
  return 'ignored';
};

export const showWaiting = async (ctx: InboundContext, m: Message): Promise<InboundOutcome> => {
  const page = ctx.options.waiting
    ? await ctx.options.waiting()
    : { conversations: [], total: 0, unassigned: 0 };
  await say(ctx, m, await waitingText(ctx.texts, page));
  return 'ignored';
};

export const managerCommand = async (
  ctx: InboundContext,
  update: Update,
  m: Message,
  conversationId: string,
  command: ManagerCommandName,
  args: string,
  argsOffset: number,
): Promise<InboundOutcome> => {
  const commandId = updateCommandId(ctx.options.botId, update.update_id);
  const actor = managerActor(m);
  const at = new Date(m.date * 1000);
  let domainCommand: ConversationCommand;
  let done: string | undefined;
  switch (command) {
    case 'info':
      return showCard(ctx, m, conversationId);
    case 'waiting':
      return showWaiting(ctx, m);
    case 'take':
    case 'assign':
    case 'unassign': {
      const result = await runAssignment(
        {
          handler: ctx.options.handler,
          texts: ctx.texts,
          isMember: ctx.options.isMember,
          ...(ctx.options.members ? { members: ctx.options.members } : {}),
        },
        { command, message: m, args, conversationId, commandId, actor, at },
        async () =>
          ctx.topicText('topic.command.not_done', { reason: await commandLine(ctx.topicText, command) }),
      );
      if (result.say !== undefined) await say(ctx, m, result.say);
      return result.outcome;
    }
    case 'note':
      return addNote(ctx, update, m, conversationId, args, command);
    case 'send':
      if (args === '') {
        await usage(ctx, m, command);
        return 'ignored';
      }
      return composedOutcome(
        ctx,
        m,
        await sendComposedAnswer(ctx.composing, await composedOrigin(ctx, update, m, conversationId), {
          text: args,
          ...withEntities(entitiesFrom(m.entities, argsOffset, args.length)),
          attachments: [],
        }),
      );
    case 't':
      if (args === '') return showTemplates(ctx, m);
      return composedOutcome(
        ctx,
        m,
        await sendTemplateAnswer(ctx.composing, await composedOrigin(ctx, update, m, conversationId), args),
      );
    case 'pin':
      if (args === '') {
        await usage(ctx, m, command);
        return 'ignored';
      }
      domainCommand = {
        type: 'PinNote',
        text: args,
        managerId: actor.id,
        managerName: actor.name ?? 'manager',
      };
      done = await ctx.topicText('topic.pinned');
      break;
    case 'unpin':
      domainCommand = { type: 'UnpinNote' };
      done = await ctx.topicText('topic.unpinned');
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
        await say(ctx, m, await ctx.topicText('topic.command.delete_usage'));
        return 'ignored';
      }
      // The answer that topic message stands for: the manager's own message, or the bot's post of
      // an answer it composed (/send, /t).
      const ref = { chatId: m.chat.id, messageId: target.message_id };
      const state = await stateOf(ctx, conversationId, [groupKey(ref)]);
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
    const outcome = await run(ctx, conversationId, domainCommand, commandId, actor, at);
    // A pin of the text already pinned records nothing and is still what the manager asked for.
    if (outcome === 'recorded' || (outcome === 'ignored' && command === 'pin'))
      await say(ctx, m, done ?? (await ctx.topicText(commandTexts[command]!)));
    return outcome;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    await say(
      ctx,
      m,
      await (error.code === 'no_pinned_note'
        ? ctx.topicText('topic.no_pinned_note')
        : ctx.topicText('topic.command.not_done', { reason: error.message })),
    );
    return 'ignored';
  }
};
