// A source's client rates their closed conversation (docs/design.md, "Satisfaction (CSAT)"): `POST
// /{externalId}/rating` records the rating (and a comment) for the request the closing made, once;
// `GET` tells a source that polls whether a rating is asked for now. The same POST again answers the
// same; another rating for an answered request, or a rating when none is asked for, is a 409.
import type { FastifyReply } from 'fastify';
import type { ConversationState } from '../../../domain/conversation-core.ts';
import { DomainError } from '../../../domain/errors.ts';
import type { Actor } from '../../../domain/events.ts';
import { problem } from '../../http/problem.ts';
import { commandIdOf } from '../../ids.ts';
import type { AuthenticatedSource } from '../../sources/sources.ts';
import { conversationOf, type ExternalContext, type Handler } from './context.ts';

/** The rating resource: the latest request to rate and what the client answered. */
export interface RatingResource {
  readonly request_id: string;
  /** Whether a rating (or its comment) is still taken: the conversation has stayed closed. */
  readonly open: boolean;
  readonly rating: number | null;
  readonly comment: string | null;
  readonly rated_at: string | null;
}

const ratingResource = (state: ConversationState): RatingResource | undefined => {
  const r = state.rating;
  return r
    ? {
        request_id: r.requestId,
        open: r.open,
        rating: r.rating ?? null,
        comment: r.comment ?? null,
        rated_at: r.ratedAt ?? null,
      }
    : undefined;
};

const stateOf = async (ctx: ExternalContext, source: AuthenticatedSource, externalId: string) => {
  const conversationId = conversationOf(source, externalId);
  const { state } = await ctx.handler.reader.read(conversationId, { fresh: true });
  if (!state.started)
    throw new DomainError('conversation_not_started', `no conversation with client ${externalId}`);
  return { conversationId, state };
};

const notRequested = () =>
  new DomainError('rating_not_requested', 'no rating is asked for in this conversation now');

export const getRating: Handler = async (ctx, request, reply, source) => {
  const { externalId } = request.params as { externalId: string };
  const { state } = await stateOf(ctx, source, externalId);
  const found = ratingResource(state);
  if (!found) return problem(reply, 404, 'Not Found', `${externalId} was never asked to rate`);
  return reply.send(found);
};

export const rateConversation: Handler = async (ctx, request, reply: FastifyReply, source) => {
  const { externalId } = request.params as { externalId: string };
  const body = request.body as { rating: number; comment?: string };
  const { conversationId, state } = await stateOf(ctx, source, externalId);
  const asked = state.rating;
  if (!asked) throw notRequested();
  const actor: Actor = { kind: 'source', id: source.code };
  // Derived from the request and the rating: the same POST again is the same command.
  const idOf = (...parts: (string | number)[]) =>
    commandIdOf('api', 'rating', source.code, externalId, asked.requestId, ...parts);
  let after = state;
  if (asked.rating !== body.rating) {
    after = (
      await ctx.handler.execute(
        conversationId,
        { type: 'RateConversation', requestId: asked.requestId, rating: body.rating },
        { commandId: idOf('rate', body.rating), actor },
      )
    ).state;
  }
  const comment = body.comment?.trim();
  if (comment && after.rating?.comment !== comment) {
    after = (
      await ctx.handler.execute(
        conversationId,
        { type: 'CommentRating', requestId: asked.requestId, text: comment },
        { commandId: idOf('comment'), actor },
      )
    ).state;
  }
  return reply.send(ratingResource(after));
};
