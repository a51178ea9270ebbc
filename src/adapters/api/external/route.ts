// Every external API route: the bearer token and the rate limit before the body is read, strings
// PostgreSQL cannot store as a 400, and the domain's refusals as problems.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CommandGaveUpError, DomainError, EventIdConflictError } from '../../../domain/errors.ts';
import { badRequest, problem } from '../../http/problem.ts';
import { type RouteDefinition, type RouteHandler, takesForms } from '../../http/routes.ts';
import { allValidationErrors } from '../../http/validation.ts';
import { type AuthenticatedSource, dialectOfRefusedToken } from '../../sources/sources.ts';
import { forbidden, refusedFields } from '../compat/answers.ts';
import { unstorableStrings } from '../params.ts';
import { Answered, type ExternalContext, type Handler } from './context.ts';

/** A hook run after the guard, before the body is read (e.g. the upload slot). */
export type Gate = (ctx: ExternalContext, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** Authentication and rate limit: runs before the body is read, so a stranger's upload is never taken in. */
export const guard = async (ctx: ExternalContext, request: FastifyRequest, reply: FastifyReply) => {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(request.headers.authorization ?? '');
  let source: AuthenticatedSource | undefined;
  try {
    source = m ? await ctx.authenticator.authenticate(m[1]) : undefined;
  } catch (error) {
    if ((error as { code?: string }).code !== '42P01') throw error;
    return problem(
      reply.header('Retry-After', '1'),
      503,
      'Service Unavailable',
      'sources are not loaded yet',
    );
  }
  if (!source) {
    // A tg-support-bot client is refused its way (docs/design.md, "Speaking tg-support-bot's dialect").
    if (dialectOnly(request) || (await dialectOfRefusedToken(ctx.pool, m?.[1]))) return forbidden(reply);
    return problem(
      reply.header('WWW-Authenticate', 'Bearer realm="topicdesk"'),
      401,
      'Unauthorized',
      'missing, wrong or revoked bearer token',
    );
  }
  const verdict = ctx.limiter.take(source.tokenId);
  reply.header('RateLimit-Limit', String(ctx.limiter.limit));
  if (!verdict.allowed) {
    return problem(
      reply.header('Retry-After', String(verdict.retryAfterSeconds)).header('RateLimit-Remaining', '0'),
      429,
      'Too Many Requests',
      `rate limit of ${ctx.limiter.limit} requests a minute exceeded; retry in ${verdict.retryAfterSeconds} s`,
    );
  }
  reply.header('RateLimit-Remaining', String(verdict.remaining));
  ctx.sources.set(request, source);
  if (source.compat) takesForms.add(request);
  return undefined;
};

/**
 * Picks the handler for the source: its dialect's (compat/routes.ts) when it speaks one, else `fn`.
 * Undefined: the operation does not exist for this source (404).
 */
export type DialectPicker = (source: AuthenticatedSource, fn: Handler | undefined) => Handler | undefined;

/** Routes that exist only in a dialect: a request without a valid token is refused in it. */
const dialectOnly = (request: FastifyRequest) =>
  (request.routeOptions.config as { dialectOnly?: boolean } | undefined)?.dialectOnly === true;

/**
 * A route as the OpenAPI glue takes it: the guard, then `gates`, then the handler `pick` chooses
 * for the source (`fn` without one) with refusals mapped. Validation failures reach the handler
 * (`attachValidation`): a dialect reads its requests leniently, topicdesk's own API refuses them.
 */
export const route = (
  ctx: ExternalContext,
  fn: Handler | undefined,
  gates: Gate[] = [],
  pick?: DialectPicker,
): RouteDefinition => {
  return {
    onRequest: [guard, ...gates].map(
      (gate): RouteHandler =>
        (request, reply) =>
          gate(ctx, request, reply),
    ),
    attachValidation: true,
    config: { dialectOnly: !fn },
    handler: async (request, reply) => {
      const source = ctx.sources.get(request);
      if (!source) return problem(reply, 401, 'Unauthorized', 'missing, wrong or revoked bearer token');
      const chosen = pick ? pick(source, fn) : fn;
      if (!chosen) return problem(reply, 404, 'Not Found', `${request.method} ${request.url}`);
      // Only a dialect's own handler reads what the contract's schema refused.
      if (request.validationError && (!source.compat || chosen === fn))
        return badRequest(reply, allValidationErrors(request, request.validationError));
      return answer(ctx, chosen, request, reply, source);
    },
  };
};

/** `fn`'s answer, with the domain's refusals as problems; dialect handlers call it with a stand-in reply. */
export const answer = async (
  ctx: ExternalContext,
  fn: Handler,
  request: FastifyRequest,
  reply: FastifyReply,
  source: AuthenticatedSource,
) => {
  const bad = [
    ...unstorableStrings(request.params, 'params'),
    ...unstorableStrings(request.query, 'query'),
    ...unstorableStrings(request.body, 'body'),
  ];
  if (bad.length > 0) return source.compat ? refusedFields(reply, bad) : badRequest(reply, bad);
  try {
    return await fn(ctx, request, reply, source);
  } catch (error) {
    if (error instanceof Answered) return error.reply;
    if (error instanceof DomainError) return domainProblem(reply, error);
    if (error instanceof EventIdConflictError) {
      ctx.logger.error({ err: error }, 'external api: a command was given event ids another stream holds');
      return problem(reply, 409, 'Conflict', 'this request collides with another recorded command', {
        code: error.code,
      });
    }
    if (error instanceof CommandGaveUpError) {
      ctx.logger.warn({ err: error }, 'external api: a command was given up');
      return problem(
        reply.header('Retry-After', '1'),
        503,
        'Service Unavailable',
        'the conversation is too busy to record this now; nothing was recorded — retry',
        { code: error.code },
      );
    }
    throw error;
  }
};

const domainProblem = (reply: FastifyReply, error: DomainError) => {
  switch (error.code) {
    case 'message_not_found':
    case 'conversation_not_started':
      return problem(reply, 404, 'Not Found', error.message, { code: error.code });
    case 'message_deleted':
    case 'message_exists':
    case 'rating_not_requested':
    case 'already_rated':
    case 'already_commented':
      return problem(reply, 409, 'Conflict', error.message, { code: error.code });
    case 'not_a_client_message':
      return problem(
        reply,
        409,
        'Conflict',
        `${error.message}; a source changes only its client's messages`,
        {
          code: error.code,
        },
      );
    default:
      return problem(reply, 422, 'Unprocessable Content', error.message, { code: error.code });
  }
};
