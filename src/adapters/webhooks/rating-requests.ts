// Requests to rate for a source's clients (docs/design.md, "Satisfaction (CSAT)"): for each closing of
// an `external` conversation the webhook reactor records the request (RatingRequested, with no message
// in any chat: the source renders it) and queues `conversation.rating_requested` for the source's
// webhook. Recorded before it is posted, so a rating the source sends back at once finds it open.
import type { CommandHandler } from '../../domain/command-handler.ts';
import type { ConversationState } from '../../domain/conversation-core.ts';
import type { RecordedEvent } from '../../domain/event-log.ts';
import { RATING_MAX, RATING_MIN } from '../../domain/rating.ts';
import type { SourceState } from '../../domain/source.ts';
import { ratingRequestIdOf } from '../csat.ts';
import { recordOutcome } from '../reactor-outcomes.ts';
import { deliveryIdOf, type NewDelivery } from './deliveries.ts';

/**
 * Records the request of the batch's latest closing (an earlier one in the same batch was reopened
 * since) and returns its delivery (none without a webhook URL).
 */
export const ratingRequestsOf = async (
  handler: CommandHandler,
  reactorName: string,
  conversationId: string,
  closings: readonly RecordedEvent[],
  state: ConversationState,
  source: SourceState,
  dueAt: string,
): Promise<NewDelivery[]> => {
  if (state.channel !== 'external' || !state.source || state.clientId === undefined) return [];
  const out: NewDelivery[] = [];
  let current = state;
  for (const closed of closings.slice(-1)) {
    const requestId = ratingRequestIdOf(closed.id);
    // Reopened (or banned) since: nobody is asked; asked already: the same request, queued once.
    if (current.rating?.requestId !== requestId) {
      if (!current.closed || current.banned) continue;
      current = await recordOutcome(
        handler,
        reactorName,
        conversationId,
        closed,
        { type: 'RecordRatingRequested', requestId },
        'rating-request',
      );
    }
    if (current.rating?.requestId !== requestId || !current.rating.open || !source.webhookUrl) continue;
    out.push({
      delivery_id: deliveryIdOf(conversationId, requestId, 'rating_request'),
      source: state.source,
      conversation_id: conversationId,
      external_id: state.clientId,
      message_id: requestId,
      operation: 'rating_request',
      edit_number: 0,
      event: 'conversation.rating_requested',
      event_id: closed.id,
      correlation_id: closed.metadata.correlationId,
      stream_revision: closed.revision,
      payload: {
        event: 'conversation.rating_requested',
        source: state.source,
        external_id: state.clientId,
        rating_request: {
          id: requestId,
          requested_at: closed.metadata.occurredAt,
          min: RATING_MIN,
          max: RATING_MAX,
        },
      },
      next_attempt_at: dueAt,
    });
  }
  return out;
};
