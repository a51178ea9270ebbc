// Satisfaction (CSAT) on VK (docs/design.md, "Satisfaction (CSAT)"): the prompt with an inline
// keyboard of five callback buttons the reactor sends after a closing, and the client's press — a
// `message_event` whose payload names the request and the rating — answered with a snackbar
// (messages.sendMessageEventAnswer) and the prompt edited to say what was recorded.
import type { Logger } from 'pino';
import { type API, Keyboard } from 'vk-io';
import type { CommandHandler } from '../../domain/command-handler.ts';
import { DomainError } from '../../domain/errors.ts';
import type { Texts } from '../../texts/texts.ts';
import { type CsatOptions, RATINGS, ratingOf } from '../csat.ts';
import { classify } from './errors.ts';
import { eventCommandId, vkConversationId } from './refs.ts';

/** The rating button's payload: `{"csat": <request id>, "rating": n}` (VK allows 255 characters). */
export interface RatingPayload {
  readonly csat: string;
  readonly rating: number;
}

/** An inline keyboard of one row, 1 to 5, of callback buttons (a press sends no message). */
export const ratingKeyboard = (requestId: string): string => {
  const builder = Keyboard.builder().inline();
  for (const rating of RATINGS)
    builder.callbackButton({ label: String(rating), payload: { csat: requestId, rating } });
  return builder.toString();
};

/** An inline keyboard with no buttons: messages.edit takes the prompt's buttons away with it. */
const NO_KEYBOARD = JSON.stringify({ inline: true, buttons: [] });

/** A `message_event` object as VK sends it for a callback button's press. */
export interface VkMessageEvent {
  readonly user_id: number;
  readonly peer_id: number;
  readonly event_id: string;
  readonly payload?: unknown;
  readonly conversation_message_id?: number;
}

export interface VkRatingPressOptions {
  readonly handler: CommandHandler;
  readonly api: API;
  readonly groupId: number;
  readonly texts: Texts;
  readonly csat: CsatOptions;
  readonly logger: Logger;
}

/** The payload of a rating button, or undefined for any other button. */
export const ratingPayloadOf = (payload: unknown): { requestId: string; rating: number } | undefined => {
  const p = payload as Partial<RatingPayload> | undefined;
  const rating = ratingOf(p?.rating);
  return typeof p?.csat === 'string' && rating !== undefined ? { requestId: p.csat, rating } : undefined;
};

/**
 * Records a client's press of a rating button once; a press of a prompt whose request is over, or a
 * second press, records nothing. The client is answered either way; VK's answer and the prompt's
 * edit are courtesies (logged when refused), the rating is what counts.
 */
export const handleRatingPress = async (
  options: VkRatingPressOptions,
  eventId: string,
  o: VkMessageEvent,
  pressed: { readonly requestId: string; readonly rating: number },
): Promise<'recorded' | 'duplicate' | 'ignored'> => {
  const { handler, api, texts, csat, logger } = options;
  const conversationId = vkConversationId(o.user_id);
  const courtesy = async (call: () => Promise<unknown>, what: string) => {
    try {
      await call();
    } catch (error) {
      logger.info({ reason: classify(error).reason }, `vk: ${what} failed`);
    }
  };
  const tell = (text: string) =>
    courtesy(
      () =>
        api.messages.sendMessageEventAnswer({
          event_id: o.event_id,
          user_id: o.user_id,
          peer_id: o.peer_id,
          event_data: JSON.stringify({ type: 'show_snackbar', text: text.slice(0, 90) }),
        }),
      'the answer to a rating press',
    );
  const edit = (text: string) =>
    o.conversation_message_id === undefined
      ? Promise.resolve()
      : courtesy(
          () =>
            api.messages.edit({
              peer_id: o.peer_id,
              conversation_message_id: o.conversation_message_id,
              message: text,
              keyboard: NO_KEYBOARD,
            }),
          'the rating prompt edit',
        );
  const { requestId, rating } = pressed;
  try {
    const result = await handler.execute(
      conversationId,
      { type: 'RateConversation', requestId, rating },
      {
        commandId: eventCommandId(options.groupId, eventId),
        actor: { kind: 'client', id: String(o.user_id) },
        via: 'button',
      },
    );
    const language = result.state.language;
    if (!result.alreadyHandled && result.events.length === 0) {
      await tell(await texts.client('client.rating.already', language, { rating }));
      return 'ignored';
    }
    const thanks = await texts.client('client.rating.thanks', language, { rating });
    const invite =
      csat.commentWindowMs > 0 ? `\n${await texts.client('client.rating.comment_invite', language)}` : '';
    await tell(thanks);
    await edit(`${thanks}${invite}`);
    return result.alreadyHandled ? 'duplicate' : 'recorded';
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const { state } = await handler.reader.read(conversationId, { fresh: true });
    if (error.code === 'already_rated' && state.rating?.rating !== undefined) {
      await tell(
        await texts.client('client.rating.already', state.language, { rating: state.rating.rating }),
      );
      return 'ignored';
    }
    const closed = await texts.client('client.rating.closed', state.language);
    await tell(closed);
    // A prompt that was answered keeps its thanks; an unanswered one says it is over.
    if (!(state.rating?.requestId === requestId && state.rating.rating !== undefined)) await edit(closed);
    return 'ignored';
  }
};
