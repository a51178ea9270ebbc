// Satisfaction (CSAT) on Telegram (docs/design.md, "Satisfaction (CSAT)"): the prompt with five
// buttons the reactor sends a Telegram client after a closing, the handler of the client's press
// (`rate:<request>:<n>` in their private chat), and the line the managers see in the topic — posted
// at a quiet moment of the limiter, so client messages go first.
import type { InlineKeyboardButton } from 'grammy/types';
import type { Logger } from 'pino';
import type { CommandHandler } from '../../domain/command-handler.ts';
import type { ConversationState } from '../../domain/conversation-core.ts';
import { DomainError } from '../../domain/errors.ts';
import type { Texts } from '../../texts/texts.ts';
import { type CsatOptions, RATINGS, ratingOf, ratingRequestIdOf } from '../csat.ts';
import type { Turn } from '../reactor-kernel.ts';
import type { CallbackAnswer, ClientCallbackHandler } from './callbacks.ts';
import { callbackData } from './contact-card.ts';
import { refusal } from './errors.ts';
import { ignoreRefused, type TelegramReactorContext } from './reactor-context.ts';
import { truncate } from './topic-title.ts';

/** The prefix of the rating buttons' callback_data: `rate:<request id>:<1-5>` (43 bytes). */
export const RATING_CALLBACK = 'rate';

/** One row of five buttons, 1 to 5. */
export const ratingKeyboard = (requestId: string): InlineKeyboardButton[][] => [
  RATINGS.map((n) => ({
    text: String(n),
    callback_data: callbackData(RATING_CALLBACK, requestId, String(n)),
  })),
];

/** After a closing, asks a Telegram client once to rate the conversation (CSAT=on). */
export const ratingPrompt = async (ctx: TelegramReactorContext, turn: Turn, clientChat: string) => {
  const s = turn.state;
  const requestId = ratingRequestIdOf(turn.recorded.id);
  // Reopened (or banned) since, or asked already for this closing: nothing to ask.
  if (!s.closed || s.banned || s.rating?.requestId === requestId) return;
  const sent = await ctx.api
    .sendMessage(clientChat, await ctx.texts.client('client.rating.prompt', s.language), {
      reply_markup: { inline_keyboard: ratingKeyboard(requestId) },
    })
    .catch((e: unknown) => ignoreRefused(ctx, e));
  if (!sent) return; // the client blocked the bot: nobody was asked
  await turn.record(
    {
      type: 'RecordRatingRequested',
      requestId,
      channelMessage: { chatId: String(sent.chat.id), messageId: String(sent.message_id) },
    },
    'rating-request',
  );
};

/** The rating (and its comment) in the topic, for the managers; after client messages have gone. */
export const ratingLine = async (ctx: TelegramReactorContext, turn: Turn) => {
  const { topic, rating } = turn.state;
  const { event } = turn;
  if (!topic) return;
  let text: string;
  if (event.type === 'ConversationRated') {
    text = await ctx.texts.topic('topic.rating', { rating: event.data.rating });
  } else if (event.type === 'RatingCommented') {
    // The rating it comments on, unless a later closing's request has replaced it meanwhile.
    const given = rating?.requestId === event.data.requestId ? rating.rating : undefined;
    text = await ctx.texts.topic('topic.rating_comment', { rating: given ?? '?', comment: event.data.text });
  } else return;
  await ctx.quiet?.(ctx.supportChatId);
  await ctx.api
    .sendMessage(ctx.supportChatId, truncate(text, 4096), {
      message_thread_id: Number(topic.topicId),
      disable_notification: true,
    })
    .catch((e: unknown) => ignoreRefused(ctx, e));
};

/** Thanks a Telegram client for the comment on their rating. */
export const commentThanks = async (ctx: TelegramReactorContext, turn: Turn, clientChat: string) => {
  await ctx.api
    .sendMessage(clientChat, await ctx.texts.client('client.rating.comment_thanks', turn.state.language))
    .catch((e: unknown) => ignoreRefused(ctx, e));
};

export interface RatingButtonsOptions {
  readonly handler: CommandHandler;
  readonly texts: Texts;
  readonly csat: CsatOptions;
  readonly logger: Logger;
  /** Edits the prompt the client pressed (its text, and the buttons taken away). */
  readonly editPrompt: (chatId: number, messageId: number, text: string) => Promise<unknown>;
}

/**
 * The handler of `rate:<request>:<n>`: records the client's rating once. A press on a prompt whose
 * request is over (the conversation reopened, a later closing asked again) or a second press records
 * nothing; the prompt then loses its buttons, so the client sees it is done.
 */
export const ratingButtons = (options: RatingButtonsOptions): ClientCallbackHandler => {
  const { handler, texts, csat, logger } = options;
  const say = (key: Parameters<Texts['client']>[0], state: ConversationState, vars = {}) =>
    texts.client(key, state.language, vars);
  const edit = async (press: Parameters<ClientCallbackHandler>[0], text: string) => {
    const m = press.query.message;
    if (!m) return;
    await options.editPrompt(m.chat.id, m.message_id, text).catch((error: unknown) => {
      if (!refusal(error)) throw error;
      logger.info({ err: error }, 'the rating prompt could not be edited');
    });
  };
  return async (press): Promise<CallbackAnswer> => {
    const [requestId = '', n = ''] = press.args.split(':');
    const rating = ratingOf(n);
    const read = async () => (await handler.reader.read(press.conversationId, { fresh: true })).state;
    if (rating === undefined)
      return { text: await say('client.rating.closed', await read()), outcome: 'ignored' };
    try {
      const result = await handler.execute(
        press.conversationId,
        { type: 'RateConversation', requestId, rating },
        { commandId: press.commandId, actor: press.actor, occurredAt: press.at.toISOString(), via: 'button' },
      );
      const state = result.state;
      if (!result.alreadyHandled && result.events.length === 0) {
        return { text: await say('client.rating.already', state, { rating }), outcome: 'ignored' };
      }
      const thanks = await say('client.rating.thanks', state, { rating });
      const invite = csat.commentWindowMs > 0 ? `\n${await say('client.rating.comment_invite', state)}` : '';
      await edit(press, `${thanks}${invite}`);
      return { text: thanks, outcome: result.alreadyHandled ? 'duplicate' : 'recorded' };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const state = await read();
      if (error.code === 'already_rated' && state.rating?.rating !== undefined) {
        return {
          text: await say('client.rating.already', state, { rating: state.rating.rating }),
          outcome: 'ignored',
        };
      }
      const closed = await say('client.rating.closed', state);
      // A prompt that was answered keeps its thanks; an unanswered one says it is over.
      if (!(state.rating?.requestId === requestId && state.rating.rating !== undefined))
        await edit(press, closed);
      return { text: closed, outcome: 'ignored' };
    }
  };
};
