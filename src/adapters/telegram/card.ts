// The contact card: posted at the top of each new topic (and again on /info or its Info button) in the
// topic's language — its words come from the catalogue (`topic.card.*`), as operators set them — with
// buttons that follow the conversation (Close or Reopen, Ban or Unban, Info), and the handler of those
// buttons' presses (docs/design.md, "Callbacks").
import type { Api } from 'grammy';
import type { Message } from 'grammy/types';
import type { Logger } from 'pino';
import type { CommandHandler } from '../../domain/command-handler.ts';
import type { ConversationCommand } from '../../domain/conversation-commands.ts';
import { type ConversationState, currentCard } from '../../domain/conversation-core.ts';
import { DomainError } from '../../domain/errors.ts';
import { fill, type TextKey } from '../../texts/catalogue.ts';
import type { Texts } from '../../texts/texts.ts';
import type { CallbackAnswer, CallbackHandler } from './callbacks.ts';
import {
  type CardAction,
  type CardButtonLabels,
  type ContactCardLabels,
  cardKeyboard,
  contactCard,
  type FormattedText,
  isCardAction,
} from './contact-card.ts';
import { refusal } from './errors.ts';

export const cardLabels = async (texts: Texts): Promise<ContactCardLabels> => {
  // Asked without variables, a text keeps its placeholders: filled per card below.
  const [channel, client, conversation, language, assignee, unassigned] = await Promise.all([
    texts.topic('topic.card.channel'),
    texts.topic('topic.card.client'),
    texts.topic('topic.card.conversation'),
    texts.topic('topic.card.language'),
    texts.topic('topic.card.assignee'),
    texts.topic('topic.card.unassigned'),
  ]);
  return {
    channel: (c, source) => fill(channel, { channel: c, source }),
    client,
    conversation,
    language: (l) => fill(language, { language: l }),
    assignee: (name) => (name ? fill(assignee, { assignee: name }) : unassigned),
  };
};

/** The card's button labels in the topic's language. */
export const cardButtonLabels = async (texts: Texts): Promise<CardButtonLabels> => {
  const [close, reopen, ban, unban, info] = await Promise.all([
    texts.topic('topic.card.close'),
    texts.topic('topic.card.reopen'),
    texts.topic('topic.card.ban'),
    texts.topic('topic.card.unban'),
    texts.topic('topic.card.info'),
  ]);
  return { close, reopen, ban, unban, info };
};

/** The card of a started conversation, as it stands now (the client's latest language included). */
export const contactCardOf = async (
  texts: Texts,
  state: ConversationState,
  conversationId: string,
): Promise<FormattedText> =>
  contactCard(
    {
      channel: state.channel ?? 'telegram',
      source: state.source ?? '',
      clientId: state.clientId ?? '',
      profile: state.profile ?? {},
      conversationId,
      ...(state.language ? { language: state.language } : {}),
      ...(state.assignee ? { assignee: state.assignee.name } : {}),
    },
    await cardLabels(texts),
  );

/** Where a card is posted: the Bot API, the support group, the topic's words. */
export interface CardDeps {
  readonly api: Api;
  readonly texts: Texts;
  readonly supportChatId: string;
}

/**
 * Posts the conversation's contact card, with its buttons, into a topic. `withPinnedNote` (/info and
 * its button) adds the client's pinned note under the card: appended, so the card's entities keep
 * their offsets.
 */
export const postContactCard = async (
  deps: CardDeps,
  threadId: number,
  conversationId: string,
  state: ConversationState,
  withPinnedNote = false,
): Promise<Message.TextMessage> => {
  const { api, texts, supportChatId } = deps;
  const card = await contactCardOf(texts, state, conversationId);
  const pinned =
    withPinnedNote && state.pinnedNote
      ? `\n\n${await texts.topic('topic.card_pinned_note', { text: state.pinnedNote.text, manager: state.pinnedNote.managerName })}`
      : '';
  return api.sendMessage(supportChatId, `${card.text}${pinned}`, {
    message_thread_id: threadId,
    entities: card.entities,
    reply_markup: cardKeyboard(conversationId, state, await cardButtonLabels(texts)),
  });
};

/**
 * Edits the contact card to what the conversation is now. "Not modified" (it shows that already) and
 * a card since deleted are fine: the card is a convenience, the state is the log's.
 */
const editCard = async (
  edit: () => Promise<unknown>,
  conversationId: string,
  logger: Logger,
  what: string,
): Promise<void> => {
  try {
    await edit();
  } catch (error) {
    const refused = refusal(error);
    if (!refused) throw error;
    if (refused.kind !== 'not-modified')
      logger.info({ err: error, conversationId }, `${what} could not be updated`);
  }
};

