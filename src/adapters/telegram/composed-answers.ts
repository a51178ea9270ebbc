// Answers the bot writes into the topic on a manager's behalf and then carries to the client like any
// answer: `/send <text>` (a text that starts with a slash on purpose) and saved answers (`/t <name>`,
// or a press on its button). The manager's own message is a command and stays as it is; the bot posts
// the very text the client will get as a reply to it, and the answer is recorded with that post as
// its topic message, so the reactors copy it from there, and replies to it thread like replies to any
// answer (docs/design.md, "Notes and saved answers").
import type { Api } from 'grammy';
import type { InlineKeyboardButton, MessageEntity } from 'grammy/types';
import type { Logger } from 'pino';
import type { CommandHandler } from '../../domain/command-handler.ts';
import { isStarted } from '../../domain/conversation-core.ts';
import type { Actor, MessageContent, TemplateUse } from '../../domain/events.ts';
import {
  expandTemplate,
  pickTemplateText,
  TEMPLATE_TEXT_LIMIT,
  type TemplatesState,
} from '../../domain/settings/templates.ts';
import { localeOf, locales } from '../../texts/catalogue.ts';
import type { Texts } from '../../texts/texts.ts';
import { idOfParts } from '../ids.ts';
import type { CallbackHandler } from './callbacks.ts';
import { callbackData } from './contact-card.ts';
import { telegramFailure } from './errors.ts';
import { displayName } from './translate.ts';

export interface ComposedAnswerDeps {
  readonly handler: CommandHandler;
  /** The Bot API behind the outgoing limiter: the post shares the support group's budget. */
  readonly api: Api;
  readonly supportChatId: string;
  readonly logger: Logger;
  /** The saved answers as the log has them now. */
  readonly templates: () => Promise<TemplatesState>;
  /** What the bot tells managers (LOCALE's language, also the one a saved answer falls back to). */
  readonly texts: Texts;
}

/** Where the request came from: the manager, the update that asked, the topic it was asked in. */
export interface ComposedAnswerOrigin {
  readonly conversationId: string;
  /** The manager (kind `manager`, the Telegram user id, the name). */
  readonly actor: Actor;
  /** The update's command id (updateCommandId): a re-delivered update records nothing new. */
  readonly commandId: string;
  /** The topic (message_thread_id) the answer is shown in. */
  readonly topicId: number;
  /** The topic message the bot's post replies to (the command, or the message with the buttons). */
  readonly replyToMessageId?: number;
  /** The conversation's message the answer replies to (the command replied to a client's message). */
  readonly answerReplyTo?: string;
  /** When the manager asked. */
  readonly at: Date;
}

export type ComposedAnswerResult =
  /** Recorded, or recorded before (a re-delivered update or a second press of the same update). */
  | { readonly outcome: 'recorded' | 'duplicate'; readonly answerId: string }
  /** Nothing was sent; `notice` says why, in the managers' language. */
  | { readonly outcome: 'refused'; readonly notice: string };

/** The callback prefix of a saved answer's button, whose data is `tpl:<name>` (at most 36 bytes of 64). */
export const TEMPLATE_CALLBACK = 'tpl';
export const TEMPLATE_CALLBACK_PREFIX = `${TEMPLATE_CALLBACK}:`;

/** The template a button's callback data names, or undefined when it is not a saved answer's button. */
export const templateOfCallback = (data: string | undefined): string | undefined =>
  data?.startsWith(TEMPLATE_CALLBACK_PREFIX) ? data.slice(TEMPLATE_CALLBACK_PREFIX.length) : undefined;

/** Telegram shows at most 100 buttons under a message. */
const MAX_BUTTONS = 100;

/** The saved answers as buttons, two a row, by name; `more` counts those left out. */
export const templateKeyboard = (
  state: TemplatesState,
): { readonly rows: InlineKeyboardButton[][]; readonly more: number } => {
  const names = [...state.templates.keys()].sort();
  const shown = names.slice(0, MAX_BUTTONS);
  const rows: InlineKeyboardButton[][] = [];
  for (let i = 0; i < shown.length; i += 2)
    rows.push(
      shown
        .slice(i, i + 2)
        .map((name) => ({ text: name, callback_data: callbackData(TEMPLATE_CALLBACK, name) })),
    );
  return { rows, more: names.length - shown.length };
};

const refused = (notice: string): ComposedAnswerResult => ({ outcome: 'refused', notice });

/**
 * Posts `content` in the topic as a reply to the manager's command and records it as the manager's
 * answer. The answer's id comes from the update, so a re-delivery finds it recorded and posts
 * nothing; a post made by a run that failed before recording is taken back.
 */
