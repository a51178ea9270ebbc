// Satisfaction (CSAT) as every channel's adapters share it (docs/design.md, "Satisfaction (CSAT)"):
// the setting, the request's id derived from the closing, and the rule that takes a client's next
// message after rating as the rating's comment instead of a message to the managers.
import type { CommandHandler } from '../domain/command-handler.ts';
import type { ConversationState } from '../domain/conversation-core.ts';
import { DomainError } from '../domain/errors.ts';
import type { Actor, MessageContent } from '../domain/events.ts';
import { awaitingRatingComment, RATING_COMMENT_MAX, RATING_MAX, RATING_MIN } from '../domain/rating.ts';
import { idOfParts } from './ids.ts';

/** CSAT and CSAT_COMMENT_MINUTES. */
export interface CsatOptions {
  /** Ask after each closing. Off: nobody is asked (a press on a prompt asked before is still taken). */
  readonly enabled: boolean;
  /** How long after rating the client's next text message is its comment; 0 (and with CSAT off): none. */
  readonly commentWindowMs: number;
}

export const CSAT_OFF: CsatOptions = { enabled: false, commentWindowMs: 0 };

/** The ratings a prompt offers, in order. */
export const RATINGS: readonly number[] = Array.from(
  { length: RATING_MAX - RATING_MIN + 1 },
  (_, i) => RATING_MIN + i,
);

/** One request per closing: its id is derived from the ConversationClosed event's id. */
export const ratingRequestIdOf = (closedEventId: string): string =>
  idOfParts(['rating-request', closedEventId]);

/** A rating as a press carries it: an integer in range, else undefined. */
export const ratingOf = (value: unknown): number | undefined => {
  const n = typeof value === 'string' && /^\d$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= RATING_MIN && n <= RATING_MAX ? n : undefined;
};

/**
 * The comment a message would be: text only (a file or a location is a message for the managers),
 * and the conversation waits for the comment on the rating just given (awaitingRatingComment).
 */
export const commentOf = (
  state: ConversationState,
  content: MessageContent,
  at: Date,
  csat: CsatOptions,
): string | undefined => {
  const text = content.text.trim();
  if (text === '' || content.attachments.length > 0) return undefined;
  if (!awaitingRatingComment(state, at, csat.commentWindowMs)) return undefined;
  return text.length > RATING_COMMENT_MAX ? `${text.slice(0, RATING_COMMENT_MAX - 1)}…` : text;
};

/**
 * Records a client's message as the comment on their rating when it is one: 'recorded', 'duplicate'
 * (the same update again), or undefined — then it is an ordinary message (also when the rating's
 * state moved on meanwhile and the comment was refused).
 */
export const recordRatingComment = async (
  handler: CommandHandler,
  csat: CsatOptions,
  conversationId: string,
  content: MessageContent,
  at: Date,
  meta: { readonly commandId: string; readonly actor: Actor },
): Promise<'recorded' | 'duplicate' | undefined> => {
  if (csat.commentWindowMs <= 0) return undefined;
  // Fresh: the rating may have been recorded by another instance a moment ago (one read of the
  // stream's tail per client message, with CSAT on only).
  const { state } = await handler.reader.read(conversationId, { fresh: true });
  const text = commentOf(state, content, at, csat);
  if (text === undefined || !state.rating) return undefined;
  try {
    const result = await handler.execute(
      conversationId,
      { type: 'CommentRating', requestId: state.rating.requestId, text },
      { ...meta, occurredAt: at.toISOString() },
    );
    if (result.alreadyHandled) return 'duplicate';
    return result.events.length > 0 ? 'recorded' : undefined;
  } catch (error) {
    if (error instanceof DomainError) return undefined;
    throw error;
  }
};
