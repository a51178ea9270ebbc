// Error answers as RFC 9457 problem details (application/problem+json): every refusal the HTTP side
// gives — the server's own, a route's, a channel's webhook — has this one shape.
import type { FastifyReply } from 'fastify';

export const PROBLEM_JSON = 'application/problem+json';

export const problem = (
  reply: FastifyReply,
  status: number,
  title: string,
  detail?: string,
  extra: object = {},
) =>
  reply
    .code(status)
    .type(PROBLEM_JSON)
    .send({ type: 'about:blank', title, status, ...(detail ? { detail } : {}), ...extra });

/** A 400 naming fields, the same shape validation errors get. */
export const badRequest = (
  reply: FastifyReply,
  errors: ReadonlyArray<{ field: string; message: string }>,
  detail = 'the request does not match the API contract',
) => problem(reply, 400, 'Bad Request', detail, { errors });
