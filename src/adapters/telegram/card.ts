// The contact card: posted at the top of each new topic (and again on /info or its Info button), with
// buttons that follow the conversation — Close or Reopen, Ban or Unban, Info — and the handler of
// those buttons' presses (docs/design.md, "Callbacks").
import type { Api } from 'grammy';
import type { Message } from 'grammy/types';
import type { Logger } from 'pino';
import type { CommandHandler } from '../../domain/command-handler.ts';
import type { ConversationCommand } from '../../domain/conversation-commands.ts';
import { type ConversationState, currentCard } from '../../domain/conversation-state.ts';
import { DomainError } from '../../domain/errors.ts';
import { shippedText, type TextKey } from '../../texts/catalogue.ts';
import type { CallbackAnswer, CallbackHandler } from './callbacks.ts';
import { refusal } from './errors.ts';
import { type CardAction, cardKeyboard, contactCard, isCardAction } from './translate.ts';

/** Posts the conversation's contact card, with its buttons, into a topic. */
export const postContactCard = (
  api: Api,
  chatId: string,
  threadId: number,
  conversationId: string,
  state: ConversationState,
): Promise<Message.TextMessage> => {
  const card = contactCard({
    channel: state.channel ?? 'telegram',
    source: state.source ?? '',
    clientId: state.clientId ?? '',
    profile: state.profile ?? {},
    conversationId,
  });
  return api.sendMessage(chatId, card.text, {
    message_thread_id: threadId,
    entities: card.entities,
    reply_markup: cardKeyboard(conversationId, state),
  });
};

/**
 * Sets a card's buttons to what the conversation is now. "Not modified" (it shows that already) and a
 * card since deleted are fine: the buttons are a convenience, the state is the log's.
 */
export const refreshCardButtons = async (
  api: Api,
  ref: { readonly chatId: string; readonly messageId: string },
  conversationId: string,
  state: ConversationState,
  logger: Logger,
): Promise<void> => {
  try {
    await api.editMessageReplyMarkup(ref.chatId, Number(ref.messageId), {
      reply_markup: cardKeyboard(conversationId, state),
    });
  } catch (error) {
    const refused = refusal(error);
    if (!refused) throw error;
    if (refused.kind !== 'not-modified')
      logger.info({ err: error, conversationId }, "the contact card's buttons could not be updated");
  }
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
  close: 'press.closed',
  reopen: 'press.reopened',
  ban: 'press.banned',
  unban: 'press.unbanned',
};

/** Words shown to the manager who pressed (the support group's language is the default one). */
const pressText = (key: TextKey, vars: Record<string, string> = {}) => shippedText(key, 'en', vars);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface CardButtonsOptions {
  readonly api: Api;
  readonly handler: CommandHandler;
  readonly supportChatId: string;
  readonly logger: Logger;
}

/**
 * The handler of `card:<action>:<conversation>`: the same command as /close, /reopen, /ban, /unban
 * and /info, recorded with the manager who pressed and `via: button`. The card that was pressed is
 * brought up to date at once when it is not the topic's own card (an /info copy, a stale one); the
 * topic's own card follows the recorded change through the reactor.
 */
export const cardButtons = (options: CardButtonsOptions): CallbackHandler => {
  const { api, handler, supportChatId, logger } = options;

  const refreshPressed = async (
    message: { readonly chat: { readonly id: number }; readonly message_id: number } | undefined,
    conversationId: string,
    state: ConversationState,
  ) => {
    if (!message || String(message.chat.id) !== supportChatId) return;
    const own = currentCard(state);
    if (own?.chatId === String(message.chat.id) && own.messageId === String(message.message_id)) return;
    await refreshCardButtons(
      api,
      { chatId: supportChatId, messageId: String(message.message_id) },
      conversationId,
      state,
      logger,
    );
  };

  return async (press): Promise<CallbackAnswer> => {
    const [action = '', conversationId = ''] = press.args.split(':');
    if (!isCardAction(action) || !UUID.test(conversationId)) {
      return { text: pressText('press.unknown'), outcome: 'ignored' };
    }
    const message = press.query.message;
    if (action === 'info') {
      const { state } = await handler.reader.read(conversationId, { fresh: true });
      const threadId = message && 'message_thread_id' in message ? message.message_thread_id : undefined;
      if (!state.started || threadId === undefined)
        return { text: pressText('press.unknown'), outcome: 'ignored' };
      await postContactCard(api, supportChatId, threadId, conversationId, state);
      return { text: pressText('press.info'), outcome: 'ignored' };
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
      return { text: pressText(doneText[action]), outcome };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      // Pressed on a card that was behind (closed already, say): it is set right as the answer goes.
      const { state } = await handler.reader.read(conversationId, { fresh: true });
      if (state.started) await refreshPressed(message, conversationId, state);
      return { text: pressText('press.not_done', { reason: error.message }), outcome: 'ignored' };
    }
  };
};
