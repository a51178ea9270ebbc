// Satisfaction (CSAT) in the conversation (docs/design.md, "Satisfaction (CSAT)"): what a request to
// rate, a rating and a comment change in the core, and how the three commands are decided. One
// request per closing (its id derived from the closing by the reactor that asks); a rating is taken
// only while the request is open (the conversation still closed), once; a comment once, after it.
import type { RatingCommand } from './conversation-commands.ts';
import type { ConversationCore, RatingCore, StartedConversationState } from './conversation-core.ts';
import { DomainError } from './errors.ts';
import type { ConversationEvent, RatingEvent } from './events.ts';

export const RATING_MIN = 1;
export const RATING_MAX = 5;
/** The longest comment recorded; longer ones are cut by the adapters before they ask. */
export const RATING_COMMENT_MAX = 1000;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What a rating event changes in the core; a reopening closes the request (see the fold). */
export const ratingStep = (core: Mutable<ConversationCore>, event: RatingEvent, at?: string): void => {
  switch (event.type) {
    case 'RatingRequested':
      core.rating = { requestId: event.data.requestId, open: core.closed };
      return;
    case 'ConversationRated':
      if (core.rating?.requestId !== event.data.requestId) return;
      core.rating = { ...core.rating, rating: event.data.rating, ...(at ? { ratedAt: at } : {}) };
      return;
    case 'RatingCommented':
      if (core.rating?.requestId !== event.data.requestId) return;
      core.rating = { ...core.rating, comment: event.data.text };
      return;
  }
};

/** A rating the client may still give: asked for, still closed, not given yet. */
export const ratingOpen = (core: ConversationCore): RatingCore | undefined =>
  core.rating?.open && core.rating.rating === undefined ? core.rating : undefined;

/**
 * Whether the client's next message would be the comment on their rating: rated, not commented, the
 * conversation still closed, and `now` within `windowMs` of the rating (0 turns comments off).
 */
export const awaitingRatingComment = (core: ConversationCore, now: Date, windowMs: number): boolean => {
  const r = core.rating;
  if (!r?.open || r.rating === undefined || r.comment !== undefined || !r.ratedAt || windowMs <= 0)
    return false;
  // A channel dates a message to the second: one written in the second of the rating is after it.
  const since = now.getTime() - Date.parse(r.ratedAt);
  return since > -1000 && since <= windowMs;
};

const requireOpen = (state: StartedConversationState, requestId: string): RatingCore => {
  const r = state.rating;
  if (r?.requestId !== requestId || !r.open)
    throw new DomainError('rating_not_requested', 'no rating is asked for in this conversation now');
  return r;
};

export const decideRating = (
  command: RatingCommand,
  state: StartedConversationState,
): readonly ConversationEvent[] => {
  switch (command.type) {
    case 'RecordRatingRequested': {
      // The same request reported again is a retry; one reported after a reopening comes too late.
      if (state.rating?.requestId === command.requestId || !state.closed) return [];
      const { requestId, channelMessage } = command;
      return [
        { type: 'RatingRequested', data: { requestId, ...(channelMessage ? { channelMessage } : {}) } },
      ];
    }
    case 'RateConversation': {
      const { requestId, rating } = command;
      if (!Number.isInteger(rating) || rating < RATING_MIN || rating > RATING_MAX)
        throw new DomainError('invalid_rating', `a rating is an integer from ${RATING_MIN} to ${RATING_MAX}`);
      const r = requireOpen(state, requestId);
      if (r.rating === rating) return []; // pressed again: recorded once
      if (r.rating !== undefined)
        throw new DomainError('already_rated', `the conversation was rated ${r.rating} already`);
      return [{ type: 'ConversationRated', data: { requestId, rating } }];
    }
    case 'CommentRating': {
      const text = command.text.trim();
      if (text === '') throw new DomainError('invalid_comment', 'a comment needs text');
      if (text.length > RATING_COMMENT_MAX)
        throw new DomainError('invalid_comment', `a comment is at most ${RATING_COMMENT_MAX} characters`);
      const r = requireOpen(state, command.requestId);
      if (r.rating === undefined) throw new DomainError('not_rated', 'a comment follows a rating');
      if (r.comment === text) return []; // the same comment again: recorded once
      if (r.comment !== undefined)
        throw new DomainError('already_commented', 'the rating has a comment already');
      return [{ type: 'RatingCommented', data: { requestId: command.requestId, text } }];
    }
  }
};