export const sendComposedAnswer = async (
  deps: ComposedAnswerDeps,
  origin: ComposedAnswerOrigin,
  content: MessageContent,
  template?: TemplateUse,
): Promise<ComposedAnswerResult> => {
  const { handler, api, supportChatId, logger } = deps;
  const { texts } = deps;
  const answerId = idOfParts(['composed-answer', origin.commandId]);
  const { state } = await handler.reader.read(origin.conversationId, { messageIds: [answerId], fresh: true });
  if (state.messages.get(answerId)) return { outcome: 'duplicate', answerId };
  if (content.text.length > TEMPLATE_TEXT_LIMIT)
    return refused(
      await texts.topic('topic.answer_too_long', { length: content.text.length, limit: TEMPLATE_TEXT_LIMIT }),
    );

  let postId: number;
  try {
    const post = await api.sendMessage(supportChatId, content.text, {
      message_thread_id: origin.topicId,
      ...(content.entities ? { entities: content.entities as unknown as MessageEntity[] } : {}),
      ...(origin.replyToMessageId
        ? { reply_parameters: { message_id: origin.replyToMessageId, allow_sending_without_reply: true } }
        : {}),
    });
    postId = post.message_id;
  } catch (error) {
    const failure = telegramFailure(error);
    if (!failure || failure.retry) throw error;
    return refused(await texts.topic('topic.answer_not_shown', { reason: failure.reason }));
  }

  const result = await handler.execute(
    origin.conversationId,
    {
      type: 'ReplyAsManager',
      messageId: answerId,
      managerId: origin.actor.id,
      managerName: origin.actor.name ?? 'manager',
      content,
      groupMessage: { chatId: supportChatId, messageId: String(postId) },
      ...(origin.answerReplyTo ? { replyTo: origin.answerReplyTo } : {}),
      ...(template ? { template } : {}),
    },
    { commandId: origin.commandId, actor: origin.actor, occurredAt: origin.at.toISOString() },
  );
  if (result.alreadyHandled || result.events.length === 0) {
    // Recorded meanwhile by another delivery of the same update: this post is a second copy.
    await api
      .deleteMessage(supportChatId, postId)
      .catch((err: unknown) => logger.warn({ err }, 'could not take back a second copy of an answer'));
    return { outcome: 'duplicate', answerId };
  }
  return { outcome: 'recorded', answerId };
};

/** The saved answer `name` for this conversation: in the client's language, its variables filled. */
export const composeTemplate = async (
  deps: ComposedAnswerDeps,
  conversationId: string,
  manager: Actor,
  name: string,
): Promise<{ content: MessageContent; template: TemplateUse } | { notice: string }> => {
  const templates = await deps.templates();
  const wanted = name.trim().toLowerCase();
  const template = templates.templates.get(wanted);
  if (!template) {
    const names = [...templates.templates.keys()].sort().join(', ') || '—';
    return { notice: await deps.texts.topic('topic.template_unknown', { name: wanted, names }) };
  }
  const { state } = await deps.handler.reader.read(conversationId, { fresh: true });
  if (!isStarted(state))
    return {
      notice: await deps.texts.topic('topic.template_unknown', { name: wanted, names: '—' }),
    };
  // The client's latest language (recorded when it changes), else the one it started with.
  const clientLocale = localeOf(state.language ?? state.profile.languageCode);
  const picked = pickTemplateText(template, clientLocale, deps.texts.defaultLocale, locales);
  const text = expandTemplate(picked.text, {
    client_name: displayName(state.profile, state.clientId),
    client_username: state.profile.username ?? '',
    client_id: state.clientId,
    manager_name: manager.name ?? '',
    source: state.source,
    channel: state.channel,
    conversation_id: state.conversationId,
  });
  return {
    content: { text, attachments: [] },
    template: { name: template.name, version: template.version, locale: picked.locale },
  };
};

/**
 * Sends saved answer `name` to the conversation's client as `origin.actor`'s answer: what `/t <name>`
 * does, and what a press on a `tpl:<name>` button does (the callback dispatch calls this with the
 * pressing manager, the callback's update and the topic of the pressed message).
 */
export const sendTemplateAnswer = async (
  deps: ComposedAnswerDeps,
  origin: ComposedAnswerOrigin,
  name: string,
): Promise<ComposedAnswerResult> => {
  const composed = await composeTemplate(deps, origin.conversationId, origin.actor, name);
  if ('notice' in composed) return refused(composed.notice);
  return sendComposedAnswer(deps, origin, composed.content, composed.template);
};

/** Telegram shows at most 200 characters in a press's answer. */
const PRESS_ANSWER_LIMIT = 200;

const clipped = (text: string) =>
  text.length <= PRESS_ANSWER_LIMIT ? text : `${text.slice(0, PRESS_ANSWER_LIMIT - 1)}…`;

/**
 * The handler of `tpl:<name>` (the buttons `/t` shows): sends that saved answer to the client of the
 * topic the buttons stand in, as the manager who pressed, replying to the message with the buttons.
 * A refusal (no such answer any more, too long) is an alert for the presser; nothing is sent.
 */
export const templateButtons =
  (
    send: (origin: ComposedAnswerOrigin, name: string) => Promise<ComposedAnswerResult>,
    texts: Texts,
  ): CallbackHandler =>
  async (press) => {
    const message = press.query.message;
    const topicId = message && 'message_thread_id' in message ? message.message_thread_id : undefined;
    const conversationId = await press.conversationOfTopic();
    if (!message || press.args === '' || topicId === undefined || !conversationId)
      return { text: await texts.topic('topic.press.unknown'), outcome: 'ignored' };
    const result = await send(
      {
        conversationId,
        actor: press.actor,
        commandId: press.commandId,
        topicId,
        replyToMessageId: message.message_id,
        at: press.at,
      },
      press.args,
    );
    if (result.outcome === 'refused')
      return { text: clipped(result.notice), showAlert: true, outcome: 'ignored' };
    return {
      text: await texts.topic('topic.press.template_sent', { name: press.args }),
      outcome: result.outcome,
    };
  };
