// What a route handler is, for the modules that hand the HTTP server their operations (the API,
// the channels' webhooks, the admin page) without depending on the server itself.
import type { FastifyReply, FastifyRequest } from 'fastify';

export type RouteHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** A handler with route-level hooks (authentication and rate limits run before the body is read). */
export interface RouteDefinition {
  readonly handler: RouteHandler;
  readonly onRequest?: readonly RouteHandler[];
  /** Validation failures reach the handler as `request.validationError` instead of a 400. */
  readonly attachValidation?: boolean;
  /** Fastify's route config: an object the handler can recognise its route by. */
  readonly config?: object;
}

/**
 * Requests whose caller speaks a dialect that sends HTML forms (tg-support-bot's Laravel clients):
 * their `application/x-www-form-urlencoded` bodies are taken on routes that declare only JSON.
 * The external API's guard marks them once it knows the source.
 */
export const takesForms = new WeakSet<FastifyRequest>();