/** Sets a card's buttons to what the conversation is now. */
export const refreshCardButtons = async (
  deps: Pick<CardDeps, 'api' | 'texts'>,
  ref: { readonly chatId: string; readonly messageId: string },
  conversationId: string,
  state: ConversationState,
  logger: Logger,
): Promise<void> => {
  const reply_markup = cardKeyboard(conversationId, state, await cardButtonLabels(deps.texts));
  await editCard(
    () => deps.api.editMessageReplyMarkup(ref.chatId, Number(ref.messageId), { reply_markup }),
    conversationId,
    logger,
    "the contact card's buttons",
  );
};

/** Sets the card's text (and buttons) to what the conversation is now: after an assignment, whose assignee it names. */
export const refreshCardText = async (
  deps: Pick<CardDeps, 'api' | 'texts'>,
  ref: { readonly chatId: string; readonly messageId: string },
  conversationId: string,
  state: ConversationState,
  logger: Logger,
): Promise<void> => {
  const card = await contactCardOf(deps.texts, state, conversationId);
  const reply_markup = cardKeyboard(conversationId, state, await cardButtonLabels(deps.texts));
  await editCard(
    () =>
      deps.api.editMessageText(ref.chatId, Number(ref.messageId), card.text, {
        entities: card.entities,
        reply_markup,
      }),
    conversationId,
    logger,
    'the contact card',
  );
};

const commandOf = (action: Exclude<CardAction, 'info'>): ConversationCommand => {
  switch (action) {
    case 'close':
      return { type: 'CloseConversation' };
    case 'reopen':
      return { type: 'ReopenConversation' };
    case 'ban':
      return { type: 'BanClient' };
    case 'unban':
      return { type: 'UnbanClient' };
  }
};

const doneText: Record<Exclude<CardAction, 'info'>, TextKey> = {
  close: 'topic.press.closed',
  reopen: 'topic.press.reopened',
  ban: 'topic.press.banned',
  unban: 'topic.press.unbanned',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface CardButtonsOptions extends CardDeps {
  readonly handler: CommandHandler;
  readonly logger: Logger;
}

/**
 * The handler of `card:<action>:<conversation>`: the same command as /close, /reopen, /ban, /unban
 * and /info, recorded with the manager who pressed and `via: button`. The card that was pressed is
 * brought up to date at once when it is not the topic's own card (an /info copy, a stale one); the
 * topic's own card follows the recorded change through the reactor.
 */
export const cardButtons = (options: CardButtonsOptions): CallbackHandler => {
  const { handler, supportChatId, logger } = options;
  /** Words shown to the manager who pressed, in the topic's language. */
  const pressText = (key: TextKey, vars: Record<string, string> = {}) => options.texts.topic(key, vars);

  const refreshPressed = async (
    message: { readonly chat: { readonly id: number }; readonly message_id: number } | undefined,
    conversationId: string,
    state: ConversationState,
  ) => {
    if (!message || String(message.chat.id) !== supportChatId) return;
    const own = currentCard(state);
    if (own?.chatId === String(message.chat.id) && own.messageId === String(message.message_id)) return;
    await refreshCardButtons(
      options,
      { chatId: supportChatId, messageId: String(message.message_id) },
      conversationId,
      state,
      logger,
    );
  };

  return async (press): Promise<CallbackAnswer> => {
    const [action = '', conversationId = ''] = press.args.split(':');
    if (!isCardAction(action) || !UUID.test(conversationId)) {
      return { text: await pressText('topic.press.unknown'), outcome: 'ignored' };
    }
    const message = press.query.message;
    if (action === 'info') {
      const { state } = await handler.reader.read(conversationId, { fresh: true });
      const threadId = message && 'message_thread_id' in message ? message.message_thread_id : undefined;
      if (!state.started || threadId === undefined)
        return { text: await pressText('topic.press.unknown'), outcome: 'ignored' };
      await postContactCard(options, threadId, conversationId, state, true);
      return { text: await pressText('topic.press.info'), outcome: 'ignored' };
    }
    try {
      const result = await handler.execute(conversationId, commandOf(action), {
        commandId: press.commandId,
        actor: press.actor,
        occurredAt: press.at.toISOString(),
        via: 'button',
      });
      await refreshPressed(message, conversationId, result.state);
      const outcome = result.alreadyHandled ? 'duplicate' : result.events.length > 0 ? 'recorded' : 'ignored';
      return { text: await pressText(doneText[action]), outcome };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      // Pressed on a card that was behind (closed already, say): it is set right as the answer goes.
      const { state } = await handler.reader.read(conversationId, { fresh: true });
      if (state.started) await refreshPressed(message, conversationId, state);
      return { text: await pressText('topic.press.not_done', { reason: error.message }), outcome: 'ignored' };
    }
  };
};
